// The retrain controller with real trainer processes: low priority, progress
// over IPC, one run at a time (here and across processes), cancel, shutdown,
// a trainer SIGKILLed mid-run, and a bot that dies mid-run.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RetrainBusyError, RetrainController, type RetrainOptions } from '../src/training/controller.js';
import { liveHolder } from '../src/training/lock.js';
import type { RunProgress } from '../src/training/retrain.js';
import type { RunOutcome } from '../src/training/run-records.js';
import { makeLayout, reaches, type Layout } from './helpers/retrain-fixture.js';
import { isAlive, waitFor } from './helpers/wait.js';

let l: Layout;
let swaps = 0;
/** Trainer processes on a busy machine: a generous bound; the waits inside are event-driven. */
const PROCESS_TEST_MS = 300_000;

beforeAll(async () => {
  l = await makeLayout();
});

// A failed test must not leave a trainer holding the lock for the next one.
afterEach(() => l.closeControllers());
afterAll(() => l?.remove());

function controller(over: Partial<RetrainOptions> = {}) {
  return l.controller(async () => void swaps++, { cancelGraceMs: 5000, ...over });
}

/** Starts a run and resolves with its outcome and the trainer's pid once it is in the training loop. */
async function startTraining(c: RetrainController, req: Parameters<RetrainController['start']>[0]): Promise<{ done: Promise<RunOutcome>; pid: number }> {
  const training = reaches(c, 'training');
  const done = c.start(req);
  await training;
  return { done, pid: (await c.status()).running!.pid! };
}

const historyLines = async () => (await readFile(path.join(l.runDir, 'retrain-history.jsonl'), 'utf8')).trim().split('\n').map((s) => JSON.parse(s));

describe('retrain controller', () => {
  it('trains in a low-priority child process, reports progress, publishes, swaps and records the run', async () => {
    const c = controller();
    const progress: RunProgress[] = [];
    c.on('progress', (p) => progress.push(p));
    // The bot runs with scripts/launch.sh's malloc thresholds; the trainer must start with glibc's own (runtime/malloc.ts).
    const saved = process.env.MALLOC_MMAP_THRESHOLD_;
    process.env.MALLOC_MMAP_THRESHOLD_ = '4194304';
    const { done, pid } = await startTraining(c, { trigger: 'admin', userId: '123456789012345678', epochs: 2 }).finally(() => {
      if (saved === undefined) delete process.env.MALLOC_MMAP_THRESHOLD_;
      else process.env.MALLOC_MMAP_THRESHOLD_ = saved;
    });
    expect(pid).not.toBe(process.pid);
    expect(os.getPriority(pid)).toBe(19);
    if (process.platform === 'linux') expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).not.toContainEqual(expect.stringMatching(/^MALLOC_MMAP_THRESHOLD_=/));
    expect(() => c.start({ trigger: 'schedule' })).toThrow(RetrainBusyError);
    expect(() => c.start({ trigger: 'schedule' })).toThrow(/already running \(admin by 123456789012345678/);
    expect(liveHolder(c.lockFile)?.pid).toBe(pid);

    const outcome = await done;
    expect(outcome).toMatchObject({ outcome: 'published', version: 'v1', trigger: 'admin', userId: '123456789012345678', start: 'scratch', epochs: 2 });
    expect(swaps).toBe(1);
    const training = progress.filter((p) => p.phase === 'training');
    expect(training.length).toBeGreaterThan(0);
    expect(training.at(-1)).toMatchObject({ epochs: 2, stepsPerEpoch: expect.any(Number), loss: expect.any(Number), charsPerSec: expect.any(Number), etaSec: expect.any(Number) });
    expect(existsSync(c.lockFile)).toBe(false);
    expect(await historyLines()).toEqual([outcome]);
    expect(await c.lastCompletedAt()).toEqual(new Date(outcome.finishedAt));
    expect((await c.status()).last).toEqual(outcome);
    expect((await controller().status()).last).toEqual(outcome);
  }, PROCESS_TEST_MS);

  it('survives a trainer killed mid-run: nothing is published, its lock is released, a stale lock is replaced, the next run works', async () => {
    const c = controller();
    const lastCompleted = await c.lastCompletedAt();
    const { done, pid } = await startTraining(c, { trigger: 'schedule', epochs: 500 });
    process.kill(pid, 'SIGKILL');
    const outcome = await done;
    expect(outcome).toMatchObject({ outcome: 'failed', trigger: 'schedule' });
    expect(outcome.reason).toMatch(/killed by SIGKILL/);
    expect(await l.registry.versions(l.name)).toEqual(['v1']);
    expect((await l.registry.readPointer(l.name))?.version).toBe('v1');
    expect(await c.lastCompletedAt()).toEqual(lastCompleted);
    // The controller removed the lock its killed trainer could not release.
    expect(existsSync(c.lockFile)).toBe(false);
    // One whose holder died with its controller (a crashed host) is stale, and replaced by the next run.
    await writeFile(c.lockFile, JSON.stringify({ pid, startedAt: new Date().toISOString(), script: 'trainer-process' }) + '\n');
    expect(liveHolder(c.lockFile)).toBeUndefined();

    const next = await c.start({ trigger: 'admin', epochs: 1 });
    expect(next).toMatchObject({ outcome: 'published', version: 'v2', start: 'warm', servingVersion: 'v1' });
    expect(existsSync(c.lockFile)).toBe(false);
  }, PROCESS_TEST_MS);

  it('cancels over IPC: the run stops promptly and publishes nothing', async () => {
    const c = controller({ cancelGraceMs: 120_000 });
    const { done } = await startTraining(c, { trigger: 'admin', epochs: 500 });
    const t0 = Date.now();
    const outcome = await c.cancel('tester');
    // Well within the grace period: the trainer stopped by itself, no signal needed.
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(outcome).toMatchObject({ outcome: 'cancelled', reason: 'cancelled by tester' });
    expect(await done).toEqual(outcome);
    expect(await l.registry.versions(l.name)).toEqual(['v1', 'v2']);
    expect(await c.cancel()).toBeUndefined();
  }, PROCESS_TEST_MS);

  it('close() stops the trainer, releases the lock and refuses new runs', async () => {
    const c = controller();
    const { done, pid } = await startTraining(c, { trigger: 'schedule', epochs: 500 });
    await c.close();
    expect(await done).toMatchObject({ outcome: 'cancelled', reason: 'the bot is shutting down' });
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(c.lockFile)).toBe(false);
    expect(() => c.start({ trigger: 'admin' })).toThrow(/shut down/);
  }, PROCESS_TEST_MS);

  it('refuses to start while another live process holds the lock', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const c = controller();
      await mkdir(path.dirname(c.lockFile), { recursive: true });
      await writeFile(c.lockFile, JSON.stringify({ pid: sleeper.pid, startedAt: new Date().toISOString(), script: 'sleep' }));
      expect(() => c.start({ trigger: 'schedule' })).toThrow(new RegExp(`another process \\(pid ${sleeper.pid}\\) has been retraining`));
    } finally {
      sleeper.kill('SIGKILL');
      await rm(path.join(l.runDir, 'retrain.lock'), { force: true });
    }
  }, PROCESS_TEST_MS);

  it('leaves no orphan trainer and no lock when the bot dies mid-run', async () => {
    const bot = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/retrain-bot.ts', l.root, l.name], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: bot.stdout! });
      const trainerPid = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for the fixture bot to start training')), 180_000);
        lines.on('line', (line) => {
          const m = /^TRAINER (\d+)$/.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      expect(isAlive(trainerPid)).toBe(true);
      bot.kill('SIGKILL');
      await waitFor(() => !isAlive(trainerPid), 60_000, 'the orphaned trainer to exit');
      expect(existsSync(path.join(l.runDir, 'retrain.lock'))).toBe(false);
    } finally {
      bot.kill('SIGKILL');
    }
  }, PROCESS_TEST_MS);
});
