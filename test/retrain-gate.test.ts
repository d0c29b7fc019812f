// The retrain and its gate, in-process: a first model from scratch, a warm
// start (on its own learning-rate schedule) that beats it and is published, a
// from-scratch candidate (the vocabulary changed) that is worse and stays
// unpublished, and a gate that fails closed: compared on the held-out text
// the serving model can read, and nothing published when it cannot compare.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import { gate, type Incumbent } from '../src/training/gate.js';
import { retrain } from '../src/training/retrain.js';
import { DEFAULT_TRAIN_CONFIG } from '../src/training/settings.js';
import { makeLayout, TINY, type Layout } from './helpers/retrain-fixture.js';

let l: Layout;

beforeAll(async () => {
  await initBackend('train');
  l = await makeLayout();
});

afterAll(() => l?.remove());

describe('gate', () => {
  const serving = (loss: number, note?: string): Incumbent => ({ kind: 'scored', version: 'v1', loss, text: 'abc', note });

  it('publishes a candidate not worse than the serving model plus the tolerance', () => {
    expect(gate(1.5, serving(1.6), 0).publish).toBe(true);
    expect(gate(1.6, serving(1.6), 0).publish).toBe(true);
    expect(gate(1.7, serving(1.6), 0)).toEqual({ publish: false, reason: "validation loss 1.7000 is worse than the serving model's 1.6000" });
    expect(gate(1.7, serving(1.6), 0.15).publish).toBe(true);
    expect(gate(1.5, serving(1.6), -0.2).publish).toBe(false);
    expect(gate(1.5, serving(1.6, 'on part of it'), 0).reason).toBe('validation loss 1.5000 ≤ 1.6000 (serving) (on part of it)');
    expect(gate(Infinity, serving(1), 0).publish).toBe(false);
  });

  it('publishes the first version, and fails closed when the serving model could not be scored', () => {
    expect(gate(2, { kind: 'none', why: 'there is no version of bard yet' }, 0)).toEqual({ publish: true, reason: 'there is no version of bard yet' });
    expect(gate(0.1, { kind: 'unscored', why: 'v1 is corrupt' }, 10)).toEqual({ publish: false, reason: 'not published: the gate cannot compare with the serving model (v1 is corrupt)' });
  });
});

describe('retrain', () => {
  it('trains the first version from scratch and publishes it', async () => {
    const r = await retrain(l.job({ epochs: 1 }));
    expect(r).toMatchObject({ outcome: 'published', start: 'scratch', version: 'v1', epochs: 1, stopReason: 'epochs', corpus: { chars: 8000, files: 1 } });
    expect(r.startReason).toMatch(/no version of bard yet/);
    expect(r.oldValLoss).toBeUndefined();
    const v1 = await l.registry.current(l.name);
    expect(v1.metadata.valLoss.nats).toBeCloseTo(r.newValLoss!, 10);
    expect(v1.metadata.training.command).toBe('test');
  });

  it('warm-starts from the serving version when the vocabulary is unchanged, and publishes a better candidate', async () => {
    const progress: string[] = [];
    const r = await retrain(l.job({ epochs: 3 }), { onProgress: (p) => progress.push(p.phase) });
    expect(r).toMatchObject({ outcome: 'published', start: 'warm', servingVersion: 'v1', version: 'v2' });
    expect(r.newValLoss!).toBeLessThan(r.oldValLoss!);
    // The serving model's loss was measured afresh on the current corpus's held-out split.
    expect(r.oldValLoss!).toBeCloseTo((await l.registry.verify(l.name, 'v1')).metadata.valLoss.nats, 4);
    expect(r.reason).toMatch(/^validation loss \d\.\d{4} ≤ \d\.\d{4} \(serving\)$/);
    expect(new Set(progress)).toEqual(new Set(['evaluating', 'training', 'publishing']));
    const v2 = await l.registry.current(l.name);
    expect(v2.metadata.training.warmStartFrom).toBe('v1');
    // The warm-start schedule (issue 10): a short warmup to twice the floor v1 was annealed to (below TINY's warm peak), decaying 20x below that.
    const { warmLearningRate, warmWarmupSteps } = TINY;
    const peak = 2 * DEFAULT_TRAIN_CONFIG.minLearningRate;
    expect(peak).toBeLessThan(warmLearningRate!);
    expect(v2.metadata.training.schedule).toEqual({ start: 'warm', learningRate: peak, minLearningRate: peak / 20, warmupSteps: warmWarmupSteps });
    expect((await l.registry.verify(l.name, 'v1')).metadata.training.schedule).toMatchObject({ start: 'scratch', learningRate: TINY.learningRate });
    const rates = (await l.registry.metrics(v2)).map((m) => m.learningRate);
    expect(rates).toHaveLength(3);
    expect(rates[0]).toBeLessThanOrEqual(peak);
    expect(rates[2]).toBeCloseTo(peak / 20, 5);
    expect(rates).toEqual([...rates].sort((a, b) => b - a));
    // The from-scratch settings stay recorded as such, so a later run from scratch does not inherit the warm peak.
    expect(v2.metadata.training.config).toMatchObject({ learningRate: TINY.learningRate, warmLearningRate });
  });

  it('trains from scratch when the vocabulary changed, and keeps a worse candidate unpublished', async () => {
    // Sorted first, so the new characters land in the training split only.
    await writeFile(path.join(l.corpusDir, '0-notes.txt'), 'Q&A #1: {[<>]} ~ %\n'.repeat(5));
    const r = await retrain(l.job({ epochs: 1, train: { learningRate: 1e-4 } }));
    expect(r).toMatchObject({ outcome: 'rejected', start: 'scratch', servingVersion: 'v2', corpus: { files: 2 } });
    expect(r.startReason).toMatch(/^from scratch: the vocabulary changed since v2 \(\d+ new, 0 gone characters\)$/);
    expect(r.newValLoss!).toBeGreaterThan(r.oldValLoss!);
    expect(r.reason).toMatch(/is worse than the serving model's/);
    expect(await l.registry.versions(l.name)).toEqual(['v1', 'v2']);
    expect((await l.registry.readPointer(l.name))?.version).toBe('v2');
    // The rejected candidate stays on disk for inspection.
    expect((await stat(path.join(l.job().candidateDir, 'weights.bin'))).size).toBeGreaterThan(0);
  });

  it('compares on the held-out characters the serving model knows when the new ones land there, and fails closed', async () => {
    // Sorted last, so the new characters land in the held-out split; a near-untrained candidate (tiny learning rate) must not pass.
    await writeFile(path.join(l.corpusDir, 'zz-notes.txt'), 'Zounds! ¶ ¶ ¶ §§\n'.repeat(40));
    const r = await retrain(l.job({ epochs: 1, train: { learningRate: 1e-4 } }));
    expect(r).toMatchObject({ outcome: 'rejected', start: 'scratch', servingVersion: 'v2' });
    expect(r.reason).toMatch(/^validation loss \d\.\d{4} is worse than the serving model's \d\.\d{4} \(both scored on the \d+ of \d+ held-out characters v2 knows; \d+ new characters left out\)$/);
    expect(r.oldValLoss).toEqual(expect.any(Number));
    expect(r.newValLoss!).toBeGreaterThan(r.oldValLoss!);
    expect(await l.registry.versions(l.name)).toEqual(['v1', 'v2']);
    expect((await l.registry.readPointer(l.name))?.version).toBe('v2');
  });

  it('publishes nothing when no version can be loaded to compare with, and says why', async () => {
    const versions = await l.registry.versions(l.name);
    for (const v of versions) {
      const weights = path.join(l.registry.dir(l.name, v), 'weights.bin');
      const bytes = await readFile(weights);
      bytes[0] ^= 0xff;
      await writeFile(weights, bytes);
    }
    const r = await retrain(l.job({ epochs: 1, tolerance: 100 }));
    expect(r).toMatchObject({ outcome: 'rejected', start: 'scratch', oldValLoss: undefined });
    expect(r.reason).toMatch(/^not published: the gate cannot compare with the serving model \(no version of bard could be loaded: no valid version of model "bard"/);
    expect(await l.registry.versions(l.name)).toEqual(versions);
  });
});

describe('a corpus with any Unicode', () => {
  it('trains and publishes with an emoji and other astral characters in it (one character each)', async () => {
    const u = await makeLayout(4000);
    try {
      // Sorted first, so they are in the training split and the vocabulary.
      await writeFile(path.join(u.corpusDir, '0-emoji.txt'), 'Sweet 🌹, thou art 𝔣𝔞𝔦𝔯! 😀\n'.repeat(4));
      const r = await retrain(u.job({ epochs: 1 }));
      expect(r).toMatchObject({ outcome: 'published', version: 'v1' });
      const { metadata } = await u.registry.current(u.name);
      expect(metadata.vocab).toEqual(expect.arrayContaining(['🌹', '😀', '𝔣']));
      expect(metadata.vocab.every((c) => [...c].length === 1)).toBe(true);
    } finally {
      await u.remove();
    }
  });

  it('refuses a file that is not UTF-8, naming the file and the byte offset', async () => {
    const u = await makeLayout(4000);
    try {
      const file = path.join(u.corpusDir, 'latin1.txt');
      await writeFile(file, Buffer.concat([Buffer.from('Caf'), Buffer.from([0xe9]), Buffer.from(' \uFFFD ok\n')]));
      await expect(retrain(u.job({ epochs: 1 }))).rejects.toThrow(`corpus file ${file} is not valid UTF-8: invalid byte 0xe9 at byte offset 3; save it as UTF-8`);
      expect(await u.registry.versions(u.name)).toEqual([]);
    } finally {
      await u.remove();
    }
  });
});
