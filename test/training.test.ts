import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import { sha256 } from '../src/ml/corpus.js';
import { trainingLoss } from '../src/ml/model.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { NO_CANDIDATE } from '../src/training/gate.js';
import { learningRateAt, train, type StepProgress } from '../src/training/loop.js';
import { trainAndPublish, type PipelineJob } from '../src/training/pipeline.js';
import { DEFAULT_TRAIN_CONFIG, presetNames, readPreset, warmStartSchedule, type TrainConfig } from '../src/training/settings.js';

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

  it('draws a fresh dropout mask at every step, the same again in a rerun, also where the saved Dropout layer has a seed', () => {
    // The layout of a model saved before the fix: tfjs reseeds a seeded Dropout layer at every call.
    const input = tf.input({ shape: [null, 5] });
    const lstm = tf.layers.lstm({ units: 16, returnSequences: true }).apply(input) as tf.SymbolicTensor;
    const dropped = tf.layers.dropout({ rate: 0.5, seed: 42 }).apply(lstm) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 5 }).apply(dropped) as tf.SymbolicTensor });
    const ids = tf.tensor2d([[0, 1, 2, 3, 4, 0, 1, 2]], [1, 8], 'int32');
    const x = tf.oneHot(ids, 5).toFloat() as tf.Tensor3D;
    const y = ids;
    const loss = (dropoutSeed: number) => tf.tidy(() => trainingLoss(model, { x, y, dropoutSeed }).dataSync()[0]);
    const layerPath = () => tf.tidy(() => (model.apply(x, { training: true }) as tf.Tensor).dataSync().join());
    // What the layer itself does: the same mask every call.
    expect(layerPath()).toBe(layerPath());
    const losses = [1, 2, 3].map(loss);
    expect(new Set(losses).size).toBe(3);
    expect(loss(2)).toBe(losses[1]);
    tf.dispose([model, ids, x] as never);
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
    // The recorded training time covers both sessions.
    expect(resumed.seconds).toBeGreaterThanOrEqual(first.metrics[0].seconds + resumed.metrics[1].seconds);
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
    // The clock ended it 49 epochs early, and the decay followed the clock: the last step ran at the floor.
    const { learningRate, minLearningRate } = TINY;
    expect(timed.metrics.at(-1)!.learningRate).toBeLessThan(minLearningRate + 0.05 * (learningRate - minLearningRate));
    cancelled.model.dispose();
    timed.model.dispose();
  });

  it('schedules the learning rate: linear warmup, then cosine down to the minimum', () => {
    const c = { ...DEFAULT_TRAIN_CONFIG, learningRate: 1, minLearningRate: 0.1, warmupSteps: 10 };
    expect(learningRateAt(0, 100, c)).toBeCloseTo(0.1);
    expect(learningRateAt(9, 100, c)).toBeCloseTo(1);
    expect(learningRateAt(55, 100, c)).toBeCloseTo(0.55);
    expect(learningRateAt(100, 100, c)).toBeCloseTo(0.1);
    // A time limit moves the decay on by whichever is further along, the steps or the clock.
    expect(learningRateAt(10, 100, c, 0.5)).toBeCloseTo(0.55);
    expect(learningRateAt(55, 100, c, 0.1)).toBeCloseTo(0.55);
    expect(learningRateAt(20, 100, c, 1)).toBeCloseTo(0.1);
  });

  it('warm-starts below the floor the model was annealed to, not back at a from-scratch peak', () => {
    // v3: trained 2e-3 → 1e-4, so its nightly run goes 2e-4 → 1e-5 (not the recorded 5e-4 → 5e-5).
    const v3 = { ...DEFAULT_TRAIN_CONFIG, learningRate: 2e-3, minLearningRate: 1e-4, warmLearningRate: 5e-4, warmMinLearningRate: 5e-5 };
    expect(warmStartSchedule(v3)).toMatchObject({ learningRate: 2e-4, minLearningRate: 1e-5, warmupSteps: v3.warmWarmupSteps });
    // A lower warm setting wins; a run annealed to 0 keeps its warm peak rather than a peak of 0.
    expect(warmStartSchedule({ ...v3, warmLearningRate: 1e-4, warmMinLearningRate: 1e-6 })).toMatchObject({ learningRate: 1e-4, minLearningRate: 1e-6 });
    expect(warmStartSchedule({ ...v3, minLearningRate: 0 })).toMatchObject({ learningRate: 5e-4, minLearningRate: 2.5e-5 });
  });

  it('refuses a text shorter than one window', async () => {
    await expect(train({ text: 'tiny', config: TINY })).rejects.toThrow(/shorter than one window/);
  });

  it('meters every step: throughput, elapsed time, and an ETA that reaches 0 at the last step', async () => {
    const steps: StepProgress[] = [];
    const r = await train({ text: TEXT, config: TINY, onStep: (p) => steps.push(p) });
    expect(steps).toHaveLength(2 * steps[0].stepsPerEpoch);
    expect(steps.every((p) => p.charsPerSec > 0 && p.elapsedSec > 0 && p.etaSec >= 0)).toBe(true);
    expect(steps.at(-1)!.etaSec).toBe(0);
    expect(steps.map((p) => p.elapsedSec)).toEqual([...steps.map((p) => p.elapsedSec)].sort((a, b) => a - b));
    expect(r.metrics.every((m) => m.seconds > 0 && m.charsPerSec > 0)).toBe(true);
    r.model.dispose();
  });
});

describe('the train → save → describe → publish pipeline', () => {
  const corpus = { text: TEXT, sha256: sha256(TEXT), files: ['/somewhere/hamlet.txt'] };
  const job = async (over: Partial<PipelineJob> = {}): Promise<PipelineJob> => {
    const root = await mkdtemp(path.join(tmpdir(), 'pipeline-'));
    return {
      registry: new ModelRegistry(path.join(root, 'models')),
      name: 'm',
      corpus,
      config: { ...TINY, epochs: 1 },
      outDir: path.join(root, 'out'),
      provenance: { backend: 'wasm', command: 'test', preset: 'shakespeare-v2' },
      ...over,
    };
  };

  it('publishes the trained model with metadata that names its corpus, settings and preset', async () => {
    const j = await job();
    const run = await trainAndPublish(j);
    expect(run).toMatchObject({ outcome: 'published', version: { version: 'v1' } });
    const { metadata } = await j.registry.current('m');
    expect(metadata.training).toMatchObject({ command: 'test', preset: 'shakespeare-v2', backend: 'wasm', epochs: 1, config: { ...TINY, epochs: 1 } });
    expect(metadata.corpus).toMatchObject({ sha256: corpus.sha256, files: ['hamlet.txt'], valFraction: 0.1 });
    expect(metadata.valLoss.nats).toBe(run.trained.valLoss);
  });

  it('keeps a rejected model in outDir, and saves nothing when no epoch finished', async () => {
    const rejected = await job({ decide: () => ({ publish: false, reason: 'no thanks' }) });
    expect(await trainAndPublish(rejected)).toMatchObject({ outcome: 'rejected', reason: 'no thanks' });
    expect(existsSync(path.join(rejected.outDir, 'weights.bin'))).toBe(true);
    expect(await rejected.registry.versions('m')).toEqual([]);

    const stop = new AbortController();
    stop.abort();
    const cancelled = await job({ loop: { signal: stop.signal } });
    expect(await trainAndPublish(cancelled)).toMatchObject({ outcome: 'cancelled' });
    const timedOut = await job({ config: { ...TINY, maxMinutes: 1e-9 } });
    expect(await trainAndPublish(timedOut)).toMatchObject({ outcome: 'rejected', reason: NO_CANDIDATE });
    for (const j of [cancelled, timedOut]) expect(existsSync(j.outDir)).toBe(false);
  });
});

describe('presets', () => {
  it("hold the shipped models' recipes, setting for setting", async () => {
    expect(presetNames()).toEqual(expect.arrayContaining(['shakespeare-v1', 'shakespeare-v2', 'shakespeare-v8']));
    for (const version of ['v1', 'v2', 'v8']) {
      const preset = await readPreset(`shakespeare-${version}`);
      const shipped = JSON.parse(await readFile(`models/shakespeare/${version}/metadata.json`, 'utf8'));
      // Every setting the shipped model recorded; settings added since (the warm-start schedule) at their defaults.
      expect(preset.config).toEqual({ ...DEFAULT_TRAIN_CONFIG, ...shipped.training.config });
      expect(preset.description).toMatch(/shipped/);
    }
  });

  it('fill unnamed settings with the defaults, and name the file and every bad field', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'presets-'));
    const file = path.join(dir, 'mine.json');
    await writeFile(file, JSON.stringify({ layers: 3 }));
    expect(await readPreset(file)).toEqual({ name: 'mine', file, description: undefined, config: { ...DEFAULT_TRAIN_CONFIG, layers: 3 } });
    await writeFile(file, JSON.stringify({ layers: 0, seed: 1.5, lyers: 2 }));
    await expect(readPreset(file)).rejects.toThrow(`${file}: layers: must be at least 1; seed: must be a whole number; unknown setting "lyers"`);
    await writeFile(file, '{"layers": 2,}');
    await expect(readPreset(file)).rejects.toThrow(`${file} is not JSON`);
    await expect(readPreset('no-such-preset')).rejects.toThrow(/^no preset configs\/no-such-preset.json \(presets: .*shakespeare-v2/);
  });
});
