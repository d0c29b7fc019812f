// A throwaway bot layout for retrain tests: models/ (registry), data/<model>/
// (a few KB of the real corpus) and runs/<model>/, plus tiny training settings
// so a run takes seconds.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelRegistry } from '../../src/registry/registry.js';
import { RetrainController, type RetrainOptions } from '../../src/training/controller.js';
import type { Phase, RetrainJob } from '../../src/training/retrain.js';
import type { TrainConfig } from '../../src/training/settings.js';

const CORPUS = fileURLToPath(new URL('../../data/shakespeare/tinyshakespeare.txt', import.meta.url));

export const TINY: Partial<TrainConfig> = {
  layers: 1,
  units: 16,
  dropout: 0,
  seqLen: 16,
  batchSize: 8,
  warmupSteps: 5,
  learningRate: 0.01,
  warmLearningRate: 0.002,
  warmMinLearningRate: 0.0002,
  warmWarmupSteps: 3,
  evalStreams: 8,
  patience: 10,
};

/** Resolves when the controller's running run reaches `phase` (event-driven; the bound is only a backstop). */
export function reaches(c: RetrainController, phase: Phase, ms = 180_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off('progress', on);
      reject(new Error(`timed out after ${ms} ms waiting for the retrain to reach ${phase}`));
    }, ms);
    const on = (p: { phase: Phase }) => {
      if (p.phase !== phase) return;
      clearTimeout(timer);
      c.off('progress', on);
      resolve();
    };
    c.on('progress', on);
  });
}

export interface Layout {
  root: string;
  name: string;
  registry: ModelRegistry;
  corpusDir: string;
  runDir: string;
  /** A job for retrain() with tiny settings; `train` entries are added to TINY. */
  job(over?: Partial<Omit<RetrainJob, 'train'>> & { train?: Partial<TrainConfig> }): RetrainJob;
  /** A controller over this layout with tiny training settings. */
  controller(onPublished: () => Promise<unknown>, over?: Partial<RetrainOptions>): RetrainController;
  /** Closes every controller made by controller() (for afterEach: no trainer outlives a failed test). */
  closeControllers(): Promise<void>;
  remove(): Promise<void>;
}

export async function makeLayout(chars = 8000, name = 'bard'): Promise<Layout> {
  const root = await mkdtemp(path.join(tmpdir(), 'retrain-'));
  const corpusDir = path.join(root, 'data', name);
  await mkdir(corpusDir, { recursive: true });
  await writeFile(path.join(corpusDir, 'a.txt'), (await readFile(CORPUS, 'utf8')).slice(0, chars));
  const registry = new ModelRegistry(path.join(root, 'models'));
  const runDir = path.join(root, 'runs', name);
  const controllers: RetrainController[] = [];
  return {
    root,
    name,
    registry,
    corpusDir,
    runDir,
    job: (over = {}) => ({
      modelName: name,
      modelsDir: registry.root,
      corpusDir,
      candidateDir: path.join(runDir, 'candidate'),
      maxMinutes: 5,
      tolerance: 0,
      keepVersions: 5,
      command: 'test',
      ...over,
      train: { ...TINY, ...over.train },
    }),
    controller: (onPublished, over = {}) => {
      const c = new RetrainController({
        registry,
        modelName: name,
        corpusDir,
        runDir,
        onPublished,
        options: { maxMinutes: 5, tolerance: 0, keepVersions: 5, train: TINY, ...over },
      });
      controllers.push(c);
      return c;
    },
    closeControllers: async () => {
      await Promise.all(controllers.splice(0).map((c) => c.close()));
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
