// Generation worker thread: holds loaded model versions and decodes all their
// requests in continuous batches, off the bot's event loop. A version being
// replaced keeps serving the requests it started until the last one finishes,
// then its tensors are freed. Where tfjs-node loads beside wasm, each version
// has a decoder on each, and a step runs on the one that is faster for the
// batch's size (backend.ts: initBatchBackend).
//
// Test-only fault injection, read here and nowhere else: BARDBOT_TEST_FAULTS
// is a comma-separated list of
//   load-delay:<version>:<ms>  a load of <version> waits <ms> first (a large value: a hung load)
//   throw-on-seed:<seed>       a request with this seed throws an uncaught exception in the worker
//   fail-start                 the worker throws before it is ready
// The pool passes its environment at spawn, so a test sets it before a worker (re)starts.
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend, initBatchBackend } from '../ml/backend.js';
import { CharDecoder, decoderWeights } from '../ml/decoder.js';
import { BatchGenerator, GenerationInputError, generate } from '../ml/generate.js';
import type { Vocabulary } from '../ml/vocab.js';
import { loadVersion } from '../registry/loader.js';
import type { FromWorker, ToWorker, VersionToLoad } from './protocol.js';

interface Loaded {
  /** For the largest batches first: each decodes batches of at least `fromRows` rows. */
  decoders: { decoder: CharDecoder; fromRows: number }[];
  vocab: Vocabulary;
  batch: BatchGenerator<number>;
  retiring: boolean;
}

const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const versions = new Map<string, Loaded>();
/** Requests that want their text so far: when it is next due. */
const progress = new Map<number, { version: string; everyMs: number; due: number }>();
let pumping = false;
/** The active backend is the thread's global state: whatever uses tensors takes a turn, one at a time. */
let turns: Promise<unknown> = Promise.resolve();

function onBackend<T>(backend: string, work: () => T | Promise<T>): Promise<T> {
  const turn = turns.then(async () => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    return work();
  });
  turns = turn.catch(() => undefined);
  return turn;
}

/** Warm-up before taking traffic: first kernel calls allocate and compile, and the JIT needs a few hundred steps to optimise the decode loop. */
function warmUp(decoder: CharDecoder, vocab: Vocabulary, rows: number): void {
  generate(decoder, vocab, Array.from({ length: rows }, (_, i) => ({ seed: '', length: 200, temperature: 1, rngSeed: i + 1 })));
}

const faults = (process.env.BARDBOT_TEST_FAULTS ?? '').split(',').filter(Boolean).map((f) => f.split(':'));
const loadDelayMs = (version: string) => Number(faults.find(([k, v]) => k === 'load-delay' && v === version)?.[2] ?? 0);
const throwsOn = (seed: string) => faults.some(([k, v]) => k === 'throw-on-seed' && v === seed);

async function load(ref: VersionToLoad): Promise<void> {
  const t0 = performance.now();
  const existing = versions.get(ref.version);
  if (existing) {
    existing.retiring = false;
    send({ type: 'loaded', version: ref.version, ms: 0, tensors: tf.memory().numTensors });
    return;
  }
  try {
    const delay = loadDelayMs(ref.version);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    // Checksums are verified here too: files may have changed since the main thread looked.
    const { model, decoder, vocab } = await onBackend(single.name, async () => {
      const loaded = await loadVersion(ref.dir);
      warmUp(loaded.decoder, loaded.vocab, 1);
      return loaded;
    });
    const decoders = [{ decoder, fromRows: 1 }];
    try {
      if (batched) {
        const weights = decoderWeights(model);
        const { fromRows } = batched;
        const onBatches = await onBackend(batched.name, () => new CharDecoder(weights));
        decoders.unshift({ decoder: onBatches, fromRows });
        await onBackend(batched.name, () => warmUp(onBatches, vocab, fromRows));
      }
    } catch (err) {
      for (const d of decoders) d.decoder.dispose();
      throw err;
    } finally {
      // The decoders hold copies of the weights.
      model.dispose();
    }
    versions.set(ref.version, { decoders, vocab, batch: new BatchGenerator(decoder, vocab), retiring: false });
    send({ type: 'loaded', version: ref.version, ms: performance.now() - t0, tensors: tf.memory().numTensors });
  } catch (err) {
    send({ type: 'load-failed', version: ref.version, message: (err as Error).message });
  }
}

function release(version: string): void {
  const v = versions.get(version);
  if (!v || !v.retiring || v.batch.size > 0) return;
  for (const { decoder } of v.decoders) decoder.dispose();
  versions.delete(version);
  send({ type: 'unloaded', version, tensors: tf.memory().numTensors });
}

async function pump(): Promise<void> {
  for (const [version, v] of versions) {
    if (v.batch.size === 0) continue;
    const { decoder } = v.decoders.find((d) => v.batch.size >= d.fromRows)!;
    try {
      for (const { key, text } of await onBackend(decoder.backend, () => v.batch.step(decoder))) {
        progress.delete(key);
        send({ type: 'done', id: key, text, version });
      }
    } catch (err) {
      // A failed step fails the requests in its batch; the worker and other versions go on.
      const message = (err as Error).message;
      for (const id of v.batch.keys()) {
        progress.delete(id);
        send({ type: 'failed', id, message, input: false });
      }
      v.batch.clear();
    }
    release(version);
  }
  sendProgress();
  pumping = false;
  schedule();
}

function sendProgress(): void {
  if (progress.size === 0) return;
  const now = performance.now();
  for (const [id, p] of progress) {
    if (now < p.due) continue;
    const text = versions.get(p.version)?.batch.partial(id);
    if (text === undefined) continue;
    p.due = now + p.everyMs;
    send({ type: 'progress', id, text });
  }
}

function schedule(): void {
  if (pumping) return;
  if ([...versions.values()].some((v) => v.batch.size > 0)) {
    pumping = true;
    // One step per turn of the event loop, so new requests join between steps.
    setImmediate(() => void pump());
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'load':
      void load(m.model);
      break;
    case 'unload': {
      const v = versions.get(m.version);
      if (v) v.retiring = true;
      release(m.version);
      break;
    }
    case 'generate': {
      const v = versions.get(m.version);
      if (!v) {
        send({ type: 'failed', id: m.id, message: `model version ${m.version} is not loaded`, input: false });
        break;
      }
      try {
        if (throwsOn(m.params.seed)) setImmediate(() => {
          throw new Error(`test fault: throw-on-seed ${m.params.seed}`);
        });
        v.batch.add(m.id, m.params);
        if (m.progressMs !== undefined) progress.set(m.id, { version: m.version, everyMs: m.progressMs, due: performance.now() + m.progressMs });
        schedule();
      } catch (err) {
        send({ type: 'failed', id: m.id, message: (err as Error).message, input: err instanceof GenerationInputError });
      }
      break;
    }
    case 'stats': {
      const { numTensors, numBytes } = tf.memory();
      send({ type: 'stats', id: m.id, tensors: numTensors, bytes: numBytes, versions: [...versions.keys()] });
      break;
    }
  }
});

if (faults.some(([k]) => k === 'fail-start')) throw new Error('test fault: fail-start');
// Decoding yields to the bot's own thread, which must acknowledge every
// interaction within Discord's 3 s however busy the machine is: 5 nice levels
// below the thread that started it. On Linux the nice value is per thread and
// who=0 is this thread only (the trainer, nice 19, still yields to decoding);
// elsewhere it would change the whole process, so it is left alone there.
const GENERATION_NICE_OFFSET = 5;
if (process.platform === 'linux') {
  try {
    os.setPriority(Math.min(19, os.getPriority() + GENERATION_NICE_OFFSET));
  } catch {
    // Not permitted in some sandboxes: decoding then competes as before.
  }
}
// Set before the first 'load': the pool sends none until 'ready'.
const single = await initBackend('generate');
const batched = await initBatchBackend();
send({
  type: 'ready',
  backend: batched ? `${single.name}, ${batched.name} for ${batched.fromRows}+ rows` : single.name,
  reason: batched ? `${single.reason}; tfjs-node's fused LSTM cell decodes batches faster` : single.reason,
});
