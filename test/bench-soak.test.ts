// The soak benchmark's machinery (bench/soak.ts), in small: the real bot and
// the fake Discord in its process, a tiny model (the soak publishes a copy as
// the second version), 100 interactions with 2 hot-swaps and 1 worker crash.
// Every interaction must be answered: with a passage, or (those the crash
// fails) with the clear message.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { soak } from '../bench/soak.js';
import { publishTinyModel } from './helpers/tiny-model.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'soak-registry-'));
  await publishTinyModel(root);
});

afterAll(() => rm(root, { recursive: true, force: true }));

it('a small soak: every interaction answered, the crash with the clear message, no tensor left behind', async () => {
  const report = await soak(root, 'shakespeare', { interactions: 100, swaps: 2, kills: 1, ratePerSec: 20, length: 20, warmup: 20 });
  expect(report.unexpected).toEqual({});
  expect(report.killMessage).toBeDefined();
  expect(report.killsAnswered).toBe(1);
  expect(report.passages + report.killFailed).toBe(100);
  expect(report.swapErrors).toEqual([]);
  // Each swap checked that the version it switched to is served; which passages each wrote depends on the machine's speed.
  expect(report.swapsDone).toBe(2);
  expect(report.end.tensors).toBe(report.start.tensors);
});
