// What a training run can be told: every setting with its rule, its default
// and a line of help (`npm run train -- --help` shows them), like char-rnn's
// cmd:option. Named presets are files, configs/<name>.json (nanoGPT's
// config/train_shakespeare_char.py): the settings they name over the defaults.
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const number = () => z.number({ error: 'must be a number' });
const whole = (min?: number) => (min === undefined ? z.int({ error: 'must be a whole number' }) : z.int({ error: 'must be a whole number' }).min(min, { error: `must be at least ${min}` }));
const positive = () => number().positive({ error: 'must be above 0' });

export const trainSettings = z.object({
  layers: whole(1).default(1).describe('LSTM layers'),
  units: whole(1).default(256).describe('units per LSTM layer (the size of its state)'),
  dropout: number().min(0, { error: 'must be at least 0' }).lt(1, { error: 'must be below 1' }).default(0).describe('dropout on each LSTM layer while training'),
  seqLen: whole(1).default(64).describe('characters per training window (backpropagation through time)'),
  batchSize: whole(1).default(64).describe('windows per step'),
  epochs: whole(1).default(10).describe('passes over the training split (in random windows)'),
  maxMinutes: positive().optional().describe('stop after this many minutes (the epoch in progress is evaluated and kept)'),
  learningRate: positive().default(3e-3).describe('peak learning rate (Adam)'),
  minLearningRate: number().min(0, { error: 'must be at least 0' }).default(3e-4).describe('learning rate at the end of the cosine decay'),
  warmupSteps: whole(0).default(50).describe('steps of linear learning-rate warmup'),
  // A warm start (the nightly retrain) continues a trained model: a full
  // warmup to the from-scratch peak throws much of it away (issue 10: a
  // 1.5-minute warm start from 1.536 ended at 1.574), so it has its own.
  warmLearningRate: positive().default(5e-4).describe('peak learning rate of a warm start (at most 2x minLearningRate)'),
  warmMinLearningRate: number().min(0, { error: 'must be at least 0' }).default(5e-5).describe('learning rate at the end of a warm start (at most 1/20 of its peak)'),
  warmWarmupSteps: whole(0).default(10).describe('steps of linear learning-rate warmup of a warm start'),
  clipNorm: positive().default(5).describe('gradients are scaled down to this global L2 norm at most'),
  patience: whole(1).default(3).describe('stop when validation loss has not improved for this many epochs'),
  seed: whole().default(42).describe('random seed of the initial weights and of the batches'),
  valFraction: positive().lt(1, { error: 'must be below 1' }).default(0.1).describe('held-out fraction at the end of the corpus'),
  evalStreams: whole(1).default(64).describe('parallel streams when scoring the held-out text'),
  workers: whole(1).optional().describe('worker threads that share each batch, gradients averaged (default: one per core)'),
});

export type TrainConfig = z.output<typeof trainSettings>;
export type TrainSetting = keyof TrainConfig;

export const DEFAULT_TRAIN_CONFIG: TrainConfig = trainSettings.parse({});

/** The settings a warm start trains with: its own schedule in place of the from-scratch one. */
export function warmStartSchedule(c: TrainConfig): TrainConfig {
  // Continue the model's anneal rather than undo it: the peak stays within 2x
  // the floor its from-scratch run ended at (v3: 1e-4, so 2e-4, not 5e-4), and
  // the decay goes 20x below that. From the from-scratch floor, not the last
  // warm start's, so nightly runs do not shrink the rate night after night.
  const learningRate = Math.min(c.warmLearningRate, 2 * c.minLearningRate || Infinity);
  return { ...c, learningRate, minLearningRate: Math.min(c.warmMinLearningRate, learningRate / 20), warmupSteps: c.warmWarmupSteps };
}

/** The configs/ folder of this checkout, wherever the command runs from. */
const PRESETS_DIR = fileURLToPath(new URL('../../configs/', import.meta.url));

// Every setting has a default (or is optional), so a preset names only what it changes.
const presetFile = trainSettings.extend({ description: z.string().optional() }).strict();

interface Preset {
  name: string;
  file: string;
  description?: string;
  /** The defaults with the file's settings over them. */
  config: TrainConfig;
}

/** Preset names, for help and error messages. */
export function presetNames(): string[] {
  try {
    return readdirSync(PRESETS_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
  } catch {
    return [];
  }
}

const problem = (issue: z.core.$ZodIssue) =>
  issue.code === 'unrecognized_keys' ? `unknown setting ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : `${issue.path.join('.') || '(the whole file)'}: ${issue.message}`;

/** Reads and checks a preset: a name in configs/ or a path to a .json file. Errors name the file and every bad field. */
export async function readPreset(nameOrFile: string): Promise<Preset> {
  const isPath = nameOrFile.endsWith('.json') || nameOrFile.includes(path.sep);
  const file = isPath ? path.resolve(nameOrFile) : path.join(PRESETS_DIR, `${nameOrFile}.json`);
  const relative = path.relative(process.cwd(), file);
  const shown = relative && !relative.startsWith('..') ? relative : file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`no preset ${shown}${isPath ? '' : ` (presets: ${presetNames().join(', ') || 'none'})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${shown} is not JSON: ${(err as Error).message}`);
  }
  const checked = presetFile.safeParse(json);
  if (!checked.success) throw new Error(`${shown}: ${checked.error.issues.map(problem).join('; ')}`);
  const { description, ...config } = checked.data;
  return { name: path.basename(file, '.json'), file, description, config };
}
