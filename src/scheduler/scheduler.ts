// The retrain schedule: a node-cron job (RETRAIN_CRON in RETRAIN_TIMEZONE)
// that starts a retrain, skipping a tick (with a log line) while a run is
// going, whoever started it. node-cron's own `noOverlap` is not enough: it
// only knows this job's runs, not an admin's /retrain or another process.
// At start, a run missed while the bot was down is caught up once; after
// failed runs, only once a backoff has passed, so a run that fails (and a bot
// that restarts often) does not retrain at every start.
import { createTask, parse, type Logger, type ScheduledTask } from 'node-cron';
import { log } from '../log.js';
import { RetrainBusyError } from '../training/controller.js';
import { previousRun, scheduleProblem } from './cron.js';

/** What the schedule drives (RetrainController). start() throws RetrainBusyError when a run is going. */
export interface ScheduledRunner {
  start(req: { trigger: 'schedule' | 'catch-up' }): Promise<unknown>;
  /** When the last run that reached the gate finished. */
  lastCompletedAt(): Promise<Date | undefined>;
  /** Runs failed since the last completed one, and when the latest of them finished. */
  failures(): Promise<{ count: number; lastAt: Date } | undefined>;
}

/** How long after the n-th failed run in a row a catch-up may try again: 15 minutes, doubling, at most a day. */
export function catchUpBackoffMs(failures: number): number {
  return Math.min(24 * 3_600_000, 15 * 60_000 * 2 ** Math.max(0, failures - 1));
}

export interface SchedulerOptions {
  cron: string;
  /** IANA time zone; default: the machine's. */
  timezone?: string;
  runner: ScheduledRunner;
  /** The clock the catch-up rule reads (tests pass a fake one). */
  now?: () => Date;
}

const cronLog = log.child({ component: 'node-cron' });
const text = (m: string | Error) => (m instanceof Error ? m.message : m);
/** node-cron's warnings (e.g. a missed tick) as our log lines rather than console output. */
const cronLogger: Logger = {
  info: (m) => cronLog.info(m),
  warn: (m) => cronLog.warn(m),
  error: (m, err) => cronLog.error({ err: err ?? m }, text(m)),
  debug: (m, err) => cronLog.debug({ err }, text(m)),
};

/**
 * How late a tick may fire and still run. node-cron's default, 1 s, drops a
 * tick whose timer a busy machine delayed by more (with a warning), and a
 * nightly run dropped that way waits a day. node-cron never runs a slot once
 * the next one is due, so a frequent schedule cannot run twice.
 */
const LATE_TICK_TOLERANCE_MS = 10 * 60_000;

export class RetrainScheduler {
  private readonly task: ScheduledTask;
  private readonly seconds: number[];
  private readonly now: () => Date;

  constructor(private readonly opts: SchedulerOptions) {
    const problem = scheduleProblem(opts.cron, opts.timezone);
    if (problem) throw new Error(`retrain schedule: ${problem}`);
    this.now = opts.now ?? (() => new Date());
    this.seconds = parse(opts.cron).second;
    this.task = createTask(opts.cron, () => this.fire('schedule'), { name: 'retrain', timezone: opts.timezone, logger: cronLogger, missedExecutionTolerance: LATE_TICK_TOLERANCE_MS });
  }

  /** Starts the schedule, then catches up once if the last scheduled run was missed. */
  async start(): Promise<void> {
    this.task.start();
    log.info({ cron: this.opts.cron, timezone: this.opts.timezone, next: this.task.getNextRun() }, 'retrain schedule started');
    const missed = await this.missedRun();
    if (missed) {
      log.info({ missed }, 'the scheduled retrain was missed while the bot was down; catching up');
      this.fire('catch-up');
    }
  }

  /**
   * The latest scheduled time before now if it is after the last completed
   * run (one the gate decided: a rejected run is not retried at once).
   * Without any recorded run there is nothing to catch up: a fresh install
   * waits for its first scheduled time. After failed runs, undefined until
   * the backoff (catchUpBackoffMs) since the latest failure has passed.
   */
  async missedRun(): Promise<Date | undefined> {
    const last = await this.opts.runner.lastCompletedAt();
    const missed = last && previousRun((d) => this.task.match(d), this.seconds, this.now(), last);
    if (!missed) return undefined;
    const failures = await this.opts.runner.failures();
    const retryAt = failures && new Date(failures.lastAt.getTime() + catchUpBackoffMs(failures.count));
    if (retryAt && retryAt > this.now()) {
      log.warn({ missed, failures: failures.count, retryAt }, `not catching up the missed retrain yet: the last ${failures.count} run(s) failed; a catch-up may try again after ${retryAt.toISOString()}`);
      return undefined;
    }
    return missed;
  }

  nextRun(): Date | null {
    return this.task.getNextRun();
  }

  stop(): void {
    this.task.destroy();
  }

  private fire(trigger: 'schedule' | 'catch-up'): void {
    let done: Promise<unknown>;
    try {
      done = this.opts.runner.start({ trigger });
    } catch (err) {
      if (err instanceof RetrainBusyError) log.warn({ trigger }, `${trigger} retrain skipped: ${err.message}`);
      else log.error({ err, trigger }, `${trigger} retrain could not start`);
      return;
    }
    // The controller logs, records and reports the outcome.
    done.catch((err: unknown) => log.error({ err, trigger }, `${trigger} retrain failed`));
  }
}
