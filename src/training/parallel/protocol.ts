// Messages between the training coordinator (main thread) and its replicas.
// Gradients and the averaged update travel through SharedArrayBuffers, not
// messages: each replica's gradient slot and the one averaged update are
// flat float32 arrays of every trainable weight, in trainableWeights order.
import type * as tf from '@tensorflow/tfjs';
import type { Windows } from '../loop.js';

/** A tensor's values outside tfjs, for messages; the array's type is the dtype (Adam's step count is int32). */
export interface TensorData {
  name: string;
  shape: number[];
  values: Float32Array | Int32Array;
}

export type ToReplica =
  | {
      type: 'init';
      /** The main thread's backend: a replica must run on the same one. */
      backend: string;
      /** Topology and weights of the model to replicate. */
      artifacts: tf.io.ModelArtifacts;
      /** Adam's state (iterations, first then second moments), so a resumed run continues it. */
      optimizer: TensorData[];
      /** Float32 [replicas × params]: replica `index` writes its gradient at `index × params`. */
      gradients: SharedArrayBuffer;
      /** Float32 [params]: the averaged, clipped gradient every replica applies. */
      update: SharedArrayBuffer;
      index: number;
    }
  /** This replica's share of the batch. */
  | { type: 'step'; windows: Windows }
  /** Applies the update in `update` with Adam at this learning rate; no reply. */
  | { type: 'apply'; learningRate: number }
  | { type: 'state' };

export type FromReplica =
  | { type: 'ready'; backend: string; shapes: number[][] }
  /** The gradient is in this replica's slot; `loss` is its shard's mean. */
  | { type: 'gradients'; loss: number }
  | { type: 'state'; weights: Float32Array[]; optimizer: TensorData[] }
  | { type: 'error'; message: string };
