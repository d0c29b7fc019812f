// Messages between RetrainController (the bot) and its trainer process.
import type { RetrainJob, RetrainResult, RunProgress } from './retrain.js';

export type ToTrainer =
  | { type: 'start'; job: RetrainJob; lockFile: string; runId: string }
  /** Stop after the current training step; nothing is published. */
  | { type: 'cancel' };

export type FromTrainer =
  | { type: 'progress'; progress: RunProgress }
  | { type: 'result'; result: RetrainResult }
  | { type: 'error'; message: string };
