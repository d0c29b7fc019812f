// The worker threads that decode requests, off the bot's event loop: spawns
// them, restarts one that crashed, routes each request to the least busy one,
// and refuses requests beyond the queue bound. Which version to load, and
// when, is the manager's decision (manager.ts).
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { log } from '../log.js';
import { GenerationInputError, type GenerationRequest } from '../ml/generate.js';
import { moduleUrl, startWorker } from '../runtime/entry.js';
import type { FromWorker, ToWorker, VersionToLoad } from './protocol.js';
import { QueueFullError, type GenerateResult } from './types.js';

export interface PoolOptions {
  /** Worker threads decoding in parallel (each single-threaded). */
  workers: number;
  /** Requests in flight before new ones are refused with QueueFullError. */
  maxQueue: number;
  requestTimeoutMs?: number;
}

export interface VersionTensors {
  version: string;
  /** The worker's tensor count after the load or unload. */
  tensors: number;
}

export interface PoolEvents {
  loaded: [VersionTensors];
  unloaded: [VersionTensors];
}

interface WorkerHandle {
  worker: Worker;
  ready: Promise<void>;
  inFlight: number;
  waiters: Map<string, { resolve: () => void; reject: (e: Error) => void }>;
}

interface Pending {
  resolve: (r: Omit<GenerateResult, 'model'>) => void;
  reject: (e: Error) => void;
  chars: number;
  submitted: number;
  worker: WorkerHandle;
  timer: NodeJS.Timeout;
}

const WORKER_MODULE = moduleUrl('./worker.js', import.meta.url);

export class WorkerPool extends EventEmitter<PoolEvents> {
  private readonly workers: WorkerHandle[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Loaded in every worker: what a restarted worker loads. */
  private resident: VersionToLoad | undefined;
  private nextId = 1;
  private closing = false;
  private charsPerSec = 2000;
  private reportedBackend = 'unknown';

  private constructor(private readonly opts: Required<PoolOptions>) {
    super();
  }

  static async start(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool({ requestTimeoutMs: 120_000, ...options });
    for (let i = 0; i < options.workers; i++) pool.workers.push(pool.spawn());
    await Promise.all(pool.workers.map((w) => w.ready));
    return pool;
  }

  /** The tfjs backend the workers run on. */
  get backend(): string {
    return this.reportedBackend;
  }

  /** Loads `ref` in every worker; resolves once all of them can serve it. */
  async load(ref: VersionToLoad): Promise<void> {
    await Promise.all(this.workers.map((w) => this.loadIn(w, ref)));
    this.resident = ref;
  }

  /** Each worker frees `version` after its last request on it. */
  unload(version: string): void {
    for (const w of this.workers) this.post(w, { type: 'unload', version });
  }

  /** Runs a request on `version`, which must be loaded; refuses it with QueueFullError when the queue is full. */
  generate(version: string, params: GenerationRequest): Promise<Omit<GenerateResult, 'model'>> {
    if (this.pending.size >= this.opts.maxQueue) {
      let outstanding = 0;
      for (const p of this.pending.values()) outstanding += p.chars;
      return Promise.reject(new QueueFullError(Math.max(1, Math.ceil(outstanding / this.charsPerSec))));
    }
    const worker = this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error('generation timed out')), this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, chars: params.length, submitted: performance.now(), worker, timer });
      worker.inFlight++;
      this.post(worker, { type: 'generate', id, version, params });
    });
  }

  /** Stops restarting workers, waits (bounded) for the requests in flight, stops the workers. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
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
          this.reportedBackend = m.backend;
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
    // Replace a crashed worker and give it the version every worker holds.
    log.error({ code }, 'generation worker exited; restarting it');
    const fresh = this.spawn();
    this.workers[this.workers.indexOf(handle)] = fresh;
    const resident = this.resident;
    if (resident) {
      void fresh.ready
        .then(() => this.loadIn(fresh, resident))
        .catch((err: Error) => log.error({ err }, 'restarted worker could not load the model'));
    }
  }

  private loadIn(w: WorkerHandle, ref: VersionToLoad): Promise<void> {
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
    p.resolve({ text: text!, version: version!, totalMs });
  }

  private post(w: WorkerHandle, m: ToWorker): void {
    w.worker.postMessage(m);
  }
}
