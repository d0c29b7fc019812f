// State shared by replicas when REDIS_URL is set (ioredis): per-user
// cooldowns, replay protection for signed interactions, and announcements of
// a newly served version over pub/sub, so every replica swaps within a
// second (the registry pointer poll stays as the fallback). Keys are scoped
// to the model: bardbot:<model>:…
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { CooldownStore } from '../app/cooldowns.js';
import type { FirstSeen } from '../http/endpoint.js';
import { MAX_SKEW_SECONDS } from '../http/verify.js';
import { log } from '../log.js';

/** How long start-up waits for Redis before giving up (the process then exits, as with a bad config). */
const CONNECT_TIMEOUT_MS = 10_000;

export class SharedState {
  /** This process, to tell its own announcements from others'. */
  readonly instance = `${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly prefix: string;
  private subscriber: Redis | undefined;

  private constructor(
    readonly redis: Redis,
    modelName: string,
  ) {
    this.prefix = `bardbot:${modelName}:`;
  }

  static async connect(url: string, modelName: string): Promise<SharedState> {
    // Commands fail fast while Redis is away instead of queueing without bound.
    const redis = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: CONNECT_TIMEOUT_MS, lazyConnect: true });
    redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
    await redis.connect();
    const shared = new SharedState(redis, modelName);
    log.info({ instance: shared.instance }, 'shared state in Redis');
    return shared;
  }

  key(name: string): string {
    return this.prefix + name;
  }

  /** Cooldowns every replica sees: one key per user that expires by itself. */
  cooldowns(seconds: number): CooldownStore {
    return {
      take: async (userId) => {
        if (seconds <= 0) return 0;
        const key = this.key(`cooldown:${userId}`);
        if ((await this.redis.set(key, '1', 'PX', seconds * 1000, 'NX')) === 'OK') return 0;
        const left = await this.redis.pttl(key);
        return Math.max(1, Math.ceil(left / 1000));
      },
      release: async (userId) => {
        await this.redis.del(this.key(`cooldown:${userId}`));
      },
    };
  }

  /** Replay protection across replicas: an interaction id is taken once while its signature could still be accepted. */
  firstSeen: FirstSeen = async (id) => (await this.redis.set(this.key(`interaction:${id}`), '1', 'EX', 2 * MAX_SKEW_SECONDS, 'NX')) === 'OK';

  /** Tells every replica that `version` is now current. */
  async announceVersion(version: string): Promise<void> {
    await this.redis.publish(this.key('version'), JSON.stringify({ version, from: this.instance }));
  }

  /** Calls `onAnnounced` when another replica announces a version. */
  async onVersion(onAnnounced: (version: string) => void): Promise<void> {
    this.subscriber ??= this.redis.duplicate();
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
