// Messages between the generation service (main thread) and its workers.
import type { GenerateParams } from './types.js';

export interface VersionToLoad {
  name: string;
  version: string;
  dir: string;
}

export type ToWorker =
  | { type: 'load'; model: VersionToLoad }
  | { type: 'unload'; version: string }
  | { type: 'generate'; id: number; version: string; params: GenerateParams };

export type FromWorker =
  | { type: 'ready'; backend: string; reason: string }
  | { type: 'loaded'; version: string; ms: number; tensors: number }
  | { type: 'load-failed'; version: string; message: string }
  | { type: 'unloaded'; version: string; tensors: number }
  | { type: 'done'; id: number; text: string; version: string }
  | { type: 'failed'; id: number; message: string; input: boolean };
