// One retrain, start to finish (run inside the trainer process): read the
// corpus folder, measure the serving model on the held-out split of that
// corpus, train (warm from the serving weights when the vocabulary is
// unchanged, from scratch when it changed), and publish the candidate only if
// the gate (gate.ts) passes: its loss on the same text is not worse than the
// serving model's plus a tolerance. Publishing is a compare-and-swap on the
// pointer read at the start: if it moved during the run (a rollback, another
// publish), the candidate is stored but not made current. Training to
// publishing is pipeline.ts, as for `npm run train`.
import { initBackend } from '../ml/backend.js';
import { readCorpus, splitCorpus } from '../ml/corpus.js';
import { Vocabulary } from '../ml/vocab.js';
import { log } from '../log.js';
import { loadFromRegistry, type LoadedModel } from '../registry/loader.js';
import { ModelRegistry, type ModelMetadata } from '../registry/registry.js';
import { gate, lossOn, scoreIncumbent, type Incumbent } from './gate.js';
import { tensorflowThreadsFor, type StepProgress, type StopReason } from './loop.js';
import { trainAndPublish } from './pipeline.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './settings.js';

export interface RetrainJob {
  modelName: string;
  modelsDir: string;
  /** Every .txt file in it is training text. */
  corpusDir: string;
  /** The candidate is written here (replaced each run) before it is published; a rejected one stays for inspection. */
  candidateDir: string;
  maxMinutes: number;
  /** Epochs to train; default: what the serving version was trained with. */
  epochs?: number;
  /** Nats by which the candidate's validation loss may exceed the serving model's and still be published. */
  tolerance: number;
  /** Versions kept in the registry after publishing. */
  keepVersions: number;
  /** Training settings applied over those the serving version was trained with. */
  train?: Partial<TrainConfig>;
  /** Recorded in the new version's metadata, e.g. "retrain a1b2c3 (schedule)". */
  command: string;
}

export type Phase = 'starting' | 'evaluating' | 'training' | 'publishing';

export type RunProgress = { phase: Phase } & Partial<Omit<StepProgress, 'learningRate'>> & {
  /** Validation loss of the last finished epoch. */
  valLoss?: number;
};

export interface RetrainResult {
  /** stored: it passed the gate but the current version moved during the run, so it was not made current. */
  outcome: 'published' | 'stored' | 'rejected' | 'cancelled';
  reason: string;
  start: 'warm' | 'scratch';
  /** Why training started warm or from scratch. */
  startReason: string;
  /** The version the candidate was compared with (and warm-started from). */
  servingVersion?: string;
  /** The serving model's and the candidate's loss on the text the gate compared them on. */
  oldValLoss?: number;
  newValLoss?: number;
  /** The version published (or stored). */
  version?: string;
  pruned?: string[];
  corpus: { sha256: string; chars: number; files: number };
  epochs: number;
  stopReason: StopReason;
}

export interface RetrainHooks {
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
}

type Serving = LoadedModel & { version: string };

/** The newest servable version, loaded; without one, what the gate is to make of that. */
async function loadServing(registry: ModelRegistry, name: string): Promise<{ serving: Serving; incumbent?: undefined } | { serving?: undefined; incumbent: Extract<Incumbent, { why: string }> }> {
  if ((await registry.versions(name)).length === 0) return { incumbent: { kind: 'none', why: `there is no version of ${name} yet` } };
  try {
    const { ref, ...loaded } = await loadFromRegistry(registry, name);
    return { serving: { ...loaded, version: ref.version } };
  } catch (err) {
    log.error({ err }, 'no servable version to start from or compare with');
    return { incumbent: { kind: 'unscored', why: `no version of ${name} could be loaded: ${(err as Error).message}` } };
  }
}

/** Defaults, then how the serving version was trained (its architecture above all), then the job's settings. */
function trainConfig(job: RetrainJob, serving?: ModelMetadata): TrainConfig {
  const recorded = Object.fromEntries(
    Object.entries(serving?.training.config ?? {}).filter(([k, v]) => k in DEFAULT_TRAIN_CONFIG && typeof v === 'number'),
  );
  const arch = serving ? { layers: serving.architecture.layers, units: serving.architecture.units, dropout: serving.architecture.dropout } : {};
  return { ...DEFAULT_TRAIN_CONFIG, ...recorded, ...arch, ...job.train, ...(job.epochs ? { epochs: job.epochs } : {}), maxMinutes: job.maxMinutes };
}

/** Warm start needs the serving model's exact vocabulary (the ids) and architecture (the weights' shapes). */
function warmStartProblem(serving: Serving, vocab: Vocabulary, config: TrainConfig): string | undefined {
  if (!serving.vocab.equals(vocab)) {
    const added = serving.vocab.unknown(vocab.chars.join(''));
    const gone = serving.vocab.chars.filter((c) => !vocab.has(c));
    return `the vocabulary changed since ${serving.version} (${added.length} new, ${gone.length} gone characters)`;
  }
  const a = serving.metadata.architecture;
  if (a.layers !== config.layers || a.units !== config.units || a.dropout !== config.dropout) {
    return `the architecture changed since ${serving.version}`;
  }
  return undefined;
}

export async function retrain(job: RetrainJob, { signal, onProgress }: RetrainHooks = {}): Promise<RetrainResult> {
  tensorflowThreadsFor(job.train?.workers);
  const backend = await initBackend('train');
  const registry = new ModelRegistry(job.modelsDir);
  const corpus = await readCorpus(job.corpusDir);
  // What the publish's compare-and-swap expects to replace; read before anything else.
  const expectCurrent = (await registry.readPointer(job.modelName))?.version ?? null;
  const loaded = await loadServing(registry, job.modelName);
  const serving = loaded.serving;
  const vocab = Vocabulary.fromText(corpus.text);
  const config = trainConfig(job, serving?.metadata);
  const val = splitCorpus(corpus.text, config.valFraction).val;
  // Ours to dispose until the pipeline takes it over.
  let model = serving?.model;
  try {
    // Measured first: a warm start trains the serving model's weights in place.
    onProgress?.({ phase: 'evaluating' });
    const incumbent = loaded.serving ? scoreIncumbent(loaded.serving, loaded.serving.version, val, config.evalStreams) : loaded.incumbent;
    const problem = loaded.serving ? warmStartProblem(loaded.serving, vocab, config) : loaded.incumbent.why;
    const warm = serving !== undefined && problem === undefined;
    const started = {
      start: warm ? ('warm' as const) : ('scratch' as const),
      startReason: warm ? `warm-started from ${serving.version} (same vocabulary and architecture)` : `from scratch: ${problem}`,
      servingVersion: serving?.version,
      oldValLoss: incumbent.kind === 'scored' ? incumbent.loss : undefined,
      corpus: { sha256: corpus.sha256, chars: corpus.text.length, files: corpus.files.length },
    };
    log.info({ ...started, config }, `retraining ${job.modelName}, ${started.startReason}`);
    if (signal?.aborted) return { ...started, outcome: 'cancelled', reason: 'cancelled before training', epochs: 0, stopReason: 'cancelled' };
    if (!warm) serving?.model.dispose();
    model = undefined;

    let valLoss: number | undefined;
    let comparedLoss: number | undefined;
    const budgetSec = job.maxMinutes * 60;
    const run = await trainAndPublish({
      registry,
      name: job.modelName,
      corpus,
      config,
      outDir: job.candidateDir,
      provenance: { backend: backend.name, command: job.command, warmStartFrom: warm ? serving.version : undefined },
      loop: {
        vocab: warm ? serving.vocab : vocab,
        initModel: warm ? serving.model : undefined,
        signal,
        onStep: ({ learningRate: _lr, ...p }) =>
          onProgress?.({ phase: 'training', ...p, etaSec: Math.max(0, Math.min(p.etaSec, budgetSec - p.elapsedSec)), valLoss }),
        onEpoch: (m) => {
          valLoss = m.valLoss;
        },
      },
      decide: (result) => {
        // The candidate on the text the serving model was scored on (its own val loss when that is the whole split).
        if (incumbent.kind === 'scored' && Number.isFinite(result.valLoss)) {
          comparedLoss = incumbent.text === val ? result.valLoss : lossOn(result.model, result.vocab, incumbent.text, config.evalStreams);
        }
        return gate(comparedLoss ?? result.valLoss, incumbent, job.tolerance);
      },
      expectCurrent,
      onPublishing: () => onProgress?.({ phase: 'publishing' }),
    });
    const { trained } = run;
    const result = {
      ...started,
      newValLoss: comparedLoss ?? (Number.isFinite(trained.valLoss) ? trained.valLoss : undefined),
      epochs: trained.metrics.length,
      stopReason: trained.stopReason,
      outcome: run.outcome,
      reason: run.reason,
    };
    if (!run.version) return result;
    const pruned = await registry.prune(job.modelName, job.keepVersions);
    return { ...result, version: run.version.version, pruned };
  } finally {
    model?.dispose();
  }
}
