// The worker threads that decode requests, off the bot's event loop: spawns
// them, keeps each one holding the versions the manager wants (a restarted
// worker loads what is wanted when it is ready, not what was wanted when it
// crashed), routes each request to the least busy worker that holds its
// version, and refuses requests beyond the queue bound. Which version to load,
// and when, is the manager's decision (manager.ts).
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { log } from '../log.js';
import { GenerationInputError, type GenerationRequest } from '../ml/generate.js';
import { moduleUrl, startWorker } from '../runtime/entry.js';
import { oneTensorflowThread } from '../runtime/tensorflow-threads.js';
import type { FromWorker, ToWorker, VersionToLoad } from './protocol.js';
import { LoadFailedError, ModelLoadingError, QueueFullError, WorkerFailedError, type GenerateResult } from './types.js';

export interface PoolOptions {
  /** Worker threads decoding in parallel (each single-threaded, TensorFlow too); default: one per core (os.availableParallelism()). */
  workers?: number;
  /** Requests in flight before new ones are refused with QueueFullError. */
  maxQueue: number;
  requestTimeoutMs?: number;
  /** A load not answered by every worker within this is a failed load (default 60 s). */
  loadTimeoutMs?: number;
  /** onText gets the text so far at most this often (default 500 ms). */
  progressMs?: number;
  /** Delay before restarting a failed worker, doubled per failure in a row up to 30 s (default 250 ms). */
  restartDelayMs?: number;
}

export interface VersionTensors {
  version: string;
  /** The worker's tensor count after the load or unload. */
  tensors: number;
  /** Index of the worker. */
  worker: number;
}

/** A worker's tfjs memory and the versions it holds (retiring ones included). */
export interface WorkerStats {
  worker: number;
  tensors: number;
  bytes: number;
  versions: string[];
}

export interface WorkerFailure {
  worker: number;
  reason: string;
  restartInMs: number;
}

export interface PoolEvents {
  loaded: [VersionTensors];
  unloaded: [VersionTensors];
  /** A worker crashed, threw or stopped answering; it is restarted after `restartInMs`. */
  'worker-failed': [WorkerFailure];
}

interface WorkerHandle {
  index: number;
  worker: Worker;
  /** Resolves on the worker's 'ready', rejects if it fails first. */
  ready: Promise<void>;
  started: boolean;
  alive: boolean;
  inFlight: number;
  /** Versions this worker can serve now. */
  loaded: Set<string>;
  /** Loads sent and not answered yet. */
  loading: Set<string>;
  settleReady: { resolve: () => void; reject: (e: Error) => void };
}

interface Pending {
  resolve: (r: Omit<GenerateResult, 'model'>) => void;
  reject: (e: Error) => void;
  onText?: (textSoFar: string) => void;
  chars: number;
  submitted: number;
  worker: WorkerHandle;
  timer: NodeJS.Timeout;
}

interface LoadWait {
  version: string;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const WORKER_MODULE = moduleUrl('./worker.js', import.meta.url);
const MAX_RESTART_DELAY_MS = 30_000;

export class WorkerPool extends EventEmitter<PoolEvents> {
  /** By index; undefined while a failed worker waits for its restart. */
  private readonly workers: (WorkerHandle | undefined)[] = [];
  /** Failures in a row per worker index, for the restart backoff. */
  private readonly failures: number[] = [];
  private readonly restarts = new Set<NodeJS.Timeout>();
  private readonly pending = new Map<number, Pending>();
  /** What every worker should hold, oldest first: the served version, and the one a swap is loading. */
  private readonly wanted = new Map<string, VersionToLoad>();
  private readonly loadWaits = new Set<LoadWait>();
  /** stats() requests sent and not answered yet, by id. */
  private readonly statsWaits = new Map<number, (s: Omit<WorkerStats, 'worker'>) => void>();
  private nextId = 1;
  private closing = false;
  private charsPerSec = 2000;
  private reportedBackend = 'unknown';

  private constructor(private readonly opts: Required<PoolOptions>) {
    super();
  }

  /** Starts the workers; rejects if one fails before it is ready (a broken install is reported at start). */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const defaults = { requestTimeoutMs: 120_000, loadTimeoutMs: 60_000, progressMs: 500, restartDelayMs: 250 };
    // Each worker is one core's worth of decoding, TensorFlow's ops included.
    oneTensorflowThread();
    // `workers: undefined` (GEN_WORKERS unset) means the default too.
    const pool = new WorkerPool({ ...defaults, ...options, workers: options.workers ?? availableParallelism() });
    for (let i = 0; i < pool.opts.workers; i++) pool.spawn(i);
    try {
      await Promise.all(pool.workers.map((w) => w!.ready));
    } catch (err) {
      await pool.close(0);
      throw err;
    }
    return pool;
  }

  /** The tfjs backend the workers run on. */
  get backend(): string {
    return this.reportedBackend;
  }

  /** The versions each worker can serve now, by worker index ([] while one restarts). */
  versions(): string[][] {
    return this.workers.map((w) => (w?.alive ? [...w.loaded] : []));
  }

  /**
   * Loads `ref` in every worker; resolves once every running worker can serve
   * it. A worker that fails meanwhile is restarted and loads it too. Rejects
   * with LoadFailedError when a worker cannot load it or the deadline passes;
   * the version is then freed wherever it did load.
   */
  load(ref: VersionToLoad): Promise<void> {
    this.wanted.set(ref.version, ref);
    this.reconcileAll();
    return new Promise((resolve, reject) => {
      const wait: LoadWait = {
        version: ref.version,
        resolve,
        reject,
        timer: setTimeout(() => this.loadTimedOut(wait), this.opts.loadTimeoutMs),
      };
      this.loadWaits.add(wait);
      this.checkLoads();
    });
  }

  /** No longer wanted: each worker frees `version` after its last request on it. */
  retire(version: string): void {
    this.wanted.delete(version);
    for (const w of this.workers) {
      if (!w?.loaded.delete(version)) continue;
      this.post(w, { type: 'unload', version });
    }
  }

  /**
   * Runs a request on `version`; refuses it with QueueFullError when the queue
   * is full and ModelLoadingError when no worker holds the version yet.
   */
  generate(version: string, params: GenerationRequest, onText?: (textSoFar: string) => void): Promise<Omit<GenerateResult, 'model'>> {
    if (this.pending.size >= this.opts.maxQueue) {
      let outstanding = 0;
      for (const p of this.pending.values()) outstanding += p.chars;
      return Promise.reject(new QueueFullError(Math.max(1, Math.ceil(outstanding / this.charsPerSec))));
    }
    let worker: WorkerHandle | undefined;
    for (const w of this.workers) if (w?.alive && w.loaded.has(version) && (!worker || w.inFlight < worker.inFlight)) worker = w;
    if (!worker) return Promise.reject(new ModelLoadingError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error('generation timed out')), this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, onText, chars: params.length, submitted: performance.now(), worker, timer });
      worker.inFlight++;
      this.post(worker, { type: 'generate', id, version, params, progressMs: onText ? this.opts.progressMs : undefined });
    });
  }

  /**
   * Each running worker's tensor count and versions, for leak checks. A
   * worker that is restarting, or does not answer within `timeoutMs`, is left out.
   */
  async stats(timeoutMs = 5000): Promise<WorkerStats[]> {
    const asked = this.workers.filter((w): w is WorkerHandle => w !== undefined && w.alive && w.started);
    const answers = await Promise.all(
      asked.map(
        (w) =>
          new Promise<WorkerStats | undefined>((resolve) => {
            const id = this.nextId++;
            const timer = setTimeout(() => {
              this.statsWaits.delete(id);
              resolve(undefined);
            }, timeoutMs);
            this.statsWaits.set(id, (s) => {
              clearTimeout(timer);
              resolve({ worker: w.index, ...s });
            });
            this.post(w, { type: 'stats', id });
          }),
      ),
    );
    return answers.filter((a) => a !== undefined);
  }

  /** Stops worker `index` as if it had crashed (its requests fail) and restarts it; for operators and fault tests. */
  restartWorker(index: number): void {
    const w = this.workers[index];
    if (w) this.fail(w, 'restarted on request');
  }

  /** Stops restarting workers, waits (bounded) for the requests in flight, stops the workers. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    for (const t of this.restarts) clearTimeout(t);
    const deadline = Date.now() + graceMs;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const id of [...this.pending.keys()]) this.settle(id, new Error('the bot is shutting down'));
    for (const wait of this.loadWaits) this.endWait(wait, new LoadFailedError(wait.version, 'the bot is shutting down'));
    await Promise.all(this.workers.map((w) => w?.worker.terminate()));
  }

  private spawn(index: number): void {
    const worker = startWorker(WORKER_MODULE, { env: process.env });
    let settleReady!: WorkerHandle['settleReady'];
    const ready = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
    // Only start() awaits it; a restarted worker's failure is handled by fail().
    ready.catch(() => undefined);
    const handle: WorkerHandle = { index, worker, ready, settleReady, started: false, alive: true, inFlight: 0, loaded: new Set(), loading: new Set() };
    this.workers[index] = handle;
    // For the worker's whole life: an 'error' without a listener would be an uncaught exception in the bot.
    worker.on('error', (err) => this.fail(handle, `threw: ${err.message}`));
    worker.on('exit', (code) => this.fail(handle, `exited with code ${code}`));
    worker.on('message', (m: FromWorker) => this.onMessage(handle, m));
  }

  /** A worker is gone: fail its requests, free its slot, restart it after a backoff. */
  private fail(w: WorkerHandle, reason: string): void {
    if (!w.alive) return;
    w.alive = false;
    void w.worker.terminate();
    w.settleReady.reject(new Error(`generation worker ${w.index} ${reason}`));
    for (const [id, p] of this.pending) if (p.worker === w) this.settle(id, new WorkerFailedError(reason));
    if (this.closing) return;
    this.workers[w.index] = undefined;
    const failures = (this.failures[w.index] ?? 0) + 1;
    this.failures[w.index] = failures;
    const restartInMs = Math.min(MAX_RESTART_DELAY_MS, this.opts.restartDelayMs * 2 ** (failures - 1));
    log.error({ worker: w.index, reason, restartInMs }, `generation worker ${w.index} ${reason}; restarting it`);
    this.emit('worker-failed', { worker: w.index, reason, restartInMs });
    const timer = setTimeout(() => {
      this.restarts.delete(timer);
      this.spawn(w.index);
    }, restartInMs);
    this.restarts.add(timer);
    // A swap no longer waits for this worker, and another may load in its place.
    this.checkLoads();
    this.reconcileAll();
  }

  /** `except`: a worker whose load just failed, not sent it again at once. */
  private reconcileAll(except?: WorkerHandle): void {
    for (const w of this.workers) if (w && w !== except) this.reconcile(w);
  }

  /**
   * Sends the loads a worker lacks, the served version first. One serving
   * worker loads at a time, so the others go on decoding through a swap (a
   * load stalls its worker for a second or more; at 50 requests/s, both
   * stalled at once filled the queue); a worker that holds nothing yet loads at once.
   */
  private reconcile(w: WorkerHandle): void {
    if (!w.alive || !w.started) return;
    const serving = (o: WorkerHandle | undefined) => o?.alive === true && o.loaded.size > 0;
    if (serving(w) && this.workers.some((o) => o !== w && serving(o) && o!.loading.size > 0)) return;
    for (const ref of this.wanted.values()) {
      if (w.loaded.has(ref.version) || w.loading.has(ref.version)) continue;
      w.loading.add(ref.version);
      this.post(w, { type: 'load', model: { name: ref.name, version: ref.version, dir: ref.dir } });
    }
  }

  /** Resolves the loads that every running worker has finished (at least one worker must hold the version). */
  private checkLoads(): void {
    for (const wait of this.loadWaits) {
      const running = this.workers.filter((w) => w?.alive);
      if (running.length > 0 && running.every((w) => w!.loaded.has(wait.version))) this.endWait(wait);
    }
  }

  /** A failed load: the swap fails and the version is freed wherever it did load. */
  private failLoad(version: string, reason: string): void {
    this.retire(version);
    for (const wait of this.loadWaits) if (wait.version === version) this.endWait(wait, new LoadFailedError(version, reason));
  }

  private loadTimedOut(wait: LoadWait): void {
    const reason = `the load did not finish within ${Math.round(this.opts.loadTimeoutMs / 1000)} s`;
    this.failLoad(wait.version, reason);
    // A worker that did not answer may be hung: replace it.
    for (const w of this.workers) if (w?.alive && (!w.started || w.loading.has(wait.version))) this.fail(w, `did not answer a load (${reason})`);
  }

  private endWait(wait: LoadWait, err?: Error): void {
    if (!this.loadWaits.delete(wait)) return;
    clearTimeout(wait.timer);
    if (err) wait.reject(err);
    else wait.resolve();
  }

  private onMessage(w: WorkerHandle, m: FromWorker): void {
    if (!w.alive) return;
    switch (m.type) {
      case 'ready':
        this.reportedBackend = m.backend;
        w.started = true;
        w.settleReady.resolve();
        this.reconcile(w);
        if (this.wanted.size === 0) this.failures[w.index] = 0;
        break;
      case 'loaded':
        w.loading.delete(m.version);
        this.emit('loaded', { version: m.version, tensors: m.tensors, worker: w.index });
        if (!this.wanted.has(m.version)) {
          // Retired while it loaded (a failed or superseded swap): free it at once.
          this.post(w, { type: 'unload', version: m.version });
          this.reconcileAll();
          break;
        }
        w.loaded.add(m.version);
        // The next serving worker may load now.
        this.reconcileAll();
        // Holding everything wanted ends a run of failures.
        if ([...this.wanted.keys()].every((v) => w.loaded.has(v))) this.failures[w.index] = 0;
        this.checkLoads();
        break;
      case 'load-failed': {
        w.loading.delete(m.version);
        this.reconcileAll(w);
        const reason = `worker ${w.index}: ${m.message}`;
        if ([...this.loadWaits].some((wait) => wait.version === m.version)) this.failLoad(m.version, reason);
        else log.error({ worker: w.index, version: m.version }, `generation worker could not load ${m.version}: ${m.message}`);
        break;
      }
      case 'unloaded':
        this.emit('unloaded', { version: m.version, tensors: m.tensors, worker: w.index });
        break;
      case 'progress': {
        const p = this.pending.get(m.id);
        try {
          p?.onText?.(m.text);
        } catch (err) {
          log.warn({ err }, 'a progress listener threw');
        }
        break;
      }
      case 'done':
        this.settle(m.id, undefined, m.text, m.version);
        break;
      case 'failed':
        this.settle(m.id, m.input ? new GenerationInputError(m.message) : new Error(m.message));
        break;
      case 'stats': {
        const answer = this.statsWaits.get(m.id);
        this.statsWaits.delete(m.id);
        answer?.({ tensors: m.tensors, bytes: m.bytes, versions: m.versions });
        break;
      }
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
