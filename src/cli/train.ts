// npm run train -- [--layers 1 --units 256 --epochs 10 --minutes 60 ...]
// Trains a char-LSTM on the corpus and publishes it to the model registry.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { initBackend } from '../ml/backend.js';
import { readCorpus } from '../ml/corpus.js';
import { ModelRegistry, METRICS_FILE } from '../registry/registry.js';
import { publishMetadata, saveTrained } from '../training/publish.js';
import { DEFAULT_TRAIN_CONFIG, train, type TrainConfig } from '../training/train.js';
import { log } from '../log.js';

const d = DEFAULT_TRAIN_CONFIG;
const { values: a } = parseArgs({
  options: {
    corpus: { type: 'string' },
    name: { type: 'string', default: 'shakespeare' },
    models: { type: 'string', default: 'models' },
    runs: { type: 'string', default: 'runs' },
    layers: { type: 'string', default: String(d.layers) },
    units: { type: 'string', default: String(d.units) },
    dropout: { type: 'string', default: String(d.dropout) },
    epochs: { type: 'string', default: String(d.epochs) },
    minutes: { type: 'string' },
    batch: { type: 'string', default: String(d.batchSize) },
    seq: { type: 'string', default: String(d.seqLen) },
    lr: { type: 'string', default: String(d.learningRate) },
    'min-lr': { type: 'string', default: String(d.minLearningRate) },
    patience: { type: 'string', default: String(d.patience) },
    seed: { type: 'string', default: String(d.seed) },
    resume: { type: 'boolean', default: false },
    'no-publish': { type: 'boolean', default: false },
  },
  strict: true,
});

function num(name: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${value}`);
  return n;
}

const config: TrainConfig = {
  ...d,
  layers: num('layers', a.layers),
  units: num('units', a.units),
  dropout: num('dropout', a.dropout),
  epochs: num('epochs', a.epochs),
  maxMinutes: a.minutes === undefined ? undefined : num('minutes', a.minutes),
  batchSize: num('batch', a.batch),
  seqLen: num('seq', a.seq),
  learningRate: num('lr', a.lr),
  minLearningRate: num('min-lr', a['min-lr']),
  patience: num('patience', a.patience),
  seed: num('seed', a.seed),
};

const backend = await initBackend('train');
const corpus = await readCorpus(a.corpus ?? path.join('data', a.name!));
const runDir = path.join(a.runs!, a.name!);
await mkdir(runDir, { recursive: true });
log.info({ chars: corpus.text.length, sha256: corpus.sha256, config }, 'training');

const bar = new cliProgress.SingleBar(
  { format: 'epoch {epoch}/{epochs} |{bar}| {percentage}% | loss {loss} | {cps} chars/s | ETA {eta_formatted}', etaBuffer: 50 },
  cliProgress.Presets.shades_classic,
);
let barEpoch = 0;
const metricsLines: string[] = [];
const result = await train({
  text: corpus.text,
  config,
  checkpointDir: path.join(runDir, 'checkpoint'),
  resume: a.resume,
  onStep: (p) => {
    const payload = { epoch: p.epoch, epochs: p.epochs, loss: p.loss.toFixed(3), cps: Math.round(p.charsPerSec) };
    if (p.epoch !== barEpoch) {
      if (barEpoch) bar.stop();
      bar.start(p.stepsPerEpoch, 0, payload);
      barEpoch = p.epoch;
    }
    bar.update(p.step, payload);
  },
  onEpoch: (m) => {
    bar.stop();
    barEpoch = 0;
    metricsLines.push(JSON.stringify(m));
    log.info(m, `epoch ${m.epoch}: train ${m.trainLoss.toFixed(3)}, val ${m.valLoss.toFixed(4)} nats (${m.valBitsPerChar.toFixed(3)} bits/char)`);
    void writeFile(path.join(runDir, METRICS_FILE), metricsLines.join('\n') + '\n');
  },
});
bar.stop();

const finalDir = path.join(runDir, 'final');
await saveTrained(result, finalDir);
log.info({ valLoss: result.valLoss, bestEpoch: result.bestEpoch, stopReason: result.stopReason, seconds: Math.round(result.seconds) }, 'training finished');
if (!a['no-publish']) {
  const meta = publishMetadata({ result, config, corpus, backend: backend.name, command: ['npm run train --', ...process.argv.slice(2)].join(' ') });
  const ref = await new ModelRegistry(a.models!).publish(a.name!, finalDir, meta);
  log.info({ version: ref.version, dir: ref.dir }, `published ${a.name} ${ref.version}`);
}
