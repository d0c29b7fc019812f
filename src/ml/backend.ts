// Chooses the tfjs backend once per process (or worker thread) for the job it
// runs, and says why. Measured on 2 cores (`npm run bench`): tfjs-node trains
// the 2x256 LSTM ~3x faster than wasm (TensorFlow's fused BlockLSTM,
// fused-lstm.ts), but wasm decodes a single request's
// one-char steps ~4x faster (tfjs-node's per-op dispatch dominates a tiny
// step). So by default training prefers tfjs-node and generation prefers
// wasm; each falls back to the other, then to the pure-JS cpu backend. Where
// both load, generation batches go to tfjs-node's fused LSTM cell
// (initBatchBackend).
import { createRequire } from 'node:module';
import path from 'node:path';
import util from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { log } from '../log.js';
import { pinnedBackend, type BackendName, type Job } from './backend-names.js';
import { registerWasmKernels } from './kernels.js';
import { hasLstmCellKernel, registerFusedLstmKernels } from './fused-lstm.js';

export type { BackendName, Job } from './backend-names.js';

export interface BackendInfo {
  name: BackendName;
  reason: string;
}

const require = createRequire(import.meta.url);
let chosen: Promise<BackendInfo> | undefined;

async function tryNode(): Promise<string | undefined> {
  try {
    // tfjs-node 4.22 calls util.isNullOrUndefined, which Node 23 removed.
    (util as { isNullOrUndefined?: (v: unknown) => boolean }).isNullOrUndefined ??= (v) => v === null || v === undefined;
    // Optional dependency: its install fetches libtensorflow, which can fail.
    await import('@tensorflow/tfjs-node' as string);
    registerFusedLstmKernels();
    if (await tf.setBackend('tensorflow')) return undefined;
    return 'tfjs-node loaded but its backend did not initialise';
  } catch (err) {
    return `tfjs-node unavailable (${(err as Error).message.split('\n')[0]})`;
  }
}

/**
 * The wasm module's Emscripten glue installs process handlers that rethrow
 * every uncaught exception and unhandled rejection, which would turn any stray
 * rejection into a crash of the bot. Remove what it added.
 */
async function withoutEmscriptenHandlers<T>(init: () => Promise<T>): Promise<T> {
  const listeners = (e: string) => process.listeners(e as 'uncaughtException') as ((...args: unknown[]) => void)[];
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((e) => new Set(listeners(e)));
  try {
    return await init();
  } finally {
    events.forEach((e, i) => {
      for (const l of listeners(e)) if (!before[i].has(l)) process.removeListener(e, l);
    });
  }
}

async function tryWasm(): Promise<string | undefined> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dir + path.sep);
    if (!(await withoutEmscriptenHandlers(() => tf.setBackend('wasm')))) return 'wasm backend did not initialise';
    registerWasmKernels();
    return undefined;
  } catch (err) {
    return `wasm unavailable (${(err as Error).message.split('\n')[0]})`;
  }
}

async function tryBackend(name: BackendName): Promise<string | undefined> {
  if (name === 'tensorflow') return tryNode();
  if (name === 'wasm') return tryWasm();
  return (await tf.setBackend('cpu')) ? undefined : 'cpu backend did not initialise';
}

const WHY: Record<Job, Record<Exclude<BackendName, 'cpu'>, string>> = {
  train: {
    tensorflow: 'tfjs-node (native libtensorflow) loaded; it trains faster than wasm',
    wasm: 'wasm with bardbot kernel fixes',
  },
  generate: {
    wasm: 'wasm with bardbot kernel fixes; it decodes one-char steps faster than tfjs-node',
    tensorflow: 'tfjs-node (native libtensorflow) loaded',
  },
};

async function choose(job: Job, pinned: { name: BackendName; by: string } | undefined): Promise<BackendInfo> {
  if (pinned) {
    const why = await tryBackend(pinned.name);
    if (!why) return { name: pinned.name, reason: `pinned by ${pinned.by}` };
    // A pinned backend that cannot run is a setup error, not something to paper over.
    throw new Error(`${pinned.by}=${pinned.name}, but ${why}`);
  }
  const notes: string[] = [];
  const order: Exclude<BackendName, 'cpu'>[] = job === 'train' ? ['tensorflow', 'wasm'] : ['wasm', 'tensorflow'];
  for (const name of order) {
    const why = await tryBackend(name);
    if (!why) return { name, reason: [...notes, WHY[job][name]].join('; ') };
    notes.push(why);
  }
  await tf.setBackend('cpu');
  return { name: 'cpu', reason: [...notes, 'using the pure-JS cpu backend (slow)'].join('; ') };
}

/**
 * Initialises the backend for `job` once per process or worker thread (a
 * later call gets the same one, whatever its job). `override` (a backend
 * name) wins over BARDBOT_GENERATE_BACKEND / BARDBOT_TRAIN_BACKEND, which win
 * over BARDBOT_BACKEND.
 */
export function initBackend(job: Job, override?: BackendName): Promise<BackendInfo> {
  chosen ??= Promise.resolve()
    .then(() => choose(job, override ? { name: override, by: 'the caller' } : pinnedBackend(job)))
    .then((info) => {
      log.info({ job, backend: info.name, reason: info.reason }, `tfjs backend for ${job}: ${info.name} (${info.reason})`);
      return info;
    });
  return chosen;
}

/** A second backend for generation: batches of `fromRows` rows or more decode on it. */
export interface BatchBackend {
  name: BackendName;
  fromRows: number;
}

/**
 * Where generation runs on wasm unpinned and tfjs-node loads too: tfjs-node
 * for batches of 2 rows or more, leaving wasm active. Measured on the 2x512
 * model (`npm run bench`): wasm decodes a lone row 2.6x faster (0.6 vs 1.6 ms
 * a step), tfjs-node's fused LSTM cell every batch from 2 rows (200 rows: 14
 * vs 72 ms a step).
 */
export async function initBatchBackend(): Promise<BatchBackend | undefined> {
  const single = await initBackend('generate');
  if (single.name !== 'wasm' || pinnedBackend('generate')) return undefined;
  const why = await tryNode();
  const usable = !why && hasLstmCellKernel();
  await tf.setBackend(single.name);
  if (!usable) return undefined;
  log.info({ job: 'generate', backend: 'tensorflow', fromRows: 2 }, 'tfjs backend for generation batches of 2 rows or more: tensorflow (its fused LSTM cell)');
  return { name: 'tensorflow', fromRows: 2 };
}
