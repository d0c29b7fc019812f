// The one way a trained model becomes a registry version, for `npm run train`,
// the retrainer and the tests' tiny models alike: train, save the files,
// decide (the retrain gate; `npm run train` has none), describe the version
// in its metadata, publish. The files stay in `outDir` whatever the decision,
// so a rejected candidate can be inspected. A warm start (loop.initModel)
// trains on the warm-start learning-rate schedule (settings.ts).
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { splitCorpus, type Corpus } from '../ml/corpus.js';
import { saveModel } from '../ml/io.js';
import { METRICS_FILE, type ModelRegistry, type PublishMetadata, type VersionRef } from '../registry/registry.js';
import { NO_CANDIDATE, type Decision } from './gate.js';
import { train, type TrainInput, type TrainResult } from './loop.js';
import { warmStartSchedule, type TrainConfig } from './settings.js';

/** What the new version's metadata records about how it came to be. */
interface Provenance {
  backend: string;
  /** How the run was started: a command line, or "retrain a1b2c3 (schedule)". */
  command: string;
  /** The configs/*.json preset the settings started from. */
  preset?: string;
  /** The version whose weights training started from. */
  warmStartFrom?: string;
}

export interface PipelineJob {
  registry: ModelRegistry;
  name: string;
  corpus: Corpus;
  config: TrainConfig;
  /** The trained files are written here, replacing what was there; the registry publishes a copy. */
  outDir: string;
  provenance: Provenance;
  /** The loop's own options: vocabulary, warm start, checkpoints, cancel, progress. The pipeline disposes `initModel`. */
  loop?: Omit<TrainInput, 'text' | 'config'>;
  /** Whether the trained model is published (the retrain gate); without it, it is. */
  decide?: (result: TrainResult) => Decision;
  /** Compare-and-swap: make the version current only if the pointer still names this one (null: none); otherwise it is stored only. */
  expectCurrent?: string | null;
  /** Called once the decision is to publish, before the registry is touched. */
  onPublishing?: () => void;
}

interface PipelineResult {
  /** stored: published as a version, but not made current (the pointer moved; see expectCurrent). */
  outcome: 'published' | 'stored' | 'rejected' | 'cancelled';
  reason: string;
  /** What training did (its model is disposed by then). */
  trained: Omit<TrainResult, 'model'>;
  version?: VersionRef;
}

export async function trainAndPublish(job: PipelineJob): Promise<PipelineResult> {
  let result: TrainResult | undefined;
  try {
    result = await train({ ...job.loop, text: job.corpus.text, config: schedule(job) });
    const { model: _model, ...trained } = result;
    if (result.stopReason === 'cancelled') return { outcome: 'cancelled', reason: 'cancelled during training', trained };
    if (!Number.isFinite(result.valLoss)) return { outcome: 'rejected', reason: NO_CANDIDATE, trained };

    await rm(job.outDir, { recursive: true, force: true });
    await saveTrained(result, job.outDir);
    const decision = job.decide?.(result) ?? { publish: true, reason: 'published without a gate' };
    if (!decision.publish) return { outcome: 'rejected', reason: decision.reason, trained };

    job.onPublishing?.();
    const version = await job.registry.publish(job.name, job.outDir, describe(result, job), { expectCurrent: job.expectCurrent });
    if (version.current.switched) return { outcome: 'published', reason: decision.reason, trained, version };
    const moved = `the current version moved from ${job.expectCurrent ?? 'none'} to ${version.current.found ?? 'none'} during the run`;
    return { outcome: 'stored', reason: `${decision.reason}; but ${moved}, so ${version.version} is stored and not made current`, trained, version };
  } finally {
    // A warm start trains initModel in place, so it is usually result.model too.
    for (const model of new Set([job.loop?.initModel, result?.model])) model?.dispose();
  }
}

/** The settings the loop trains with: a warm start's learning-rate schedule is its own. */
const schedule = (job: PipelineJob): TrainConfig => (job.loop?.initModel ? warmStartSchedule(job.config) : job.config);

/** Writes model.json, weights.bin and metrics.jsonl into `dir`. */
async function saveTrained(result: TrainResult, dir: string): Promise<void> {
  await saveModel(result.model, dir);
  await writeFile(path.join(dir, METRICS_FILE), result.metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
}

/** Registry metadata for a trained model; the validation loss is its best epoch's. */
function describe(result: TrainResult, job: PipelineJob): PublishMetadata {
  const { config, corpus, provenance } = job;
  const { learningRate, minLearningRate, warmupSteps } = schedule(job);
  const best = result.metrics.find((m) => m.epoch === result.bestEpoch);
  if (!best) throw new Error('cannot describe a model that finished no epoch');
  const split = splitCorpus(corpus.text, config.valFraction);
  const { backend, command, preset, warmStartFrom } = provenance;
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
      ...(preset ? { preset } : {}),
      config: { ...config },
      ...(warmStartFrom ? { warmStartFrom } : {}),
      schedule: { start: job.loop?.initModel ? 'warm' : 'scratch', learningRate, minLearningRate, warmupSteps },
    },
  };
}
