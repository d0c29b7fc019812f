// The composition root: builds every part from the validated config and
// connects them. Data flows registry → source (aspired version) → manager
// (loads it in the worker pool) → the Services facades that commands use;
// the retrain controller publishes to the registry and asks for a sync.
import path from 'node:path';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { ModelRegistry, type VersionRef } from '../registry/registry.js';
import { RetrainScheduler, type ScheduledRunner } from '../scheduler/scheduler.js';
import { ServingManager } from '../serving/manager.js';
import { WorkerPool } from '../serving/pool.js';
import { PointerSource } from '../serving/source.js';
import { RetrainController } from '../training/controller.js';
import type { Command } from './command.js';
import { loadCommands } from './command-loader.js';
import { Cooldowns, type CooldownStore } from './cooldowns.js';
import { CorpusFolder } from './corpus.js';
import { Dispatcher } from './dispatch.js';
import { ModelsFacade } from './models.js';
import type { Services } from './services.js';
import { SpeakerIndex } from './speakers.js';

export interface App {
  commands: ReadonlyMap<string, Command>;
  services: Services;
  retrain: RetrainController;
  /** Serves the registry's current version now (after a publish or a rollback). */
  sync(): Promise<VersionRef>;
  /** Runs commands for an adapter, with a per-user cooldown of `cooldownSeconds` (default COOLDOWN_SECONDS), in-process unless `store` is given. */
  dispatcher(cooldownSeconds?: number, store?: CooldownStore): Dispatcher;
  /** What the schedule starts runs through: the controller, or the cluster's lock-first runner (src/shared/cluster.ts). */
  scheduleRunner: ScheduledRunner;
  /** The nightly schedule with its catch-up (Discord mode; console mode is a local demo), through scheduleRunner. */
  startSchedule(): Promise<void>;
  /** Stops the schedule and the trainer, then generation (bounded wait for requests in flight). */
  close(graceMs: number): Promise<void>;
}

/**
 * Starts the generation workers and serves the registry's current version.
 * A missing or broken model is logged, not fatal: commands answer "no model
 * is loaded yet" and the source's watch serves one once it is published.
 */
export async function startApp(config: Config): Promise<App> {
  const registry = new ModelRegistry(config.MODELS_DIR);
  const [loaded, started] = await Promise.allSettled([loadCommands(), WorkerPool.start({ workers: config.GEN_WORKERS, maxQueue: config.GEN_MAX_QUEUE })]);
  if (loaded.status === 'rejected') {
    // The workers would keep the process alive after the error is reported.
    if (started.status === 'fulfilled') await started.value.close(0);
    throw loaded.reason;
  }
  if (started.status === 'rejected') throw started.reason;
  const [commands, pool] = [loaded.value, started.value];
  const manager = new ServingManager(pool);
  const source = new PointerSource(registry, config.MODEL_NAME);
  const sync = async () => {
    const ref = await source.aspired();
    await manager.load(ref);
    return ref;
  };
  try {
    await sync();
  } catch (err) {
    log.error({ models: config.MODELS_DIR, model: config.MODEL_NAME }, `no model served yet: ${(err as Error).message}`);
  }
  if (config.MODEL_WATCH_SECONDS > 0) source.watch(config.MODEL_WATCH_SECONDS * 1000, (ref) => manager.load(ref));

  const corpusDir = path.join(config.DATA_DIR, config.MODEL_NAME);
  const retrain = retrainController(config, registry, sync);
  const services: Services = {
    generator: manager,
    models: new ModelsFacade({ registry, name: config.MODEL_NAME, generator: manager, sync }),
    speakers: new SpeakerIndex(corpusDir, manager),
    retrain,
    corpus: new CorpusFolder({
      dir: corpusDir,
      generator: manager,
      limits: { maxBytes: Math.round(config.CORPUS_MAX_UPLOAD_MB * 2 ** 20), timeoutMs: config.CORPUS_DOWNLOAD_TIMEOUT_SECONDS * 1000 },
    }),
  };
  let scheduler: RetrainScheduler | undefined;

  const app: App = {
    commands,
    services,
    retrain,
    scheduleRunner: retrain,
    sync,
    dispatcher: (cooldownSeconds = config.COOLDOWN_SECONDS, store?: CooldownStore) => new Dispatcher(commands, services, store ?? new Cooldowns(cooldownSeconds)),
    async startSchedule() {
      scheduler = await startRetrainSchedule(config, app.scheduleRunner);
    },
    async close(graceMs) {
      scheduler?.stop();
      source.stop();
      // The trainer first: no orphan process, no stale lock.
      await retrain.close();
      await manager.close(graceMs);
    },
  };
  return app;
}

/** The retrain controller over the config's registry, corpus and runs folders; `onPublished` serves what a run published. */
export function retrainController(config: Config, registry: ModelRegistry, onPublished: () => Promise<unknown>): RetrainController {
  return new RetrainController({
    registry,
    modelName: config.MODEL_NAME,
    corpusDir: path.join(config.DATA_DIR, config.MODEL_NAME),
    runDir: path.join(config.RUNS_DIR, config.MODEL_NAME),
    onPublished,
    options: {
      maxMinutes: config.RETRAIN_MAX_MINUTES,
      epochs: config.RETRAIN_EPOCHS,
      tolerance: config.RETRAIN_TOLERANCE,
      keepVersions: config.RETRAIN_KEEP_VERSIONS,
    },
  });
}

/** Starts the nightly schedule with its catch-up; undefined when RETRAIN_ENABLED=false. */
export async function startRetrainSchedule(config: Config, runner: ScheduledRunner): Promise<RetrainScheduler | undefined> {
  if (!config.RETRAIN_ENABLED) {
    log.info('scheduled retraining is off (RETRAIN_ENABLED=false)');
    return undefined;
  }
  const scheduler = new RetrainScheduler({ cron: config.RETRAIN_CRON, timezone: config.RETRAIN_TIMEZONE, runner });
  await scheduler.start();
  return scheduler;
}
