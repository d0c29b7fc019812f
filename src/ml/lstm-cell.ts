// One LSTM step as a single kernel on tfjs-node: TensorFlow's own fused
// LSTMBlockCell (matMul of [x, h] plus every gate, one op), registered through
// tfjs's kernel registry. tfjs has no fused cell, and a step built from tfjs ops
// costs a dozen dispatches per layer; with this one, a 200-row step of the 2x512
// model takes 14 ms on tfjs-node, against 36 ms with the decoder's JS gate loop
// there and 72 ms on wasm (`npm run bench`). Only tfjs-node has it: on wasm
// the decoder keeps its gate loop.
import * as tf from '@tensorflow/tfjs';

export const LSTM_CELL = 'BardbotLstmCell';

/** Inputs of the kernel: w is [input kernel; recurrent kernel] and b the bias, both in TF's gate order (lstmCellLayout). */
export interface LstmCellInputs extends tf.NamedTensorInfoMap {
  x: tf.TensorInfo;
  c: tf.TensorInfo;
  h: tf.TensorInfo;
  w: tf.TensorInfo;
  b: tf.TensorInfo;
}

/** The part of tfjs-node's backend the kernel uses (its own kernels use the same). */
interface NodeBackend {
  binding: { TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeMultipleOutputs(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.TensorInfo[], outputs: number): tf.Tensor[];
}

/** Registers the kernel for tfjs-node's backend ('tensorflow'); call once tfjs-node has loaded. */
export function registerLstmCellKernel(): void {
  if (tf.getKernel(LSTM_CELL, 'tensorflow')) return;
  tf.registerKernel({
    kernelName: LSTM_CELL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const { x, c, h, w, b } = inputs as LstmCellInputs;
      const node = backend as unknown as NodeBackend;
      const units = c.shape[1]!;
      return tf.tidy(() => {
        const noPeephole = tf.zeros([units]);
        const attrs = [
          { name: 'T', type: node.binding.TF_ATTR_TYPE, value: node.binding.TF_FLOAT },
          { name: 'forget_bias', type: node.binding.TF_ATTR_FLOAT, value: 0 },
          // Negative: no clipping of the cell state, as in tfjs's LSTMCell.
          { name: 'cell_clip', type: node.binding.TF_ATTR_FLOAT, value: -1 },
          { name: 'use_peephole', type: node.binding.TF_ATTR_BOOL, value: false },
        ];
        // Outputs: i, cs, f, o, ci, co, h.
        const out = node.executeMultipleOutputs('LSTMBlockCell', attrs, [x, c, h, w, noPeephole, noPeephole, noPeephole, b], 7);
        return [out[1], out[6]];
      });
    },
  });
}

/** Whether the active backend has the kernel. */
export function hasLstmCellKernel(): boolean {
  return tf.getKernel(LSTM_CELL, tf.getBackend()) !== undefined;
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
