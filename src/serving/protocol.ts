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
  /** `progressMs`: send the text so far at most this often while it is written. */
  | { type: 'generate'; id: number; version: string; params: GenerationRequest; progressMs?: number }
  /** What the worker holds now (a soak benchmark watches these for leaks). */
  | { type: 'stats'; id: number };

export type FromWorker =
  | { type: 'ready'; backend: string; reason: string }
  | { type: 'loaded'; version: string; ms: number; tensors: number }
  | { type: 'load-failed'; version: string; message: string }
  | { type: 'unloaded'; version: string; tensors: number }
  | { type: 'progress'; id: number; text: string }
  | { type: 'done'; id: number; text: string; version: string }
  | { type: 'failed'; id: number; message: string; input: boolean }
  | { type: 'stats'; id: number; tensors: number; bytes: number; versions: string[] };
