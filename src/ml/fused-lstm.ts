// TensorFlow's fused LSTM ops as tfjs kernels on tfjs-node, registered through
// tfjs's kernel registry. tfjs has no fused LSTM: a step built from tfjs ops
// costs a dozen dispatches per layer, and training differentiates every one.
// - Generation: LSTMBlockCell, one step of a batch ([x, h] matMul plus every
//   gate, one op). A 200-row step of the 2x512 model takes 14 ms, against
//   36 ms with the decoder's JS gate loop on tfjs-node and 72 ms on wasm.
// - Training: BlockLSTMV2 runs a layer over the whole sequence and
//   BlockLSTMGradV2 is its gradient, so a layer costs two ops a batch.
// Only tfjs-node has them (`npm run bench` has the figures); on wasm the
// decoder keeps its gate loop and training the tfjs LSTM layer.
import * as tf from '@tensorflow/tfjs';

export const LSTM_CELL = 'BardbotLstmCell';
export const LSTM_SEQUENCE = 'BardbotLstmSequence';
export const LSTM_SEQUENCE_GRAD = 'BardbotLstmSequenceGrad';

/** Inputs of the cell kernel: w is [input kernel; recurrent kernel] and b the bias, both in TF's gate order (lstmCellLayout). */
export interface LstmCellInputs extends tf.NamedTensorInfoMap {
  x: tf.TensorInfo;
  c: tf.TensorInfo;
  h: tf.TensorInfo;
  w: tf.TensorInfo;
  b: tf.TensorInfo;
}

/** Inputs of the sequence kernel: time-major x [time, batch, input]; w and b as the cell's, but in Keras's gate order. */
interface LstmSequenceInputs extends tf.NamedTensorInfoMap {
  x: tf.TensorInfo;
  w: tf.TensorInfo;
  b: tf.TensorInfo;
}

/** What the gradient kernel reads: the forward's inputs, its 7 outputs, and the gradient of h. */
interface LstmSequenceGradInputs extends LstmSequenceInputs {
  i: tf.TensorInfo;
  cs: tf.TensorInfo;
  f: tf.TensorInfo;
  o: tf.TensorInfo;
  ci: tf.TensorInfo;
  co: tf.TensorInfo;
  h: tf.TensorInfo;
  dh: tf.TensorInfo;
}

type Attr = { name: string; type: number; value: unknown };
interface OutputMetadata {
  id: number;
  shape: number[];
  dtype: number;
}

/** The part of tfjs-node's backend the kernels use (its own kernels use the same). */
interface NodeBackend {
  binding: {
    TF_ATTR_FLOAT: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_TYPE: number;
    TF_FLOAT: number;
    TF_INT64: number;
    createTensor(shape: number[], dtype: number, values: Int32Array): number;
    deleteTensor(id: number): void;
    executeOp(name: string, attrs: Attr[], inputs: number[], outputs: number): OutputMetadata[];
  };
  executeMultipleOutputs(name: string, attrs: Attr[], inputs: tf.TensorInfo[], outputs: number): tf.Tensor[];
  getInputTensorIds(inputs: tf.TensorInfo[]): number[];
  createOutputTensor(m: OutputMetadata): tf.Tensor;
}

const floatType = (node: NodeBackend): Attr => ({ name: 'T', type: node.binding.TF_ATTR_TYPE, value: node.binding.TF_FLOAT });
const noPeephole = (node: NodeBackend): Attr => ({ name: 'use_peephole', type: node.binding.TF_ATTR_BOOL, value: false });

/**
 * Runs a BlockLSTM op over all `steps` of x from a zero state. Its first input
 * is an int64 scalar, which tfjs tensors cannot be: it is made (and freed)
 * through the binding, as tfjs-node does for its own int64 inputs.
 */
function blockLstm(node: NodeBackend, op: string, attrs: Attr[], x: tf.TensorInfo, rest: tf.TensorInfo[], outputs: number): tf.Tensor[] {
  const [steps, batch] = x.shape;
  const units = rest[0].shape[1]! / 4;
  const zeroState = tf.zeros([batch, units]);
  const noPeepholes = tf.zeros([units]);
  const [w, b, ...after] = rest;
  const ids = node.getInputTensorIds([x, zeroState, zeroState, w, noPeepholes, noPeepholes, noPeepholes, b, ...after]);
  const seqLenMax = node.binding.createTensor([], node.binding.TF_INT64, new Int32Array([steps, 0]));
  try {
    return node.binding.executeOp(op, attrs, [seqLenMax, ...ids], outputs).map((m) => node.createOutputTensor(m));
  } finally {
    node.binding.deleteTensor(seqLenMax);
    tf.dispose([zeroState, noPeepholes]);
  }
}

/** Registers the kernels for tfjs-node's backend ('tensorflow'); call once tfjs-node has loaded. */
export function registerFusedLstmKernels(): void {
  if (tf.getKernel(LSTM_CELL, 'tensorflow')) return;
  tf.registerKernel({
    kernelName: LSTM_CELL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const { x, c, h, w, b } = inputs as LstmCellInputs;
      const node = backend as unknown as NodeBackend;
      const units = c.shape[1]!;
      return tf.tidy(() => {
        const none = tf.zeros([units]);
        const attrs = [
          floatType(node),
          { name: 'forget_bias', type: node.binding.TF_ATTR_FLOAT, value: 0 },
          // Negative: no clipping of the cell state, as in tfjs's LSTMCell.
          { name: 'cell_clip', type: node.binding.TF_ATTR_FLOAT, value: -1 },
          noPeephole(node),
        ];
        // Outputs: i, cs, f, o, ci, co, h.
        const out = node.executeMultipleOutputs('LSTMBlockCell', attrs, [x, c, h, w, none, none, none, b], 7);
        return [out[1], out[6]];
      });
    },
  });
  tf.registerKernel({
    kernelName: LSTM_SEQUENCE,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const { x, w, b } = inputs as LstmSequenceInputs;
      const node = backend as unknown as NodeBackend;
      // V2 takes Keras's gate order and no forget bias; cell_clip 0 is no clipping.
      const attrs = [floatType(node), { name: 'cell_clip', type: node.binding.TF_ATTR_FLOAT, value: 0 }, noPeephole(node)];
      // Outputs: i, cs, f, o, ci, co, h, each [time, batch, units].
      return blockLstm(node, 'BlockLSTMV2', attrs, x, [w, b], 7);
    },
  });
  tf.registerKernel({
    kernelName: LSTM_SEQUENCE_GRAD,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const { x, w, b, i, cs, f, o, ci, co, h, dh } = inputs as LstmSequenceGradInputs;
      const node = backend as unknown as NodeBackend;
      const noCellGrad = tf.zeros(dh.shape);
      try {
        // Outputs: x, cs_prev, h_prev, w, wci, wcf, wco, b gradients.
        const out = blockLstm(node, 'BlockLSTMGradV2', [floatType(node), noPeephole(node)], x, [w, b, i, cs, f, o, ci, co, h, noCellGrad, dh], 8);
        const keep = [out[0], out[3], out[7]];
        tf.dispose(out.filter((t) => !keep.includes(t)));
        return keep;
      } finally {
        noCellGrad.dispose();
      }
    },
  });
}

/** Whether the active backend has the cell kernel. */
export function hasLstmCellKernel(): boolean {
  return tf.getKernel(LSTM_CELL, tf.getBackend()) !== undefined;
}

/** Whether the active backend has the sequence kernel and its gradient. */
export function hasLstmSequenceKernel(): boolean {
  return tf.getKernel(LSTM_SEQUENCE, tf.getBackend()) !== undefined;
}

/** Keras's gate order (i, f, c, o) to TF's (i, c, f, o), along the last axis of a kernel or bias. */
export function lstmCellLayout(t: tf.Tensor): tf.Tensor {
  const [i, f, c, o] = tf.split(t, 4, t.rank - 1);
  return tf.concat([i, c, f, o], t.rank - 1);
}

/** One step; returns the new [c, h]. */
export function lstmCell(inputs: { x: tf.Tensor2D; c: tf.Tensor2D; h: tf.Tensor2D; w: tf.Tensor2D; b: tf.Tensor1D }): [tf.Tensor2D, tf.Tensor2D] {
  return tf.engine().runKernel(LSTM_CELL, inputs as unknown as tf.NamedTensorMap) as unknown as [tf.Tensor2D, tf.Tensor2D];
}

const sequence = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, b, save] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const run = (name: string, inputs: tf.NamedTensorMap) => tf.engine().runKernel(name, inputs) as unknown as tf.Tensor[];
  const outs = run(LSTM_SEQUENCE, { x, w, b });
  save([x, w, b, ...outs]);
  return {
    value: outs[6] as tf.Tensor3D,
    gradFunc: (dh: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [sx, sw, sb, i, cs, f, o, ci, co, h] = saved;
      return run(LSTM_SEQUENCE_GRAD, { x: sx, w: sw, b: sb, i, cs, f, o, ci, co, h, dh });
    },
  };
});

/**
 * An LSTM layer over a whole time-major sequence from a zero state, with its
 * gradient: x [time, batch, input], w [input kernel; recurrent kernel] and b
 * in Keras's gate order. Returns h at every step, [time, batch, units].
 */
export function lstmSequence(x: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor3D {
  return sequence(x, w, b);
}
