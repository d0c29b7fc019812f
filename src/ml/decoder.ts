// Stateful, incremental LSTM decoding: one character per step for a batch of
// rows, carrying (h, c) forward, so generating n chars costs n steps rather than
// n re-runs of a whole window.
//
// Each step is one fused matMul per layer (plus one for the output) in tfjs;
// the gate arithmetic runs on plain Float32Arrays, because at decoding sizes
// the per-op overhead of a dozen small tfjs element-wise kernels costs more
// than the arithmetic itself. The math is the tfjs LSTMCell's (gates i, f, c, o;
// sigmoid/tanh); test/ml-generation.test.ts checks it against the model.
import * as tf from '@tensorflow/tfjs';

/** Per layer hidden and cell state, each rows × units, row-major. */
export interface LstmState {
  rows: number;
  h: Float32Array[];
  c: Float32Array[];
}

interface Layer {
  units: number;
  inputSize: number;
  /** [input; recurrent] kernel for layers > 0, recurrent kernel alone for layer 0. */
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export class CharDecoder {
  readonly vocabSize: number;
  private readonly layers: Layer[] = [];
  /** Layer 0's input kernel: a one-hot input selects one of its rows. */
  private readonly embed: Float32Array;
  private readonly outKernel: tf.Tensor2D;
  private readonly outBias: tf.Tensor1D;

  constructor(model: tf.LayersModel) {
    const lstms = model.layers.filter((l) => l.getClassName() === 'LSTM');
    const dense = model.layers[model.layers.length - 1];
    if (lstms.length === 0 || dense.getClassName() !== 'Dense') {
      throw new Error('expected a model of LSTM layers followed by a Dense output layer');
    }
    let embed: Float32Array | undefined;
    for (const layer of lstms) {
      const cfg = layer.getConfig();
      if (cfg.activation !== 'tanh' || cfg.recurrentActivation !== 'sigmoid' || cfg.useBias === false) {
        throw new Error(`layer ${layer.name}: decoder supports tanh/sigmoid LSTMs with bias only`);
      }
      const [kernel, recurrent, bias] = layer.getWeights() as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const first = embed === undefined;
      if (first) embed = kernel.dataSync() as Float32Array;
      this.layers.push({
        units: recurrent.shape[0],
        inputSize: kernel.shape[0],
        kernel: first ? tf.clone(recurrent) : (tf.concat([kernel, recurrent], 0) as tf.Tensor2D),
        bias: tf.clone(bias),
      });
    }
    this.embed = embed!;
    const [outKernel, outBias] = dense.getWeights() as [tf.Tensor2D, tf.Tensor1D];
    this.outKernel = tf.clone(outKernel);
    this.outBias = tf.clone(outBias);
    this.vocabSize = outBias.shape[0];
  }

  /** Frees the decoder's copies of the weights (the model keeps its own). */
  dispose(): void {
    tf.dispose([...this.layers.flatMap((l) => [l.kernel, l.bias]), this.outKernel, this.outBias]);
  }

  zeroState(rows: number): LstmState {
    return {
      rows,
      h: this.layers.map((l) => new Float32Array(rows * l.units)),
      c: this.layers.map((l) => new Float32Array(rows * l.units)),
    };
  }

  /**
   * Feeds one character id per row; returns next-char logits (rows × vocab,
   * row-major) and the new state. The input state is not modified.
   */
  step(ids: Int32Array, state: LstmState): { logits: Float32Array; state: LstmState } {
    const rows = state.rows;
    const next: LstmState = { rows, h: [], c: [] };
    let below: Float32Array | undefined;
    this.layers.forEach((l, k) => {
      const u = l.units;
      let input: Float32Array;
      if (k === 0) {
        input = state.h[0];
      } else {
        // Row r of the input is [h of the layer below (new), h of this layer (old)].
        input = new Float32Array(rows * (l.inputSize + u));
        for (let r = 0; r < rows; r++) {
          input.set(below!.subarray(r * l.inputSize, (r + 1) * l.inputSize), r * (l.inputSize + u));
          input.set(state.h[k].subarray(r * u, (r + 1) * u), r * (l.inputSize + u) + l.inputSize);
        }
      }
      const z = this.matMul(input, rows, l.kernel, l.bias);
      const h = new Float32Array(rows * u);
      const c = new Float32Array(rows * u);
      const cPrev = state.c[k];
      const emb = this.embed;
      for (let r = 0; r < rows; r++) {
        const zr = r * 4 * u;
        const er = ids[r] * 4 * u;
        for (let j = 0; j < u; j++) {
          let zi = z[zr + j];
          let zf = z[zr + u + j];
          let zg = z[zr + 2 * u + j];
          let zo = z[zr + 3 * u + j];
          if (k === 0) {
            zi += emb[er + j];
            zf += emb[er + u + j];
            zg += emb[er + 2 * u + j];
            zo += emb[er + 3 * u + j];
          }
          const cj = sigmoid(zf) * cPrev[r * u + j] + sigmoid(zi) * Math.tanh(zg);
          c[r * u + j] = cj;
          h[r * u + j] = sigmoid(zo) * Math.tanh(cj);
        }
      }
      next.h.push(h);
      next.c.push(c);
      below = h;
    });
    return { logits: this.matMul(below!, rows, this.outKernel, this.outBias), state: next };
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
    h: parts[0].h.map((_, k) => join(parts.map((p) => p.h[k]))),
    c: parts[0].c.map((_, k) => join(parts.map((p) => p.c[k]))),
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
  return { rows: rows.length, h: state.h.map(pick), c: state.c.map(pick) };
}
