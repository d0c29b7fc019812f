// What command handlers may use: small facades, not the parts behind them.
// Handlers never see the registry, the worker pool or the config.
import type { GenerationRequest } from '../ml/generate.js';
import type { AttachmentLimits } from './command.js';
import type { ModelMetadata } from '../registry/registry.js';
import type { GenerateResult, ServingModel } from '../serving/types.js';
import type { Retrainer } from '../training/controller.js';

/** How a caller follows a generation as it goes. */
export interface GenerationProgress {
  /** The text so far (seed included), at most every ~500 ms; for streaming replies. */
  onText?: (textSoFar: string) => void;
}

/** Writing text (the serving manager). */
export interface Generation {
  /** Throws the reason a request would be refused (no model, bad input), before anything is acknowledged. */
  validate(params: GenerationRequest): void;
  generate(params: GenerationRequest, progress?: GenerationProgress): Promise<GenerateResult>;
  /** The version new requests go to; undefined until one is loaded. */
  serving(): ServingModel | undefined;
  /** The tfjs backend the workers run on. */
  readonly backend: string;
}

export type VersionRow = { version: string; metadata: ModelMetadata } | { version: string; problem: string };

export interface ModelInfo {
  model: ServingModel;
  backend: string;
  /** PNG chart of the served version's loss per epoch; undefined when it has no per-epoch metrics. */
  chart?: Buffer;
}

/** The model versions (/model). */
export interface Models {
  readonly name: string;
  /** The served version; undefined when none is. */
  info(): Promise<ModelInfo | undefined>;
  /** Every version, oldest first, with what is wrong with the damaged ones. */
  versions(): Promise<{ rows: VersionRow[]; current?: string; serving?: string }>;
  /** Serves `version` now; throws a UserError (nothing changed) when it cannot. */
  rollback(version: string, by: string): Promise<{ from?: string; to: string }>;
}

/** Speaker headings of the corpus ("ROMEO:"), for seed autocomplete. */
export interface Speakers {
  /** Headings that match what was typed, most frequent first. */
  suggest(typed: string): Promise<string[]>;
}

/** A file of the training corpus (DATA_DIR/<model>/). */
export interface CorpusFile {
  name: string;
  bytes: number;
  /** Unicode characters (what the vocabulary counts). */
  chars: number;
  /** Not among the files the serving version was trained on. */
  new: boolean;
  /** Why a retrain would refuse the file (it is not UTF-8). */
  problem?: string;
}

export interface CorpusListing {
  files: CorpusFile[];
  chars: number;
  /** The serving version: whether the corpus is exactly what it was trained on (same sha256), and its files gone since. */
  serving?: { version: string; unchanged: boolean; removed: string[] };
}

export interface AddedFile {
  name: string;
  chars: number;
  /** The serving version, and the file's characters its vocabulary lacks. */
  serving?: { version: string; newChars: string[] };
}

export interface RemovedFile {
  name: string;
  /** Files left. */
  files: number;
  /** The serving version, and characters of its vocabulary that no file has any more. */
  serving?: { version: string; goneChars: string[] };
}

/** The training corpus's files (/corpus); refusals are CorpusRefusal errors. */
export interface CorpusStore {
  /** The cap and deadline for reading an upload. */
  readonly limits: AttachmentLimits;
  list(): Promise<CorpusListing>;
  /** Stores `bytes` as a new file `name` (a plain name ending in .txt), once they pass training's checks. */
  add(name: string, bytes: Buffer): Promise<AddedFile>;
  /** Removes file `name`; never the last one. */
  remove(name: string): Promise<RemovedFile>;
}

export interface Services {
  generator: Generation;
  models: Models;
  speakers: Speakers;
  /** The training corpus's files (/corpus). */
  corpus: CorpusStore;
  /** Starts, follows and cancels retraining (/retrain). */
  retrain: Retrainer;
}
