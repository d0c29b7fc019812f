// The retrain schedule: a node-cron job (RETRAIN_CRON in RETRAIN_TIMEZONE)
// that starts a retrain, skipping a tick (with a log line) while a run is
// going, whoever started it. node-cron's own `noOverlap` is not enough: it
// only knows this job's runs, not an admin's /retrain or another process.
// At start, a run missed while the bot was down is caught up once.
import { createTask, parse, type Logger, type ScheduledTask } from 'node-cron';
import { log } from '../log.js';
import { RetrainBusyError } from '../training/controller.js';
import { previousRun, scheduleProblem } from './cron.js';

/** What the schedule drives (RetrainController). start() throws RetrainBusyError when a run is going. */
export interface ScheduledRunner {
  start(req: { trigger: 'schedule' | 'catch-up' }): Promise<unknown>;
  /** When the last run that reached the gate finished. */
  lastCompletedAt(): Promise<Date | undefined>;
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

export class RetrainScheduler {
  private readonly task: ScheduledTask;
  private readonly seconds: number[];
  private readonly now: () => Date;

  constructor(private readonly opts: SchedulerOptions) {
    const problem = scheduleProblem(opts.cron, opts.timezone);
    if (problem) throw new Error(`retrain schedule: ${problem}`);
    this.now = opts.now ?? (() => new Date());
    this.seconds = parse(opts.cron).second;
    this.task = createTask(opts.cron, () => this.fire('schedule'), { name: 'retrain', timezone: opts.timezone, logger: cronLogger });
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
   * run (published or rejected: a rejected run is not retried at once). Without any recorded run there is nothing to catch up: a fresh
   * install waits for its first scheduled time.
   */
  async missedRun(): Promise<Date | undefined> {
    const last = await this.opts.runner.lastCompletedAt();
    return last && previousRun((d) => this.task.match(d), this.seconds, this.now(), last);
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
