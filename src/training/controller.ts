// Runs retrains for the bot: one at a time, each in a separate low-priority
// trainer process (src/training/trainer-process.ts), so the bot's event loop
// and its generation workers stay responsive. Progress and the result come
// back over IPC; a published version is served at once (onPublished); every
// run is logged, recorded (run-records.ts) and announced ('finished').
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { log } from '../log.js';
import { forkModule, moduleUrl } from '../runtime/entry.js';
import { withoutMallocTuning } from '../runtime/malloc.js';
import { childEnv } from '../runtime/tensorflow-threads.js';
import type { ModelRegistry } from '../registry/registry.js';
import { liveHolder, releaseIfDead } from './lock.js';
import type { FromTrainer, ToTrainer } from './protocol.js';
import type { RetrainJob, RetrainResult, RunProgress } from './retrain.js';
import { RunRecords, type RunInfo, type RunOutcome, type Trigger } from './run-records.js';
import type { TrainConfig } from './settings.js';

const TRAINER = moduleUrl('./trainer-process.js', import.meta.url);
const LOW_PRIORITY = 19;
/** How long a stop waits for a publish in progress (copy, checksums, fsyncs) before signalling the trainer. */
const PUBLISH_GRACE_MS = 60_000;

export class RetrainBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetrainBusyError';
  }
}

export interface RetrainOptions {
  /** Training time budget per run (RETRAIN_MAX_MINUTES). */
  maxMinutes: number;
  /** Epochs per run; default: what the serving version was trained with (RETRAIN_EPOCHS). */
  epochs?: number;
  /** Nats the candidate may be worse than the serving model and still be published (RETRAIN_TOLERANCE). */
  tolerance: number;
  /** Versions kept after publishing (RETRAIN_KEEP_VERSIONS). */
  keepVersions: number;
  /** Training settings over the serving version's (tests use tiny ones). */
  train?: Partial<TrainConfig>;
  /** How long a cancelled trainer gets before SIGTERM, and again before SIGKILL. */
  cancelGraceMs?: number;
}

export interface RetrainControllerOptions {
  registry: ModelRegistry;
  modelName: string;
  /** data/<model>/: every .txt file in it is training text. */
  corpusDir: string;
  /** runs/<model>/: lock, history, state and the last candidate. */
  runDir: string;
  /** Serves the registry's current version now; called after a run published one. */
  onPublished: () => Promise<unknown>;
  options: RetrainOptions;
}

export interface StartRequest {
  trigger: Trigger;
  userId?: string;
  epochs?: number;
  minutes?: number;
}

export interface ActiveRunStatus extends RunInfo {
  pid?: number;
  progress: RunProgress;
}

export interface RetrainStatus {
  running?: ActiveRunStatus;
  last?: RunOutcome;
}

interface ActiveRun {
  info: RunInfo;
  /** The job's command, which the version it publishes records (how finish() finds it). */
  command: string;
  child: ChildProcess;
  progress: RunProgress;
  result?: RetrainResult;
  error?: string;
  /** Set when the run is being stopped; becomes the outcome's reason. */
  cancelReason?: string;
  exited: Promise<void>;
  done: Promise<RunOutcome>;
}

/** Why a start is refused while `info`'s run is going. */
export function runningMessage({ trigger, userId, startedAt }: RunInfo): string {
  return `a retrain is already running (${trigger}${userId ? ` by ${userId}` : ''}, since ${startedAt})`;
}

/** Why a start is refused while another process holds `lockFile`; undefined when none does. */
export function lockedBy(lockFile: string): string | undefined {
  const holder = liveHolder(lockFile);
  return holder && `another process (pid ${holder.pid}) has been retraining since ${holder.startedAt}`;
}

/** What /retrain uses; RetrainController is one. */
export type Retrainer = Pick<RetrainController, 'start' | 'status' | 'cancel'>;

/** `finished` comes for every run, whoever started it: the hook for a report channel. */
type Events = { progress: [RunProgress, RunInfo]; finished: [RunOutcome] };

export class RetrainController extends EventEmitter<Events> {
  readonly records: RunRecords;
  readonly lockFile: string;
  private active: ActiveRun | undefined;
  private last: RunOutcome | undefined;
  private closed = false;

  constructor(private readonly opts: RetrainControllerOptions) {
    super();
    this.records = new RunRecords(opts.runDir);
    this.lockFile = path.join(opts.runDir, 'retrain.lock');
  }

  /**
   * Starts a run and resolves with its outcome when it is over (after a
   * published version is being served). Throws RetrainBusyError at once,
   * synchronously, when a run is going here or in another process.
   */
  start(req: StartRequest): Promise<RunOutcome> {
    if (this.closed) throw new RetrainBusyError('retraining is shut down');
    if (this.active) throw new RetrainBusyError(runningMessage(this.active.info));
    const locked = lockedBy(this.lockFile);
    if (locked) throw new RetrainBusyError(locked);
    const run = this.launch(req);
    this.active = run;
    return run.done;
  }

  async status(): Promise<RetrainStatus> {
    this.last ??= (await this.records.state()).last;
    const run = this.active;
    return { running: run && { ...run.info, pid: run.child.pid, progress: run.progress }, last: this.last };
  }

  /** When the last run that reached the gate (published or rejected) finished; undefined if none is recorded. */
  async lastCompletedAt(): Promise<Date | undefined> {
    const at = (await this.records.state()).lastCompletedAt;
    return at ? new Date(at) : undefined;
  }

  /** Runs failed since the last completed one (the scheduler's catch-up backoff). */
  async failures(): Promise<{ count: number; lastAt: Date } | undefined> {
    const f = (await this.records.state()).failures;
    return f && { count: f.count, lastAt: new Date(f.lastAt) };
  }

  /**
   * Stops the running run and resolves with its outcome: cancelled, unless it
   * was already publishing (then the publish is waited for and reported).
   * Undefined if none was running.
   */
  async cancel(by?: string): Promise<RunOutcome | undefined> {
    const run = this.active;
    if (!run) return undefined;
    run.cancelReason ??= `cancelled${by ? ` by ${by}` : ''}`;
    await this.stop(run, true);
    return run.done;
  }

  /** For shutdown: stops any run at once (SIGTERM, then SIGKILL) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    const run = this.active;
    if (!run) return;
    run.cancelReason ??= 'the bot is shutting down';
    await this.stop(run, false);
    await run.done;
  }

  private launch(req: StartRequest): ActiveRun {
    const { options } = this.opts;
    const info: RunInfo = {
      id: randomBytes(4).toString('hex'),
      trigger: req.trigger,
      userId: req.userId,
      startedAt: new Date().toISOString(),
      maxMinutes: req.minutes ?? options.maxMinutes,
      epochs: req.epochs ?? options.epochs,
    };
    const job: RetrainJob = {
      modelName: this.opts.modelName,
      modelsDir: this.opts.registry.root,
      corpusDir: this.opts.corpusDir,
      candidateDir: path.join(this.opts.runDir, 'candidate'),
      maxMinutes: info.maxMinutes,
      epochs: info.epochs,
      tolerance: options.tolerance,
      keepVersions: options.keepVersions,
      train: options.train,
      command: `retrain ${info.id} (${info.trigger}${info.userId ? ` by ${info.userId}` : ''})`,
    };
    // The trainer sizes TensorFlow's threads itself (replicas, or TensorFlow's own) and keeps glibc's malloc thresholds (runtime/malloc.ts).
    const child = forkModule(TRAINER, [], { env: withoutMallocTuning(childEnv()) });
    // Set right after fork, before the child starts its threads, which inherit it.
    if (child.pid !== undefined) {
      try {
        os.setPriority(child.pid, LOW_PRIORITY);
      } catch (err) {
        log.warn({ err }, 'could not lower the trainer process priority');
      }
    }
    const run = { info, command: job.command, child, progress: { phase: 'starting' } } as ActiveRun;
    run.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (!run.result && !run.error) run.error = `the trainer exited (${signal ? `killed by ${signal}` : `code ${code}`}) before reporting a result`;
        resolve();
      });
      child.once('error', (err) => {
        run.error ??= `the trainer could not run: ${err.message}`;
        resolve();
      });
    });
    child.on('message', (m: FromTrainer) => {
      if (m.type === 'progress') {
        run.progress = m.progress;
        this.emit('progress', m.progress, info);
      } else if (m.type === 'result') run.result = m.result;
      else run.error = m.message;
    });
    this.send(child, { type: 'start', job, lockFile: this.lockFile, runId: info.id });
    // The trainer stops itself at the time budget; this catches one stuck outside training (e.g. evaluation).
    const hangMs = (info.maxMinutes * 60 + Math.max(600, info.maxMinutes * 30)) * 1000;
    const watchdog = setTimeout(() => {
      log.error({ run: info.id }, 'retrain ran far past its time budget; stopping it');
      run.cancelReason ??= 'stopped: it ran far past its time budget';
      void this.stop(run, true);
    }, hangMs);
    watchdog.unref();
    run.done = run.exited.then(() => {
      clearTimeout(watchdog);
      // A trainer killed by stop() (busy machine, SIGTERM unanswered) left its lock behind.
      if (child.pid !== undefined) releaseIfDead(this.lockFile, child.pid);
      return this.finish(run);
    });
    log.info({ run: info.id, trigger: info.trigger, user: info.userId, pid: child.pid, maxMinutes: info.maxMinutes }, 'retrain started');
    return run;
  }

  /**
   * Cancel over IPC (graceful: only if `graceful`), then SIGTERM, then
   * SIGKILL, each after a bounded wait. A publish in progress is waited for
   * first (PUBLISH_GRACE_MS): it takes seconds, and its outcome is then known
   * rather than guessed.
   */
  private async stop(run: ActiveRun, graceful: boolean): Promise<void> {
    const grace = this.opts.options.cancelGraceMs ?? 10_000;
    const exitedWithin = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        void run.exited.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    if (run.progress.phase === 'publishing' && (await exitedWithin(Math.max(grace, PUBLISH_GRACE_MS)))) return;
    if (graceful && this.send(run.child, { type: 'cancel' }) && (await exitedWithin(grace))) return;
    run.child.kill('SIGTERM');
    if (await exitedWithin(grace)) return;
    log.warn({ run: run.info.id, pid: run.child.pid }, 'trainer ignored SIGTERM; killing it');
    run.child.kill('SIGKILL');
  }

  private send(child: ChildProcess, m: ToTrainer): boolean {
    if (!child.connected) return false;
    child.send(m, (err) => err && log.warn({ err }, 'could not message the trainer'));
    return true;
  }

  /** The version a run published (its metadata names the run's command), and whether it is current. */
  private async versionOf(run: ActiveRun): Promise<{ version: string; current: boolean } | undefined> {
    const { registry, modelName } = this.opts;
    try {
      for (const version of (await registry.versions(modelName)).reverse()) {
        const { metadata } = await registry.verify(modelName, version);
        if (Date.parse(metadata.createdAt) < Date.parse(run.info.startedAt)) return undefined;
        if (metadata.training.command === run.command) return { version, current: (await registry.readPointer(modelName))?.version === version };
      }
    } catch (err) {
      log.error({ err, run: run.info.id }, 'could not tell whether the stopped run published');
    }
    return undefined;
  }

  private async finish(run: ActiveRun): Promise<RunOutcome> {
    const finishedAt = new Date();
    const seconds = Math.round((finishedAt.getTime() - Date.parse(run.info.startedAt)) / 100) / 10;
    const base = { ...run.info, finishedAt: finishedAt.toISOString(), seconds };
    let outcome: RunOutcome;
    if (run.result) {
      const { outcome: kind, reason, ...details } = run.result;
      outcome = { ...base, ...details, outcome: kind, reason: kind === 'cancelled' ? (run.cancelReason ?? reason) : reason };
    } else {
      // Killed without a result: the registry says whether it got as far as publishing.
      const stored = run.progress.phase === 'publishing' ? await this.versionOf(run) : undefined;
      const stopped = run.cancelReason ?? run.error ?? 'the trainer reported nothing';
      if (stored) {
        outcome = { ...base, outcome: stored.current ? 'published' : 'stored', version: stored.version, reason: `${stopped}, after ${stored.version} was ${stored.current ? 'published' : 'stored (not made current)'}` };
      } else if (run.cancelReason) outcome = { ...base, outcome: 'cancelled', reason: run.cancelReason };
      else outcome = { ...base, outcome: 'failed', reason: stopped };
    }

    if (outcome.outcome === 'published') {
      try {
        await this.opts.onPublished();
      } catch (err) {
        log.error({ err, version: outcome.version }, 'published a new version but could not serve it');
        outcome.reason += `; serving it failed: ${(err as Error).message}`;
      }
    }
    try {
      await this.records.record(outcome);
    } catch (err) {
      log.error({ err }, 'could not record the retrain outcome');
    }
    this.last = outcome;
    this.active = undefined;
    const level = outcome.outcome === 'failed' ? 'error' : 'info';
    log[level]({ retrain: outcome }, `retrain ${outcome.id} (${outcome.trigger}) ${outcome.outcome}: ${outcome.reason}`);
    this.emit('finished', outcome);
    return outcome;
  }
}
