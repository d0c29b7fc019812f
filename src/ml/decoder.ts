// Stateful, incremental LSTM decoding: one character per step for a batch of
// rows, carrying the LSTM state forward, so generating n chars costs n steps
// rather than n re-runs of a whole window. A step runs one of two ways:
// - where the backend has the fused LSTM cell kernel (tfjs-node: fused-lstm.ts),
//   one kernel per layer plus the output projection;
// - elsewhere (wasm), one fused matMul per layer: a layer's new h is multiplied
//   at once by the input kernel of the layer above and by its own recurrent
//   kernel (kept for the next step), the top layer's by its recurrent kernel
//   and the output projection; the gate arithmetic runs on plain
//   Float32Arrays, because at decoding sizes the per-op overhead of a dozen
//   small tfjs element-wise kernels costs more than the arithmetic itself.
// The math is the tfjs LSTMCell's (gates i, f, c, o; sigmoid/tanh);
// test/ml-generation.test.ts and test/parity/ check both ways against the model.
import * as tf from '@tensorflow/tfjs';
import { hasLstmCellKernel, lstmCell, lstmCellLayout } from './fused-lstm.js';

/**
 * Per layer, row-major: the cell state and the hidden state (rows × units),
 * and, after a step of the gate loop, the output of the layer's last fused
 * matMul (rows × width), whose recurrent columns hold h·R, that layer's
 * recurrent term for the next step (recomputed from h when absent).
 */
export interface LstmState {
  rows: number;
  c: Float32Array[];
  h: Float32Array[];
  z?: Float32Array[];
}

/** A model's weights as plain arrays, so that a decoder can be built from them on any backend. */
export interface DecoderWeights {
  vocabSize: number;
  /** Keras LSTM weights: kernel (input × 4·units), recurrent kernel (units × 4·units), bias; gates i, f, c, o. */
  layers: { units: number; inputSize: number; kernel: Float32Array; recurrent: Float32Array; bias: Float32Array }[];
  /** The Dense output layer: kernel (units × vocab) and bias. */
  out: { kernel: Float32Array; bias: Float32Array };
}

/** The gate loop's layout of one layer. */
interface LoopLayer {
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

/** The fused cell's layout: per layer [K; R] and the bias in TF's gate order, and the output layer. */
interface CellWeights {
  layers: { w: tf.Tensor2D; b: tf.Tensor1D }[];
  outKernel: tf.Tensor2D;
  outBias: tf.Tensor1D;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Reads an LSTM…LSTM, Dense model's weights. */
export function decoderWeights(model: tf.LayersModel): DecoderWeights {
  const lstms = model.layers.filter((l) => l.getClassName() === 'LSTM');
  const dense = model.layers[model.layers.length - 1];
  if (lstms.length === 0 || dense.getClassName() !== 'Dense') {
    throw new Error('expected a model of LSTM layers followed by a Dense output layer');
  }
  const data = (t: tf.Tensor) => t.dataSync() as Float32Array;
  const layers = lstms.map((layer) => {
    const cfg = layer.getConfig();
    if (cfg.activation !== 'tanh' || cfg.recurrentActivation !== 'sigmoid' || cfg.useBias === false) {
      throw new Error(`layer ${layer.name}: decoder supports tanh/sigmoid LSTMs with bias only`);
    }
    const [kernel, recurrent, bias] = layer.getWeights();
    return { units: recurrent.shape[0], inputSize: kernel.shape[0], kernel: data(kernel), recurrent: data(recurrent), bias: data(bias) };
  });
  const [outKernel, outBias] = dense.getWeights();
  return { vocabSize: outBias.shape[0], layers, out: { kernel: data(outKernel), bias: data(outBias) } };
}

export class CharDecoder {
  readonly vocabSize: number;
  /** The backend the decoder's tensors live on: its steps must run with that backend active. */
  readonly backend: string;
  private readonly units: number[];
  /** Exactly one of the two layouts, for the backend's way of stepping. */
  private readonly loop: { layers: LoopLayer[]; embed: Float32Array } | undefined;
  private readonly cell: CellWeights | undefined;

  /** Builds the decoder's tensors on the active backend. */
  constructor(source: tf.LayersModel | DecoderWeights) {
    const w = source instanceof tf.LayersModel ? decoderWeights(source) : source;
    this.backend = tf.getBackend();
    this.vocabSize = w.vocabSize;
    this.units = w.layers.map((l) => l.units);
    const fused = hasLstmCellKernel();
    // Kept tensors survive the tidy; the raw weights and intermediates do not.
    let loop: typeof this.loop;
    let cell: CellWeights | undefined;
    tf.tidy(() => {
      const raw = w.layers.map((l) => ({
        kernel: tf.tensor2d(l.kernel, [l.inputSize, 4 * l.units]),
        recurrent: tf.tensor2d(l.recurrent, [l.units, 4 * l.units]),
        bias: tf.tensor1d(l.bias),
      }));
      const outKernel = tf.tensor2d(w.out.kernel, [this.units[this.units.length - 1], w.vocabSize]);
      const outBias = tf.tensor1d(w.out.bias);
      if (fused) {
        cell = {
          layers: raw.map((l) => ({
            w: tf.keep(lstmCellLayout(tf.concat([l.kernel, l.recurrent], 0))) as tf.Tensor2D,
            b: tf.keep(lstmCellLayout(l.bias)) as tf.Tensor1D,
          })),
          outKernel: tf.keep(outKernel),
          outBias: tf.keep(outBias),
        };
        return;
      }
      const layers = raw.map(({ recurrent }, k) => {
        const units = this.units[k];
        const above = raw[k + 1];
        const [kernel, bias] = above
          ? [tf.concat([above.kernel, recurrent], 1), tf.concat([above.bias, tf.zeros([4 * units])])]
          : [tf.concat([recurrent, outKernel], 1), tf.concat([tf.zeros([4 * units]), outBias])];
        return { units, kernel: tf.keep(kernel) as tf.Tensor2D, bias: tf.keep(bias) as tf.Tensor1D, width: kernel.shape[1], recAt: above ? 4 * this.units[k + 1] : 0 };
      });
      loop = { layers, embed: tf.add(raw[0].kernel, raw[0].bias).dataSync() as Float32Array };
    });
    this.loop = loop;
    this.cell = cell;
  }

  /** Frees the decoder's tensors (a model it was built from keeps its own). */
  dispose(): void {
    if (this.loop) tf.dispose(this.loop.layers.flatMap((l) => [l.kernel, l.bias]));
    if (this.cell) tf.dispose([...this.cell.layers.flatMap((l) => [l.w, l.b]), this.cell.outKernel, this.cell.outBias]);
  }

  zeroState(rows: number): LstmState {
    const zeros = () => this.units.map((u) => new Float32Array(rows * u));
    // h = 0 makes the recurrent term 0: the z of a zero state is all zeros too.
    return { rows, c: zeros(), h: zeros(), ...(this.loop && { z: this.loop.layers.map((l) => new Float32Array(rows * l.width)) }) };
  }

  /**
   * Feeds one character id per row; returns next-char logits (rows × vocab,
   * row-major) and the new state. The input state is not modified.
   */
  step(ids: Int32Array, state: LstmState): { logits: Float32Array; state: LstmState } {
    return this.cell ? this.cellStep(ids, state, this.cell) : this.loopStep(ids, state, this.loop!);
  }

  private cellStep(ids: Int32Array, state: LstmState, cell: CellWeights): { logits: Float32Array; state: LstmState } {
    const rows = state.rows;
    const out = tf.tidy(() => {
      let x = tf.oneHot(tf.tensor1d(ids, 'int32'), this.vocabSize).toFloat() as tf.Tensor2D;
      const next = cell.layers.map(({ w, b }, k) => {
        const u = this.units[k];
        const [c, h] = lstmCell({ x, c: tf.tensor2d(state.c[k], [rows, u]), h: tf.tensor2d(state.h[k], [rows, u]), w, b });
        x = h;
        return [c, h];
      });
      return { next, logits: tf.fused.matMul({ a: x, b: cell.outKernel, bias: cell.outBias }) };
    });
    const read = (t: tf.Tensor) => t.dataSync() as Float32Array;
    const result = { logits: read(out.logits), state: { rows, c: out.next.map(([c]) => read(c)), h: out.next.map(([, h]) => read(h)) } };
    tf.dispose([out.logits, ...out.next.flat()]);
    return result;
  }

  private loopStep(ids: Int32Array, state: LstmState, loop: NonNullable<typeof this.loop>): { logits: Float32Array; state: LstmState } {
    const rows = state.rows;
    const prevZ = state.z ?? loop.layers.map((l, k) => this.matMul(state.h[k], rows, l.kernel, l.bias));
    const next: Required<LstmState> = { rows, c: [], h: [], z: [] };
    // The layer below's new matMul output: its first columns are this layer's input term (bias included).
    let below: { z: Float32Array; width: number } | undefined;
    loop.layers.forEach((l, k) => {
      const u = l.units;
      const h = new Float32Array(rows * u);
      const c = new Float32Array(rows * u);
      const cPrev = state.c[k];
      const rec = prevZ[k];
      const input = below ? below.z : loop.embed;
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
      const z = this.matMul(h, rows, l.kernel, l.bias);
      next.c.push(c);
      next.h.push(h);
      next.z.push(z);
      below = { z, width: l.width };
    });
    // The top layer's output ends with the logits.
    const top = loop.layers[loop.layers.length - 1];
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

/** Concatenates the rows of several states (z only if every part has it). */
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
  const layers = parts[0].c.map((_, k) => k);
  const zs = parts.every((p) => p.z) ? parts.map((p) => p.z!) : undefined;
  return {
    rows: parts.reduce((n, p) => n + p.rows, 0),
    c: layers.map((k) => join(parts.map((p) => p.c[k]))),
    h: layers.map((k) => join(parts.map((p) => p.h[k]))),
    ...(zs && { z: layers.map((k) => join(zs.map((z) => z[k]))) }),
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
  return { rows: rows.length, c: state.c.map(pick), h: state.h.map(pick), ...(state.z && { z: state.z.map(pick) }) };
}
