// One structured logger for the whole process (pino: JSON lines, pretty on a
// terminal). Logs go to stderr so that stdout carries only what a command
// prints (console mode's replies, `npm run generate`'s text).
import { pino } from 'pino';

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
