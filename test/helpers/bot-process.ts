// A bot process (src/main.ts under tsx's loader, as `npm start` runs it) for service-mode
// tests: JSON logs collected, the HTTP port read from its "HTTP server
// listening" line, every wait bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait.js';


export interface BotProcess {
  child: ChildProcess;
  output(): string;
  /** The HTTP server's port, once it listens. */
  port(timeoutMs?: number): Promise<number>;
  /** Resolves when /readyz answers 200. */
  ready(timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export function startBot(env: Record<string, string>): BotProcess {
  // node with tsx's loader, not the tsx CLI: that runs the bot in a child of
  // its own, which a SIGKILL of the CLI would leave running.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    // Empty values win over a developer's .env (dotenv never overrides).
    env: { ...process.env, DISCORD_TOKEN: '', DISCORD_GUILD_ID: '', REDIS_URL: '', RETRAIN_ENABLED: 'false', LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let port: number | undefined;
  const bot: BotProcess = {
    child,
    output: () => output,
    async port(timeoutMs = 60_000) {
      await waitFor(() => {
        const line = output.split('\n').find((l) => l.includes('"HTTP server listening"'));
        if (line) port = (JSON.parse(line) as { port: number }).port;
        return port !== undefined || child.exitCode !== null;
      }, timeoutMs, `the HTTP server to listen; output:\n${output}`);
      if (port === undefined) throw new Error(`the bot exited (${child.exitCode}) before listening:\n${output}`);
      return port;
    },
    async ready(timeoutMs = 60_000) {
      const p = await bot.port(timeoutMs);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${p}/readyz`).catch(() => undefined))?.status === 200, timeoutMs, `/readyz on ${p}; output:\n${output}`, 100);
    },
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return bot;
}
