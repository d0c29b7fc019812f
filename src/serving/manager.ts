// The serving manager: which version new requests go to, and how it changes.
// Its policy is TF Serving's AvailabilityPreservingPolicy: a new version is
// loaded (and warmed) in every worker before new requests go to it; requests
// already running finish on the version they started with, and that version
// is freed after its last request. A failed load leaves the served version as
// it was (the pool frees what the failed load left behind). Which version to serve is a source's call
// (source.ts); the threads are the pool's (pool.ts).
import { EventEmitter } from 'node:events';
import { log } from '../log.js';
import { validateRequest, type GenerationRequest } from '../ml/generate.js';
import { Vocabulary } from '../ml/vocab.js';
import type { VersionRef } from '../registry/registry.js';
import type { VersionTensors, WorkerPool, WorkerStats } from './pool.js';
import { ModelNotLoadedError, type GenerateResult, type ServingModel } from './types.js';

export interface ServingEvents {
  swapped: [{ from?: string; to: string }];
  /** A worker loaded a version. */
  loaded: [VersionTensors];
  /** A worker freed a version after its last request. */
  unloaded: [VersionTensors];
}

/**
 * A served version as a request holds it (TF Serving's ServableHandle): the
 * request runs on it to the end, and holding it delays that version's unload
 * (a worker frees a version only once its batch on it is empty).
 */
type ServableHandle = ServingModel & { dir: string; vocab: Vocabulary };

export class ServingManager extends EventEmitter<ServingEvents> {
  /** The handle new requests take. */
  private live: ServableHandle | undefined;
  private swaps: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private readonly pool: WorkerPool) {
    super();
    pool.on('loaded', (e) => this.emit('loaded', e));
    pool.on('unloaded', (e) => this.emit('unloaded', e));
  }

  /** The tfjs backend the workers run on. */
  get backend(): string {
    return this.pool.backend;
  }

  /** The version new requests go to; undefined until one is loaded. */
  serving(): ServingModel | undefined {
    if (!this.live) return undefined;
    const { name, version, metadata } = this.live;
    return { name, version, metadata };
  }

  /** Throws what generate() would refuse the request with: ModelNotLoadedError, GenerationInputError. */
  validate(params: GenerationRequest): void {
    if (!this.live) throw new ModelNotLoadedError();
    validateRequest(params, this.live.vocab);
  }

  /**
   * Writes the text on the version served now, to the end. `onText` gets the
   * text so far (seed included) at most every ~500 ms while it is written.
   */
  generate(params: GenerationRequest, opts: { onText?: (textSoFar: string) => void } = {}): Promise<GenerateResult> {
    const handle = this.live;
    if (!handle || this.closing) return Promise.reject(new ModelNotLoadedError());
    try {
      // Checked here too so bad input is answered without a round trip.
      validateRequest(params, handle.vocab);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.pool.generate(handle.version, params, opts.onText).then((r) => ({ ...r, model: handle.name }));
  }

  /**
   * Serves `ref`: loads it in every worker, then sends new requests to it and
   * retires the old version. Rejects with LoadFailedError (the old version
   * stays) when a worker cannot load it or the pool's load deadline passes.
   */
  load(ref: VersionRef): Promise<void> {
    // Swaps run one at a time, in order; a failed one does not stop the next.
    const next = this.swaps.catch(() => undefined).then(() => this.swap(ref));
    this.swaps = next;
    return next;
  }

  /** Each running worker's tensor count and the versions it holds (see WorkerPool.stats). */
  stats(): Promise<WorkerStats[]> {
    return this.pool.stats();
  }

  /** Stops taking requests, waits (bounded) for those in flight, stops the workers. */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    await this.pool.close(graceMs);
  }

  private async swap(ref: VersionRef): Promise<void> {
    if (this.live?.version === ref.version && this.live.dir === ref.dir) return;
    const t0 = performance.now();
    await this.pool.load(ref);
    const old = this.live;
    this.live = { name: ref.name, version: ref.version, metadata: ref.metadata, dir: ref.dir, vocab: new Vocabulary(ref.metadata.vocab) };
    // Workers get this after every request already sent on the old version, so none is cut short.
    if (old && old.version !== ref.version) this.pool.retire(old.version);
    log.info({ model: ref.name, version: ref.version, from: old?.version, ms: Math.round(performance.now() - t0) }, `serving ${ref.name} ${ref.version}`);
    this.emit('swapped', { from: old?.version, to: ref.version });
  }
}
