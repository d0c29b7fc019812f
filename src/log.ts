// One structured logger for the whole process (pino: JSON lines, pretty on a
// terminal). Logs go to stderr so that stdout carries only what a command
// prints (console mode's replies, `npm run generate`'s text).
import { pino } from 'pino';

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

export const log = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    // Never print the token, even if someone logs a config or a client object.
    redact: { paths: ['token', '*.token', 'DISCORD_TOKEN', '*.DISCORD_TOKEN', 'headers.authorization'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname', destination: 2 } } } : {}),
  },
  ...(pretty ? [] : [pino.destination(2)]),
);
