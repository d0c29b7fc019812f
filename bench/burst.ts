// A burst of /shakespeare interactions injected at once into the fake Discord,
// answered by the real bot (discord.js client, commands, generation workers)
// running in this process. The fake runs in a worker thread of its own.
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { startApp, type App } from '../src/app/wiring.js';
import { parseConfig } from '../src/config.js';
import { Bot } from '../src/discord/bot.js';
import { moduleUrl, startWorker } from '../src/runtime/entry.js';
import type { BurstTimes, HostRequest } from './fake-host.js';
import type { Row } from './ml.js';

const TOKEN = 'bench.token.burst';

export interface BurstBot {
  host: Worker;
  app: App;
  bot: Bot;
  stop(): Promise<void>;
}

/** The real bot logged into a fresh fake Discord, serving `modelsDir`. */
export async function startBurstBot(modelsDir: string, name: string, env: Record<string, string> = {}): Promise<BurstBot> {
  const host = startWorker(moduleUrl('./fake-host.js', import.meta.url), { workerData: { token: TOKEN } });
  const [ready] = (await once(host, 'message')) as [{ apiUrl: string }];
  const config = {
    ...parseConfig({ DISCORD_TOKEN: TOKEN, DISCORD_API_URL: ready.apiUrl, MODELS_DIR: modelsDir, MODEL_NAME: name, COOLDOWN_SECONDS: '0', MODEL_WATCH_SECONDS: '0', ...env }),
    DISCORD_TOKEN: TOKEN,
  };
  const app = await startApp(config);
  const bot = new Bot({ config, dispatcher: app.dispatcher() });
  await bot.start();
  return {
    host,
    app,
    bot,
    stop: async () => {
      await bot.stop(2000);
      await app.close(2000);
      host.postMessage({ type: 'close' } satisfies HostRequest);
      await once(host, 'exit');
    },
  };
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '∞');

/** Asks the fake for one /shakespeare and waits for the reply's text. */
export async function ask(b: BurstBot, seed: string, length: number): Promise<string> {
  b.host.postMessage({ type: 'ask', seed, length } satisfies HostRequest);
  const [{ text }] = (await once(b.host, 'message')) as [{ text: string }];
  return text;
}

/** Injects `count` interactions at once; reports acknowledgement and reply times. */
export async function burst(b: BurstBot, count = 200, length = 300): Promise<Row[]> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  b.host.postMessage({ type: 'burst', count, length, seed: 'ROMEO:' } satisfies HostRequest);
  const [{ times }] = (await once(b.host, 'message')) as [{ times: BurstTimes }];
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
  const b = await startBurstBot(modelsDir, name);
  try {
    return await burst(b);
  } finally {
    await b.stop();
  }
}
