// One structured logger for the whole process (pino: JSON lines in production,
// pretty on a terminal). Child loggers name the part that speaks.
import { pino } from 'pino';

const pretty = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json';

export const log = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  // Never print the token, even if someone logs a config or a client object.
  redact: { paths: ['token', '*.token', 'DISCORD_TOKEN', '*.DISCORD_TOKEN', 'headers.authorization'], censor: '[redacted]' },
  ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } } : {}),
});
