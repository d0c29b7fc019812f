// The retrain schedule: checking the expression and time zone, the latest
// scheduled time before now (for catch-up, with a fake clock), catch-up once
// at start (not again after failed runs until a backoff has passed), and a
// tick during a run being skipped.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTask, parse } from 'node-cron';
import { LOOKBACK_DAYS, previousRun, scheduleProblem } from '../src/scheduler/cron.js';
import { catchUpBackoffMs, RetrainScheduler, type ScheduledRunner } from '../src/scheduler/scheduler.js';
import { RetrainBusyError } from '../src/training/controller.js';
import { RunRecords, type RunOutcome } from '../src/training/run-records.js';
import { makeLayout } from './helpers/retrain-fixture.js';
import { waitFor } from './helpers/wait.js';

/** previousRun with the matcher of a real node-cron task. */
function latest(cron: string, timezone: string | undefined, now: string, after: string) {
  const task = createTask(cron, () => undefined, { timezone });
  try {
    return previousRun((d) => task.match(d), parse(cron).second, new Date(now), new Date(after))?.toISOString();
  } finally {
    task.destroy();
  }
}

/** A runner whose runs last `ms`; it refuses to start while one is going, like RetrainController. */
function fakeRunner(lastCompleted?: string, ms = 0) {
  const runner = {
    started: [] as string[],
    refused: [] as string[],
    running: false,
    start({ trigger }: { trigger: string }) {
      if (runner.running) {
        runner.refused.push(trigger);
        throw new RetrainBusyError('a retrain is already running');
      }
      runner.running = true;
      runner.started.push(trigger);
      return new Promise((resolve) => setTimeout(resolve, ms)).finally(() => (runner.running = false));
    },
    lastCompletedAt: async () => (lastCompleted ? new Date(lastCompleted) : undefined),
    failures: async () => undefined,
  };
  return runner satisfies ScheduledRunner;
}

describe('schedule checks', () => {
  it('explains a bad expression or time zone', () => {
    expect(scheduleProblem('0 3 * * *', 'Europe/Paris')).toBeUndefined();
    expect(scheduleProblem('0 3 * * *')).toBeUndefined();
    expect(scheduleProblem('0 25 * * *')).toMatch(/^"0 25 \* \* \*" is not a cron expression: 25 is a invalid expression for hour/);
    expect(scheduleProblem('nightly')).toMatch(/is not a cron expression/);
    expect(scheduleProblem('0 3 * * *', 'Mars/Olympus')).toMatch(/"Mars\/Olympus" is not a time zone/);
    expect(() => new RetrainScheduler({ cron: '0 3 * *', runner: fakeRunner() })).toThrow(/^retrain schedule: .*expected 5 or 6 fields/);
  });
});

describe('latest scheduled time before now', () => {
  it('finds last night\'s 03:00 when the last run was before it', () => {
    expect(latest('0 3 * * *', 'UTC', '2026-03-10T12:00:00Z', '2026-03-08T03:20:00Z')).toBe('2026-03-10T03:00:00.000Z');
    expect(latest('0 3 * * *', 'UTC', '2026-03-10T02:59:59Z', '2026-03-08T03:20:00Z')).toBe('2026-03-09T03:00:00.000Z');
  });

  it('finds nothing when the last run came after it', () => {
    expect(latest('0 3 * * *', 'UTC', '2026-03-10T12:00:00Z', '2026-03-10T03:45:00Z')).toBeUndefined();
  });

  it('reads the schedule in its time zone, across a DST change', () => {
    // 03:00 in New York is 08:00 UTC in winter and 07:00 UTC in summer (DST began 2026-03-08).
    expect(latest('0 3 * * *', 'America/New_York', '2026-03-07T12:00:00Z', '2026-03-01T00:00:00Z')).toBe('2026-03-07T08:00:00.000Z');
    expect(latest('0 3 * * *', 'America/New_York', '2026-03-09T12:00:00Z', '2026-03-01T00:00:00Z')).toBe('2026-03-09T07:00:00.000Z');
  });

  it('handles weekly schedules, seconds fields, and a bounded look-back', () => {
    // Sundays 04:30 UTC; 2026-03-10 is a Tuesday.
    expect(latest('30 4 * * 0', 'UTC', '2026-03-10T12:00:00Z', '2026-01-01T00:00:00Z')).toBe('2026-03-08T04:30:00.000Z');
    expect(latest('*/15 * * * * *', undefined, '2026-03-10T12:00:07Z', '2026-03-10T11:00:00Z')).toBe('2026-03-10T12:00:00.000Z');
    // Yearly: further back than the look-back, so not caught up.
    expect(latest('0 0 1 1 *', 'UTC', '2026-03-10T12:00:00Z', '2025-01-02T00:00:00Z')).toBeUndefined();
    expect(LOOKBACK_DAYS).toBeGreaterThanOrEqual(31);
  });
});

describe('retrain scheduler', () => {
  it('catches up once at start when the scheduled run was missed (fake clock)', async () => {
    const runner = fakeRunner('2026-03-09T03:30:00Z');
    const s = new RetrainScheduler({ cron: '0 3 * * *', timezone: 'UTC', runner, now: () => new Date('2026-03-10T09:15:00Z') });
    try {
      expect(await s.missedRun()).toEqual(new Date('2026-03-10T03:00:00Z'));
      await s.start();
      expect(runner.started).toEqual(['catch-up']);
      expect(s.nextRun()).toBeInstanceOf(Date);
    } finally {
      s.stop();
    }
  });

  it('does not catch up when the last run is after the latest scheduled time, or when there is no record', async () => {
    for (const last of ['2026-03-10T03:05:00Z', undefined]) {
      const runner = fakeRunner(last);
      const s = new RetrainScheduler({ cron: '0 3 * * *', timezone: 'UTC', runner, now: () => new Date('2026-03-10T09:15:00Z') });
      try {
        await s.start();
        expect(runner.started).toEqual([]);
      } finally {
        s.stop();
      }
    }
  });

  it('still runs a tick that fires late because the event loop was busy (node-cron alone drops it after 1 s)', async () => {
    // Every 4 s; the loop is blocked from just before a slot until 2.5 s after it (node-cron reads whole seconds: 2 s late).
    const runner = fakeRunner();
    const s = new RetrainScheduler({ cron: '*/4 * * * * *', runner });
    try {
      await s.start();
      let slot = Math.ceil(Date.now() / 4000) * 4000;
      if (slot - Date.now() < 300) slot += 4000;
      await new Promise((resolve) => setTimeout(resolve, slot - Date.now() - 200));
      while (Date.now() < slot + 2500); // busy, as a loaded machine or a long synchronous task would be
      // The late tick runs as soon as the loop is free, before the next slot (slot + 4 s).
      await waitFor(() => runner.started.length >= 1, 1000, 'the late tick to run');
      expect(Date.now()).toBeLessThan(slot + 4000);
    } finally {
      s.stop();
    }
    expect(runner.started).toEqual(['schedule']);
  });

  it('skips a tick that comes while a run is going', async () => {
    // Every second; each run lasts 2.5 s, so the ticks in between find it busy.
    const runner = fakeRunner(undefined, 2500);
    const s = new RetrainScheduler({ cron: '* * * * * *', runner });
    try {
      await s.start();
      await waitFor(() => runner.started.length >= 2, 8000, 'a second scheduled run');
    } finally {
      s.stop();
    }
    expect(runner.started).toEqual(['schedule', 'schedule']);
    expect(runner.refused.length).toBeGreaterThanOrEqual(1);
    expect(runner.refused.every((t) => t === 'schedule')).toBe(true);
  });
});

describe('catch-up after failed runs', () => {
  const outcome = (kind: RunOutcome['outcome'], finishedAt: string): RunOutcome => ({
    id: finishedAt,
    trigger: 'catch-up',
    startedAt: finishedAt,
    maxMinutes: 1,
    outcome: kind,
    reason: kind === 'failed' ? 'unknown characters: ""' : 'ok',
    finishedAt,
    seconds: 1,
  });

  it('waits a growing backoff after each failed run before catching up again (the controller\'s own records)', async () => {
    const l = await makeLayout(100);
    const c = l.controller(async () => undefined);
    let now = new Date('2026-03-10T09:15:00Z');
    const s = new RetrainScheduler({ cron: '0 3 * * *', timezone: 'UTC', runner: c, now: () => now });
    try {
      await c.records.record(outcome('published', '2026-03-09T03:30:00.000Z'));
      expect(await s.missedRun()).toEqual(new Date('2026-03-10T03:00:00Z'));
      // A catch-up failed at 09:05; a restart at 09:15 does not retry it at once.
      await c.records.record(outcome('failed', '2026-03-10T09:05:00.000Z'));
      expect(await s.missedRun()).toBeUndefined();
      expect(await c.failures()).toEqual({ count: 1, lastAt: new Date('2026-03-10T09:05:00.000Z') });
      await s.start();
      expect((await c.status()).running).toBeUndefined();
      now = new Date(Date.parse('2026-03-10T09:05:00Z') + catchUpBackoffMs(1) + 1000);
      expect(await s.missedRun()).toEqual(new Date('2026-03-10T03:00:00Z'));
      // A second failure doubles the wait; a completed run clears the count.
      await c.records.record(outcome('failed', '2026-03-10T09:20:00.000Z'));
      expect(await c.failures()).toMatchObject({ count: 2 });
      now = new Date(Date.parse('2026-03-10T09:20:00Z') + catchUpBackoffMs(1) + 1000);
      expect(await s.missedRun()).toBeUndefined();
      now = new Date(Date.parse('2026-03-10T09:20:00Z') + catchUpBackoffMs(2) + 1000);
      expect(await s.missedRun()).toEqual(new Date('2026-03-10T03:00:00Z'));
      await c.records.record(outcome('rejected', '2026-03-10T10:30:00.000Z'));
      expect(await c.failures()).toBeUndefined();
    } finally {
      s.stop();
      await l.closeControllers();
      await l.remove();
    }
    expect([1, 2, 3, 10].map(catchUpBackoffMs)).toEqual([15 * 60_000, 30 * 60_000, 60 * 60_000, 24 * 3_600_000]);
  });
});

describe('the completed-run time the catch-up compares with', () => {
  it('is read from state files written before it was renamed from lastSuccessAt', async () => {
    const records = new RunRecords(await mkdtemp(path.join(tmpdir(), 'records-')));
    await writeFile(records.stateFile, JSON.stringify({ lastSuccessAt: '2026-03-09T03:30:00.000Z' }));
    expect(await records.state()).toEqual({ lastCompletedAt: '2026-03-09T03:30:00.000Z' });
  });
});
