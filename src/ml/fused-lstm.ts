// TensorFlow's fused LSTM ops as tfjs kernels on tfjs-node, registered through
// tfjs's kernel registry. tfjs has no fused LSTM: a step built from tfjs ops
// costs a dozen dispatches per layer, and training differentiates every one.
// - Generation: LSTMBlockCell, one step of a batch ([x, h] matMul plus every
//   gate, one op). A 200-row step of the 2x512 model takes 14 ms, against
//   36 ms with the decoder's JS gate loop on tfjs-node and 72 ms on wasm.
// - Training: BlockLSTMV2 runs a layer over the whole sequence, one op. Its
//   gradient is not BlockLSTMGradV2: that op adds each step's weight gradient
//   into the [input+units, 4*units] accumulator, a pass over the whole matrix
//   per step whatever the batch (2x512, seq 64, one thread: 0.49 s a layer at
//   8 rows, 0.74 s at 64). Here LSTMBlockCellGrad gives each step's gate
//   gradients and the weights' gradient is one matMul over all steps: 0.06 s
//   and 0.38 s. Half a batch now costs half, which is what replicas need.
// Only tfjs-node has them (`npm run bench` has the figures); on wasm the
// decoder keeps its gate loop and training the tfjs LSTM layer.
import * as tf from '@tensorflow/tfjs';

export const LSTM_CELL = 'BardbotLstmCell';
export const LSTM_SEQUENCE = 'BardbotLstmSequence';
export const LSTM_CELL_GRAD = 'BardbotLstmCellGrad';

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

/** What the cell's gradient kernel reads: a step's inputs and outputs (w, b in TF's gate order), and the gradients of its cs and h. */
interface LstmCellGradInputs extends tf.NamedTensorInfoMap {
  x: tf.TensorInfo;
  csPrev: tf.TensorInfo;
  hPrev: tf.TensorInfo;
  w: tf.TensorInfo;
  b: tf.TensorInfo;
  i: tf.TensorInfo;
  cs: tf.TensorInfo;
  f: tf.TensorInfo;
  o: tf.TensorInfo;
  ci: tf.TensorInfo;
  co: tf.TensorInfo;
  csGrad: tf.TensorInfo;
  hGrad: tf.TensorInfo;
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
 * Runs BlockLSTMV2 over all `steps` of x from a zero state; returns its 7
 * outputs. Its first input is an int64 scalar, which tfjs tensors cannot be:
 * it is made (and freed) through the binding, as tfjs-node does for its own
 * int64 inputs.
 */
function blockLstm(node: NodeBackend, attrs: Attr[], x: tf.TensorInfo, w: tf.TensorInfo, b: tf.TensorInfo): tf.Tensor[] {
  const [steps, batch] = x.shape;
  const units = w.shape[1]! / 4;
  const zeroState = tf.zeros([batch, units]);
  const noPeepholes = tf.zeros([units]);
  const ids = node.getInputTensorIds([x, zeroState, zeroState, w, noPeepholes, noPeepholes, noPeepholes, b]);
  const seqLenMax = node.binding.createTensor([], node.binding.TF_INT64, new Int32Array([steps, 0]));
  try {
    return node.binding.executeOp('BlockLSTMV2', attrs, [seqLenMax, ...ids], 7).map((m) => node.createOutputTensor(m));
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
      return blockLstm(node, attrs, x, w, b);
    },
  });
  tf.registerKernel({
    kernelName: LSTM_CELL_GRAD,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const { x, csPrev, hPrev, w, b, i, cs, f, o, ci, co, csGrad, hGrad } = inputs as LstmCellGradInputs;
      const node = backend as unknown as NodeBackend;
      return tf.tidy(() => {
        const none = tf.zeros([csPrev.shape[1]!]);
        // Outputs: cs_prev, dicfo (the gate pre-activations, TF's gate order), then the unused peephole gradients.
        const out = node.executeMultipleOutputs('LSTMBlockCellGrad', [floatType(node), noPeephole(node)], [x, csPrev, hPrev, w, none, none, none, b, i, cs, f, o, ci, co, csGrad, hGrad], 5);
        return [out[0], out[1]];
      });
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

/**
 * The gradient of a sequence from the forward's saved tensors: the gates'
 * gradients step by step, backwards (the cell kernel, then the recurrent
 * matMul), and then the weights' and the input's gradients in one matMul
 * each over all steps, where the batch's rows and steps make a deep product.
 */
function sequenceGrad(dh: tf.Tensor3D, [x, w, b, i, cs, f, o, ci, co, h]: tf.Tensor[]): tf.Tensor[] {
  const [steps, rows, inputs] = x.shape;
  const units = h.shape[2]!;
  const zero = tf.zeros([rows, units]);
  // The cell kernel takes and gives TF's gate order; lstmCellLayout also maps it back.
  const [wCell, bCell] = [lstmCellLayout(w), lstmCellLayout(b)];
  // Transposed once: a transposed operand in every step's matMul costs more than the product.
  const recurrentT = wCell.slice([inputs, 0], [units, 4 * units]).transpose();
  const [xs, iS, csS, fS, oS, ciS, coS, hS, dhS] = [x, i, cs, f, o, ci, co, h, dh].map((t) => tf.unstack(t));
  const gates: tf.Tensor[] = [];
  let [csGrad, hGrad] = [zero, dhS[steps - 1]];
  for (let t = steps - 1; t >= 0; t--) {
    const [csPrev, hPrev] = t > 0 ? [csS[t - 1], hS[t - 1]] : [zero, zero];
    const inputsOfStep = { x: xs[t], csPrev, hPrev, w: wCell, b: bCell, i: iS[t], cs: csS[t], f: fS[t], o: oS[t], ci: ciS[t], co: coS[t], csGrad, hGrad };
    [csGrad, gates[t]] = tf.engine().runKernel(LSTM_CELL_GRAD, inputsOfStep as unknown as tf.NamedTensorMap) as unknown as tf.Tensor[];
    if (t > 0) hGrad = tf.add(dhS[t - 1], tf.matMul(gates[t], recurrentT));
  }
  const dGates = tf.concat(gates, 0) as tf.Tensor2D; // [steps * rows, 4 * units], TF's order
  const hPrevAll = tf.concat([zero.expandDims(0), h.slice([0, 0, 0], [steps - 1, rows, units])], 0);
  const xh = tf.concat([x, hPrevAll], 2).reshape([steps * rows, inputs + units]) as tf.Tensor2D;
  const xGrad = tf.matMul(dGates, wCell.slice([0, 0], [inputs, 4 * units]), false, true).reshape([steps, rows, inputs]);
  return [xGrad, lstmCellLayout(tf.matMul(xh, dGates, true, false)), lstmCellLayout(tf.sum(dGates, 0))];
}

const sequence = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, b, save] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const outs = tf.engine().runKernel(LSTM_SEQUENCE, { x, w, b }) as unknown as tf.Tensor[];
  save([x, w, b, ...outs]);
  return { value: outs[6] as tf.Tensor3D, gradFunc: (dh: tf.Tensor3D, saved: tf.Tensor[]) => tf.tidy(() => sequenceGrad(dh, saved)) };
});

/**
 * An LSTM layer over a whole time-major sequence from a zero state, with its
 * gradient: x [time, batch, input], w [input kernel; recurrent kernel] and b
 * in Keras's gate order. Returns h at every step, [time, batch, units].
 */
export function lstmSequence(x: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor3D {
  return sequence(x, w, b);
}
