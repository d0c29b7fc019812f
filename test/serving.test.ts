// Serving end to end: the registry pointer as source, the manager, real worker
// threads, real tiny models, hot-swap under continuous load.
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GenerationInputError } from '../src/ml/generate.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { ServingManager } from '../src/serving/manager.js';
import { WorkerPool } from '../src/serving/pool.js';
import { PointerSource } from '../src/serving/source.js';
import { ModelNotLoadedError, QueueFullError } from '../src/serving/types.js';
import { publishTinyModel } from './helpers/tiny-model.js';

let registry: ModelRegistry;
let service: ServingManager | undefined;

const start = async (maxQueue = 256) => new ServingManager(await WorkerPool.start({ workers: 1, maxQueue }));
/** Serves the registry's current version, as the bot does at start. */
const serveAspired = async (manager: ServingManager) => manager.load(await new PointerSource(registry, 'shakespeare').aspired());

beforeAll(async () => {
  registry = new ModelRegistry(await mkdtemp(path.join(tmpdir(), 'registry-')));
  await publishTinyModel(registry.root);
}, 60_000);

afterEach(async () => {
  await service?.close(2000);
  service = undefined;
});

describe('ServingManager', () => {
  it('refuses requests until a model is loaded, then generates off the main thread', async () => {
    service = await start();
    await expect(service.generate({ seed: 'A', length: 5, temperature: 1 })).rejects.toThrow(ModelNotLoadedError);
    expect(() => service!.validate({ seed: 'A', length: 5, temperature: 1 })).toThrow(ModelNotLoadedError);
    await serveAspired(service);
    service.validate({ seed: 'ROMEO:', length: 50, temperature: 0.8 });
    const r = await service.generate({ seed: 'ROMEO:', length: 50, temperature: 0.8 });
    expect(r.text.startsWith('ROMEO:')).toBe(true);
    expect(r.text.length).toBe(56);
    expect(r.version).toBe('v1');
    expect(service.serving()?.version).toBe('v1');
  });

  it('answers bad input at once with a clear error', async () => {
    service = await start();
    await serveAspired(service);
    expect(() => service!.validate({ seed: 'café™', length: 5, temperature: 1 })).toThrow(GenerationInputError);
    expect(() => service!.validate({ seed: '', length: 2001, temperature: 1 })).toThrow(/length/);
    await expect(service.generate({ seed: 'café™', length: 5, temperature: 1 })).rejects.toThrow(GenerationInputError);
    await expect(service.generate({ seed: 'café™', length: 5, temperature: 1 })).rejects.toThrow(/"é" "™"/);
    await expect(service.generate({ seed: '', length: 2001, temperature: 1 })).rejects.toThrow(/length/);
  });

  it('refuses beyond its queue bound with a retry hint', async () => {
    service = await start(3);
    await serveAspired(service);
    const running = [1, 2, 3].map(() => service!.generate({ seed: '', length: 400, temperature: 1 }));
    const err = await service.generate({ seed: '', length: 10, temperature: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as QueueFullError).retryAfterSec).toBeGreaterThanOrEqual(1);
    expect((await Promise.all(running)).map((r) => r.text.length)).toEqual([400, 400, 400]);
  });

  it('hot-swaps under continuous load: no failed request, one version per reply, old version freed', async () => {
    service = await start();
    const loaded: { version: string; tensors: number }[] = [];
    service.on('loaded', (e) => loaded.push(e));
    await serveAspired(service);
    const v2 = await publishTinyModel(registry.root, { epochs: 1 });
    expect(v2.version).toBe('v2');

    const results: { version: string; ok: boolean; at?: number }[] = [];
    let swapping = true;
    const ask = async (i: number, n: number) => {
      try {
        const r = await service!.generate({ seed: 'First', length: 40 + i, temperature: 1, rngSeed: n });
        results.push({ version: r.version, ok: r.text.startsWith('First') && r.text.length === 45 + i, at: performance.now() });
      } catch (err) {
        results.push({ version: `error: ${(err as Error).message}`, ok: false });
      }
    };
    // Eight clients ask without pause while the swap happens, then a few more times after it.
    const clients = Array.from({ length: 8 }, async (_, i) => {
      for (let n = 0; n < 500 && swapping; n++) await ask(i, n);
      for (let n = 0; n < 3; n++) await ask(i, n);
    });
    const unloaded = once(service, 'unloaded');
    let swappedAt = Infinity;
    service.once('swapped', () => (swappedAt = performance.now()));
    await new Promise((r) => setTimeout(r, 200));
    await serveAspired(service);
    swapping = false;
    await Promise.all(clients);
    const [freed] = (await unloaded) as [{ version: string; tensors: number }];

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(new Set(results.map((r) => r.version))).toEqual(new Set(['v1', 'v2']));
    expect(results[results.length - 1].version).toBe('v2');
    // Requests in flight at the swap finished on the version they started with.
    expect(results.some((r) => r.version === 'v1' && r.at! > swappedAt)).toBe(true);
    expect(freed.version).toBe('v1');
    // Back to what the worker held with one version loaded.
    expect(freed.tensors).toBe(loaded.find((l) => l.version === 'v1')!.tensors);
  });
});
