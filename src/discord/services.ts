// Builds what command handlers use (see Services) from the config: the
// generation service with its worker threads, the registry, the cooldowns,
// the retrain controller.
import path from 'node:path';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { ModelRegistry } from '../registry/registry.js';
import { GenerationService } from '../serving/service.js';
import { RetrainController } from '../training/controller.js';
import type { Services } from './command.js';
import { Cooldowns } from './cooldowns.js';

export interface RunningServices {
  services: Services;
  /** The retrain controller, for the schedule and outcome reports. */
  retrain: RetrainController;
  /** Stops taking generation requests, waits (bounded) for those in flight, stops the workers. */
  close(graceMs: number): Promise<void>;
}

/**
 * Starts the generation workers and serves the registry's current version.
 * A missing or broken model is logged, not fatal: commands answer "no model
 * is loaded yet" and the registry watch loads one once it is published.
 */
export async function startServices(config: Config): Promise<RunningServices> {
  const registry = new ModelRegistry(config.MODELS_DIR);
  const generator = await GenerationService.start({
    registry,
    modelName: config.MODEL_NAME,
    workers: config.GEN_WORKERS,
    maxQueue: config.GEN_MAX_QUEUE,
  });
  try {
    await generator.loadServable();
  } catch (err) {
    log.error({ models: config.MODELS_DIR, model: config.MODEL_NAME }, `no model served yet: ${(err as Error).message}`);
  }
  if (config.MODEL_WATCH_SECONDS > 0) generator.watch(config.MODEL_WATCH_SECONDS * 1000);
  const retrain = new RetrainController({
    registry,
    modelName: config.MODEL_NAME,
    corpusDir: path.join(config.DATA_DIR, config.MODEL_NAME),
    runDir: path.join(config.RUNS_DIR, config.MODEL_NAME),
    service: generator,
    options: {
      maxMinutes: config.RETRAIN_MAX_MINUTES,
      epochs: config.RETRAIN_EPOCHS,
      tolerance: config.RETRAIN_TOLERANCE,
      keepVersions: config.RETRAIN_KEEP_VERSIONS,
    },
  });
  return {
    services: { generator, registry, modelName: config.MODEL_NAME, config, cooldowns: new Cooldowns(config.COOLDOWN_SECONDS), retrain },
    retrain,
    close: async (graceMs) => {
      // The trainer first: no orphan process, no stale lock.
      await retrain.close();
      await generator.close(graceMs);
    },
  };
}
