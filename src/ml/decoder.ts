// Stateful, incremental LSTM decoding: one character per step for a batch of
// rows, carrying the LSTM state forward, so generating n chars costs n steps
// rather than n re-runs of a whole window.
//
// Each step is one fused matMul per layer in tfjs: a layer's new h is
// multiplied at once by the input kernel of the layer above and by its own
// recurrent kernel (kept for the next step), and the top layer's by its
// recurrent kernel and the output projection. The gate arithmetic runs on
// plain Float32Arrays, because at decoding sizes the per-op overhead of a
// dozen small tfjs element-wise kernels costs more than the arithmetic itself. The math is the tfjs LSTMCell's (gates i, f, c, o;
// sigmoid/tanh); test/ml-generation.test.ts checks it against the model.
import * as tf from '@tensorflow/tfjs';

/**
 * Per layer: the cell state (rows × units) and the output of the layer's last
 * fused matMul (rows × width), which holds h·R, that layer's recurrent term for
 * the next step; row-major. The hidden state itself is not kept: h·R is all
 * the next step needs of it.
 */
export interface LstmState {
  rows: number;
  c: Float32Array[];
  z: Float32Array[];
}

interface Layer {
  units: number;
  /**
   * What this layer's new h is multiplied by, in one matMul: [K of the layer
   * above | own R], or [own R | output kernel] for the top layer.
   */
  kernel: tf.Tensor2D;
  /** [bias of the layer above | 0], or [0 | output bias] for the top layer. */
  bias: tf.Tensor1D;
  /** Columns of `kernel`, and where this layer's recurrent term starts among them. */
  width: number;
  recAt: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export class CharDecoder {
  readonly vocabSize: number;
  private readonly layers: Layer[] = [];
  /** Layer 0's input kernel plus its bias: a one-hot input selects one of its rows. */
  private readonly embed: Float32Array;
  /** Scratch for each layer's new h, reused across steps (h is not part of the state). */
  private readonly scratch: Float32Array[];

  constructor(model: tf.LayersModel) {
    const lstms = model.layers.filter((l) => l.getClassName() === 'LSTM');
    const dense = model.layers[model.layers.length - 1];
    if (lstms.length === 0 || dense.getClassName() !== 'Dense') {
      throw new Error('expected a model of LSTM layers followed by a Dense output layer');
    }
    const weights = lstms.map((layer) => {
      const cfg = layer.getConfig();
      if (cfg.activation !== 'tanh' || cfg.recurrentActivation !== 'sigmoid' || cfg.useBias === false) {
        throw new Error(`layer ${layer.name}: decoder supports tanh/sigmoid LSTMs with bias only`);
      }
      return layer.getWeights() as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    });
    const [outKernel, outBias] = dense.getWeights() as [tf.Tensor2D, tf.Tensor1D];
    this.vocabSize = outBias.shape[0];
    const [kernel0, , bias0] = weights[0];
    this.embed = tf.tidy(() => tf.add(kernel0, bias0).dataSync() as Float32Array);
    weights.forEach(([, recurrent], k) => {
      const units = recurrent.shape[0];
      const above = weights[k + 1];
      const [kernel, bias] = tf.tidy(() =>
        above
          ? [tf.concat([above[0], recurrent], 1), tf.concat([above[2], tf.zeros([4 * units])])]
          : [tf.concat([recurrent, outKernel], 1), tf.concat([tf.zeros([4 * units]), outBias])],
      ) as [tf.Tensor2D, tf.Tensor1D];
      this.layers.push({ units, kernel, bias, width: kernel.shape[1], recAt: above ? above[0].shape[1] : 0 });
    });
    this.scratch = this.layers.map(() => new Float32Array(0));
  }

  /** Frees the decoder's copies of the weights (the model keeps its own). */
  dispose(): void {
    tf.dispose(this.layers.flatMap((l) => [l.kernel, l.bias]));
  }

  zeroState(rows: number): LstmState {
    return {
      rows,
      c: this.layers.map((l) => new Float32Array(rows * l.units)),
      z: this.layers.map((l) => new Float32Array(rows * l.width)),
    };
  }

  /**
   * Feeds one character id per row; returns next-char logits (rows × vocab,
   * row-major) and the new state. The input state is not modified.
   */
  step(ids: Int32Array, state: LstmState): { logits: Float32Array; state: LstmState } {
    const rows = state.rows;
    const next: LstmState = { rows, c: [], z: [] };
    // The layer below's new matMul output: its first columns are this layer's input term (bias included).
    let below: { z: Float32Array; width: number } | undefined;
    this.layers.forEach((l, k) => {
      const u = l.units;
      if (this.scratch[k].length < rows * u) this.scratch[k] = new Float32Array(rows * u);
      const h = this.scratch[k];
      const c = new Float32Array(rows * u);
      const cPrev = state.c[k];
      const rec = state.z[k];
      const input = below ? below.z : this.embed;
      for (let r = 0; r < rows; r++) {
        const ir = below ? r * below.width : ids[r] * 4 * u;
        const rr = r * l.width + l.recAt;
        for (let j = 0; j < u; j++) {
          const zi = input[ir + j] + rec[rr + j];
          const zf = input[ir + u + j] + rec[rr + u + j];
          const zg = input[ir + 2 * u + j] + rec[rr + 2 * u + j];
          const zo = input[ir + 3 * u + j] + rec[rr + 3 * u + j];
          const cj = sigmoid(zf) * cPrev[r * u + j] + sigmoid(zi) * Math.tanh(zg);
          c[r * u + j] = cj;
          h[r * u + j] = sigmoid(zo) * Math.tanh(cj);
        }
      }
      const z = this.matMul(h.subarray(0, rows * u), rows, l.kernel, l.bias);
      next.c.push(c);
      next.z.push(z);
      below = { z, width: l.width };
    });
    // The top layer's output ends with the logits.
    const top = this.layers[this.layers.length - 1];
    const v = this.vocabSize;
    const logits = new Float32Array(rows * v);
    for (let r = 0; r < rows; r++) logits.set(below!.z.subarray(r * top.width + 4 * top.units, (r + 1) * top.width), r * v);
    return { logits, state: next };
  }

  private matMul(x: Float32Array, rows: number, kernel: tf.Tensor2D, bias: tf.Tensor1D): Float32Array {
    // No tf.tidy: at this size its bookkeeping costs as much as the matMul.
    const a = tf.tensor2d(x, [rows, kernel.shape[0]]);
    const out = tf.fused.matMul({ a, b: kernel, bias });
    const values = out.dataSync() as Float32Array;
    a.dispose();
    out.dispose();
    return values;
  }
}

/** Concatenates the rows of several states. */
export function concatStates(parts: LstmState[]): LstmState {
  const join = (arrays: Float32Array[]) => {
    const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  return {
    rows: parts.reduce((n, p) => n + p.rows, 0),
    c: parts[0].c.map((_, k) => join(parts.map((p) => p.c[k]))),
    z: parts[0].z.map((_, k) => join(parts.map((p) => p.z[k]))),
  };
}

/** The state of the given rows only, in that order. */
export function selectRows(state: LstmState, rows: number[]): LstmState {
  const pick = (a: Float32Array) => {
    const width = a.length / state.rows;
    const out = new Float32Array(rows.length * width);
    rows.forEach((r, i) => out.set(a.subarray(r * width, (r + 1) * width), i * width));
    return out;
  };
  return { rows: rows.length, c: state.c.map(pick), z: state.z.map(pick) };
}
