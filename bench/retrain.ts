// The burst again, while a retrain of the shipped architecture runs in its
// trainer process: acknowledgements, the bot's event-loop delay during
// training, and the swap time (new version published → first reply from it).
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelRegistry } from '../src/registry/registry.js';
import { ask, burst, scratchRegistry, startBurstBot } from './burst.js';
import type { Row } from './ml.js';

export async function benchBurstDuringRetrain(modelsDir: string, name: string, minutes: number): Promise<Row[]> {
  // A scratch copy of the registry and corpus: the bench publishes there, not in models/.
  const { root, models } = await scratchRegistry(modelsDir);
  await cp(path.join('data', name), path.join(root, 'data', name), { recursive: true });
  const b = await startBurstBot(models, name, {
    DATA_DIR: path.join(root, 'data'),
    RUNS_DIR: path.join(root, 'runs'),
    RETRAIN_MAX_MINUTES: String(minutes),
    // The gate is off here so that the run publishes and the swap can be timed.
    RETRAIN_TOLERANCE: '100',
  });
  const retrain = b.app.retrain;
  const registry = new ModelRegistry(models);
  const before = b.app.services.generator.serving()!.version;
  try {
    const training = new Promise<void>((resolve) => retrain.on('progress', (p) => p.phase === 'training' && p.step !== undefined && resolve()));
    const done = retrain.start({ trigger: 'admin', minutes });
    await training;
    // 15 s of ordinary traffic (one request at a time) while the trainer works.
    const quiet = monitorEventLoopDelay({ resolution: 10 });
    quiet.enable();
    for (const until = performance.now() + 15_000; performance.now() < until; ) await ask(b, 'ROMEO:', 100);
    quiet.disable();
    const rows = await burst(b);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    // The rest of training, watched for event-loop delay, until the new version is published.
    let publishedAt = 0;
    const published = new Promise<void>((resolve) => {
      const poll = setInterval(async () => {
        const pointer = await registry.readPointer(name);
        if (pointer && pointer.version !== before) {
          publishedAt = performance.now();
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    await published;
    loop.disable();
    let swapMs = NaN;
    for (let i = 0; i < 200 && Number.isNaN(swapMs); i++) {
      const text = await ask(b, 'ROMEO:', 20);
      if (!text.endsWith(`— ${name} ${before}`)) swapMs = performance.now() - publishedAt;
      else await sleep(20);
    }
    const outcome = await done;
    rows.push(
      { what: 'retrain run', value: `${outcome.outcome} ${outcome.version ?? ''} after ${outcome.seconds} s (${outcome.start ?? ''} start, budget ${minutes} min)` },
      { what: "bot's event-loop delay p99 / max while training, ordinary traffic (bar: max < 50 ms)", value: `${(quiet.percentile(99) / 1e6).toFixed(1)} / ${(quiet.max / 1e6).toFixed(1)} ms` },
      { what: "bot's event-loop delay p99 / max from the burst's end to the publish", value: `${(loop.percentile(99) / 1e6).toFixed(1)} / ${(loop.max / 1e6).toFixed(1)} ms` },
      { what: 'swap time: published → first reply from it', value: `${swapMs.toFixed(0)} ms` },
    );
    return rows;
  } finally {
    await b.stop();
    await rm(root, { recursive: true, force: true });
  }
}
