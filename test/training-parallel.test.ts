import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import { buildModel } from '../src/ml/model.js';
import { train, workersFor, type TrainResult } from '../src/training/loop.js';
import { Replicas } from '../src/training/parallel/coordinator.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../src/training/settings.js';

const TEXT = 'To be, or not to be, that is the question:\n'.repeat(60);
// Two layers, so gradients flow through a stacked LSTM; 24 steps an epoch.
const SMALL: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, layers: 2, units: 16, seqLen: 12, batchSize: 8, epochs: 2, warmupSteps: 3, evalStreams: 4 };

beforeAll(async () => {
  await initBackend('train');
});

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => w.dataSync() as Float32Array);
const maxAbsDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((w, i) => Math.max(...w.map((v, j) => Math.abs(v - b[i][j])))));

/** Trains with `workers` and records each step's (smoothed) loss. */
async function run(config: TrainConfig, extra: Partial<Parameters<typeof train>[0]> = {}): Promise<{ result: TrainResult; losses: number[] }> {
  const losses: number[] = [];
  const result = await train({ text: TEXT, config, ...extra, onStep: (p) => losses.push(p.loss) });
  return { result, losses };
}

function expectSameRun(a: { result: TrainResult; losses: number[] }, b: { result: TrainResult; losses: number[] }) {
  expect(b.losses).toHaveLength(a.losses.length);
  expect(Math.max(...a.losses.map((l, i) => Math.abs(l - b.losses[i])))).toBeLessThan(1e-4);
  expect(b.result.metrics.map((m) => m.trainLoss)).toEqual(a.result.metrics.map((m) => expect.closeTo(m.trainLoss, 4)));
  expect(b.result.valLoss).toBeCloseTo(a.result.valLoss, 4);
  expect(maxAbsDiff(weightsOf(a.result.model), weightsOf(b.result.model))).toBeLessThan(1e-4);
}

// Several runs a test, each starting its worker threads: minutes on a loaded 2-core machine.
describe('data-parallel training', { timeout: 240_000 }, () => {
  it('trains the same model with 2 workers as with 1, step for step, dropout masks included', async () => {
    const one = await run({ ...SMALL, dropout: 0.2, workers: 1 });
    const two = await run({ ...SMALL, dropout: 0.2, workers: 2 });
    expect(one.losses).toHaveLength(2 * 24);
    expectSameRun(one, two);
    // And the model moved: the comparison is not between two untrained models.
    expect(one.result.metrics[1].trainLoss).toBeLessThan(one.result.metrics[0].trainLoss - 0.1);
    one.result.model.dispose();
    two.result.model.dispose();
  });

  it('weights uneven shares by their rows, and clips the averaged gradient', async () => {
    // 7 rows on 3 workers: 2 + 3 + 2. A clip norm this small binds at every step.
    const config = { ...SMALL, batchSize: 7, clipNorm: 0.05, epochs: 1 };
    const one = await run({ ...config, workers: 1 });
    const three = await run({ ...config, workers: 3 });
    expectSameRun(one, three);
    const unclipped = await run({ ...config, clipNorm: 1e6, workers: 3 });
    // Adam undoes a constant scale, so clipping shows in the weights, not much in the loss.
    expect(maxAbsDiff(weightsOf(unclipped.result.model), weightsOf(three.result.model))).toBeGreaterThan(1e-3);
    for (const r of [one, three, unclipped]) r.result.model.dispose();
  });

  it('resumes a checkpoint with 2 workers where an uninterrupted run would be', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'ckpt-parallel-')), 'checkpoint');
    const config = { ...SMALL, workers: 2 };
    const whole = await run({ ...config, workers: 1 });
    const stop = new AbortController();
    const first = await run(config, { checkpointDir: dir, signal: stop.signal, onEpoch: () => stop.abort() });
    expect(first.result.metrics).toHaveLength(1);
    const resumed = await run(config, { checkpointDir: dir, resume: true });
    expect(resumed.result.metrics).toHaveLength(2);
    expect(resumed.result.metrics[0]).toEqual(first.result.metrics[0]);
    // The resumed run's steps are the whole run's second epoch.
    expectSameRun({ result: whole.result, losses: whole.losses.slice(24) }, resumed);
    for (const r of [whole, first, resumed]) r.result.model.dispose();
  });

  it('keeps every replica bitwise identical, and fails loudly when one fails', async () => {
    const model = buildModel({ vocabSize: 5, layers: 1, units: 8, dropout: 0 }, 1);
    const optimizer = tf.train.adam();
    const replicas = await Replicas.start(2, model, optimizer);
    try {
      const ids = Int32Array.from({ length: 4 * 7 }, (_, i) => (i * 7) % 5);
      for (let s = 0; s < 3; s++) await replicas.step({ xs: ids, ys: ids.map((v) => (v + 1) % 5), rows: 4, seqLen: 7, dropoutSeed: s }, 0.01, 1);
      const [a, b] = await replicas.weightsOfEach();
      expect(b).toEqual(a);
      const before = weightsOf(model);
      await replicas.pull(model, optimizer);
      expect(weightsOf(model)).toEqual(a);
      expect(maxAbsDiff(before, a)).toBeGreaterThan(1e-3);
      // Adam's state came along: 3 steps, a moment pair per weight.
      const state = await optimizer.getWeights();
      expect(state).toHaveLength(1 + 2 * model.trainableWeights.length);
      expect(state[0].tensor.dataSync()[0]).toBe(3);
      // Fewer ids than rows × seqLen: the replicas' tensors cannot be built.
      await expect(replicas.step({ xs: ids.slice(1), ys: ids.slice(1), rows: 4, seqLen: 7, dropoutSeed: 0 }, 0.01, 1)).rejects.toThrow(/training replica failed/);
    } finally {
      await replicas.terminate();
      model.dispose();
      optimizer.dispose();
    }
  });

  it('runs one replica per core unless told, and never more replicas than the rows of a batch', () => {
    expect(workersFor({ ...SMALL, workers: 3 })).toBe(3);
    expect(workersFor({ ...SMALL, workers: 30 })).toBe(SMALL.batchSize);
    expect(workersFor({ ...SMALL, workers: undefined })).toBe(Math.min(availableParallelism(), SMALL.batchSize));
    expect(workersFor({ ...SMALL, workers: undefined, batchSize: 1 })).toBe(1);
  });
});
