// Replacement kernels for the tfjs wasm backend, registered through tfjs's
// kernel registry. Stock wasm kernels (tfjs 4.22) make LSTM training ~10x slower
// than it needs to be:
//   - BatchMatMul/_FusedMatMul with transposeA/B fall back to a scalar loop
//     (~30x slower than XNNPACK), and every matMul gradient transposes;
//   - Slice copies the *whole* input out of the wasm heap on every call, and
//     Unpack/SplitV (the RNN's per-timestep unstack, the LSTM gate split) call it
//     once per output;
//   - Identity copies its buffer, and the engine clones every tensor it keeps for
//     backprop;
//   - and stock _FusedMatMul with both operands transposed plus a bias returns
//     wrong values; taking the untransposed path fixes that as well.
// Each replacement computes the same values; test/kernels.test.ts proves it.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Info = tf.TensorInfo;
type Args<I, A = Record<string, unknown>> = { inputs: I; backend: BackendWasm; attrs: A };

function identity({ inputs: { x }, backend }: Args<{ x: Info }>): Info {
  // Share the buffer (as the cpu backend does); the backend ref-counts dataIds.
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Copies a strided box out of `x` without reading all of `x` out of the heap. */
function sliceImpl(x: Info, begin: number[], size: number[], backend: BackendWasm): Info {
  const out = backend.makeOutput(size, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  // Views are taken after makeOutput: a malloc may grow (and detach) the heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return out;
  }
  const strides = tf.util.computeStrides(x.shape);
  const row = size[rank - 1];
  const rows = total / row;
  const idx = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let offset = begin[rank - 1];
    for (let d = 0; d < rank - 1; d++) offset += (begin[d] + idx[d]) * strides[d];
    dst.set(src.subarray(offset, offset + row), r * row);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function slice({ inputs: { x }, attrs, backend }: Args<{ x: Info }, { begin: number | number[]; size: number | number[] }>): Info {
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.TensorInfo & { rank: number } as never, attrs.begin, attrs.size);
  return sliceImpl(x, begin, size, backend);
}

function unpack({ inputs: { value }, attrs, backend }: Args<{ value: Info }, { axis: number }>): Info[] {
  const rank = value.shape.length;
  const axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(rank).fill(0);
  const size = value.shape.slice();
  size[axis] = 1;
  return Array.from({ length: value.shape[axis] }, (_, i) => {
    begin[axis] = i;
    const { dataId, dtype } = sliceImpl(value, begin, size, backend);
    return { dataId, dtype, shape: outShape };
  });
}

function splitV({ inputs: { x }, attrs, backend }: Args<{ x: Info }, { numOrSizeSplits: number | number[]; axis: number }>): Info[] {
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const part = sliceImpl(x, begin, size, backend);
    begin[axis] += s;
    return part;
  });
}

/**
 * Wraps a matmul kernel so that transposed operands are transposed for real
 * (one fast wasm Transpose) and the kernel always takes its XNNPACK path.
 */
function untransposed(original: tf.KernelConfig): tf.KernelConfig {
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose) throw new Error('wasm Transpose kernel missing');
  const flip = (t: Info, backend: BackendWasm): Info => {
    const r = t.shape.length;
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as Info;
  };
  return {
    ...original,
    kernelFunc: ((args: Args<{ a: Info; b: Info }, { transposeA: boolean; transposeB: boolean }>) => {
      const { inputs, backend, attrs } = args;
      if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args as never);
      const a = attrs.transposeA ? flip(inputs.a, backend) : inputs.a;
      const b = attrs.transposeB ? flip(inputs.b, backend) : inputs.b;
      try {
        return original.kernelFunc({
          ...args,
          inputs: { ...inputs, a, b },
          attrs: { ...attrs, transposeA: false, transposeB: false },
        } as never);
      } finally {
        if (a !== inputs.a) backend.disposeData(a.dataId);
        if (b !== inputs.b) backend.disposeData(b.dataId);
      }
    }) as tf.KernelFunc,
  };
}

// Stock configs of the kernels we replaced, so they can be put back.
const originals = new Map<string, tf.KernelConfig>();

function replace(name: string, make: (original: tf.KernelConfig) => tf.KernelConfig): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original) throw new Error(`wasm kernel ${name} is not registered`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(make(original));
  originals.set(name, original);
}

const asKernel = (fn: unknown) => (original: tf.KernelConfig): tf.KernelConfig => ({
  kernelName: original.kernelName,
  backendName: 'wasm',
  kernelFunc: fn as tf.KernelFunc,
});

/** Kernel names currently replaced (for logs and tests). */
export function patchedKernels(): string[] {
  return [...originals.keys()];
}

/**
 * Registers the fast kernels for the wasm backend. Idempotent. Call after
 * `@tensorflow/tfjs-backend-wasm` was imported (it registers the stock ones).
 */
export function registerWasmKernels(): void {
  if (originals.size > 0) return;
  replace('Identity', asKernel(identity));
  replace('Slice', asKernel(slice));
  replace('Unpack', asKernel(unpack));
  replace('SplitV', asKernel(splitV));
  replace('BatchMatMul', untransposed);
  replace('_FusedMatMul', untransposed);
}

/** Puts the stock kernels back (tests and benchmarks compare both in one process). */
export function restoreStockKernels(): void {
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(original);
  }
  originals.clear();
}
