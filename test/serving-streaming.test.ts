// What long passages need from serving, through real worker threads: the text
// so far while it is written (for streaming replies), and a natural ending.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENDING_SLACK } from '../src/ml/generate.js';
import { ModelRegistry, type VersionRef } from '../src/registry/registry.js';
import { ServingManager } from '../src/serving/manager.js';
import { WorkerPool } from '../src/serving/pool.js';
import { publishTinyModel } from './helpers/tiny-model.js';

let ref: VersionRef;
let manager: ServingManager | undefined;
const PROGRESS_MS = 40;

beforeAll(async () => {
  const registry = new ModelRegistry(await mkdtemp(path.join(tmpdir(), 'registry-')));
  ref = await publishTinyModel(registry.root);
}, 120_000);

afterEach(async () => {
  await manager?.close(1000);
  manager = undefined;
});

async function serve(workers: number): Promise<ServingManager> {
  manager = new ServingManager(await WorkerPool.start({ workers, maxQueue: 256, progressMs: PROGRESS_MS }));
  await manager.load(ref);
  return manager;
}

describe('progress', () => {
  it('onText gets growing prefixes of the final text, no more often than the pool allows', async () => {
    const m = await serve(1);
    // Others share the batch, so the watched passage takes a while to write.
    const others = Array.from({ length: 15 }, (_, n) => m.generate({ seed: '', length: 2000, temperature: 1, rngSeed: n }));
    const seen: { at: number; text: string }[] = [];
    const t0 = performance.now();
    const r = await m.generate({ seed: 'ROMEO:', length: 2000, temperature: 1, rngSeed: 99 }, { onText: (text) => seen.push({ at: performance.now(), text }) });
    const ms = performance.now() - t0;
    await Promise.all(others);
    expect(seen.length).toBeGreaterThan(0);
    for (const [i, s] of seen.entries()) {
      expect(r.text.startsWith(s.text)).toBe(true);
      expect(s.text.startsWith('ROMEO:')).toBe(true);
      if (i > 0) expect(s.text.length).toBeGreaterThan(seen[i - 1].text.length);
    }
    // The worker throttles: at most one update per PROGRESS_MS of writing.
    expect(seen.length).toBeLessThanOrEqual(Math.ceil(ms / PROGRESS_MS));
  });

  it('a request without onText gets no updates and the same text', async () => {
    const m = await serve(2);
    const req = { seed: 'First', length: 500, temperature: 0.8, rngSeed: 5 };
    const watched = await m.generate(req, { onText: () => undefined });
    expect((await m.generate(req)).text).toBe(watched.text);
  });
});

describe('natural ending', () => {
  it("ending 'line' ends at a line or sentence end within the slack, without the newline", async () => {
    const m = await serve(1);
    const length = 200;
    const max = length + Math.ceil(length * ENDING_SLACK);
    for (let n = 0; n < 10; n++) {
      const req = { seed: 'First', length, temperature: 0.8, rngSeed: n };
      const ended = (await m.generate({ ...req, ending: 'line' })).text.slice(req.seed.length);
      // The same draws without the option, as far as the slack goes.
      const plain = (await m.generate({ ...req, length: max })).text.slice(req.seed.length);
      expect(plain.startsWith(ended)).toBe(true);
      // The line may already end with the length-th character.
      const after = plain.slice(length - 1);
      const end = after.search(/[\n.!?]/);
      if (end >= 0) expect(ended).toBe(plain.slice(0, length - 1 + end + (after[end] === '\n' ? 0 : 1)));
      else expect(ended.length === max || plain[ended.length] === ' ').toBe(true);
    }
  });
});
