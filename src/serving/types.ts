// What the serving layer offers the rest of the bot: plain data in and out,
// no tensors.
import type { ModelMetadata } from '../registry/registry.js';

export interface GenerateParams {
  /** Text the reply starts with (may be empty). */
  seed: string;
  /** Characters to generate after the seed. */
  length: number;
  temperature: number;
  topK?: number;
  topP?: number;
  /** Makes the output reproducible. */
  rngSeed?: number;
}

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

/** The generation service as seen by commands (the Discord layer). */
export interface Generator {
  generate(params: GenerateParams): Promise<GenerateResult>;
  /** The version new requests go to; undefined until one is loaded. */
  current(): ServingModel | undefined;
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
