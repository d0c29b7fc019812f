// The soak: many /shakespeare interactions through the fake Discord over a few
// minutes while versions are hot-swapped and generation workers are killed.
// It reports how every interaction ended, and whether memory, the workers'
// tensor count and the event loop stayed flat.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelRegistry } from '../src/registry/registry.js';
import { startBurstBot } from './burst.js';
import type { HostRequest, SoakOutcomes } from './fake-host.js';
import type { Row } from './ml.js';

export interface SoakOptions {
  interactions: number;
  seconds: number;
  swaps: number;
  kills: number;
  /** Characters per passage. */
  length: number;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

export async function benchSoak(modelsDir: string, name: string, o: SoakOptions): Promise<Row[]> {
  // A scratch copy of the registry: the soak moves its pointer back and forth.
  const root = await mkdtemp(path.join(tmpdir(), 'bardbot-soak-'));
  await cp(modelsDir, path.join(root, 'models'), { recursive: true });
  const registry = new ModelRegistry(path.join(root, 'models'));
  const versions = (await registry.versions(name)).slice(-2);
  if (versions.length < 2) throw new Error(`the soak swaps between two versions; ${name} has ${versions.length}`);
  const b = await startBurstBot(registry.root, name, { MODEL_WATCH_SECONDS: '0.5', GEN_MAX_QUEUE: '4096' });
  const { manager, pool } = b.app.serving;
  const tensors: number[] = [];
  manager.on('unloaded', (e) => tensors.push(e.tensors));
  const swapTo = async (version: string) => {
    const swapped = once(manager, 'swapped');
    await registry.setCurrent(name, version);
    await swapped;
    // The old version is freed after its last request.
    await once(manager, 'unloaded');
  };
  try {
    // A swap away and back first, so the baseline is a worker that has already freed a version.
    const serving = manager.serving()!.version;
    const other = versions.find((v) => v !== serving)!;
    await swapTo(other);
    await swapTo(serving);
    const startTensors = tensors.at(-1)!;
    const startRss = process.memoryUsage().rss;

    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    b.host.postMessage({ type: 'soak', count: o.interactions, seconds: o.seconds, length: o.length } satisfies HostRequest);
    const result = once(b.host, 'message') as Promise<[{ outcomes: SoakOutcomes }]>;
    // Swaps and kills spread evenly through the soak.
    const events = [...Array.from({ length: o.swaps }, () => 'swap' as const), ...Array.from({ length: o.kills }, () => 'kill' as const)];
    const spread = events.map((e, i) => ({ e, at: ((i + 1) * o.seconds * 1000) / (events.length + 1) })).sort((x, y) => x.at - y.at);
    let swapped = 0;
    let killed = 0;
    const t0 = performance.now();
    for (const { e, at } of spread.sort((x, y) => x.at - y.at)) {
      await sleep(Math.max(0, t0 + at - performance.now()));
      if (e === 'swap') {
        await swapTo(versions[++swapped % 2]!);
      } else {
        // A worker dies: its requests fail with a clear message and it comes back.
        pool.restartWorker(killed++ % 2);
      }
    }
    const [{ outcomes }] = await result;
    loop.disable();
    // Back to where it started, so the end count is comparable with the start.
    if (manager.serving()!.version !== serving) await swapTo(serving);
    const endTensors = tensors.at(-1)!;
    const endRss = process.memoryUsage().rss;
    const refusals = Object.entries(outcomes.refused).map(([text, n]) => `${n}× "${text}"`);
    return [
      { what: 'interactions', value: `${o.interactions} over ${outcomes.seconds.toFixed(0)} s (/shakespeare length:${o.length})` },
      { what: 'hot-swaps / worker kills during the soak', value: `${swapped} / ${killed}` },
      { what: 'answered with a passage', value: `${outcomes.answered}` },
      { what: 'refused with a message (target: only those the kills failed)', value: refusals.length ? refusals.join('; ') : '0' },
      { what: 'unanswered (target 0)', value: `${outcomes.unanswered}` },
      { what: 'acknowledged later than 3 s (target 0)', value: `${outcomes.lateAcks}` },
      { what: "bot's RSS start → end (target: within 10 %)", value: `${mb(startRss)} → ${mb(endRss)} (${(((endRss - startRss) / startRss) * 100).toFixed(1)} %)` },
      { what: "a worker's tensor count start → end (target: flat)", value: `${startTensors} → ${endTensors}` },
      { what: "bot's event-loop delay p99 / max", value: `${(loop.percentile(99) / 1e6).toFixed(1)} / ${(loop.max / 1e6).toFixed(1)} ms` },
    ];
  } finally {
    await b.stop();
    await rm(root, { recursive: true, force: true });
  }
}
