// How many threads TensorFlow (tfjs-node) runs an op on. TensorFlow reads
// these variables from the process environment (C getenv, which a worker
// thread's process.env copy does not reach) when the first tfjs-node context
// in the process starts, and every context in the process then shares that
// one intra-op pool. The generation pool runs one worker per core, so a
// worker's ops must run on its own thread: with TensorFlow's default (a
// thread per core, shared), two workers' 100-row steps queued on each other's
// threads, and a 200-request burst took 6.8 s at p99 instead of 4.1 s
// (`npm run bench -- --only burst`, 2 cores). A child process that parallelises
// through TensorFlow itself (the trainer) starts from childEnv() instead.

import { withoutVariables } from './environment.js';

/** TensorFlow on one thread: its ops run on the thread that calls them. */
export const ONE_TENSORFLOW_THREAD = { TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' } as const;

/** The variables oneTensorflowThread() set here, not the operator. */
const setHere = new Set<string>();

/**
 * Makes this process's tfjs-node contexts run single-threaded, unless the
 * operator chose a thread count. Call it before any thread loads tfjs-node.
 */
export function oneTensorflowThread(): void {
  for (const [name, value] of Object.entries(ONE_TENSORFLOW_THREAD)) {
    if (process.env[name] !== undefined) continue;
    process.env[name] = value;
    setHere.add(name);
  }
}

/** `env` without either TensorFlow thread variable, whoever set them, so that TensorFlow sizes its own pool. */
export const withoutTensorflowThreads = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => withoutVariables(env, Object.keys(ONE_TENSORFLOW_THREAD));

/** This process's environment for a child that sizes TensorFlow's threads itself: without what oneTensorflowThread() set. */
export const childEnv = (): NodeJS.ProcessEnv => withoutVariables(process.env, setHere);
