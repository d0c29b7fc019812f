// Chooses the tfjs backend once per process (or worker thread) and says why.
// Order: tfjs-node (native libtensorflow, the fast path on ordinary machines),
// then wasm with our kernel fixes, then the pure-JS cpu backend as a last resort.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { log } from '../log.js';
import { registerWasmKernels } from './kernels.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export interface BackendInfo {
  name: BackendName;
  reason: string;
}

const require = createRequire(import.meta.url);
let chosen: Promise<BackendInfo> | undefined;

async function tryNode(): Promise<string | undefined> {
  try {
    // Optional dependency: its install fetches libtensorflow, which can fail.
    await import('@tensorflow/tfjs-node' as string);
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

async function choose(prefer: string | undefined): Promise<BackendInfo> {
  const notes: string[] = [];
  if (!prefer || prefer === 'tensorflow') {
    const why = await tryNode();
    if (!why) return { name: 'tensorflow', reason: 'tfjs-node (native libtensorflow) loaded' };
    notes.push(why);
  }
  if (!prefer || prefer === 'wasm') {
    const why = await tryWasm();
    if (!why) return { name: 'wasm', reason: [...notes, 'using wasm with bardbot kernel fixes'].join('; ') };
    notes.push(why);
  }
  await tf.setBackend('cpu');
  return { name: 'cpu', reason: [...notes, 'using the pure-JS cpu backend (slow)'].join('; ') };
}

/**
 * Initialises the backend once. `prefer` (or BARDBOT_BACKEND) pins one:
 * 'tensorflow', 'wasm' or 'cpu'.
 */
export function initBackend(prefer = process.env.BARDBOT_BACKEND): Promise<BackendInfo> {
  chosen ??= choose(prefer || undefined).then((info) => {
    log.info({ backend: info.name, reason: info.reason }, `tfjs backend: ${info.name}`);
    return info;
  });
  return chosen;
}
