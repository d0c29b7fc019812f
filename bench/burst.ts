// A burst of /shakespeare interactions injected at once into the fake Discord,
// answered by the real bot (discord.js client, commands, generation workers)
// running in this process. The fake runs in a child process of its own
// (fake-host.ts); FakeHost is this side of the link to it.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startApp, type App } from '../src/app/wiring.js';
import { parseConfig } from '../src/config.js';
import { Bot } from '../src/discord/bot.js';
import { forkModule, moduleUrl } from '../src/runtime/entry.js';
import type { HostMessage, HostOptions, HostRequest, HostResults } from './fake-host.js';
import type { Row } from './ml.js';
import { ms, percentile } from './stats.js';

const TOKEN = 'bench.token.burst';

interface Waiting {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** The fake Discord's process: each request answered by id, or rejected at its deadline or when the host dies. */
export class FakeHost {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  /** Why the host can no longer answer, once it cannot. */
  private gone: Error | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: HostMessage) => {
      if (m.type === 'fatal') this.end(new Error(`the fake Discord's host failed: ${m.error}`));
      if (m.type !== 'reply') return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.error !== undefined) w.reject(new Error(`the fake Discord's host: ${m.error}`));
      else w.resolve(m.result);
    });
    child.on('exit', (code, signal) => this.end(new Error(`the fake Discord's host exited (${signal ?? `code ${code}`})`)));
    child.on('error', (err) => this.end(new Error(`the fake Discord's host: ${err.message}`)));
  }

  /** Starts the host and waits (bounded) for its fake to listen; resolves with the REST base URL. */
  static async start(options: HostOptions, timeoutMs = 60_000): Promise<{ host: FakeHost; apiUrl: string }> {
    // 'advanced': structured clone, as between threads (Infinity survives, unlike JSON).
    const child = forkModule(moduleUrl('./fake-host.js', import.meta.url), [JSON.stringify(options)], { serialization: 'advanced' });
    const host = new FakeHost(child);
    let timer: NodeJS.Timeout | undefined;
    try {
      const apiUrl = await new Promise<string>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the fake Discord's host was not ready within ${timeoutMs / 1000} s`)), timeoutMs);
        child.on('message', (m: HostMessage) => m.type === 'ready' && resolve(m.apiUrl));
        // After the constructor's listener, which says why.
        child.on('exit', () => reject(host.gone));
      });
      return { host, apiUrl };
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `req`; rejects if it is not answered within `timeoutMs`. */
  request<K extends HostRequest['type']>(req: Extract<HostRequest, { type: K }>, timeoutMs: number): Promise<HostResults[K]> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the fake Discord's host did not answer a ${req.type} request within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject, timer });
      this.child.send({ ...req, id });
    });
  }

  /** Closes the fake (bounded), then ends the process, by force if it lingers. */
  async close(): Promise<void> {
    if (!this.gone) await this.request({ type: 'close' }, 10_000).catch((err: Error) => console.warn(`${err.message}; ending it`));
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await once(this.child, 'exit', { signal: AbortSignal.timeout(5000) }).catch(() => this.child.kill('SIGKILL'));
  }

  private end(err: Error): void {
    this.gone ??= err;
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(this.gone);
    }
    this.waiting.clear();
  }
}

export interface BurstBot {
  host: FakeHost;
  app: App;
  bot: Bot;
  stop(): Promise<void>;
}

/** The real bot logged into a fresh fake Discord, serving `modelsDir`; `ackTimeoutMs`: see HostOptions. */
export async function startBurstBot(modelsDir: string, name: string, env: Record<string, string> = {}, { ackTimeoutMs = 0 } = {}): Promise<BurstBot> {
  const { host, apiUrl } = await FakeHost.start({ token: TOKEN, ackTimeoutMs });
  try {
    const config = {
      ...parseConfig({ DISCORD_TOKEN: TOKEN, DISCORD_API_URL: apiUrl, MODELS_DIR: modelsDir, MODEL_NAME: name, COOLDOWN_SECONDS: '0', MODEL_WATCH_SECONDS: '0', ...env }),
      DISCORD_TOKEN: TOKEN,
    };
    const app = await startApp(config);
    const bot = new Bot({ config, dispatcher: app.dispatcher() });
    try {
      await bot.start();
    } catch (err) {
      await app.close(0);
      throw err;
    }
    return {
      host,
      app,
      bot,
      stop: async () => {
        try {
          await bot.stop(2000);
          await app.close(2000);
        } finally {
          await host.close();
        }
      },
    };
  } catch (err) {
    await host.close().catch(() => undefined);
    throw err;
  }
}

/** A copy of the registry in a fresh temp folder (`root`), so that a benchmark publishes and switches versions there, never in models/. */
export async function scratchRegistry(modelsDir: string): Promise<{ root: string; models: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'bardbot-bench-'));
  const models = path.join(root, 'models');
  await cp(modelsDir, models, { recursive: true });
  return { root, models };
}

/** Asks the fake for one /shakespeare and waits (bounded) for the reply's text. */
export function ask(b: BurstBot, seed: string, length: number): Promise<string> {
  return b.host.request({ type: 'ask', seed, length }, 90_000);
}

/** Injects `count` interactions at once; reports acknowledgement and reply times. */
export async function burst(b: BurstBot, count = 200, length = 300): Promise<Row[]> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const times = await b.host.request({ type: 'burst', count, length, seed: 'ROMEO:' }, 200_000);
  loop.disable();
  const { acks, finals } = times;
  return [
    { what: `interactions (/shakespeare length:${length})`, value: `${count} sent, ${times.answered} answered` },
    { what: 'acknowledged within 3 s (bar: all)', value: `${acks.filter((a) => a < 3000).length}/${count}` },
    { what: 'acknowledgement p50 / p99 / max (bar: p99 < 1 s)', value: `${ms(percentile(acks, 50))} / ${ms(percentile(acks, 99))} / ${ms(Math.max(...acks))} ms` },
    { what: 'final reply p50 / p99 / max', value: `${ms(percentile(finals, 50))} / ${ms(percentile(finals, 99))} / ${ms(Math.max(...finals))} ms` },
    { what: 'generated chars/s over the whole burst', value: `${((count * length) / times.seconds).toFixed(0)}` },
    { what: "bot's event-loop delay p99 / max during the burst", value: `${(loop.percentile(99) / 1e6).toFixed(1)} / ${(loop.max / 1e6).toFixed(1)} ms` },
  ];
}

export async function benchBurst(modelsDir: string, name: string): Promise<Row[]> {
  const b = await startBurstBot(modelsDir, name, process.env.GEN_WORKERS ? { GEN_WORKERS: process.env.GEN_WORKERS } : {});
  try {
    return await burst(b);
  } finally {
    await b.stop();
  }
}
