/**
 * Small shared helpers for the fake Discord: snowflake ids, bounded waitable
 * record logs, JSON helpers.
 */
import { randomBytes } from 'node:crypto';

/** Any JSON object as received from / sent to the bot. */
export type JsonObject = Record<string, unknown>;

/** Discord epoch (2015-01-01T00:00:00Z), as used in snowflakes. */
const DISCORD_EPOCH = 1420070400000n;

/**
 * Time-based snowflake generator. discord.js derives `createdTimestamp` from
 * ids, so ids must be numeric strings that encode a plausible time.
 */
export class SnowflakeGenerator {
  #increment = 0n;

  next(atMs: number = Date.now()): string {
    this.#increment = (this.#increment + 1n) & 0xfffn;
    const workerId = 1n;
    const processId = 1n;
    const id = ((BigInt(atMs) - DISCORD_EPOCH) << 22n) | (workerId << 17n) | (processId << 12n) | this.#increment;
    return id.toString();
  }
}

/** Random URL-safe token, shaped like Discord's interaction tokens. */
export function randomToken(prefix: string): string {
  return `${Buffer.from(prefix).toString('base64url')}.${randomBytes(48).toString('base64url')}`;
}

export function deepClone<T>(value: T): T {
  return structuredClone(value);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality for JSON values (key order insensitive). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keysA = Object.keys(a).filter((key) => a[key] !== undefined);
    const keysB = Object.keys(b).filter((key) => b[key] !== undefined);
    return keysA.length === keysB.length && keysA.every((key) => jsonEqual(a[key], b[key]));
  }
  return false;
}

/** Thrown by every bounded wait of the fake when its time runs out. */
export class FakeDiscordTimeoutError extends Error {
  override name = 'FakeDiscordTimeoutError';
}

/** Thrown to pending waiters when the fake is closed. */
export class FakeDiscordClosedError extends Error {
  override name = 'FakeDiscordClosedError';
}

interface Waiter<T> {
  predicate: (item: T) => boolean;
  fromIndex: number;
  resolve: (item: T) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Append-only log of records that tests can read and wait on. Bounded: once
 * `maxItems` is exceeded the oldest records are dropped (indices stay absolute).
 */
export class RecordLog<T> {
  #items: T[] = [];
  #dropped = 0;
  #waiters = new Set<Waiter<T>>();
  #closedReason: string | null = null;

  constructor(
    readonly label: string,
    private readonly maxItems = 10_000,
  ) {}

  /** Records currently held (oldest may have been dropped). */
  get items(): readonly T[] {
    return this.#items;
  }

  /** Absolute index the next pushed record will get. */
  get nextIndex(): number {
    return this.#dropped + this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.maxItems) {
      this.#items.shift();
      this.#dropped++;
    }
    const index = this.nextIndex - 1;
    for (const waiter of this.#waiters) {
      if (index >= waiter.fromIndex && waiter.predicate(item)) this.#settle(waiter, () => waiter.resolve(item));
    }
  }

  /** First record at absolute index >= fromIndex matching the predicate, if any. */
  find(predicate: (item: T) => boolean, fromIndex = 0): T | undefined {
    const start = Math.max(0, fromIndex - this.#dropped);
    for (let i = start; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (predicate(item)) return item;
    }
    return undefined;
  }

  /**
   * Resolves with the first record (already present or future) at absolute
   * index >= fromIndex that matches; rejects with FakeDiscordTimeoutError after
   * timeoutMs, or FakeDiscordClosedError if the log is closed first.
   */
  waitFor(
    predicate: (item: T) => boolean,
    { timeoutMs, description, fromIndex = 0 }: { timeoutMs: number; description: string; fromIndex?: number },
  ): Promise<T> {
    const existing = this.find(predicate, fromIndex);
    if (existing !== undefined) return Promise.resolve(existing);
    if (this.#closedReason !== null) {
      return Promise.reject(new FakeDiscordClosedError(`fake-discord: ${this.#closedReason} (waiting for ${description})`));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        fromIndex,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#settle(waiter, () =>
            reject(
              new FakeDiscordTimeoutError(
                `fake-discord: timed out after ${timeoutMs} ms waiting for ${description} ` +
                  `(${this.label}: ${this.#items.length} record(s) seen)`,
              ),
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Rejects every pending waiter; later waits reject immediately. */
  close(reason: string): void {
    this.#closedReason = reason;
    for (const waiter of this.#waiters) {
      this.#settle(waiter, () => waiter.reject(new FakeDiscordClosedError(`fake-discord: ${reason}`)));
    }
  }

  #settle(waiter: Waiter<T>, action: () => void): void {
    if (!this.#waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    action();
  }
}

/** Rejects with a clear error if `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new FakeDiscordTimeoutError(`fake-discord: timed out after ${ms} ms: ${description}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
