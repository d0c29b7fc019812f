// The retrain and its gate, in-process: a first model from scratch, a warm
// start that beats it and is published, and a from-scratch candidate (the
// vocabulary changed) that is worse and stays unpublished.
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import { gate } from '../src/training/gate.js';
import { retrain } from '../src/training/retrain.js';
import { makeLayout, type Layout } from './helpers/retrain-fixture.js';

let l: Layout;

beforeAll(async () => {
  await initBackend('train');
  l = await makeLayout();
});

afterAll(() => l?.remove());

describe('gate', () => {
  it('publishes a candidate not worse than the serving model plus the tolerance', () => {
    expect(gate(1.5, 1.6, 0).publish).toBe(true);
    expect(gate(1.6, 1.6, 0).publish).toBe(true);
    expect(gate(1.7, 1.6, 0)).toEqual({ publish: false, reason: "validation loss 1.7000 is worse than the serving model's 1.6000" });
    expect(gate(1.7, 1.6, 0.15).publish).toBe(true);
    expect(gate(1.5, 1.6, -0.2).publish).toBe(false);
    expect(gate(2, undefined, 0)).toEqual({ publish: true, reason: 'there is no serving model to compare with' });
    expect(gate(Infinity, 1, 0).publish).toBe(false);
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

  it('publishes when the serving model cannot read the new held-out text', async () => {
    // Sorted last, so the new characters land in the held-out split.
    await writeFile(path.join(l.corpusDir, 'zz-notes.txt'), 'Zounds! ¶ ¶ ¶ §§\n'.repeat(40));
    const r = await retrain(l.job({ epochs: 1, keepVersions: 2 }));
    expect(r).toMatchObject({ outcome: 'published', start: 'scratch', version: 'v3', oldValLoss: undefined, pruned: ['v1'] });
    expect(r.reason).toMatch(/^v2 cannot read \d+ new characters of the held-out text$/);
    expect(await l.registry.versions(l.name)).toEqual(['v2', 'v3']);
  });
});
