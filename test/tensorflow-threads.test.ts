import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ONE_TENSORFLOW_THREAD } from '../src/runtime/tensorflow-threads.js';

const NAMES = Object.keys(ONE_TENSORFLOW_THREAD);
let saved: (string | undefined)[] = [];

// Each test gets fresh modules (the module remembers what it set) and an environment without the variables.
beforeEach(() => {
  saved = NAMES.map((n) => process.env[n]);
  for (const n of NAMES) delete process.env[n];
  vi.resetModules();
});
afterEach(() => {
  NAMES.forEach((n, i) => {
    if (saved[i] === undefined) delete process.env[n];
    else process.env[n] = saved[i];
  });
});

const fresh = () => import('../src/runtime/tensorflow-threads.js');

describe("TensorFlow's threads", () => {
  it('runs TensorFlow on one thread in a process that asks, and leaves its children their own choice', async () => {
    const { oneTensorflowThread, childEnv } = await fresh();
    oneTensorflowThread();
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('1');
    expect(process.env.TF_NUM_INTEROP_THREADS).toBe('1');
    const env = childEnv();
    for (const n of NAMES) expect(env).not.toHaveProperty(n);
    expect(env.PATH).toBe(process.env.PATH);
  });

  it("keeps an operator's thread count, in this process and in its children", async () => {
    process.env.TF_NUM_INTRAOP_THREADS = '3';
    const { oneTensorflowThread, childEnv } = await fresh();
    oneTensorflowThread();
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('3');
    expect(process.env.TF_NUM_INTEROP_THREADS).toBe('1');
    expect(childEnv().TF_NUM_INTRAOP_THREADS).toBe('3');
    expect(childEnv()).not.toHaveProperty('TF_NUM_INTEROP_THREADS');
  });

  it("strips both variables, whoever set them, for a process that is to run on TensorFlow's own threads", async () => {
    const { withoutTensorflowThreads } = await fresh();
    const env = withoutTensorflowThreads({ PATH: '/bin', TF_NUM_INTRAOP_THREADS: '3', TF_NUM_INTEROP_THREADS: '1' });
    expect(env).toEqual({ PATH: '/bin' });
  });

  it('a training process with replicas runs TensorFlow on one thread each; one with a single worker keeps its threads', async () => {
    const { tensorflowThreadsFor } = await import('../src/training/loop.js');
    tensorflowThreadsFor(1);
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBeUndefined();
    tensorflowThreadsFor(2);
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('1');
  });

  it('the generation pool runs TensorFlow on one thread per worker', async () => {
    const { WorkerPool } = await import('../src/serving/pool.js');
    const pool = await WorkerPool.start({ workers: 1, maxQueue: 4 });
    try {
      expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('1');
      expect(process.env.TF_NUM_INTEROP_THREADS).toBe('1');
    } finally {
      await pool.close(0);
    }
  });
});
