// State shared by replicas when REDIS_URL is set (ioredis): per-user
// cooldowns, replay protection for signed interactions, and announcements of
// a newly served version over pub/sub, so every replica swaps within a
// second (the registry pointer poll stays as the fallback). Keys are scoped
// to the model: bardbot:<model>:…
//
// Redis going away must not stop serving: every command is bounded
// (COMMAND_TIMEOUT_MS, here only), cooldowns and replay protection fall back
// to this process's own while it is unreachable (fail open: signatures and
// the 5-minute window are still checked), and `unavailable()` says so for
// /readyz. The retrain lock fails closed instead (src/shared/cluster.ts).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { Cooldowns, type CooldownStore } from '../app/cooldowns.js';
import { recentIds, type FirstSeen } from '../http/endpoint.js';
import { MAX_SKEW_SECONDS } from '../http/verify.js';
import { log } from '../log.js';

/** How long start-up waits for Redis before giving up (the process then exits, as with a bad config). */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * The longest any Redis command may take, queued or sent: a stopped or
 * partitioned Redis (an open socket that never answers) would otherwise hang
 * every interaction that takes a cooldown. Well under Discord's 3 s.
 */
const COMMAND_TIMEOUT_MS = 500;

export class SharedState {
  /** This process, to tell its own announcements from others'. */
  readonly instance = `${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly prefix: string;
  private subscriber: Redis | undefined;
  /** Why the last command failed, while no command has succeeded since. */
  private failing: string | undefined;

  private constructor(
    readonly redis: Redis,
    modelName: string,
  ) {
    this.prefix = `bardbot:${modelName}:`;
  }

  static async connect(url: string, modelName: string): Promise<SharedState> {
    // Commands fail fast while Redis is away instead of queueing without bound.
    // Commands fail fast while Redis is away instead of queueing without bound; reconnecting goes on (ioredis's default backoff, at most 2 s).
    const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: CONNECT_TIMEOUT_MS, commandTimeout: COMMAND_TIMEOUT_MS, lazyConnect: true });
    redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
    await redis.connect();
    const shared = new SharedState(redis, modelName);
    log.info({ instance: shared.instance }, 'shared state in Redis');
    return shared;
  }

  key(name: string): string {
    return this.prefix + name;
  }

  /** Another connection with the same settings (pub/sub needs its own), its errors logged. */
  duplicate(): Redis {
    const r = this.redis.duplicate();
    r.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
    return r;
  }

  /** Why the shared state cannot be relied on now (Redis down or not answering); undefined when it can. */
  unavailable = (): string | undefined => {
    if (this.redis.status !== 'ready') return `Redis is unreachable (${this.redis.status})`;
    return this.failing && `Redis is not answering (${this.failing})`;
  };

  /** Runs a Redis call, noting whether Redis answered (for unavailable()); fails at once while disconnected, rather than after the timeout. */
  async track<T>(call: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') throw new Error(`Redis connection is ${this.redis.status}`);
    try {
      const result = await call();
      this.failing = undefined;
      return result;
    } catch (err) {
      this.failing = (err as Error).message;
      throw err;
    }
  }

  /** Logs the first failure of an outage, not one line per request. */
  private fallingBack(what: string, err: unknown): void {
    const first = this.failing === undefined;
    this.failing = (err as Error).message;
    if (first) log.warn({ err: this.failing }, `Redis is unavailable: ${what} are this process's own until it is back`);
  }

  /**
   * Cooldowns every replica sees: one key per user that expires by itself.
   * While Redis is unavailable, this process's own (fail open: a user may get
   * one request per replica through, rather than none at all).
   */
  cooldowns(seconds: number): CooldownStore {
    const local = new Cooldowns(seconds);
    return {
      take: async (userId) => {
        if (seconds <= 0) return 0;
        const key = this.key(`cooldown:${userId}`);
        try {
          return await this.track(async () => {
            if ((await this.redis.set(key, '1', 'PX', seconds * 1000, 'NX')) === 'OK') return 0;
            const left = await this.redis.pttl(key);
            return Math.max(1, Math.ceil(left / 1000));
          });
        } catch (err) {
          this.fallingBack('cooldowns', err);
          return local.take(userId);
        }
      },
      release: async (userId) => {
        local.release(userId);
        await this.track(() => this.redis.del(this.key(`cooldown:${userId}`))).catch((err: unknown) => this.fallingBack('cooldowns', err));
      },
    };
  }

  private readonly localSeen = recentIds();

  /**
   * Replay protection across replicas: an interaction id is taken once while
   * its signature could still be accepted. While Redis is unavailable, this
   * process's own (the signature and its 5-minute window still hold).
   */
  firstSeen: FirstSeen = async (id) => {
    try {
      return await this.track(async () => (await this.redis.set(this.key(`interaction:${id}`), '1', 'EX', 2 * MAX_SKEW_SECONDS, 'NX')) === 'OK');
    } catch (err) {
      this.fallingBack('replay checks', err);
      return this.localSeen(id);
    }
  };

  /** Tells every replica that `version` is now current. */
  async announceVersion(version: string): Promise<void> {
    await this.redis.publish(this.key('version'), JSON.stringify({ version, from: this.instance }));
  }

  /** Calls `onAnnounced` when another replica announces a version. */
  async onVersion(onAnnounced: (version: string) => void): Promise<void> {
    this.subscriber ??= this.duplicate();
    const channel = this.key('version');
    this.subscriber.on('message', (from: string, text: string) => {
      if (from !== channel) return;
      try {
        const message = JSON.parse(text) as { version: string; from: string };
        if (message.from !== this.instance) onAnnounced(message.version);
      } catch (err) {
        log.warn({ err, text }, 'ignored a malformed version announcement');
      }
    });
    await this.subscriber.subscribe(channel);
  }

  async close(): Promise<void> {
    const quit = async (r: Redis | undefined) => {
      if (!r || r.status === 'end') return;
      await Promise.race([r.quit().catch(() => undefined), once(r, 'end')]);
    };
    await Promise.all([quit(this.subscriber), quit(this.redis)]);
  }
}
