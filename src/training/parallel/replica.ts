// A training replica (worker thread): its own tfjs backend and its own copy of
// the model and of Adam's state. Per step it computes the gradient of its
// share of the batch into its shared slot; then it applies the averaged update
// the coordinator wrote. Every replica applies the same update to the same
// weights with the same optimizer state, so they stay identical without
// copying weights between steps.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../../ml/backend.js';
import { trainingLoss } from '../../ml/model.js';
import { batchTensors } from '../loop.js';
import type { FromReplica, TensorData, ToReplica } from './protocol.js';

interface Replica {
  model: tf.LayersModel;
  variables: tf.Variable[];
  optimizer: tf.AdamOptimizer;
  vocabSize: number;
  /** This replica's gradient slot and the shared update, both [params]. */
  slot: Float32Array;
  update: Float32Array;
  /** Where each variable starts in the flat arrays. */
  offsets: number[];
}

const port = parentPort!;
const send = (m: FromReplica) => port.postMessage(m);
let replica: Replica | undefined;

async function init(m: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  const backend = await initBackend('train', m.backend as BackendName);
  // initBackend falls back quietly; a replica on another backend would not compute the same numbers.
  if (backend.name !== m.backend) throw new Error(`replica got backend ${backend.name}, not ${m.backend} (${backend.reason})`);
  const model = await tf.loadLayersModel(tf.io.fromMemory(m.artifacts));
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam();
  const named = m.optimizer.map((t) => ({ name: t.name, tensor: tf.tensor(t.values, t.shape) }));
  await optimizer.setWeights(named);
  tf.dispose(named.map((n) => n.tensor));
  const sizes = variables.map((v) => v.size);
  const params = sizes.reduce((a, b) => a + b, 0);
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  replica = {
    model,
    variables,
    optimizer,
    vocabSize: model.inputs[0].shape[2]!,
    slot: new Float32Array(m.gradients, m.index * params * 4, params),
    update: new Float32Array(m.update),
    offsets,
  };
  send({ type: 'ready', backend: backend.name, shapes: variables.map((v) => v.shape) });
}

/** Mean loss and gradient of one shard; the gradient goes to this replica's slot. */
function computeGradients(r: Replica, m: Extract<ToReplica, { type: 'step' }>): number {
  const batch = batchTensors(m.windows, r.vocabSize);
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => trainingLoss(r.model, batch), r.variables);
    r.variables.forEach((v, i) => r.slot.set(grads[v.name].dataSync() as Float32Array, r.offsets[i]));
    return value.dataSync()[0];
  });
  tf.dispose([batch.x, batch.y]);
  return loss;
}

function apply(r: Replica, learningRate: number): void {
  // Adam reads its learningRate field at every update; tfjs offers no setter.
  (r.optimizer as unknown as { learningRate: number }).learningRate = learningRate;
  tf.tidy(() => {
    // Copies out of the shared buffer: a backend may keep the array it was given (cpu does).
    r.optimizer.applyGradients(r.variables.map((v, i) => ({ name: v.name, tensor: tf.tensor(r.update.slice(r.offsets[i], r.offsets[i] + v.size), v.shape) })));
  });
}

async function state(r: Replica): Promise<Extract<FromReplica, { type: 'state' }>> {
  const weights = r.model.getWeights().map((w) => w.dataSync() as Float32Array);
  const named = await r.optimizer.getWeights();
  const optimizer: TensorData[] = named.map((n) => ({ name: n.name, shape: n.tensor.shape, values: n.tensor.dataSync() as Float32Array | Int32Array }));
  // getWeights hands out a fresh iterations scalar each time.
  tf.dispose(named[0].tensor);
  return { type: 'state', weights, optimizer };
}

// Messages are handled one at a time, in order: 'apply' always lands before the next 'step'.
let queue = Promise.resolve();
port.on('message', (m: ToReplica) => {
  queue = queue
    .then(async () => {
      if (m.type === 'init') return init(m);
      const r = replica!;
      if (m.type === 'step') send({ type: 'gradients', loss: computeGradients(r, m) });
      else if (m.type === 'apply') apply(r, m.learningRate);
      else send(await state(r));
    })
    .catch((err: Error) => send({ type: 'error', message: err.message }));
});
