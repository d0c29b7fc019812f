// The trainer process, forked (at low priority) by RetrainController: takes
// the retrain lock, runs one retrain, and reports progress and the result over
// IPC. It never outlives the bot: when the IPC channel closes (the bot exited
// or was killed), or on SIGTERM/SIGINT, it releases the lock and exits at once,
// except while publishing: the publish (seconds) finishes first, so what it
// reports is what happened. Nothing half-done becomes visible: the registry
// publishes by rename.
import { log } from '../log.js';
import { acquireLock, type HeldLock } from './lock.js';
import type { FromTrainer, ToTrainer } from './protocol.js';
import { retrain, type RunProgress } from './retrain.js';

const PROGRESS_INTERVAL_MS = 1000;

if (!process.send) {
  console.error('src/training/trainer-process.ts is started by RetrainController over IPC, not by hand');
  process.exit(2);
}

/** Resolves once the message was handed to the channel, so exiting afterwards does not lose it. */
const send = (m: FromTrainer) => new Promise<void>((resolve) => (process.connected ? process.send!(m, undefined, {}, () => resolve()) : resolve()));

let lock: HeldLock | undefined;
let publishing = false;
const exitNow = (why: string) => {
  if (publishing) {
    log.warn({ why }, 'trainer stopping once the publish in progress is done');
    return;
  }
  log.warn({ why }, 'trainer stopping now; nothing is published');
  lock?.release();
  process.exit(1);
};
process.on('disconnect', () => exitNow('the bot went away'));
process.on('SIGTERM', () => exitNow('SIGTERM'));
process.on('SIGINT', () => exitNow('SIGINT'));

const stop = new AbortController();
const start = await new Promise<Extract<ToTrainer, { type: 'start' }>>((resolve) => {
  process.on('message', (m: ToTrainer) => {
    if (m.type === 'start') resolve(m);
    else stop.abort();
  });
});

// Progress at a modest rate; every phase change goes out at once.
let lastSent = 0;
let lastPhase = '';
const onProgress = (progress: RunProgress) => {
  publishing = progress.phase === 'publishing';
  const now = performance.now();
  if (progress.phase === lastPhase && now - lastSent < PROGRESS_INTERVAL_MS) return;
  lastSent = now;
  lastPhase = progress.phase;
  void send({ type: 'progress', progress });
};

try {
  lock = acquireLock(start.lockFile, start.runId);
  const result = await retrain(start.job, { signal: stop.signal, onProgress });
  lock.release();
  await send({ type: 'result', result });
} catch (err) {
  log.error({ err }, 'retrain failed');
  lock?.release();
  await send({ type: 'error', message: (err as Error).message });
}
process.exit(0);
