// A trained model as the registry wants it: saved files (model, weights,
// per-epoch metrics) and the metadata that describes them. Shared by
// `npm run train` and the retrainer so every version records the same facts.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Corpus } from '../ml/corpus.js';
import { splitCorpus } from '../ml/corpus.js';
import { saveModel } from '../ml/io.js';
import { METRICS_FILE, type PublishMetadata } from '../registry/registry.js';
import type { TrainConfig, TrainResult } from './train.js';

/** Writes model.json, weights.bin and metrics.jsonl into `dir`. */
export async function saveTrained(result: TrainResult, dir: string): Promise<void> {
  await saveModel(result.model, dir);
  await writeFile(path.join(dir, METRICS_FILE), result.metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
}

export interface TrainedRun {
  result: TrainResult;
  config: TrainConfig;
  corpus: Corpus;
  backend: string;
  /** How the run was started (a command line, or "retrain (schedule)"). */
  command: string;
  /** The version whose weights training started from, for a warm start. */
  warmStartFrom?: string;
}

/** Registry metadata for a trained model; the validation loss is its best epoch's. */
export function publishMetadata({ result, config, corpus, backend, command, warmStartFrom }: TrainedRun): PublishMetadata {
  const best = result.metrics.find((m) => m.epoch === result.bestEpoch);
  if (!best) throw new Error('cannot describe a model that finished no epoch');
  const split = splitCorpus(corpus.text, config.valFraction);
  return {
    vocab: [...result.vocab.chars],
    architecture: { vocabSize: result.vocab.size, layers: config.layers, units: config.units, dropout: config.dropout },
    corpus: {
      sha256: corpus.sha256,
      chars: corpus.text.length,
      files: corpus.files.map((f) => path.basename(f)),
      valFraction: split.valFraction,
      boundary: split.boundary,
    },
    valLoss: { nats: best.valLoss, bitsPerChar: best.valBitsPerChar, chars: corpus.text.length - split.boundary - 1 },
    training: {
      seconds: result.seconds,
      epochs: result.metrics.length,
      bestEpoch: result.bestEpoch,
      stopReason: result.stopReason,
      backend,
      command,
      config: { ...config },
      ...(warmStartFrom ? { warmStartFrom } : {}),
    },
  };
}
