// npm run train -- [--preset shakespeare-v2] [--layers 2 --units 256 --epochs 9 --minutes 58 ...]
// Trains a char-LSTM on the corpus and publishes it as the next version in the
// registry. Settings: the defaults, then the preset, then the flags given.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Option } from 'commander';
import { log } from '../log.js';
import { initBackend } from '../ml/backend.js';
import { readCorpus } from '../ml/corpus.js';
import { ModelRegistry, METRICS_FILE } from '../registry/registry.js';
import { tensorflowThreadsFor } from '../training/loop.js';
import { trainAndPublish } from '../training/pipeline.js';
import { DEFAULT_TRAIN_CONFIG, presetNames, readPreset, trainSettings, type TrainConfig, type TrainSetting } from '../training/settings.js';
import { cliProgram, corpusPath, fromConfig, main, numberArg, type ModelFlags } from './program.js';

const { program, config: env } = cliProgram('train', 'Trains a char-LSTM on the corpus and publishes it as the next version in the registry.', { corpus: true });

program
  .addOption(fromConfig('--runs <dir>', 'checkpoints and metrics go to <runs>/<name>/', 'RUNS_DIR', env))
  .optionsGroup('Training settings (the defaults, then the preset, then these flags):')
  .option('--preset <name>', `start from configs/<name>.json (${presetNames().join(', ')}) or from a .json file`);
/** One flag per setting; the help line and the check are the setting's own (training/settings.ts). */
const settingFlags = (
  [
    ['layers', 'layers'],
    ['units', 'units'],
    ['dropout', 'dropout'],
    ['seq', 'seqLen'],
    ['batch', 'batchSize'],
    ['epochs', 'epochs'],
    ['minutes', 'maxMinutes'],
    ['lr', 'learningRate'],
    ['min-lr', 'minLearningRate'],
    ['warmup', 'warmupSteps'],
    ['clip', 'clipNorm'],
    ['patience', 'patience'],
    ['seed', 'seed'],
    ['val-fraction', 'valFraction'],
    ['eval-streams', 'evalStreams'],
    ['workers', 'workers'],
  ] satisfies [string, TrainSetting][]
).map(([flag, key]) => {
  const rule = trainSettings.shape[key];
  const option = new Option(`--${flag} <n>`, rule.description).argParser(numberArg(rule)).default(DEFAULT_TRAIN_CONFIG[key]);
  program.addOption(option);
  return { key, attribute: option.attributeName() };
});
program
  .optionsGroup('Run:')
  .option('--resume', 'continue from the checkpoint in <runs>/<name>/checkpoint')
  .option('--no-publish', 'train and save to <runs>/<name>/final, but do not publish')
  .parse();
const flags = program.opts<ModelFlags & { preset?: string; runs: string; resume?: boolean; publish: boolean }>();

await main('train', async () => {
  const preset = flags.preset === undefined ? undefined : await readPreset(flags.preset);
  const given = settingFlags.filter((f) => program.getOptionValueSource(f.attribute) === 'cli');
  const config: TrainConfig = { ...(preset?.config ?? DEFAULT_TRAIN_CONFIG), ...Object.fromEntries(given.map((f) => [f.key, program.getOptionValue(f.attribute)])) };

  tensorflowThreadsFor(config.workers);
  const backend = await initBackend('train');
  const corpus = await readCorpus(corpusPath(flags, env));
  const runDir = path.join(flags.runs, flags.name);
  await mkdir(runDir, { recursive: true });
  log.info({ chars: corpus.text.length, sha256: corpus.sha256, preset: preset?.name, config }, 'training');

  const bar = new cliProgress.SingleBar(
    { format: 'epoch {epoch}/{epochs} |{bar}| {percentage}% | loss {loss} | {cps} chars/s | ETA {eta_formatted}', etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let barEpoch = 0;
  const metricsLines: string[] = [];
  const run = await trainAndPublish({
    registry: new ModelRegistry(flags.models),
    name: flags.name,
    corpus,
    config,
    outDir: path.join(runDir, 'final'),
    provenance: { backend: backend.name, command: ['npm run train --', ...process.argv.slice(2)].join(' '), preset: preset?.name },
    loop: {
      checkpointDir: path.join(runDir, 'checkpoint'),
      resume: flags.resume,
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
    },
    decide: flags.publish ? undefined : () => ({ publish: false, reason: 'not published (--no-publish)' }),
  });
  bar.stop();

  const { valLoss, bestEpoch, stopReason, seconds } = run.trained;
  log.info({ valLoss, bestEpoch, stopReason, seconds: Math.round(seconds) }, 'training finished');
  // Without a finished epoch nothing was saved; otherwise only --no-publish keeps it from the registry.
  if (!Number.isFinite(valLoss)) throw new Error(run.reason);
  if (run.version) log.info({ version: run.version.version, dir: run.version.dir }, `published ${flags.name} ${run.version.version}`);
  else log.info(`saved in ${path.join(runDir, 'final')}, ${run.reason}`);
});
