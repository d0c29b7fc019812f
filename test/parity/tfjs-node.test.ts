// Backend parity on tfjs-node (npm run test:parity; not part of npm test):
// the shipped model loads, serves and evaluates to its recorded loss on
// libtensorflow; training steps match wasm; a model trained on one backend
// serves on the other, both ways; a retrain in the trainer process publishes
// and hot-swaps; TensorFlow's C++ logs stay out of our output. This process
// and its workers and trainer are pinned to tfjs-node by BARDBOT_BACKEND
// (vitest.parity.config.ts); the wasm side runs in child processes.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/ml/backend.js';
import { readCorpus, splitCorpus } from '../../src/ml/corpus.js';
import { CharDecoder } from '../../src/ml/decoder.js';
import { evaluateLoss } from '../../src/ml/evaluate.js';
import { hasLstmCellKernel, hasLstmSequenceKernel } from '../../src/ml/fused-lstm.js';
import { buildModel, lossFromLogits, trainingLoss } from '../../src/ml/model.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import { loadVersion } from '../../src/registry/loader.js';
import { ServingManager } from '../../src/serving/manager.js';
import { WorkerPool } from '../../src/serving/pool.js';
import { PointerSource } from '../../src/serving/source.js';
import { train } from '../../src/training/loop.js';
import { retrain } from '../../src/training/retrain.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/training/settings.js';
import { makeLayout } from '../helpers/retrain-fixture.js';
import type { TrainSide, UseSide } from './on-backend.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

function tfjsNodeLoads(): boolean {
  try {
    execFileSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { cwd: ROOT, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const available = tfjsNodeLoads();
if (!available) console.log('tfjs-node parity: skipped, @tensorflow/tfjs-node does not load here (bash scripts/install-tfjs-node.sh installs it)');

/** A tsx script in a fresh process pinned to `backend`: its stdout's last line as JSON, and its stderr. */
async function onBackend<T>(backend: string, args: string[], env: Record<string, string | undefined> = {}): Promise<{ out: T; stderr: string }> {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, BARDBOT_BACKEND: backend, LOG_FORMAT: 'json', ...env },
  });
  return { out: JSON.parse(stdout.trim().split('\n').at(-1)!) as T, stderr };
}
const side = <T,>(backend: string, task: 'train' | 'use', root: string) => onBackend<T>(backend, ['test/parity/on-backend.ts', task, root]).then((r) => r.out);

const temps: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parity-'));
  temps.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

/** One generation worker serving `registry`'s current version of `name`; `sync()` serves the pointer's version now. */
async function startServing(registry: ModelRegistry, name: string) {
  const manager = new ServingManager(await WorkerPool.start({ workers: 1, maxQueue: 64 }));
  const source = new PointerSource(registry, name);
  const sync = async () => {
    const ref = await source.aspired();
    await manager.load(ref);
    return ref;
  };
  return { manager, sync };
}

describe.skipIf(!available)('tfjs-node parity', () => {
  const shipped = new ModelRegistry(path.join(ROOT, 'models'));

  it('serves the shipped model from worker threads on tfjs-node', async () => {
    const { manager: service, sync } = await startServing(shipped, 'shakespeare');
    try {
      const ref = await sync();
      const r = await service.generate({ seed: 'ROMEO:', length: 200, temperature: 0.8 });
      expect(service.backend).toBe('tensorflow');
      expect(r.version).toBe(ref.version);
      expect(r.text.startsWith('ROMEO:')).toBe(true);
      expect(r.text.length).toBe('ROMEO:'.length + 200);
    } finally {
      await service.close(1000);
    }
  });

  it('evaluates the shipped model to the validation loss recorded when it was trained (npm run eval)', async () => {
    expect((await initBackend('train')).name).toBe('tensorflow');
    const { ref } = await shipped.resolveServable('shakespeare');
    const m = await loadVersion(ref.dir);
    const { val } = splitCorpus((await readCorpus(path.join(ROOT, 'data/shakespeare'))).text, m.metadata.corpus.valFraction);
    const r = evaluateLoss(m.decoder, m.vocab.encode(val));
    expect(tf.getBackend()).toBe('tensorflow');
    // Whichever backend trained it (v2: wasm, v3: tfjs-node); the wasm lane checks the other side (shipped-model.test.ts).
    expect(r.nats).toBeCloseTo(m.metadata.valLoss.nats, 4);
    m.model.dispose();
  });

  it("decodes a batch with TensorFlow's fused LSTM cell to the model's own next-char distributions", async () => {
    expect((await initBackend('generate')).name).toBe('tensorflow');
    expect(hasLstmCellKernel()).toBe(true);
    const { ref } = await shipped.resolveServable('shakespeare');
    const m = await loadVersion(ref.dir);
    const { val } = splitCorpus((await readCorpus(path.join(ROOT, 'data/shakespeare'))).text, m.metadata.corpus.valFraction);
    // Three rows at different places in the text, so each row's state is its own.
    const steps = 40;
    const rows = [0, 5000, 20_000].map((at) => Array.from(m.vocab.encode(val.slice(at, at + steps))));
    const softmax = (t: tf.Tensor) => tf.tidy(() => tf.softmax(t).arraySync() as number[][][]);
    const want = softmax(m.model.predict(tf.oneHot(tf.tensor2d(rows, [rows.length, steps], 'int32'), m.vocab.size).toFloat()) as tf.Tensor);
    const decoder = new CharDecoder(m.model);
    let state = decoder.zeroState(rows.length);
    let worst = 0;
    for (let t = 0; t < steps; t++) {
      const out = decoder.step(Int32Array.from(rows, (r) => r[t]), state);
      state = out.state;
      const got = softmax(tf.tensor3d(out.logits, [rows.length, 1, m.vocab.size]));
      rows.forEach((_, i) => got[i][0].forEach((p, j) => (worst = Math.max(worst, Math.abs(p - want[i][t][j])))));
    }
    expect(worst).toBeLessThan(1e-4);
    decoder.dispose();
    m.model.dispose();
  });

  it("trains through TensorFlow's fused sequence LSTM to the tfjs LSTM layer's loss and gradients", async () => {
    expect((await initBackend('train')).name).toBe('tensorflow');
    expect(hasLstmSequenceKernel()).toBe(true);
    const model = buildModel({ vocabSize: 13, layers: 2, units: 24, dropout: 0 }, 7);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const ids = tf.randomUniform([5, 17], 0, 13, 'int32', 2) as tf.Tensor2D;
    const x = tf.oneHot(ids, 13).toFloat() as tf.Tensor3D;
    const y = tf.randomUniform([5, 17], 0, 13, 'int32', 3) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const fused = tf.variableGrads(() => trainingLoss(model, { x, y, dropoutSeed: 1 }), vars);
    const layers = tf.variableGrads(() => lossFromLogits(model.apply(x, { training: true }) as tf.Tensor, y), vars);
    expect(fused.value.dataSync()[0]).toBeCloseTo(layers.value.dataSync()[0], 5);
    for (const v of vars) {
      const [got, want] = [fused.grads[v.name], layers.grads[v.name]];
      const [scale, diff] = tf.tidy(() => [tf.max(tf.abs(want)).dataSync()[0], tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]]);
      expect(scale).toBeGreaterThan(0);
      expect(diff / scale, v.name).toBeLessThan(1e-4);
    }
    tf.dispose([fused.value, layers.value, ...Object.values(fused.grads), ...Object.values(layers.grads)]);
    // The forward's saved outputs go with the gradient: nothing is left behind.
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([model, ids, x, y] as never);
  });

  it('trains the same model on 2 tfjs-node replicas as on 1 thread, with dropout, step for step', async () => {
    expect((await initBackend('train')).name).toBe('tensorflow');
    const config = { ...DEFAULT_TRAIN_CONFIG, layers: 2, units: 16, dropout: 0.2, seqLen: 12, batchSize: 8, epochs: 2, warmupSteps: 3, evalStreams: 4 };
    const text = 'To be, or not to be, that is the question:\n'.repeat(60);
    const runs = [];
    for (const workers of [1, 2]) {
      const losses: number[] = [];
      runs.push({ losses, result: await train({ text, config: { ...config, workers }, onStep: (p) => losses.push(p.loss) }) });
    }
    const [one, two] = runs;
    expect(two.losses).toHaveLength(48);
    expect(Math.max(...one.losses.map((l, i) => Math.abs(l - two.losses[i])))).toBeLessThan(1e-4);
    expect(two.result.valLoss).toBeCloseTo(one.result.valLoss, 4);
    // The model moved: not two untrained models compared.
    expect(one.result.metrics[1].trainLoss).toBeLessThan(one.result.metrics[0].trainLoss - 0.1);
    for (const r of runs) r.result.model.dispose();
  });

  it('serves from wasm and tfjs-node together when generation is not pinned: lone rows on wasm, batches on the fused cell', async () => {
    // Unpinned for the worker only: it copies the environment when it starts.
    const pinned = process.env.BARDBOT_BACKEND;
    delete process.env.BARDBOT_BACKEND;
    let service: ServingManager;
    try {
      service = new ServingManager(await WorkerPool.start({ workers: 1, maxQueue: 64 }));
    } finally {
      process.env.BARDBOT_BACKEND = pinned;
    }
    try {
      await service.load(await new PointerSource(shipped, 'shakespeare').aspired());
      expect(service.backend).toBe('wasm, tensorflow for 2+ rows');
      const seeds = ['ROMEO:', 'JULIET:', 'KING', 'First Citizen:', 'O', 'MENENIUS:'];
      const batch = await Promise.all(seeds.map((seed) => service.generate({ seed, length: 120, temperature: 0.8 })));
      batch.forEach((r, i) => expect(r.text).toMatch(new RegExp(`^${seeds[i]}[\\s\\S]{120}$`)));
      const lone = await service.generate({ seed: 'ROMEO:', length: 60, temperature: 0.8 });
      expect(lone.text).toMatch(/^ROMEO:[\s\S]{60}$/);
    } finally {
      await service.close(1000);
    }
  });

  it('trains to the same losses as wasm, and each model serves on the other backend', async () => {
    const [wasmRoot, nodeRoot] = [await tempDir(), await tempDir()];
    const [onWasm, onNode] = await Promise.all([side<TrainSide>('wasm', 'train', wasmRoot), side<TrainSide>('tensorflow', 'train', nodeRoot)]);
    expect([onWasm.backend, onNode.backend]).toEqual(['wasm', 'tensorflow']);
    expect(onNode.metrics.length).toBe(onWasm.metrics.length);
    onWasm.metrics.forEach((w, i) => {
      expect(onNode.metrics[i].trainLoss).toBeCloseTo(w.trainLoss, 3);
      expect(onNode.metrics[i].valLoss).toBeCloseTo(w.valLoss, 3);
    });

    // Crossed over: each model evaluated on the backend it was not trained on.
    const [wasmModelOnNode, nodeModelOnWasm] = await Promise.all([side<UseSide>('tensorflow', 'use', wasmRoot), side<UseSide>('wasm', 'use', nodeRoot)]);
    expect(wasmModelOnNode).toMatchObject({ backend: 'tensorflow', trainedOn: 'wasm' });
    expect(nodeModelOnWasm).toMatchObject({ backend: 'wasm', trainedOn: 'tensorflow' });
    expect(wasmModelOnNode.loss).toBeCloseTo(onWasm.metrics.at(-1)!.valLoss, 3);
    expect(nodeModelOnWasm.loss).toBeCloseTo(onNode.metrics.at(-1)!.valLoss, 3);
    for (const s of [wasmModelOnNode.sample, nodeModelOnWasm.sample]) expect(s).toMatch(/^ROMEO:[\s\S]{100}$/);

    // And the wasm-trained one through the generation service on tfjs-node.
    const { manager: service, sync } = await startServing(new ModelRegistry(wasmRoot), 'shakespeare');
    try {
      await sync();
      const r = await service.generate({ seed: 'First', length: 50, temperature: 0.8 });
      expect(service.backend).toBe('tensorflow');
      expect(r.text.length).toBe('First'.length + 50);
    } finally {
      await service.close(1000);
    }
  });

  it('retrains in the trainer process on tfjs-node and hot-swaps the service to the new version', async () => {
    const l = await makeLayout();
    temps.push(l.root);
    await retrain(l.job({ epochs: 1 }));
    const { manager: service, sync } = await startServing(l.registry, l.name);
    try {
      expect((await sync()).version).toBe('v1');
      const outcome = await l.controller(sync, { epochs: 1, tolerance: 10 }).start({ trigger: 'admin', userId: '1' });
      expect(outcome).toMatchObject({ outcome: 'published', version: 'v2', servingVersion: 'v1' });
      expect(service.serving()?.version).toBe('v2');
      expect(service.serving()?.metadata.training.backend).toBe('tensorflow');
      const r = await service.generate({ seed: 'Citizen', length: 40, temperature: 0.8 });
      expect(r.version).toBe('v2');
    } finally {
      await service.close(1000);
    }
  });

  it("keeps TensorFlow's C++ logs out of stderr unless LOG_LEVEL=debug", async () => {
    const script = ['--input-type=module', '-e', "import * as tf from '@tensorflow/tfjs'; import { initBackend } from './src/ml/backend.ts'; await initBackend('train'); tf.add(1, 2).dataSync(); console.log('{}');"];
    // The variables quietTensorFlow sets must come from it, not from this process (undefined: left out).
    const clean = { TF_CPP_MIN_LOG_LEVEL: undefined, TF_ENABLE_ONEDNN_OPTS: undefined };
    const noisy = /absl|oneDNN|cpu_feature_guard/;
    const quiet = await onBackend('tensorflow', script, { ...clean, LOG_LEVEL: 'info' });
    expect(quiet.stderr).toContain('"backend":"tensorflow"');
    expect(quiet.stderr).not.toMatch(noisy);
    const debug = await onBackend('tensorflow', script, { ...clean, LOG_LEVEL: 'debug' });
    expect(debug.stderr).toMatch(noisy);
  });
});
