// One structured logger for the whole process (pino: JSON lines, pretty on a
// terminal). Logs go to stderr so that stdout carries only what a command
// prints (console mode's replies, `npm run generate`'s text).
//
// The level starts from LOG_LEVEL when it names a level (worker threads and
// child processes inherit the validated variable); entry points call
// setLogLevel() once the configuration is validated, so import order does not matter.
import { pino, type Level } from 'pino';

/**
 * TensorFlow's C++ logging (absl, the CPU-feature notice) goes straight to
 * stderr, past this logger; keep it out unless LOG_LEVEL asks for debug
 * output. libtensorflow 2.21 prints its "oneDNN custom operations are on"
 * notice whatever TF_CPP_MIN_LOG_LEVEL says, unless oneDNN is off; off, tfjs-node
 * trains ~25% slower here (still faster than wasm), so TF_ENABLE_ONEDNN_OPTS=1
 * in the environment buys that back at the cost of the notice. Both must be set
 * before libtensorflow loads, in the main thread: a worker thread's process.env
 * is a copy that native code never sees, and every thread and child process
 * imports this module first. Values already in the environment win.
 */
export function quietTensorFlow(env: NodeJS.ProcessEnv = process.env): void {
  if (env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace') return;
  env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  env.TF_ENABLE_ONEDNN_OPTS ??= '0';
}
quietTensorFlow();

const pretty = process.stderr.isTTY && process.env.LOG_FORMAT !== 'json';
const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const REDACTED = '[redacted]';
/** Interaction and webhook tokens sit in REST URLs (discord.js errors carry them in `url`). */
const URL_TOKEN = /(\/(?:interactions|webhooks)\/\d+\/)[\w.-]+/g;
/** The shape of a Discord bot token (id.timestamp.hmac), wherever it shows up. */
const BOT_TOKEN = /[\w-]{23,28}\.[\w-]{6,7}\.[\w-]{27,}/g;

/**
 * Removes secrets from a finished log line: every field, message and stack,
 * whatever a future call site logs. Applied by the logger itself, so no call
 * site can forget it.
 */
export function redactSecrets(line: string): string {
  let out = line.replace(URL_TOKEN, `$1${REDACTED}`).replace(BOT_TOKEN, REDACTED);
  const token = process.env.DISCORD_TOKEN;
  if (token && token.length >= 8) out = out.replaceAll(token, REDACTED);
  return out;
}

export const log = pino(
  {
    level: LEVELS.has(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL : 'info',
    // Never print the token, even if someone logs a config or a client object.
    redact: { paths: ['token', '*.token', 'DISCORD_TOKEN', '*.DISCORD_TOKEN', 'headers.authorization'], censor: REDACTED },
    hooks: { streamWrite: redactSecrets },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname', destination: 2 } } } : {}),
  },
  ...(pretty ? [] : [pino.destination(2)]),
);

export function setLogLevel(level: Level | 'silent'): void {
  log.level = level;
}
