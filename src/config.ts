// The bot's whole configuration: one zod schema over environment variables
// (with .env loaded by dotenv), checked once at start with messages that name
// the variable. Keys are the variable names, so adding a setting (e.g. the
// RETRAIN_* ones) is one line here plus one in .env.example.
//
// This module must not import src/log.ts: the logger reads LOG_LEVEL when it
// is imported, so entry points validate the config first.
import dotenv from 'dotenv';
import { z } from 'zod';
import { BACKENDS } from './ml/backend-names.js';
import { scheduleProblem } from './scheduler/cron.js';

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord id (17 to 20 digits)');
const number = () =>
  z.coerce.number({
    error: (issue) => (issue.code !== 'invalid_type' ? undefined : issue.expected === 'int' ? 'must be a whole number' : 'must be a number'),
  });
/** Node's timers fire at once past 2^31 − 1 ms (24.8 days): no duration may come near it. */
const TIMER_LIMIT_MS = 2 ** 31 - 1;
/**
 * A duration from `min` to `max` (in `unit`s of `ms` milliseconds), or 0 where
 * `zero` says what 0 means; so a typo can neither poll every millisecond nor
 * become a timer that fires at once.
 */
function duration(unit: string, ms: number, min: number, max: number, zero?: string) {
  if (max * ms >= TIMER_LIMIT_MS) throw new Error(`a ${unit} setting's bound ${max} is past Node's timer limit`);
  const range = `from ${min} to ${max} ${unit}${zero ? ` (0: ${zero})` : ''}`;
  return number().refine((v) => (zero !== undefined && v === 0) || (v >= min && v <= max), { error: `must be ${range}` });
}
const backend = z.enum(BACKENDS, { error: `must be one of ${BACKENDS.join(', ')}` });
const snowflakeList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(snowflake));

const fields = z.object({
  /** Bot token; without it the bot runs in console mode. */
  DISCORD_TOKEN: z.string().regex(/^\S+$/, 'must not contain spaces').optional(),
  /** Discord's REST API; the gateway URL is asked from its /gateway/bot. */
  DISCORD_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://discord.com/api'),
  /** Register commands in this guild only (instant) instead of globally. */
  DISCORD_GUILD_ID: snowflake.optional(),
  MODELS_DIR: z.string().min(1).default('models'),
  MODEL_NAME: z.string().regex(/^[\w-]+$/, 'must be letters, digits, - or _').default('shakespeare'),
  /** How often to look for a new current version in the registry (0: never). */
  MODEL_WATCH_SECONDS: duration('seconds', 1000, 0.5, 3600, 'never').default(5),
  GEN_WORKERS: number().int().min(1).max(64).optional(),
  // Past this, "busy, try again in N s" beats a long wait: at 1024 an
  // overloaded soak (2x512 model) left 3,212 of 10,000 unanswered after 30 s
  // and grew the workers' WebAssembly heaps with the batch (+45 % RSS).
  GEN_MAX_QUEUE: number().int().min(1).default(256),
  /** Per-user wait between two generations (0: none). */
  COOLDOWN_SECONDS: duration('seconds', 1000, 0, 86_400).default(5),
  /** Users allowed to run admin commands besides members with Manage Server. */
  ADMIN_USER_IDS: snowflakeList.default([]),
  /** How long SIGINT/SIGTERM waits for commands in flight. */
  SHUTDOWN_GRACE_SECONDS: duration('seconds', 1000, 0, 3600).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Corpus folders: DATA_DIR/<model>/*.txt. */
  DATA_DIR: z.string().min(1).default('data'),
  /** The largest file /corpus add takes, in MiB (Discord's own upload limit is 10 MiB without boosts). */
  CORPUS_MAX_UPLOAD_MB: number().min(0.001).max(1024).default(10),
  /** How long /corpus add may take to download a file. */
  CORPUS_DOWNLOAD_TIMEOUT_SECONDS: duration('seconds', 1000, 0.1, 3600).default(30),
  /** Training runs, checkpoints, retrain lock, history and state: RUNS_DIR/<model>/. */
  RUNS_DIR: z.string().min(1).default('runs'),
  /** The nightly schedule (and its catch-up at start); /retrain works either way. */
  RETRAIN_ENABLED: z.stringbool({ error: 'must be true or false' }).default(true),
  RETRAIN_CRON: z.string().default('0 3 * * *'),
  /** IANA time zone of RETRAIN_CRON; default: the machine's. */
  RETRAIN_TIMEZONE: z.string().optional(),
  RETRAIN_MAX_MINUTES: duration('minutes', 60_000, 0.5, 14 * 24 * 60).default(60),
  /** Epochs per run; default: what the serving version was trained with. */
  RETRAIN_EPOCHS: number().int().min(1).optional(),
  /** Nats a candidate may be worse than the serving model and still be published. */
  RETRAIN_TOLERANCE: number().default(0),
  RETRAIN_KEEP_VERSIONS: number().int().min(2).default(5),
  /** Channel that gets the outcome of every retrain. */
  RETRAIN_REPORT_CHANNEL_ID: snowflake.optional(),
  /** Pin the tfjs backend of both jobs, or of one (read by src/ml/backend.ts; the per-job one wins). */
  BARDBOT_BACKEND: backend.optional(),
  BARDBOT_GENERATE_BACKEND: backend.optional(),
  BARDBOT_TRAIN_BACKEND: backend.optional(),
  /** gateway: one websocket connection; http: Discord POSTs interactions to /interactions (needs DISCORD_PUBLIC_KEY). */
  DISCORD_MODE: z.enum(['gateway', 'http']).default('gateway'),
  /** Gateway shards, each in a process of its own (discord.js's ShardingManager); auto: Discord's recommended count; unset: one process, no manager. */
  SHARD_COUNT: z
    .string()
    .regex(/^(auto|[1-9]\d{0,4})$/, 'must be auto or a whole number of shards (1 or more)')
    .transform((v) => (v === 'auto' ? ('auto' as const) : Number(v)))
    .optional(),
  DISCORD_PUBLIC_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (Developer Portal → General Information)').optional(),
  /** The HTTP server (/healthz, /readyz, /metrics, /interactions); unset: off in gateway mode, 8080 in http mode. */
  HTTP_PORT: number().int().min(0).max(65_535).optional(),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** Shared state across replicas (cooldowns, retrain lock, version announcements); unset: all in-process. */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
});

const configSchema = fields.superRefine((c, ctx) => {
  if (c.DISCORD_MODE === 'http' && !c.DISCORD_PUBLIC_KEY) ctx.addIssue({ code: 'custom', path: ['DISCORD_PUBLIC_KEY'], message: 'is required when DISCORD_MODE=http' });
  // Shards are gateway connections: HTTP interactions mode has none, console mode no Discord at all.
  if (c.SHARD_COUNT !== undefined && c.DISCORD_MODE === 'http') ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: 'is for gateway mode (DISCORD_MODE=http has no gateway connection to shard)' });
  else if (c.SHARD_COUNT !== undefined && !c.DISCORD_TOKEN) ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: 'needs DISCORD_TOKEN (console mode has no gateway)' });
  // node-cron's own checks, so a bad schedule stops the bot at start, not at 3 a.m.
  const cron = scheduleProblem(c.RETRAIN_CRON);
  const zone = cron ? undefined : scheduleProblem(c.RETRAIN_CRON, c.RETRAIN_TIMEZONE);
  if (cron) ctx.addIssue({ code: 'custom', path: ['RETRAIN_CRON'], message: cron });
  if (zone) ctx.addIssue({ code: 'custom', path: ['RETRAIN_TIMEZONE'], message: zone });
});

export type Config = z.infer<typeof configSchema>;

/** Variables whose values never appear in messages. */
const SECRET = new Set(['DISCORD_TOKEN', 'REDIS_URL']);

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\n(see .env.example)`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws ConfigError naming every bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`DISCORD_GUILD_ID=` in .env) means "not set".
  const input = Object.fromEntries(Object.keys(fields.shape).flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      const value = SECRET.has(key) ? '' : ` (got ${JSON.stringify(input[key])})`;
      return `${issue.path.join('.')}: ${issue.message}${value}`;
    }),
  );
}

/**
 * For entry points: loads .env into process.env (variables already set win),
 * validates, and on a problem prints it and exits 1.
 */
export function loadConfigOrExit(): Config {
  dotenv.config({ quiet: true });
  try {
    return parseConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`bardbot: ${err.message}\n`);
    process.exit(1);
  }
}
