// A retrain hot-swaps a real serving manager: requests keep flowing during
// the swap and none fails, the old version is freed down to the worker's
// baseline tensor count, a version published by another process is picked up
// by the pointer source's watch, and a corrupt newest version is skipped.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import { ServingManager } from '../src/serving/manager.js';
import { WorkerPool } from '../src/serving/pool.js';
import { PointerSource } from '../src/serving/source.js';
import { retrain } from '../src/training/retrain.js';
import { makeLayout, type Layout } from './helpers/retrain-fixture.js';
import { waitFor } from './helpers/wait.js';

let l: Layout;
let service: ServingManager;
let source: PointerSource;
/** Serves the registry's current version (what the bot does after a publish or at start). */
const serveAspired = async () => {
  const ref = await source.aspired();
  await service.load(ref);
  return ref;
};
const unloaded: { version: string; tensors: number }[] = [];
let baseline: number;

beforeAll(async () => {
  await initBackend('train');
  l = await makeLayout();
  await retrain(l.job({ epochs: 1 }));
  // Two workers: the swap guarantees must hold across workers (one per core is the default).
  service = new ServingManager(await WorkerPool.start({ workers: 2, maxQueue: 256 }));
  source = new PointerSource(l.registry, l.name);
  service.on('unloaded', (e) => unloaded.push(e));
  expect((await serveAspired()).version).toBe('v1');
  // One swap first, so we know the worker's tensor count with one version of this architecture loaded.
  await retrain(l.job({ epochs: 1, tolerance: 10 }));
  await serveAspired();
  await waitFor(() => unloaded.some((u) => u.version === 'v1'), 10_000, 'v1 to be unloaded');
  baseline = unloaded.find((u) => u.version === 'v1')!.tensors;
}, 120_000);

afterAll(async () => {
  source?.stop();
  await service?.close(1000);
  await l?.remove();
});

describe('hot-swap after a retrain', () => {
  it('serves the new version without failing a request, and frees the old one', async () => {
    // The gate is not under test here: any finished candidate is published.
    const controller = l.controller(serveAspired, { epochs: 1, tolerance: 10, keepVersions: 10 });
    const versions = new Set<string>();
    const failures: unknown[] = [];
    let replies = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        try {
          const r = await service.generate({ seed: 'Citizen', length: 40, temperature: 0.8 });
          versions.add(r.version);
          replies++;
        } catch (err) {
          failures.push(err);
        }
        // Steady traffic that still leaves the (low-priority) trainer some CPU on a small machine.
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const clients = Array.from({ length: 3 }, client);
    const outcome = await controller.start({ trigger: 'admin', userId: '1' });
    expect(outcome).toMatchObject({ outcome: 'published', version: 'v3', servingVersion: 'v2' });
    // start() resolves once the new version takes new requests.
    expect(service.serving()?.version).toBe('v3');
    const before = replies;
    await waitFor(() => replies >= before + 8, 20_000, 'replies from v3');
    stop = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect([...versions].sort()).toEqual(['v2', 'v3']);
    await waitFor(() => unloaded.some((u) => u.version === 'v2'), 10_000, 'v2 to be unloaded');
    expect(unloaded.find((u) => u.version === 'v2')!.tensors).toBe(baseline);
  });

  it('picks up a version published by another process through the registry watch', async () => {
    source.watch(100, (ref) => service.load(ref));
    const swapped = new Promise<{ to: string }>((resolve) => service.once('swapped', resolve));
    // Published straight to the registry, as a trainer of another bot process would.
    const r = await retrain(l.job({ epochs: 1, tolerance: 10 }));
    expect(r.version).toBe('v4');
    expect((await swapped).to).toBe('v4');
  });

  it('skips a corrupt newest version: the bot stays on the last good one, and the next retrain starts from it', async () => {
    const r = await retrain(l.job({ epochs: 1, tolerance: 10 }));
    expect(r.version).toBe('v5');
    const weights = path.join(l.registry.dir(l.name, 'v5'), 'weights.bin');
    const bytes = await readFile(weights);
    bytes[10] ^= 0xff;
    await writeFile(weights, bytes);
    expect((await serveAspired()).version).toBe('v4');
    expect(service.serving()?.version).toBe('v4');

    const next = await retrain(l.job({ epochs: 1, tolerance: 10 }));
    expect(next).toMatchObject({ outcome: 'published', start: 'warm', servingVersion: 'v4', version: 'v6' });
    expect((await serveAspired()).version).toBe('v6');
  });

  it('a failed run publishes nothing and the bot keeps serving', async () => {
    const controller = l.controller(serveAspired, { tolerance: 10, keepVersions: 10 });
    await rm(l.corpusDir, { recursive: true });
    const outcome = await controller.start({ trigger: 'schedule' });
    expect(outcome).toMatchObject({ outcome: 'failed' });
    expect(outcome.reason).toMatch(/ENOENT|no such file/);
    expect(service.serving()?.version).toBe('v6');
    expect((await service.generate({ seed: '', length: 10, temperature: 1 })).version).toBe('v6');
  });
});
