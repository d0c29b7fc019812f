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
