// Messages between the worker pool (main thread) and its workers.
import type { GenerationRequest } from '../ml/generate.js';

export interface VersionToLoad {
  name: string;
  version: string;
  dir: string;
}

export type ToWorker =
  | { type: 'load'; model: VersionToLoad }
  | { type: 'unload'; version: string }
  | { type: 'generate'; id: number; version: string; params: GenerationRequest };

export type FromWorker =
  | { type: 'ready'; backend: string; reason: string }
  | { type: 'loaded'; version: string; ms: number; tensors: number }
  | { type: 'load-failed'; version: string; message: string }
  | { type: 'unloaded'; version: string; tensors: number }
  | { type: 'done'; id: number; text: string; version: string }
  | { type: 'failed'; id: number; message: string; input: boolean };
