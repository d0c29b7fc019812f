// Trains and publishes a real but tiny char-LSTM (seconds on a CPU) so tests
// run the real generation service, through the pipeline `npm run train` uses.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/ml/backend.js';
import { readCorpus, sha256 } from '../../src/ml/corpus.js';
import { ModelRegistry, type VersionRef } from '../../src/registry/registry.js';
import { trainAndPublish } from '../../src/training/pipeline.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/training/settings.js';

const CORPUS_DIR = fileURLToPath(new URL('../../data/shakespeare/', import.meta.url));

export interface TinyModelOptions {
  /** Model name in the registry (default shakespeare). */
  name?: string;
  epochs?: number;
  /** Training seed (another seed gives other weights). */
  seed?: number;
  /** Corpus characters used (default 20,000). */
  chars?: number;
  /** Characters added to the vocabulary (e.g. markdown or mention syntax). */
  extraChars?: string;
}

/** Trains a tiny model (2 epochs by default) and publishes it as the next, current version in the registry at `root`. */
export async function publishTinyModel(root: string, opts: TinyModelOptions = {}): Promise<VersionRef> {
  const base = (await readCorpus(CORPUS_DIR)).text.slice(0, opts.chars ?? 20_000);
  // Extra characters go into the training split so the vocabulary has them.
  const text = opts.extraChars ? base.slice(0, 1000) + `\n${opts.extraChars}\n`.repeat(3) + base.slice(1000) : base;
  const config: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    layers: 1,
    units: 16,
    seqLen: 16,
    batchSize: 8,
    epochs: opts.epochs ?? 2,
    seed: opts.seed ?? DEFAULT_TRAIN_CONFIG.seed,
    warmupSteps: 5,
    evalStreams: 8,
  };
  const backend = await initBackend('train');
  const outDir = await mkdtemp(path.join(tmpdir(), 'tiny-model-'));
  try {
    const run = await trainAndPublish({
      registry: new ModelRegistry(root),
      name: opts.name ?? 'shakespeare',
      corpus: { text, sha256: sha256(text), files: ['tinyshakespeare.txt'] },
      config,
      outDir,
      provenance: { backend: backend.name, command: 'test/helpers/tiny-model.ts' },
    });
    if (!run.version) throw new Error(`the tiny model was not published: ${run.reason}`);
    return run.version;
  } finally {
    // The registry keeps its own copy.
    await rm(outDir, { recursive: true, force: true });
  }
}
