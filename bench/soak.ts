// The soak: /shakespeare interactions at a steady rate through the fake
// Discord for minutes, answered by the real bot in this process (as in
// burst.ts), with hot-swaps (the registry pointer switched between two
// versions by compare-and-swap, then served) and worker crashes spread
// through it. Counts how each interaction was answered, and looks for leaks:
// the bot's RSS and the workers' tensor counts after a warm-up and at the end,
// and the event-loop delay throughout.
//
// A crash is an interaction whose seed makes the worker writing it throw an
// uncaught exception (worker.ts's BARDBOT_TEST_FAULTS hook, set for this run
// only): the real path of a worker dying mid-batch, which fails every request
// it was writing. Those must get the bot's clear message for it; any other
// failure is a failure of the soak.
import { rm } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { userMessage } from '../src/app/errors.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { ServingManager } from '../src/serving/manager.js';
import type { WorkerStats } from '../src/serving/pool.js';
import { WorkerFailedError } from '../src/serving/types.js';
import { scratchRegistry, startBurstBot, type BurstBot } from './burst.js';
import type { SoakOutcome, SoakPlan } from './fake-host.js';
import type { Row } from './ml.js';
import { ms, percentile } from './stats.js';

export interface SoakOptions {
  interactions: number;
  swaps: number;
  kills: number;
  ratePerSec: number;
  /** Characters asked per interaction. */
  length: number;
  /** Interactions (with one swap there and back) before the start figures are taken. */
  warmup: number;
}

// 10,000 over 3 min 20 s. Length 30: at 50/s that is about 1,800 chars/s of
// decoding with the seeds, under half of what the two workers decode batched
// on 2 cores with the shipped 2x512 model (~4,300 chars/s in the burst), so
// the run measures the bot rather than a backlog, with room for the swaps'
// warm-ups and the fake's own process. (Length 60 was for 2x256: with 2x512
// it is the machine's whole capacity, and "busy" refusals followed.)
export const SOAK_DEFAULTS: SoakOptions = { interactions: 10_000, swaps: 20, kills: 3, ratePerSec: 50, length: 30, warmup: 200 };

const SEED = 'ROMEO:';
/** No ':' or ',' (the fault list's separators); letters every model's vocabulary has. */
const KILL_SEED = 'CRASH';
const ANSWER_TIMEOUT_MS = 30_000;

export interface Snapshot {
  /** The whole process: the bot's thread and its generation workers (the fake is in a process of its own). */
  rssMb: number;
  /** The bot's thread's JavaScript heap in use. */
  heapMb: number;
  /** Summed over the workers. */
  tensors: number;
  workers: WorkerStats[];
  /** discord.js caches one user per interaction user; reported so that RSS growth can be told apart. */
  cachedUsers: number;
}

export interface SoakReport {
  rows: Row[];
  outcomes: SoakOutcome[];
  /** Indices of the crashing interactions. */
  kills: number[];
  /** What the bot tells the user when the worker writing their passage crashed; undefined: nothing clear (the generic failure). */
  killMessage: string | undefined;
  passages: number;
  /** Refused with the kill's message: the crashing interactions and their neighbours in that worker. */
  killFailed: number;
  /** The crashing interactions themselves that got the kill's message. */
  killsAnswered: number;
  /** Failures that are not the kills': message (or "unanswered", "not sent: …") → count. Target: none. */
  unexpected: Record<string, number>;
  swapsDone: number;
  swapErrors: string[];
  start: Snapshot;
  end: Snapshot;
}

async function snapshot(b: BurstBot, manager: ServingManager): Promise<Snapshot> {
  const workers = await manager.stats();
  const memory = process.memoryUsage();
  return {
    rssMb: memory.rss / 2 ** 20,
    heapMb: memory.heapUsed / 2 ** 20,
    tensors: workers.reduce((sum, w) => sum + w.tensors, 0),
    workers,
    cachedUsers: b.bot.client.users.cache.size,
  };
}

/** Waits (bounded) until every worker is up and holds only the served version: no retiring version, no restart under way. */
async function settled(manager: ServingManager, workers: number, timeoutMs = 60_000): Promise<void> {
  const served = manager.serving()?.version;
  for (const until = performance.now() + timeoutMs; performance.now() < until; await sleep(100)) {
    const stats = await manager.stats();
    if (stats.length === workers && stats.every((w) => w.versions.length === 1 && w.versions[0] === served)) return;
  }
  throw new Error(`the workers did not settle on ${served} alone within ${timeoutMs / 1000} s: ${JSON.stringify(await manager.stats())}`);
}

/** Evenly spread positions among `n`, none at the very start or end. */
const spread = (count: number, n: number) => Array.from({ length: count }, (_, k) => Math.floor(((k + 0.5) * n) / count));

export async function soak(modelsDir: string, name: string, o: SoakOptions): Promise<SoakReport> {
  const scratch = await scratchRegistry(modelsDir);
  const registry = new ModelRegistry(scratch.models);
  const faults = process.env.BARDBOT_TEST_FAULTS;
  let b: BurstBot | undefined;
  try {
    // The two versions to alternate: the current one and the newest other (a copy of the current when it is alone).
    const first = (await registry.current(name)).version;
    let second = (await registry.versions(name)).filter((v) => v !== first).at(-1);
    if (!second) {
      const { metadata, dir } = await registry.current(name);
      const { name: _n, version: _v, createdAt: _c, checksums: _s, ...meta } = metadata;
      second = (await registry.publish(name, dir, meta, { expectCurrent: first })).version;
      await registry.setCurrent(name, first, second);
    }
    // Read when each worker (re)starts: set before the bot starts, for the whole run.
    process.env.BARDBOT_TEST_FAULTS = [faults, `throw-on-seed:${KILL_SEED}`].filter(Boolean).join(',');
    // Discord's 3 s acknowledgement deadline: a late one is a failed interaction, as it would be there.
    b = await startBurstBot(scratch.models, name, {}, { ackTimeoutMs: 3000 });
    const bot = b;
    const manager = bot.app.services.generator;
    if (!(manager instanceof ServingManager)) throw new Error('the soak needs the serving manager behind services.generator');
    const workerCount = (await manager.stats()).length;
    // Throws if the model lacks a seed's characters: the kill seed must reach the worker as it is.
    for (const seed of [SEED, KILL_SEED]) manager.validate({ seed, length: o.length, temperature: 1 });

    let pointer = first;
    const swapMs: number[] = [];
    const swapErrors: string[] = [];
    const swap = async () => {
      const to = pointer === first ? second : first;
      const t0 = performance.now();
      try {
        const moved = await registry.setCurrent(name, to, pointer);
        if (!moved.switched) throw new Error(`the pointer was moved elsewhere (found ${moved.found})`);
        pointer = to;
        // What a publish does next (RetrainController's onPublished): serve the pointer now.
        const served = await bot.app.sync();
        if (served.version !== to) throw new Error(`served ${served.version}, not ${to}`);
        swapMs.push(performance.now() - t0);
      } catch (err) {
        swapErrors.push((err as Error).message);
      }
    };
    /** Sends `plan` and runs `swaps` swaps spread through it, each when the interaction at its position is due. */
    const run = async (plan: Omit<SoakPlan, 'seed' | 'killSeed' | 'length' | 'ratePerSec' | 'answerTimeoutMs'>, swaps: number) => {
      const full: SoakPlan = { ...plan, seed: SEED, killSeed: KILL_SEED, length: o.length, ratePerSec: o.ratePerSec, answerTimeoutMs: ANSWER_TIMEOUT_MS };
      const t0 = performance.now();
      const swapping = (async () => {
        for (const at of spread(swaps, plan.count)) {
          await sleep(t0 + (at * 1000) / o.ratePerSec - performance.now());
          await swap();
        }
      })();
      const bound = (plan.count / o.ratePerSec) * 1000 + ANSWER_TIMEOUT_MS + 60_000;
      const [result] = await Promise.all([bot.host.request({ type: 'soak', plan: full }, bound), swapping]);
      return result;
    };

    // Warm-up: the JIT, discord.js's and the sockets' pools, and both versions loaded once (WebAssembly memory only grows).
    await run({ count: o.warmup, kills: [], firstUser: 0 }, 2);
    await settled(manager, workerCount);
    const start = await snapshot(bot, manager);
    if (swapErrors.length) throw new Error(`a warm-up swap failed: ${swapErrors.join('; ')}`);
    swapMs.length = 0;

    const kills = spread(o.kills, o.interactions);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    // Half-way too: growth that levels off is warming up, growth that goes on is a leak.
    let midRssMb = NaN;
    const mid = setTimeout(() => (midRssMb = process.memoryUsage().rss / 2 ** 20), (o.interactions / o.ratePerSec) * 500);
    const result = await run({ count: o.interactions, kills, firstUser: o.warmup }, o.swaps).finally(() => clearTimeout(mid));
    loop.disable();
    await settled(manager, workerCount);
    const end = await snapshot(bot, manager);

    const killMessage = userMessage(new WorkerFailedError('crashed'), 'en-US');
    const { outcomes } = result;
    const unexpected: Record<string, number> = {};
    const versions: Record<string, number> = {};
    let passages = 0;
    let killFailed = 0;
    for (const out of outcomes) {
      if (out.kind === 'passage') {
        passages++;
        versions[out.version] = (versions[out.version] ?? 0) + 1;
      } else if (out.kind === 'refused' && killMessage !== undefined && out.message === killMessage) killFailed++;
      else {
        const what = out.kind === 'refused' ? out.message : out.kind === 'not-sent' ? `not sent: ${out.message}` : 'unanswered';
        unexpected[what] = (unexpected[what] ?? 0) + 1;
      }
    }
    const acks = outcomes.flatMap((out) => (out.kind !== 'not-sent' && out.ackMs !== undefined ? [out.ackMs] : []));
    const finals = outcomes.flatMap((out) => (out.kind === 'passage' ? [out.finalMs] : []));
    const killsAnswered = kills.filter((i) => {
      const out = outcomes[i];
      return out?.kind === 'refused' && killMessage !== undefined && out.message === killMessage;
    }).length;
    const failedOther = Object.values(unexpected).reduce((a, n) => a + n, 0);
    const change = (from: number, to: number) => `${to >= from ? '+' : ''}${(((to - from) / from) * 100).toFixed(1)} %`;
    const mb = (x: number) => x.toFixed(0);
    const rows: Row[] = [
      {
        what: `interactions (/shakespeare length:${o.length}, one user each)`,
        value: `${outcomes.length} sent at ${o.ratePerSec}/s over ${result.seconds.toFixed(0)} s (sending fell behind by ${result.maxSendLagMs.toFixed(0)} ms at most)`,
      },
      { what: 'answered with a passage', value: `${passages} (${Object.entries(versions).map(([v, n]) => `${v}: ${n}`).join(', ')})` },
      {
        what: `failed by the ${o.kills} worker crashes, with the clear message for it`,
        value:
          killMessage === undefined
            ? 'none: the bot has no message for a crashed worker (userMessage has none for WorkerFailedError), so they get the generic failure, counted below'
            : `${killFailed} (the ${o.kills} crashing ones: ${killsAnswered}/${o.kills}; the rest were in the crashed worker's batch): "${killMessage}"`,
      },
      {
        what: 'any other failure: refused, unanswered within 30 s, not sent (target: 0)',
        value: failedOther === 0 ? '0' : `${failedOther}: ${Object.entries(unexpected).map(([m, n]) => `${n}× ${m}`).join('; ')}`,
      },
      { what: 'acknowledged within 3 s', value: `${acks.filter((a) => a < 3000).length}/${outcomes.length}` },
      { what: 'acknowledgement p50 / p99 / max', value: `${ms(percentile(acks, 50))} / ${ms(percentile(acks, 99))} / ${ms(Math.max(...acks))} ms` },
      { what: 'passage p50 / p99 / max', value: `${ms(percentile(finals, 50))} / ${ms(percentile(finals, 99))} / ${ms(Math.max(...finals))} ms` },
      {
        what: `hot-swaps ${first} ⇄ ${second} (compare-and-swap of the pointer, then served)`,
        value: `${swapMs.length}/${o.swaps} done, swap time p50 / max ${ms(percentile(swapMs, 50))} / ${ms(Math.max(...swapMs))} ms${swapErrors.length ? `; failed: ${swapErrors.join('; ')}` : ''}`,
      },
      {
        what: "bot's RSS after the warm-up → half-way → at the end (target: within 10 %)",
        value: `${mb(start.rssMb)} → ${mb(midRssMb)} → ${mb(end.rssMb)} MB (${change(start.rssMb, end.rssMb)}; bot thread's JS heap ${mb(start.heapMb)} → ${mb(end.heapMb)} MB; discord.js users cached ${start.cachedUsers} → ${end.cachedUsers})`,
      },
      {
        what: `workers' tensors after the warm-up → at the end (${workerCount} workers; target: within 10 %)`,
        value: `${start.tensors} → ${end.tensors} (${change(start.tensors, end.tensors)}; serving ${manager.serving()?.version})`,
      },
      { what: "bot's event-loop delay p99 / max during the run", value: `${(loop.percentile(99) / 1e6).toFixed(1)} / ${(loop.max / 1e6).toFixed(1)} ms` },
    ];
    return { rows, outcomes, kills, killMessage, passages, killFailed, killsAnswered, unexpected, swapsDone: swapMs.length, swapErrors, start, end };
  } finally {
    await b?.stop();
    if (faults === undefined) delete process.env.BARDBOT_TEST_FAULTS;
    else process.env.BARDBOT_TEST_FAULTS = faults;
    await rm(scratch.root, { recursive: true, force: true });
  }
}

export async function benchSoak(modelsDir: string, name: string, o: SoakOptions): Promise<Row[]> {
  return (await soak(modelsDir, name, o)).rows;
}
