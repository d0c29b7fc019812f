// The generation service: a small pool of worker threads that decode requests
// in batches, plus availability-preserving hot-swap (TensorFlow Serving's
// policy): a new version is loaded and warmed in every worker before new
// requests go to it; requests already running finish on the version they
// started with, and that version is freed after its last request.
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { log } from '../log.js';
import { moduleUrl, startWorker } from '../runtime/entry.js';
import { Vocabulary } from '../ml/vocab.js';
import { GenerationInputError, validateRequest } from '../ml/generate.js';
import type { ModelRegistry, VersionRef } from '../registry/registry.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { ModelNotLoadedError, QueueFullError, type GenerateParams, type GenerateResult, type Generator, type ServingModel } from './types.js';

export interface ServiceOptions {
  registry: ModelRegistry;
  modelName: string;
  /** Worker threads decoding in parallel (each single-threaded). */
  workers?: number;
  /** Requests in flight before new ones are refused with QueueFullError. */
  maxQueue?: number;
  requestTimeoutMs?: number;
}

interface Pending {
  resolve: (r: GenerateResult) => void;
  reject: (e: Error) => void;
  version: string;
  chars: number;
  submitted: number;
  worker: WorkerHandle;
  timer: NodeJS.Timeout;
}

interface WorkerHandle {
  worker: Worker;
  ready: Promise<void>;
  inFlight: number;
  waiters: Map<string, { resolve: () => void; reject: (e: Error) => void }>;
}

const WORKER_MODULE = moduleUrl('./worker.js', import.meta.url);

export class GenerationService extends EventEmitter implements Generator {
  private readonly workers: WorkerHandle[] = [];
  private readonly pending = new Map<number, Pending>();
  private serving: (ServingModel & { dir: string; vocab: Vocabulary }) | undefined;
  private nextId = 1;
  private closing = false;
  private charsPerSec = 2000;
  private watchTimer: NodeJS.Timeout | undefined;
  private swapping: Promise<void> | undefined;
  backend = 'unknown';

  private constructor(private readonly opts: Required<ServiceOptions>) {
    super();
  }

  static async start(options: ServiceOptions): Promise<GenerationService> {
    const service = new GenerationService({ workers: 1, maxQueue: 256, requestTimeoutMs: 120_000, ...options });
    for (let i = 0; i < service.opts.workers; i++) service.workers.push(service.spawn());
    await Promise.all(service.workers.map((w) => w.ready));
    return service;
  }

  current(): ServingModel | undefined {
    if (!this.serving) return undefined;
    const { name, version, metadata } = this.serving;
    return { name, version, metadata };
  }

  generate(params: GenerateParams): Promise<GenerateResult> {
    const serving = this.serving;
    if (!serving || this.closing) return Promise.reject(new ModelNotLoadedError());
    try {
      // Checked here too so bad input is answered without a round trip.
      validateRequest(params, serving.vocab);
    } catch (err) {
      return Promise.reject(err as GenerationInputError);
    }
    if (this.pending.size >= this.opts.maxQueue) {
      let outstanding = 0;
      for (const p of this.pending.values()) outstanding += p.chars;
      return Promise.reject(new QueueFullError(Math.max(1, Math.ceil(outstanding / this.charsPerSec))));
    }
    const worker = this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.nextId++;
    return new Promise<GenerateResult>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error('generation timed out')), this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, version: serving.version, chars: params.length, submitted: performance.now(), worker, timer });
      worker.inFlight++;
      this.post(worker, { type: 'generate', id, version: serving.version, params });
    });
  }

  /** Loads `ref` in every worker, then sends new requests to it and retires the old version. */
  async swapTo(ref: VersionRef): Promise<void> {
    const run = async () => {
      if (this.serving?.version === ref.version && this.serving.dir === ref.dir) return;
      const t0 = performance.now();
      await Promise.all(this.workers.map((w) => this.loadIn(w, ref)));
      const old = this.serving;
      this.serving = { name: ref.name, version: ref.version, metadata: ref.metadata, dir: ref.dir, vocab: new Vocabulary(ref.metadata.vocab) };
      if (old && old.version !== ref.version) for (const w of this.workers) this.post(w, { type: 'unload', version: old.version });
      log.info({ model: ref.name, version: ref.version, from: old?.version, ms: Math.round(performance.now() - t0) }, `serving ${ref.name} ${ref.version}`);
      this.emit('swapped', { from: old?.version, to: ref.version });
    };
    // Swaps run one at a time, in order.
    const next = (this.swapping ?? Promise.resolve()).catch(() => undefined).then(run);
    this.swapping = next;
    return next;
  }

  /** Serves the registry's current version (or the newest good one if it is corrupt). */
  async loadServable(): Promise<VersionRef> {
    const { ref, skipped } = await this.opts.registry.resolveServable(this.opts.modelName);
    for (const s of skipped) log.error({ dir: s.dir }, `skipping corrupt model version: ${s.message}`);
    await this.swapTo(ref);
    return ref;
  }

  /** Polls the registry's current pointer and swaps when another process moved it. */
  watch(intervalMs = 2000): void {
    let last: string | undefined;
    const tick = async () => {
      const pointer = await this.opts.registry.readPointer(this.opts.modelName);
      if (pointer && pointer.version !== last && pointer.version !== this.serving?.version) {
        last = pointer.version;
        await this.loadServable();
      }
    };
    this.watchTimer = setInterval(() => void tick().catch((err: Error) => log.error({ err }, 'registry watch failed')), intervalMs);
    this.watchTimer.unref();
  }

  /** Stops taking requests, waits (bounded) for those in flight, stops the workers. */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    const deadline = Date.now() + graceMs;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const id of [...this.pending.keys()]) this.settle(id, new Error('the bot is shutting down'));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private spawn(): WorkerHandle {
    const worker = startWorker(WORKER_MODULE, { env: process.env });
    const handle: WorkerHandle = { worker, inFlight: 0, waiters: new Map(), ready: Promise.resolve() };
    handle.ready = new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          this.backend = m.backend;
          worker.off('error', reject);
          resolve();
        }
        this.onMessage(handle, m);
      });
    });
    worker.on('exit', (code) => this.onExit(handle, code));
    return handle;
  }

  private onExit(handle: WorkerHandle, code: number): void {
    for (const [id, p] of this.pending) if (p.worker === handle) this.settle(id, new Error(`generation worker exited (${code})`));
    for (const w of handle.waiters.values()) w.reject(new Error(`generation worker exited (${code})`));
    if (this.closing) return;
    // Replace a crashed worker and give it the serving model again.
    log.error({ code }, 'generation worker exited; restarting it');
    const i = this.workers.indexOf(handle);
    const fresh = this.spawn();
    this.workers[i] = fresh;
    const serving = this.serving;
    if (serving) {
      void fresh.ready
        .then(() => this.loadIn(fresh, { name: serving.name, version: serving.version, dir: serving.dir, metadata: serving.metadata }))
        .catch((err: Error) => log.error({ err }, 'restarted worker could not load the model'));
    }
  }

  private loadIn(w: WorkerHandle, ref: VersionRef): Promise<void> {
    return new Promise((resolve, reject) => {
      w.waiters.set(ref.version, { resolve, reject });
      this.post(w, { type: 'load', model: { name: ref.name, version: ref.version, dir: ref.dir } });
    });
  }

  private onMessage(w: WorkerHandle, m: FromWorker): void {
    switch (m.type) {
      case 'loaded':
        this.emit('loaded', { version: m.version, tensors: m.tensors });
        w.waiters.get(m.version)?.resolve();
        w.waiters.delete(m.version);
        break;
      case 'load-failed':
        w.waiters.get(m.version)?.reject(new Error(`could not load ${m.version}: ${m.message}`));
        w.waiters.delete(m.version);
        break;
      case 'unloaded':
        this.emit('unloaded', { version: m.version, tensors: m.tensors });
        break;
      case 'done':
        this.settle(m.id, undefined, m.text, m.version);
        break;
      case 'failed':
        this.settle(m.id, m.input ? new GenerationInputError(m.message) : new Error(m.message));
        break;
      case 'ready':
        break;
    }
  }

  private settle(id: number, err?: Error, text?: string, version?: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.worker.inFlight--;
    if (err) return p.reject(err);
    const totalMs = performance.now() - p.submitted;
    // Rough throughput estimate for "try again in N s".
    this.charsPerSec = 0.9 * this.charsPerSec + 0.1 * Math.max(100, (p.chars * Math.max(1, this.pending.size + 1)) / (totalMs / 1000));
    p.resolve({ text: text!, version: version!, model: this.serving?.name ?? '', totalMs });
  }

  private post(w: WorkerHandle, m: ToWorker): void {
    w.worker.postMessage(m);
  }
}
