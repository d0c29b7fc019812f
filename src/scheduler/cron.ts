// Cron helpers node-cron lacks: checking a schedule (expression and time zone)
// with a message fit for a config error, and the latest scheduled time before
// now, which the catch-up rule needs (node-cron only computes next runs, from
// the real clock). No logger import: src/config.ts may use scheduleProblem.
import { validateDetailed } from 'node-cron';

/** How far back previousRun looks: every daily, weekly or monthly schedule has a run in it. */
export const LOOKBACK_DAYS = 32;

/** Why `expression` in `timezone` is not a usable schedule; undefined when it is. */
export function scheduleProblem(expression: string, timezone?: string): string | undefined {
  const check = validateDetailed(expression);
  if (!check.valid) return `"${expression}" is not a cron expression: ${check.errors.map((e) => e.message).join('; ')}`;
  if (timezone === undefined) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return `"${timezone}" is not a time zone (use an IANA name such as Europe/Paris or UTC)`;
  }
}

/**
 * The latest time in (after, now] at which the schedule fires, or undefined.
 * Walks back minute by minute, trying the expression's seconds, with the
 * schedule's own matcher (so time zones and DST are node-cron's); about 10 µs
 * a minute, so a nightly schedule costs milliseconds and the bound
 * (LOOKBACK_DAYS) well under a second.
 */
export function previousRun(matches: (d: Date) => boolean, seconds: readonly number[], now: Date, after: Date): Date | undefined {
  const floor = Math.max(after.getTime(), now.getTime() - LOOKBACK_DAYS * 86_400_000);
  const descending = [...seconds].sort((a, b) => b - a);
  for (let minute = Math.floor(now.getTime() / 60_000) * 60_000; minute + 59_000 > floor; minute -= 60_000) {
    for (const s of descending) {
      const t = minute + s * 1000;
      if (t <= now.getTime() && t > floor && matches(new Date(t))) return new Date(t);
    }
  }
  return undefined;
}
