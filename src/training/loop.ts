// The training loop, char-rnn/nanoGPT style: random windows of the training
// split, next-char loss at every position, Adam with global-norm clipping and a
// warmup + cosine learning-rate schedule, validation every epoch, best weights
// kept, early stopping, and checkpoints to resume from. With several workers
// each step's batch is shared out to replicas on worker threads (parallel/).
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { CharDecoder } from '../ml/decoder.js';
import { evaluateLoss } from '../ml/evaluate.js';
import { buildModel, trainingLoss, type Architecture, type TrainingBatch } from '../ml/model.js';
import { makeRng, nextSeed } from '../ml/rng.js';
import { splitCorpus } from '../ml/corpus.js';
import { Vocabulary } from '../ml/vocab.js';
import { oneTensorflowThread } from '../runtime/tensorflow-threads.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { TrainMeter, type StepReading } from './meter.js';
import { Replicas } from './parallel/coordinator.js';
import type { TrainConfig } from './settings.js';

export interface StepProgress extends StepReading {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  learningRate: number;
}

export interface EpochMetrics {
  epoch: number;
  steps: number;
  trainLoss: number;
  valLoss: number;
  valBitsPerChar: number;
  learningRate: number;
  seconds: number;
  charsPerSec: number;
}

export type StopReason = 'epochs' | 'time' | 'early-stop' | 'cancelled';

export interface TrainResult {
  model: tf.LayersModel;
  vocab: Vocabulary;
  metrics: EpochMetrics[];
  bestEpoch: number;
  valLoss: number;
  stopReason: StopReason;
  /** Training time, including the sessions a resumed run continues. */
  seconds: number;
}

export interface TrainInput {
  text: string;
  config: TrainConfig;
  /** Vocabulary to train with (a warm start keeps the serving one). */
  vocab?: Vocabulary;
  /** Warm start: continue from this model (same architecture and vocabulary). */
  initModel?: tf.LayersModel;
  /** Checkpoint folder; with `resume`, training continues from it. */
  checkpointDir?: string;
  resume?: boolean;
  signal?: AbortSignal;
  onStep?: (p: StepProgress) => void;
  onEpoch?: (m: EpochMetrics) => void;
}

/**
 * Learning rate at `step` of `total`: linear warmup, then cosine to the
 * minimum. `budgetUsed` (the share of a time limit spent) moves the decay on
 * when the clock, not the epochs, will end the run: a 20-minute nightly run
 * of a 15-epoch model still anneals instead of stopping near its peak.
 */
export function learningRateAt(step: number, total: number, c: TrainConfig, budgetUsed = 0): number {
  if (step < c.warmupSteps) return (c.learningRate * (step + 1)) / c.warmupSteps;
  const progress = Math.min(1, Math.max(budgetUsed, (step - c.warmupSteps) / Math.max(1, total - c.warmupSteps)));
  return c.minLearningRate + 0.5 * (c.learningRate - c.minLearningRate) * (1 + Math.cos(Math.PI * progress));
}

/** A batch of training windows as ids: `xs` and `ys` are [rows, seqLen], row-major; `ys` is `xs` one char later. */
export interface Windows {
  xs: Int32Array;
  ys: Int32Array;
  rows: number;
  seqLen: number;
  /** Seeds the batch's dropout masks, and where these rows start in it (TrainingBatch). */
  dropoutSeed: number;
  firstRow?: number;
}

function sampleWindows(ids: Int32Array, c: TrainConfig, rng: () => number): Windows {
  const { batchSize: b, seqLen: t } = c;
  const xs = new Int32Array(b * t);
  const ys = new Int32Array(b * t);
  for (let r = 0; r < b; r++) {
    const start = Math.floor(rng() * (ids.length - t - 1));
    xs.set(ids.subarray(start, start + t), r * t);
    ys.set(ids.subarray(start + 1, start + t + 1), r * t);
  }
  return { xs, ys, rows: b, seqLen: t, dropoutSeed: nextSeed(rng) };
}

/** The windows as the model's input, one-hot x [rows, seqLen, vocabSize], and the int32 targets y [rows, seqLen]. */
export function batchTensors(w: Windows, vocabSize: number): TrainingBatch {
  return tf.tidy(() => ({
    x: tf.oneHot(tf.tensor2d(w.xs, [w.rows, w.seqLen], 'int32'), vocabSize).toFloat() as tf.Tensor3D,
    y: tf.tensor2d(w.ys, [w.rows, w.seqLen], 'int32'),
    dropoutSeed: w.dropoutSeed,
    firstRow: w.firstRow,
  }));
}

/** Replicas a run asks for before its batch size is known: the setting, else one per core. */
const askedWorkers = (workers: number | undefined) => workers ?? availableParallelism();

/**
 * Worker threads for a run: the setting, else one per core, never more than
 * rows in a batch. Measured on 2 cores (2x512, `npm run bench`, four runs): on
 * tfjs-node, with TensorFlow on one thread each, two replicas train 1.3-2.0x one
 * thread at batch 64 (within 4 % of two independent trainings side by side) and
 * 1.4-2.1x one replica at batch 128, while one worker on TensorFlow's own two
 * threads trains 0.86-1.11x one thread; on wasm, where an op always runs on one
 * thread, replicas give 1.06-1.44x.
 */
export function workersFor(c: TrainConfig): number {
  return Math.max(1, Math.min(askedWorkers(c.workers), c.batchSize));
}

/**
 * For a training process that asks for `workers` replicas, before tfjs-node
 * loads: the replicas are its parallelism, so each runs TensorFlow's ops on
 * its own thread (runtime/tensorflow-threads.ts).
 */
export function tensorflowThreadsFor(workers: number | undefined): void {
  if (askedWorkers(workers) > 1) oneTensorflowThread();
}

/** Scales gradients so their global L2 norm is at most `clipNorm`. */
function clipByGlobalNorm(grads: tf.NamedTensorMap, clipNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
    const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
    return Object.fromEntries(names.map((n) => [n, tf.mul(grads[n], scale)]));
  });
}

/** One optimisation step on one batch; resolves with its loss. */
async function step(model: tf.LayersModel, variables: tf.Variable[], optimizer: tf.Optimizer, batch: TrainingBatch, clipNorm: number): Promise<number> {
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => trainingLoss(model, batch), variables);
    optimizer.applyGradients(clipByGlobalNorm(grads, clipNorm));
    return value;
  });
  const l = (await loss.data())[0];
  tf.dispose([batch.x, batch.y, loss]);
  return l;
}

export async function train(input: TrainInput): Promise<TrainResult> {
  const c = input.config;
  const vocab = input.vocab ?? Vocabulary.fromText(input.text);
  const split = splitCorpus(input.text, c.valFraction);
  const trainIds = vocab.encode(split.train);
  const valIds = vocab.encode(split.val);
  if (trainIds.length < c.seqLen + 2) throw new Error(`training text (${trainIds.length} chars) is shorter than one window`);
  const arch: Architecture = { vocabSize: vocab.size, layers: c.layers, units: c.units, dropout: c.dropout };
  const stepsPerEpoch = Math.max(1, Math.floor(trainIds.length / (c.batchSize * c.seqLen)));
  const totalSteps = stepsPerEpoch * c.epochs;

  let model = input.initModel ?? buildModel(arch, c.seed);
  const optimizer: tf.Optimizer = tf.train.adam(c.learningRate);
  const metrics: EpochMetrics[] = [];
  let startEpoch = 0;
  if (input.resume && input.checkpointDir) {
    const ckpt = await loadCheckpoint(input.checkpointDir, vocab);
    if (ckpt) {
      if (model !== input.initModel) model.dispose();
      model = ckpt.model;
      await optimizer.setWeights(ckpt.optimizerWeights);
      metrics.push(...ckpt.metrics);
      startEpoch = metrics.length;
    }
  }
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const workers = workersFor(c);
  const replicas = workers > 1 ? await Replicas.start(workers, model, optimizer) : undefined;

  let best = metrics.reduce((b, m) => (m.valLoss < b.valLoss ? m : b), { epoch: -1, valLoss: Infinity } as Pick<EpochMetrics, 'epoch' | 'valLoss'>);
  let bestWeights: tf.Tensor[] | undefined = best.epoch >= 0 ? model.getWeights().map((w) => w.clone()) : undefined;
  const meter = new TrainMeter(c.batchSize * c.seqLen, totalSteps - startEpoch * stepsPerEpoch);
  const budgetUsed = () => (c.maxMinutes === undefined ? 0 : meter.elapsedSec() / (c.maxMinutes * 60));
  const outOfTime = () => budgetUsed() > 1;
  let stopReason: StopReason = 'epochs';
  /** The rate of the last step, recorded with its epoch. */
  let lr = c.learningRate;

  try {
    for (let epoch = startEpoch; epoch < c.epochs; epoch++) {
      const rng = makeRng(c.seed * 1_000_003 + epoch);
      meter.startEpoch();
      let lossSum = 0;
      let steps = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (input.signal?.aborted) {
          stopReason = 'cancelled';
          break;
        }
        if (outOfTime()) {
          stopReason = 'time';
          break;
        }
        lr = learningRateAt(epoch * stepsPerEpoch + s, totalSteps, c, budgetUsed());
        const windows = sampleWindows(trainIds, c, rng);
        let loss: number;
        if (replicas) loss = await replicas.step(windows, lr, c.clipNorm);
        else {
          // Adam reads its learningRate field at every update; tfjs offers no setter.
          (optimizer as unknown as { learningRate: number }).learningRate = lr;
          loss = await step(model, variables, optimizer, batchTensors(windows, vocab.size), c.clipNorm);
        }
        // A turn of the event loop per step: on wasm/cpu data() resolves without
        // one, and signals, IPC (cancel, parent gone) and timers wait for it.
        await new Promise((resolve) => setImmediate(resolve));
        if (!Number.isFinite(loss)) throw new Error(`training diverged at epoch ${epoch + 1}, step ${s + 1} (loss ${loss})`);
        lossSum += loss;
        steps++;
        input.onStep?.({ epoch: epoch + 1, epochs: c.epochs, step: s + 1, stepsPerEpoch, learningRate: lr, ...meter.step(loss) });
      }
      if (steps === 0) break;
      // The replicas hold the trained weights and Adam's state; this thread validates and checkpoints.
      await replicas?.pull(model, optimizer);

      const decoder = new CharDecoder(model);
      const val = evaluateLoss(decoder, valIds, c.evalStreams);
      decoder.dispose();
      const m: EpochMetrics = {
        epoch: epoch + 1,
        steps,
        trainLoss: lossSum / steps,
        valLoss: val.nats,
        valBitsPerChar: val.bitsPerChar,
        learningRate: lr,
        ...meter.endEpoch(),
      };
      metrics.push(m);
      input.onEpoch?.(m);
      if (m.valLoss < best.valLoss) {
        best = m;
        tf.dispose(bestWeights ?? []);
        bestWeights = model.getWeights().map((w) => w.clone());
      }
      if (input.checkpointDir && stopReason !== 'cancelled') {
        await saveCheckpoint(input.checkpointDir, model, optimizer, metrics, vocab);
      }
      if (stopReason !== 'epochs') break;
      if (epoch + 1 - best.epoch >= c.patience && epoch + 1 < c.epochs) {
        stopReason = 'early-stop';
        break;
      }
    }
  } finally {
    await replicas?.terminate();
  }
  optimizer.dispose();
  if (bestWeights) {
    model.setWeights(bestWeights);
    tf.dispose(bestWeights);
  }
  // A resumed run counts the time of the sessions before it (their epochs) too.
  const earlier = metrics.slice(0, startEpoch).reduce((sum, m) => sum + m.seconds, 0);
  return { model, vocab, metrics, bestEpoch: best.epoch, valLoss: best.valLoss, stopReason, seconds: earlier + meter.elapsedSec() };
}
