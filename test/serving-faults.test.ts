// Faults in the serving pool, with real worker threads and tiny models: a
// worker dying mid-swap, requests during a restart, an exception inside a
// worker, a worker failing at start-up, a hung load, a failed swap's leftovers,
// a failed load retried at the next watch tick. Faults inside a worker come
// from worker.ts's BARDBOT_TEST_FAULTS hook, read when a worker (re)starts.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry, type VersionRef } from '../src/registry/registry.js';
import { ServingManager } from '../src/serving/manager.js';
import { WorkerPool, type PoolOptions, type WorkerFailure } from '../src/serving/pool.js';
import { PointerSource } from '../src/serving/source.js';
import { LoadFailedError, ModelLoadingError, WorkerFailedError } from '../src/serving/types.js';
import { publishTinyModel } from './helpers/tiny-model.js';
import { waitFor } from './helpers/wait.js';

let registry: ModelRegistry;
let v1: VersionRef;
let v2: VersionRef;
let pool: WorkerPool | undefined;
let source: PointerSource | undefined;

const ask = (manager: ServingManager, seed = 'First', n = 0) => manager.generate({ seed, length: 30, temperature: 1, rngSeed: n });
const setFaults = (faults: string | undefined) => {
  if (faults === undefined) delete process.env.BARDBOT_TEST_FAULTS;
  else process.env.BARDBOT_TEST_FAULTS = faults;
};
/** A manager over a fresh pool serving v1. */
async function serving(opts: Partial<PoolOptions> & { workers: number }): Promise<ServingManager> {
  pool = await WorkerPool.start({ maxQueue: 256, ...opts });
  const manager = new ServingManager(pool);
  await manager.load(v1);
  return manager;
}
const holds = (version: string) => () => pool!.versions().every((v) => v.length === 1 && v[0] === version);

beforeAll(async () => {
  registry = new ModelRegistry(await mkdtemp(path.join(tmpdir(), 'registry-')));
  v1 = await publishTinyModel(registry.root);
  v2 = await publishTinyModel(registry.root, { epochs: 1 });
}, 120_000);

afterEach(async () => {
  setFaults(undefined);
  source?.stop();
  source = undefined;
  await pool?.close(1000);
  pool = undefined;
});

describe('worker failures', () => {
  it('a worker that dies mid-swap, after loading the new version, comes back on the version served now', async () => {
    // Worker 1 loads v2 slowly; worker 0 is restarted without that delay.
    setFaults('load-delay:v2:3000');
    const manager = await serving({ workers: 2 });
    setFaults(undefined);
    pool!.restartWorker(0);
    await waitFor(() => pool!.versions()[0].includes('v1'), 30_000, 'worker 0 back on v1');
    let killed = false;
    pool!.on('loaded', (e) => {
      if (e.version !== 'v2' || e.worker !== 0 || killed) return;
      // Worker 0 has v2, worker 1 is still loading it: worker 0 dies now.
      killed = true;
      pool!.restartWorker(0);
    });
    await manager.load(v2);
    expect(killed).toBe(true);
    expect(manager.serving()?.version).toBe('v2');
    const replies = await Promise.all(Array.from({ length: 12 }, (_, n) => ask(manager, 'First', n)));
    expect(replies.map((r) => r.version)).toEqual(Array(12).fill('v2'));
    // Both workers end up holding v2 alone, whenever the restarted one's loads finish.
    await waitFor(holds('v2'), 30_000, 'both workers on v2 only');
  });

  it('routes only to workers that hold the version; with none, says the model is loading', async () => {
    const manager = await serving({ workers: 2 });
    // Worker 0 comes back with a load that never finishes.
    setFaults('load-delay:v1:600000');
    pool!.restartWorker(0);
    const replies = await Promise.allSettled(Array.from({ length: 20 }, (_, n) => ask(manager, 'First', n)));
    expect(replies.filter((r) => r.status === 'rejected')).toEqual([]);
    pool!.restartWorker(1);
    await expect(ask(manager)).rejects.toThrow(ModelLoadingError);
    await expect(ask(manager)).rejects.toThrow(/the model is loading; try again in a few seconds/);
    setFaults(undefined);
    pool!.restartWorker(0);
    await waitFor(() => pool!.versions()[0].includes('v1'), 30_000, 'worker 0 on v1');
    expect((await ask(manager)).version).toBe('v1');
  });

  it('an exception inside a worker fails its requests with a clear error, and the worker comes back', async () => {
    setFaults('throw-on-seed:BOOM');
    const manager = await serving({ workers: 1 });
    const failures: WorkerFailure[] = [];
    pool!.on('worker-failed', (f) => failures.push(f));
    const neighbour = manager.generate({ seed: 'First', length: 2000, temperature: 1 });
    const boom = manager.generate({ seed: 'BOOM', length: 2000, temperature: 1 });
    await expect(boom).rejects.toThrow(WorkerFailedError);
    // Its neighbour in the same worker is failed too, not left hanging.
    await expect(neighbour).rejects.toThrow(/the generator failed while writing this \(threw: test fault: throw-on-seed BOOM\); try again/);
    expect(failures).toMatchObject([{ worker: 0, reason: expect.stringMatching(/throw-on-seed/) }]);
    await waitFor(holds('v1'), 30_000, 'the restarted worker on v1');
    expect((await ask(manager)).version).toBe('v1');
  });

  it('a worker failing at start-up is restarted with a growing delay, not in a tight loop', async () => {
    const manager = await serving({ workers: 1, restartDelayMs: 50 });
    const failures: WorkerFailure[] = [];
    pool!.on('worker-failed', (f) => failures.push(f));
    setFaults('fail-start');
    pool!.restartWorker(0);
    await waitFor(() => failures.length >= 4, 60_000, 'four failed starts');
    setFaults(undefined);
    expect(failures.slice(0, 4).map((f) => f.restartInMs)).toEqual([50, 100, 200, 400]);
    expect(failures[1].reason).toMatch(/fail-start/);
    await waitFor(holds('v1'), 60_000, 'the worker to start and load v1');
    expect((await ask(manager)).version).toBe('v1');
  });
});

describe('swaps', () => {
  it('loads a new version in one serving worker at a time, so the others go on decoding', async () => {
    const manager = await serving({ workers: 2 });
    // Each worker's load of v2 takes 1.5 s: overlapping loads would finish together.
    setFaults('load-delay:v2:1500');
    pool!.restartWorker(0);
    pool!.restartWorker(1);
    await waitFor(holds('v1'), 30_000, 'both workers back on v1');
    const loadedAt: number[] = [];
    pool!.on('loaded', (e) => e.version === 'v2' && loadedAt.push(performance.now()));
    await manager.load(v2);
    expect(loadedAt).toHaveLength(2);
    expect(loadedAt[1] - loadedAt[0]).toBeGreaterThan(1400);
    expect((await ask(manager)).version).toBe('v2');
  });
});

describe('failed loads', () => {
  it('a load that never answers times out: the swap fails, v1 keeps serving, the next swap goes through', async () => {
    setFaults('load-delay:v2:600000');
    const manager = await serving({ workers: 1, loadTimeoutMs: 2000 });
    setFaults(undefined);
    await expect(manager.load(v2)).rejects.toThrow(LoadFailedError);
    expect(manager.serving()?.version).toBe('v1');
    // The hung worker was replaced and serves v1 again.
    await waitFor(holds('v1'), 30_000, 'the replaced worker on v1');
    expect((await ask(manager)).version).toBe('v1');
    // The swap queue is not stalled.
    await manager.load(v2);
    expect((await ask(manager)).version).toBe('v2');
  });

  it("a failed swap frees the new version in the workers that did load it", async () => {
    const manager = await serving({ workers: 2, loadTimeoutMs: 2000 });
    setFaults('load-delay:v2:600000');
    pool!.restartWorker(1);
    await waitFor(() => pool!.versions()[1].includes('v1'), 30_000, 'worker 1 back on v1');
    setFaults(undefined);
    const unloaded: { version: string; worker: number }[] = [];
    pool!.on('unloaded', (e) => unloaded.push(e));
    await expect(manager.load(v2)).rejects.toThrow(/could not load v2: the load did not finish within 2 s/);
    await waitFor(() => unloaded.some((u) => u.version === 'v2' && u.worker === 0), 30_000, 'worker 0 to free v2');
    await waitFor(holds('v1'), 30_000, 'both workers on v1 only');
    expect((await ask(manager)).version).toBe('v1');
  });

  it('a version that failed to load is tried again at the next watch tick', async () => {
    source = new PointerSource(registry, 'shakespeare');
    const tries: string[] = [];
    source.watch(50, async (ref) => {
      tries.push(ref.version);
      if (tries.length === 1) throw new Error('could not load it this time');
    });
    await waitFor(() => tries.length >= 2, 10_000, 'a second try');
    expect(tries.slice(0, 2)).toEqual(['v2', 'v2']);
  });
});
