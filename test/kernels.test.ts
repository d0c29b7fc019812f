// The wasm kernel replacements must compute what the stock kernels compute,
// forward and backward.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import { patchedKernels, registerWasmKernels, restoreStockKernels } from '../src/ml/kernels.js';
import { buildModel, lossFromLogits } from '../src/ml/model.js';

/** Runs `f` with stock kernels, then with ours; returns both results as arrays. */
function both(f: () => tf.Tensor | tf.Tensor[]): [number[][], number[][]] {
  const run = () =>
    tf.tidy(() => {
      const out = f();
      return (Array.isArray(out) ? out : [out]).map((t) => Array.from(t.dataSync()));
    });
  restoreStockKernels();
  const stock = run();
  registerWasmKernels();
  return [stock, run()];
}

function expectClose(a: number[][], b: number[][], tol = 1e-5): void {
  expect(b.length).toBe(a.length);
  a.forEach((arr, i) => {
    expect(b[i].length).toBe(arr.length);
    const worst = Math.max(0, ...arr.map((v, j) => Math.abs(v - b[i][j]) / Math.max(1, Math.abs(v))));
    expect(worst).toBeLessThan(tol);
  });
}

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

beforeAll(async () => {
  const info = await initBackend('train', 'wasm');
  expect(info.name).toBe('wasm');
});
afterAll(() => registerWasmKernels());

describe('wasm kernel replacements', () => {
  it('replaces the six slow kernels', () => {
    expect(patchedKernels().sort()).toEqual(['BatchMatMul', 'Identity', 'Slice', 'SplitV', 'Unpack', '_FusedMatMul']);
  });

  it('matMul: every transpose combination, 2-D and batched', () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      expectClose(...both(() => tf.matMul(rand(ta ? [7, 5] : [5, 7], 1), rand(tb ? [3, 7] : [7, 3], 2), ta, tb)));
      expectClose(...both(() => tf.matMul(rand(ta ? [4, 7, 5] : [4, 5, 7], 3), rand(tb ? [4, 3, 7] : [4, 7, 3], 4), ta, tb)));
    }
  });

  it('fused matMul with bias and activation, every transpose combination', () => {
    // Compared with unfused stock ops: stock wasm _FusedMatMul itself returns
    // wrong values when both operands are transposed and a bias is fused.
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = () => rand(ta ? [7, 5] : [5, 7], 5);
      const b = () => rand(tb ? [3, 7] : [7, 3], 6);
      const bias = () => rand([3], 7);
      restoreStockKernels();
      const expected = tf.tidy(() => {
        const a2 = ta ? tf.transpose(a()) : a();
        const b2 = tb ? tf.transpose(b()) : b();
        return Array.from(tf.relu(tf.add(tf.matMul(a2, b2), bias())).dataSync());
      });
      registerWasmKernels();
      const ours = tf.tidy(() =>
        Array.from(tf.fused.matMul({ a: a(), b: b(), transposeA: ta, transposeB: tb, bias: bias(), activation: 'relu' }).dataSync()),
      );
      expectClose([expected], [ours]);
    }
  });

  it('slice of ranks 1 to 5, contiguous and strided', () => {
    expectClose(...both(() => tf.slice(rand([10], 1), [3], [4])));
    expectClose(...both(() => tf.slice(rand([6, 9], 1), [1, 2], [4, 5])));
    expectClose(...both(() => tf.slice(rand([5, 6, 7], 1), [1, 0, 2], [3, 6, 4])));
    expectClose(...both(() => tf.slice(rand([3, 4, 5, 6], 1), [1, 1, 1, 1], [2, 2, 3, 4])));
    expectClose(...both(() => tf.slice(rand([2, 3, 4, 5, 6], 1), [0, 1, 2, 3, 4], [2, 2, 2, 2, 2])));
    expectClose(...both(() => tf.slice(tf.range(0, 24, 1, 'int32').reshape([4, 6]), [1, 2], [2, 3])));
  });

  it('unstack and split', () => {
    expectClose(...both(() => tf.unstack(rand([4, 3, 5], 9), 1)));
    expectClose(...both(() => tf.unstack(rand([4, 3, 5], 9), 0)));
    expectClose(...both(() => tf.split(rand([6, 8], 9), 4, 1)));
    expectClose(...both(() => tf.split(rand([6, 8], 9), [1, 2, 3], 0)));
  });

  it('identity shares the buffer yet clones stay independent of disposal', () => {
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
  });

  it('LSTM model: same loss and gradients as the stock kernels', () => {
    const model = buildModel({ vocabSize: 11, layers: 2, units: 8, dropout: 0 }, 3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const [stock, ours] = both(() => {
      const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]], [2, 6], 'int32');
      const x = tf.oneHot(ids, 11).toFloat();
      const y = tf.tensor2d([[2, 3, 4, 5, 6, 7], [5, 4, 3, 2, 1, 0]], [2, 6], 'int32');
      const { value, grads } = tf.variableGrads(() => lossFromLogits(model.apply(x, { training: true }) as tf.Tensor, y), vars);
      return [value, ...vars.map((v) => grads[v.name])];
    });
    expect(stock.length).toBe(1 + vars.length);
    expectClose(stock, ours);
    model.dispose();
  });
});
