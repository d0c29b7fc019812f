// The retrain lock: one file per model that keeps two retrains (in any
// processes) from training and publishing at once. It names its holder; a lock
// whose holder is gone (killed trainer, crashed host) is stale and replaced.
//
// The file appears complete or not at all (written aside, then hard-linked,
// which fails if a lock exists), so a reader never sees half a lock. Sync I/O:
// it is a few bytes, and release must work inside exit handlers.
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { log } from '../log.js';

export interface LockHolder {
  pid: number;
  startedAt: string;
  /** The holder's entry script, to tell a live holder from a reused pid. */
  script: string;
  runId?: string;
}

export class LockHeldError extends Error {
  constructor(readonly holder: LockHolder) {
    super(`another process (pid ${holder.pid}) has been retraining since ${holder.startedAt}`);
    this.name = 'LockHeldError';
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  // Our own pid in a lock we are only now acquiring was left by an earlier process.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // After a restart (containers especially) the pid may belong to something else now.
  try {
    return readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').includes(holder.script);
  } catch {
    return true;
  }
}

/** The holder of the lock at `file` if it is alive; undefined when free or stale. */
export function liveHolder(file: string): LockHolder | undefined {
  const holder = readHolder(file);
  return holder && isAlive(holder) ? holder : undefined;
}

/** Removes the lock if `pid` holds it and is gone: a trainer killed (SIGKILL) before it could release it. */
export function releaseIfDead(file: string, pid: number): void {
  const holder = readHolder(file);
  if (holder?.pid === pid && !isAlive(holder)) unlinkIfPresent(file);
}

export interface HeldLock {
  holder: LockHolder;
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void;
}

/** Takes the lock or throws LockHeldError; a stale lock is removed (and logged) first. */
export function acquireLock(file: string, runId?: string): HeldLock {
  mkdirSync(path.dirname(file), { recursive: true });
  const holder: LockHolder = { pid: process.pid, startedAt: new Date().toISOString(), script: process.argv[1] ?? '', runId };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(holder) + '\n');
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, file);
        return { holder, release: () => releaseIfOurs(file, holder) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const existing = readHolder(file);
      if (existing && isAlive(existing)) throw new LockHeldError(existing);
      log.warn({ file, stale: existing ?? 'unreadable' }, 'removing a stale retrain lock: its process is gone');
      unlinkIfPresent(file);
    }
    // Someone else took the lock between our unlink and link.
    const winner = readHolder(file);
    throw winner ? new LockHeldError(winner) : new Error(`could not take the retrain lock ${file}`);
  } finally {
    unlinkSync(tmp);
  }
}

function releaseIfOurs(file: string, holder: LockHolder): void {
  const current = readHolder(file);
  if (current?.pid === holder.pid && current.startedAt === holder.startedAt) unlinkIfPresent(file);
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
