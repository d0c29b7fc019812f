import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import { DEFAULT_TRAIN_CONFIG, learningRateAt, train, type TrainConfig } from '../src/training/train.js';

const TEXT = 'To be, or not to be, that is the question:\n'.repeat(60);
const TINY: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, units: 12, seqLen: 12, batchSize: 8, epochs: 2, warmupSteps: 3, evalStreams: 4 };

beforeAll(async () => {
  await initBackend('train');
});

describe('train', () => {
  it('is deterministic for a given seed', async () => {
    const a = await train({ text: TEXT, config: { ...TINY, epochs: 1 } });
    const b = await train({ text: TEXT, config: { ...TINY, epochs: 1 } });
    expect(b.metrics[0].trainLoss).toBe(a.metrics[0].trainLoss);
    expect(b.valLoss).toBe(a.valLoss);
    a.model.dispose();
    b.model.dispose();
  });

  it('resumes from a checkpoint exactly where an uninterrupted run would be', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'ckpt-')), 'checkpoint');
    const whole = await train({ text: TEXT, config: TINY });
    // Interrupted after its first epoch (the checkpoint is written at each epoch's end).
    const stop = new AbortController();
    const first = await train({ text: TEXT, config: TINY, checkpointDir: dir, signal: stop.signal, onEpoch: () => stop.abort() });
    expect(first.metrics).toHaveLength(1);
    const losses = (m: { trainLoss: number; valLoss: number }) => [m.trainLoss, m.valLoss];
    expect(losses(first.metrics[0])).toEqual(losses(whole.metrics[0]));
    // Same schedule horizon as the whole run, continued from the checkpoint.
    const resumed = await train({ text: TEXT, config: TINY, checkpointDir: dir, resume: true });
    expect(resumed.metrics).toHaveLength(2);
    expect(resumed.metrics[0]).toEqual(first.metrics[0]);
    expect(resumed.metrics[1].trainLoss).toBeCloseTo(whole.metrics[1].trainLoss, 5);
    expect(resumed.valLoss).toBeCloseTo(whole.valLoss, 5);
    for (const r of [whole, first, resumed]) r.model.dispose();
  });

  it('stops when cancelled or out of time, keeping the best weights', async () => {
    const controller = new AbortController();
    let steps = 0;
    const cancelled = await train({
      text: TEXT,
      config: TINY,
      signal: controller.signal,
      onStep: () => {
        if (++steps === 3) controller.abort();
      },
    });
    expect(cancelled.stopReason).toBe('cancelled');
    expect(steps).toBe(3);
    const timed = await train({ text: TEXT, config: { ...TINY, epochs: 50, maxMinutes: 0.5 / 60 } });
    expect(timed.stopReason).toBe('time');
    expect(timed.metrics.length).toBeGreaterThan(0);
    expect(timed.metrics.length).toBeLessThan(50);
    cancelled.model.dispose();
    timed.model.dispose();
  });

  it('schedules the learning rate: linear warmup, then cosine down to the minimum', () => {
    const c = { ...DEFAULT_TRAIN_CONFIG, learningRate: 1, minLearningRate: 0.1, warmupSteps: 10 };
    expect(learningRateAt(0, 100, c)).toBeCloseTo(0.1);
    expect(learningRateAt(9, 100, c)).toBeCloseTo(1);
    expect(learningRateAt(55, 100, c)).toBeCloseTo(0.55);
    expect(learningRateAt(100, 100, c)).toBeCloseTo(0.1);
  });

  it('refuses a text shorter than one window', async () => {
    await expect(train({ text: 'tiny', config: TINY })).rejects.toThrow(/shorter than one window/);
  });
});
