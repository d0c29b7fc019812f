// What a retrain leaves behind in runs/<model>/: one JSON line per run in
// retrain-history.jsonl (the audit trail), and retrain-state.json with the last
// outcome and the time of the last completed run (what the scheduler's
// catch-up compares with), replaced atomically so a crash never leaves half.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { log } from '../log.js';
import type { RetrainResult } from './retrain.js';

export type Trigger = 'schedule' | 'catch-up' | 'admin';

export interface RunInfo {
  id: string;
  trigger: Trigger;
  /** The admin who started it. */
  userId?: string;
  startedAt: string;
  maxMinutes: number;
  epochs?: number;
}

/** stored: the candidate passed the gate but the current version moved during the run, so it was kept as a version and not made current. */
export type OutcomeKind = 'published' | 'stored' | 'rejected' | 'failed' | 'cancelled';

export type RunOutcome = RunInfo &
  Partial<Omit<RetrainResult, 'outcome' | 'reason'>> & {
    outcome: OutcomeKind;
    reason: string;
    finishedAt: string;
    seconds: number;
  };

export interface RetrainState {
  /** When the last completed run (one the gate decided) finished. */
  lastCompletedAt?: string;
  last?: RunOutcome;
  /** Runs that failed since the last completed one, and when the latest of them finished: the catch-up's backoff. */
  failures?: { count: number; lastAt: string };
}

/** Completed: the gate decided, whatever it decided; the schedule counts the run as done. */
export const isCompleted = (o: RunOutcome) => o.outcome === 'published' || o.outcome === 'stored' || o.outcome === 'rejected';

export class RunRecords {
  readonly historyFile: string;
  readonly stateFile: string;

  constructor(readonly dir: string) {
    this.historyFile = path.join(dir, 'retrain-history.jsonl');
    this.stateFile = path.join(dir, 'retrain-state.json');
  }

  async state(): Promise<RetrainState> {
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    try {
      // `lastSuccessAt` is the same time, as state files written before the rename name it.
      const { lastSuccessAt, ...state } = JSON.parse(text) as RetrainState & { lastSuccessAt?: string };
      return { ...state, lastCompletedAt: state.lastCompletedAt ?? lastSuccessAt };
    } catch {
      log.warn({ file: this.stateFile }, 'retrain state file is unreadable; treating it as empty');
      return {};
    }
  }

  async record(outcome: RunOutcome): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.historyFile, JSON.stringify(outcome) + '\n');
    const before = await this.state();
    const failures = outcome.outcome === 'failed' ? { count: (before.failures?.count ?? 0) + 1, lastAt: outcome.finishedAt } : isCompleted(outcome) ? undefined : before.failures;
    const state: RetrainState = { lastCompletedAt: isCompleted(outcome) ? outcome.finishedAt : before.lastCompletedAt, last: outcome, ...(failures ? { failures } : {}) };
    // Temp file, fsync, rename: a reader sees the old state or the new one.
    await writeFileAtomic(this.stateFile, JSON.stringify(state, null, 2) + '\n');
  }
}
