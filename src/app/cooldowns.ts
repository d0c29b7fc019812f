// Per-user cooldown for expensive commands: a user who just asked waits a few
// seconds, so one person cannot fill the generation queue.
/** Where cooldowns live: this process (Cooldowns) or a store shared by replicas (src/shared/redis.ts). */
export interface CooldownStore {
  take(userId: string): number | Promise<number>;
  release(userId: string): void | Promise<void>;
}

export class Cooldowns implements CooldownStore {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly seconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the user's cooldown and returns 0, or returns the whole seconds left to wait. */
  take(userId: string): number {
    const now = this.now();
    const until = this.until.get(userId) ?? 0;
    if (until > now) return Math.ceil((until - now) / 1000);
    if (this.seconds > 0) this.until.set(userId, now + this.seconds * 1000);
    this.prune(now);
    return 0;
  }

  /** Forgets the user's cooldown (their request was refused, so it should not count). */
  release(userId: string): void {
    this.until.delete(userId);
  }

  // Bounded memory: drop expired entries now and then.
  private prune(now: number): void {
    if (this.until.size < 1000) return;
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
  }
}
