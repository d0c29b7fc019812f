// Serving end to end: the registry pointer as source, the manager, real worker
// threads, real tiny models, hot-swap under continuous load.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GenerationInputError } from '../src/ml/generate.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { ServingManager } from '../src/serving/manager.js';
import { WorkerPool, type VersionTensors } from '../src/serving/pool.js';
import { PointerSource } from '../src/serving/source.js';
import { ModelNotLoadedError, QueueFullError } from '../src/serving/types.js';
import { publishTinyModel } from './helpers/tiny-model.js';
import { waitFor } from './helpers/wait.js';

let registry: ModelRegistry;
let service: ServingManager | undefined;

const start = async (maxQueue = 256, workers = 1) => new ServingManager(await WorkerPool.start({ workers, maxQueue }));
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

/** Nice value of each thread of this process (Linux: per thread), by thread id. */
function threadNice(): Map<string, number> {
  const nice = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after "(comm)": state is field 3, nice is field 19.
      nice.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended while we looked.
    }
  }
  return nice;
}

describe('ServingManager', () => {
  // Under `nice -n 15` or more the workers cannot go 5 lower (19 is the floor), so nothing tells them apart.
  it.runIf(process.platform === 'linux' && getPriority() <= 14)('decodes on threads 5 nice levels below the bot, whose own thread keeps its priority', async () => {
    const before = threadNice();
    const main = before.get(String(process.pid))!;
    service = await start(256, 2);
    await serveAspired(service);
    await service.generate({ seed: 'ROMEO:', length: 20, temperature: 1 });
    const started = [...threadNice()].filter(([tid]) => !before.has(tid)).map(([, n]) => n);
    // Both workers run 5 lower, and so do the threads tfjs-node starts in them where it loads.
    const lowered = started.filter((n) => n === main + 5).length;
    if (service.backend.includes('tensorflow')) expect(lowered).toBeGreaterThanOrEqual(2);
    else expect(lowered).toBe(2);
    expect(started.filter((n) => n !== main && n !== main + 5)).toEqual([]);
    expect(threadNice().get(String(process.pid))).toBe(main);
  });

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

  it.each([1, 2])('hot-swaps under continuous load with %i worker(s): no failed request, one version per reply, old version freed', async (workers) => {
    service = await start(256, workers);
    const loaded: VersionTensors[] = [];
    service.on('loaded', (e) => loaded.push(e));
    await serveAspired(service);
    // The first run publishes v2; the second swaps to a v3 (v2 is then the one freed).
    const [from, to] = workers === 1 ? ['v1', 'v2'] : ['v2', 'v3'];
    expect((await publishTinyModel(registry.root, { epochs: 1 })).version).toBe(to);

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
    const freed: VersionTensors[] = [];
    service.on('unloaded', (e) => freed.push(e));
    let swappedAt = Infinity;
    service.once('swapped', () => (swappedAt = performance.now()));
    await new Promise((r) => setTimeout(r, 200));
    await serveAspired(service);
    swapping = false;
    await Promise.all(clients);
    await waitFor(() => freed.length >= workers, 20_000, `${from} to be freed in every worker`);

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([from, to]));
    expect(results[results.length - 1].version).toBe(to);
    // Requests in flight at the swap finished on the version they started with.
    expect(results.some((r) => r.version === from && r.at! > swappedAt)).toBe(true);
    for (const f of freed) {
      expect(f.version).toBe(from);
      // Back to what that worker held with one version loaded.
      expect(f.tensors).toBe(loaded.find((l) => l.version === from && l.worker === f.worker)!.tensors);
    }
  });
});
