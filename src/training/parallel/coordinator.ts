// Data-parallel training steps: N replicas on worker threads, each computing
// the gradient of its share of the batch. The coordinator averages their
// gradients (weighted by rows, so it is the full batch's mean), clips the
// average by its global norm and publishes it in one shared buffer; every
// replica then applies that same update with its own, identical Adam state.
// The result is one big-batch step; weights cross threads only at start and
// when the main thread asks for them (validation, checkpoints).
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { moduleUrl, startWorker } from '../../runtime/entry.js';
import type { Windows } from '../loop.js';
import type { FromReplica, TensorData, ToReplica } from './protocol.js';

const REPLICA_MODULE = moduleUrl('./replica.js', import.meta.url);

type Reply = Exclude<FromReplica, { type: 'error' }>;

/** One worker and the replies it still owes, in order (a replica answers its messages in order). */
class ReplicaHandle {
  private readonly waiting: { resolve: (m: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(readonly worker: Worker) {
    worker.on('message', (m: FromReplica) => {
      if (m.type === 'error') this.fail(new Error(`training replica failed: ${m.message}`));
      else this.waiting.shift()?.resolve(m);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`training replica exited (code ${code})`)));
  }

  post(m: ToReplica): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(m);
  }

  /** Posts `m` and resolves with the reply of type `type`. */
  ask<T extends Reply['type']>(m: ToReplica, type: T): Promise<Extract<Reply, { type: T }>> {
    this.post(m);
    return new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject })).then((r) => {
      if (r.type !== type) throw new Error(`training replica answered ${r.type}, expected ${type}`);
      return r as Extract<Reply, { type: T }>;
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}

const tensorData = (name: string, t: tf.Tensor): TensorData => ({ name, shape: t.shape, values: t.dataSync() as Float32Array | Int32Array });

/** Topology and weights of `model`, as one message can carry them. */
async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  return artifacts!;
}

export class Replicas {
  private constructor(
    private readonly handles: ReplicaHandle[],
    /** Float32 [replicas × params] and [params]: see ToReplica 'init'. */
    private readonly gradients: Float32Array,
    private readonly update: Float32Array,
  ) {}

  /**
   * Starts `count` replicas of `model` (on this thread's backend), with
   * `optimizer`'s state. The caller must `terminate()` them, even on error.
   */
  static async start(count: number, model: tf.LayersModel, optimizer: tf.Optimizer): Promise<Replicas> {
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const params = variables.reduce((n, v) => n + v.size, 0);
    const gradients = new SharedArrayBuffer(count * params * 4);
    const update = new SharedArrayBuffer(params * 4);
    const artifacts = await artifactsOf(model);
    const named = await optimizer.getWeights();
    const optimizerData = named.map((n) => tensorData(n.name, n.tensor));
    tf.dispose(named[0].tensor); // a fresh iterations scalar; the rest are Adam's own variables
    const handles: ReplicaHandle[] = [];
    const replicas = new Replicas(handles, new Float32Array(gradients), new Float32Array(update));
    try {
      for (let index = 0; index < count; index++) {
        handles.push(new ReplicaHandle(startWorker(REPLICA_MODULE, { env: process.env })));
      }
      const ready = await Promise.all(
        handles.map((h, index) => h.ask({ type: 'init', backend: tf.getBackend(), artifacts, optimizer: optimizerData, gradients, update, index }, 'ready')),
      );
      const expected = JSON.stringify(variables.map((v) => v.shape));
      if (ready.some((r) => JSON.stringify(r.shapes) !== expected)) throw new Error('a training replica built a model with other weight shapes');
    } catch (err) {
      await replicas.terminate();
      throw err;
    }
    return replicas;
  }

  /**
   * One optimisation step on `batch`, split by rows across the replicas;
   * resolves with the batch's mean loss. The update is applied by the time any
   * later request (step, state) is answered.
   */
  async step(batch: Windows, learningRate: number, clipNorm: number): Promise<number> {
    const { rows, seqLen } = batch;
    const n = this.handles.length;
    const bounds = Array.from({ length: n + 1 }, (_, i) => Math.round((i * rows) / n));
    // Dropout masks are drawn per row of the whole batch (trainingLoss), so each share draws its rows' own.
    const replies = await Promise.all(
      this.handles.map((h, i) => {
        const [from, to] = [bounds[i] * seqLen, bounds[i + 1] * seqLen];
        const windows = { xs: batch.xs.slice(from, to), ys: batch.ys.slice(from, to), rows: bounds[i + 1] - bounds[i], seqLen, dropoutSeed: batch.dropoutSeed, firstRow: bounds[i] };
        return h.ask({ type: 'step', windows }, 'gradients');
      }),
    );
    // Each replica's loss and gradient are means over its rows: weight them by rows to get the batch's mean.
    const weights = replies.map((_, i) => (bounds[i + 1] - bounds[i]) / rows);
    const params = this.update.length;
    const u = this.update;
    const g = this.gradients;
    let squares = 0;
    for (let j = 0; j < params; j++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += weights[i] * g[i * params + j];
      u[j] = sum;
      squares += sum * sum;
    }
    // Global-norm clipping of the averaged gradient, as the single-thread step clips its own.
    const norm = Math.sqrt(squares);
    if (norm > clipNorm) {
      const scale = clipNorm / norm;
      for (let j = 0; j < params; j++) u[j] *= scale;
    }
    for (const h of this.handles) h.post({ type: 'apply', learningRate });
    return replies.reduce((sum, r, i) => sum + weights[i] * r.loss, 0);
  }

  /** Copies the replicas' weights into `model` and their Adam state into `optimizer` (same architecture). */
  async pull(model: tf.LayersModel, optimizer: tf.Optimizer): Promise<void> {
    // Replicas are identical, so the first speaks for all.
    const state = await this.handles[0].ask({ type: 'state' }, 'state');
    const weights = state.weights.map((values, i) => tf.tensor(values, model.weights[i].shape as number[]));
    model.setWeights(weights);
    tf.dispose(weights);
    // setWeights makes new moment variables without freeing the old ones, which getWeights hands out.
    const old = await optimizer.getWeights();
    const named = state.optimizer.map((t) => ({ name: t.name, tensor: tf.tensor(t.values, t.shape) }));
    await optimizer.setWeights(named);
    tf.dispose([...old, ...named].map((n) => n.tensor));
  }

  /** Every replica's weights, flattened: for tests that check they stay identical. */
  async weightsOfEach(): Promise<Float32Array[][]> {
    return Promise.all(this.handles.map(async (h) => (await h.ask({ type: 'state' }, 'state')).weights));
  }

  async terminate(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}
