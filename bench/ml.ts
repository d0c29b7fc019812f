// Generation and training speed of the shipped model on one backend, each ratio
// measured side by side in this one run. benchMl (bench/ml-all.ts) runs it once
// per backend, each in a process of its own.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/ml/backend.js';
import { generate } from '../src/ml/generate.js';
import { registerWasmKernels, restoreStockKernels } from '../src/ml/kernels.js';
import { buildModel, trainingLoss, type Architecture } from '../src/ml/model.js';
import { makeRng } from '../src/ml/rng.js';
import { sample } from '../src/ml/sampling.js';
import { loadFromRegistry, type LoadedModel } from '../src/registry/loader.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { workersFor } from '../src/training/loop.js';
import { Replicas } from '../src/training/parallel/coordinator.js';
import { DEFAULT_TRAIN_CONFIG } from '../src/training/settings.js';
import { withoutTensorflowThreads } from '../src/runtime/tensorflow-threads.js';
import { measureIn } from './ml-all.js';
import { percentile } from './stats.js';

export interface Row {
  what: string;
  value: string;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** The tfjs-examples method: re-predict the last 60 chars for every new char. */
function windowMethod(m: LoadedModel, seed: string, length: number): string {
  const window = 60;
  const rng = makeRng(1);
  const ids = [...m.vocab.encode(seed)];
  for (let i = 0; i < length; i++) {
    const ctx = ids.slice(-window);
    const logits = tf.tidy(() => {
      const x = tf.oneHot(tf.tensor2d([ctx], [1, ctx.length], 'int32'), m.vocab.size).toFloat();
      const out = m.model.predict(x) as tf.Tensor3D;
      return out.slice([0, ctx.length - 1, 0], [1, 1, m.vocab.size]).dataSync();
    });
    ids.push(sample(logits, { temperature: 0.8 }, rng));
  }
  return m.vocab.decode(ids);
}

/**
 * A training measurement's length: at least `steps` steps and at least
 * `seconds`, so that a fast step is timed over many and a slow one (wasm's
 * stock kernels: a minute) over few. Returns steps per second.
 */
interface Budget {
  steps: number;
  seconds: number;
}
const TRAINING_BUDGET: Budget = { steps: 3, seconds: 12 };

async function stepsPerSec(step: () => unknown, { steps, seconds: minSeconds }: Budget): Promise<number> {
  const t0 = performance.now();
  let done = 0;
  while (done < steps || seconds(t0) < minSeconds) {
    await step();
    done++;
  }
  return done / seconds(t0);
}

/** A training setup under measurement: one step on its fixed batch, which trains `charsPerStep` characters. */
interface Trainer {
  charsPerStep: number;
  step(): unknown;
  close(): Promise<void>;
}

const SEQ_LEN = 64;

/** The single-thread training step (trainingLoss, on tfjs-node the fused sequence op, with Adam) on one fixed batch of `b` rows, on this thread. */
function threadTrainer(arch: Architecture, b = 64): Trainer {
  const model = buildModel(arch, 1);
  const optimizer = tf.train.adam(1e-3);
  const ids = tf.randomUniform([b, SEQ_LEN + 1], 0, arch.vocabSize, 'int32', 3);
  const x = tf.tidy(() => tf.oneHot(ids.slice([0, 0], [b, SEQ_LEN]), arch.vocabSize).toFloat()) as tf.Tensor3D;
  const y = ids.slice([0, 1], [b, SEQ_LEN]) as tf.Tensor2D;
  let dropoutSeed = 0;
  const step = () => {
    const loss = optimizer.minimize(() => trainingLoss(model, { x, y, dropoutSeed: dropoutSeed++ }), true)!;
    loss.dataSync();
    loss.dispose();
  };
  step(); // warm-up
  return { charsPerStep: b * SEQ_LEN, step, close: async () => tf.dispose([model, optimizer, ids, x, y] as never) };
}

/** The training loop's step (clipped Adam) shared by `workers` replica threads, on one fixed batch of `b` rows. */
async function replicaTrainer(arch: Architecture, workers: number, b = 64): Promise<Trainer> {
  const model = buildModel(arch, 1);
  const optimizer = tf.train.adam(1e-3);
  let replicas: Replicas | undefined;
  const close = async () => {
    await replicas?.terminate();
    model.dispose();
    optimizer.dispose();
  };
  try {
    replicas = await Replicas.start(workers, model, optimizer);
    const rng = makeRng(3);
    const ids = () => Int32Array.from({ length: b * SEQ_LEN }, () => Math.floor(rng() * arch.vocabSize));
    const batch = { xs: ids(), ys: ids(), rows: b, seqLen: SEQ_LEN, dropoutSeed: 1 };
    const step = () => replicas!.step(batch, 1e-3, 5);
    // Each replica is a fresh isolate: its JIT needs a few steps before the times settle.
    for (let i = 0; i < 3; i++) await step();
    return { charsPerStep: b * SEQ_LEN, step, close };
  } catch (err) {
    await close();
    throw err;
  }
}

const charsPerSec = async (t: Trainer, budget = TRAINING_BUDGET) => (await stepsPerSec(t.step, budget)) * t.charsPerStep;

/** The chars/s of the trainer `start` makes, measured alone; it is closed after. */
async function measure(start: () => Trainer | Promise<Trainer>, budget = TRAINING_BUDGET): Promise<number> {
  const t = await start();
  try {
    return await charsPerSec(t, budget);
  } finally {
    await t.close();
  }
}

/** Two or more single-replica trainers stepping at once, each on its own full batch: what the machine gives independent trainings side by side. */
async function independentTrainers(arch: Architecture, copies: number, b = 64): Promise<Trainer> {
  const all: Trainer[] = [];
  const close = async () => {
    for (const t of all) await t.close();
  };
  try {
    for (let i = 0; i < copies; i++) all.push(await replicaTrainer(arch, 1, b));
  } catch (err) {
    await close();
    throw err;
  }
  return { charsPerStep: copies * b * SEQ_LEN, step: () => Promise.all(all.map((t) => t.step())), close };
}

const ROUNDS = 3;

/**
 * Each trainer's chars/s in ROUNDS alternating turns (every trainer, then
 * again): a ratio is taken within one round, so a slow spell of this shared
 * machine lands on both of its sides rather than on one. All are closed after.
 */
async function sideBySide(trainers: Trainer[]): Promise<number[][]> {
  try {
    const rounds: number[][] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const round: number[] = [];
      for (const t of trainers) round.push(await charsPerSec(t));
      rounds.push(round);
    }
    return rounds;
  } finally {
    for (const t of trainers) await t.close();
  }
}

/** Trainer `k`'s median chars/s over the rounds. */
const median = (rounds: number[][], k: number) => percentile(rounds.map((r) => r[k]), 50);

/** Trainer `k`'s speed over trainer `base`'s: the median round's ratio, then every round's. */
function ratio(rounds: number[][], k: number, base = 0): string {
  const ratios = rounds.map((r) => r[k] / r[base]);
  return `${percentile(ratios, 50).toFixed(2)}× (rounds ${ratios.map((x) => x.toFixed(2)).join(', ')})`;
}

/** The bar's architecture, 2x256, where the shipped model is another. */
const barArchitecture = (arch: Architecture) => (arch.layers === 2 && arch.units === 256 ? undefined : { ...arch, layers: 2, units: 256 });

/** Training chars/s of the shipped architecture and, where it is another, of the bar's 2x256. */
async function trainingSpeeds(arch: Architecture): Promise<{ shipped: number; bar?: number }> {
  const bar = barArchitecture(arch);
  return { shipped: await measure(() => threadTrainer(arch)), ...(bar && { bar: await measure(() => threadTrainer(bar)) }) };
}

/** Training speed alone (benchTrainingOn runs it in a child process, on TensorFlow's own threads). */
export async function benchTrainingSpeedOn(backend: BackendName, modelsDir: string, name: string): Promise<Row[]> {
  await initBackend('train', backend);
  const { metadata } = (await new ModelRegistry(modelsDir).resolveServable(name)).ref;
  const { shipped, bar } = await trainingSpeeds(metadata.architecture);
  return [{ what: 'shipped', value: shipped.toFixed(0) }, ...(bar === undefined ? [] : [{ what: '2x256', value: bar.toFixed(0) }])];
}

/** The generation figures on `backend`, in a process set up as the bot's generation workers are; throws if it cannot initialise. */
export async function benchGenerationOn(backend: BackendName, modelsDir: string, name: string): Promise<Row[]> {
  await initBackend('generate', backend);
  const { ref, ...m } = await loadFromRegistry(new ModelRegistry(modelsDir), name);
  const rows: Row[] = [{ what: 'model', value: `${ref.name} ${ref.version} (${m.metadata.architecture.layers}x${m.metadata.architecture.units} LSTM)` }];
  const req = { seed: 'ROMEO:', length: 300, temperature: 0.8, rngSeed: 1 };

  // Steady state for both methods: the JIT needs a few runs to optimise the decode loop.
  const best = (runs: number, f: () => void) => {
    let fastest = Infinity;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      f();
      fastest = Math.min(fastest, seconds(t0));
    }
    return fastest;
  };
  best(4, () => generate(m.decoder, m.vocab, [req]));
  const ours = 300 / best(3, () => generate(m.decoder, m.vocab, [req]));
  const windowChars = 40; // the old method is slow: time fewer chars
  windowMethod(m, req.seed, 10);
  const theirs = windowChars / best(2, () => windowMethod(m, req.seed, windowChars));
  rows.push(
    { what: 'one 300-char request, stateful decoder (best of 3, warmed up)', value: `${ours.toFixed(0)} chars/s` },
    { what: 'one request, tfjs-examples 60-char window re-predict', value: `${theirs.toFixed(1)} chars/s` },
    { what: 'ratio stateful / window (bar ≥ 30×, goal ≥ 100×)', value: `${(ours / theirs).toFixed(0)}×` },
  );

  const sixteen = Array.from({ length: 16 }, (_, i) => ({ ...req, rngSeed: i }));
  best(2, () => generate(m.decoder, m.vocab, sixteen));
  const batched = (16 * 300) / best(3, () => generate(m.decoder, m.vocab, sixteen));
  rows.push(
    { what: '16 concurrent 300-char requests, total (bar ≥ 3,000)', value: `${batched.toFixed(0)} chars/s` },
    { what: 'ratio 16 batched / 1 alone', value: `${(batched / ours).toFixed(1)}×` },
  );

  // A burst's batch: where the generation worker hands steps to tfjs-node's fused cell (backend.ts: initBatchBackend).
  const burstRows = 200;
  const state = m.decoder.zeroState(burstRows);
  const input = new Int32Array(burstRows);
  const step = () => void m.decoder.step(input, state);
  best(3, step);
  const stepMs = best(10, step) * 1000;
  rows.push({ what: `one decode step of ${burstRows} rows (best of 10)`, value: `${stepMs.toFixed(1)} ms, ${((burstRows * 1000) / stepMs).toFixed(0)} chars/s` });
  return rows;
}

/** The training figures of the shipped architecture on `backend`, in a process set up as the trainer is; throws if it cannot initialise. */
export async function benchTrainingOn(backend: BackendName, modelsDir: string, name: string): Promise<Row[]> {
  await initBackend('train', backend);
  const { metadata } = (await new ModelRegistry(modelsDir).resolveServable(name)).ref;
  const arch = metadata.architecture;
  const rows: Row[] = [];
  const { shipped: trained, bar } = await trainingSpeeds(arch);
  rows.push({ what: 'training seq 64 × batch 64, 1 thread (wasm: bardbot kernels; tfjs-node: fused BlockLSTM)', value: `${trained.toFixed(0)} chars/s` });
  if (bar !== undefined) rows.push({ what: 'training 2x256 (bar ≥ 5,000 chars/s)', value: `${bar.toFixed(0)} chars/s` });
  const workers = workersFor({ ...DEFAULT_TRAIN_CONFIG, workers: availableParallelism() });
  if (workers > 1) {
    // The bar's ratio, beside the yardstick it was set by: as many independent trainings at once as there are replicas.
    const split = await sideBySide([threadTrainer(arch), await replicaTrainer(arch, workers), await independentTrainers(arch, workers)]);
    // What limits the ratio: a replica's own cost (thread, messages, the
    // shared-buffer copies) at the full batch, then at its share alone, so
    // that "share alone" vs "all together" is what the replicas cost each other.
    const one = await measure(() => replicaTrainer(arch, 1));
    const share = await measure(() => replicaTrainer(arch, 1, 64 / workers));
    // The shipped model's own batch: each replica's share is larger, and so more efficient.
    const shippedBatch = Number(metadata.training.config.batchSize) || 64;
    const atShipped = shippedBatch === 64 ? undefined : await sideBySide([await replicaTrainer(arch, 1, shippedBatch), await replicaTrainer(arch, workers, shippedBatch)]);
    rows.push(
      { what: `training seq 64 × batch 64, ${workers} replica threads (data-parallel, the default)`, value: `${median(split, 1).toFixed(0)} chars/s` },
      { what: `ratio ${workers} replicas / 1 thread (bar ≥ 1.6× at 2), median of ${ROUNDS} alternating rounds`, value: ratio(split, 1) },
      { what: `yardstick: ${workers} independent trainings at once (1 replica, full batch each) / 1 thread, same rounds`, value: ratio(split, 2) },
      { what: `ratio ${workers} replicas / ${workers} independent trainings (what splitting a batch costs)`, value: ratio(split, 1, 2) },
      { what: 'profile: 1 replica thread, batch 64 / main thread', value: `${one.toFixed(0)} chars/s, ${(one / trained).toFixed(2)}×` },
      { what: `profile: 1 replica thread, batch ${64 / workers} (its share), alone`, value: `${share.toFixed(0)} chars/s, ${(share / one).toFixed(2)}× batch 64` },
      { what: `profile: ${workers} replicas together / ${workers} × one share alone`, value: `${(median(split, 1) / (workers * share)).toFixed(2)}×` },
      ...(atShipped
        ? [{ what: `training at the shipped model's batch (${shippedBatch}), ${workers} replicas / 1 replica, median of ${ROUNDS} rounds`, value: `${median(atShipped, 1).toFixed(0)} chars/s: ${ratio(atShipped, 1)}` }]
        : []),
    );
  } else {
    rows.push({ what: 'training on worker threads', value: 'skipped: one core' });
  }
  if (backend === 'tensorflow') {
    // This process runs TensorFlow on one thread, as the bot and replicated training do; the alternative is TensorFlow's own threads, in a process of its own.
    const own = await measureIn([backend, modelsDir, name, 'training-speed'], withoutTensorflowThreads(process.env));
    const threads = Number(own.find((r) => r.what === 'shipped')?.value);
    rows.push({
      what: `training seq 64 × batch 64, 1 worker on TensorFlow's own ${availableParallelism()} threads`,
      value: Number.isFinite(threads) ? `${threads.toFixed(0)} chars/s, ${(threads / trained).toFixed(2)}× 1 thread` : own[0].value,
    });
  }
  if (backend === 'wasm') {
    restoreStockKernels();
    const stock = await measure(() => threadTrainer(arch), { steps: 1, seconds: 0 });
    registerWasmKernels();
    rows.push(
      { what: 'training seq 64 × batch 64, stock wasm kernels', value: `${stock.toFixed(0)} chars/s` },
      { what: 'ratio bardbot / stock wasm kernels (bar ≥ 5×)', value: `${(trained / stock).toFixed(1)}×` },
    );
  }
  return rows;
}
