// What the serving layer offers the rest of the bot: plain data in and out,
// no tensors. A request is ml/'s GenerationRequest, so it is stated once.
import type { ModelMetadata } from '../registry/registry.js';

export type { GenerationRequest } from '../ml/generate.js';

export interface GenerateResult {
  /** Seed followed by the generated characters. */
  text: string;
  /** Model version that wrote all of it. */
  version: string;
  model: string;
  totalMs: number;
}

export interface ServingModel {
  name: string;
  version: string;
  metadata: ModelMetadata;
}

export class QueueFullError extends Error {
  constructor(readonly retryAfterSec: number) {
    super(`the generator is busy; try again in ${retryAfterSec} s`);
    this.name = 'QueueFullError';
  }
}

export class ModelNotLoadedError extends Error {
  constructor() {
    super('no model is loaded yet');
    this.name = 'ModelNotLoadedError';
  }
}

/** No worker can serve the version yet (a load or a worker restart is under way). */
export class ModelLoadingError extends Error {
  constructor() {
    super('the model is loading; try again in a few seconds');
    this.name = 'ModelLoadingError';
  }
}

/** The worker running the request failed (crashed, threw or stopped answering); it is restarted. */
export class WorkerFailedError extends Error {
  constructor(readonly reason: string) {
    super(`the generator failed while writing this (${reason}); try again`);
    this.name = 'WorkerFailedError';
  }
}

/** Loading a version failed or did not finish within the deadline; the version served before stays. */
export class LoadFailedError extends Error {
  constructor(
    readonly version: string,
    reason: string,
  ) {
    super(`could not load ${version}: ${reason}`);
    this.name = 'LoadFailedError';
  }
}
