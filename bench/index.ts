// npm run bench: every benchmark in one run; figures and ratios measured side
// by side, printed as tables. `--only` picks some.
import os from 'node:os';
import { Option } from 'commander';
import { z } from 'zod';
import { cliProgram, main, numberArg } from '../src/cli/program.js';
import { benchBurst } from './burst.js';
import { benchMl } from './ml-all.js';
import { benchBurstDuringRetrain } from './retrain.js';
import { benchSoak, SOAK_DEFAULTS } from './soak.js';
import { benchWarmSeries } from './warm-series.js';

const SUITES = ['ml', 'burst', 'retrain', 'soak', 'warm'] as const;
const positive = numberArg(z.number().int().min(1));
const count = numberArg(z.number().int().min(0));
const { program } = cliProgram('bench', 'Benchmarks of the served model: generation, training, bursts and a soak through the fake Discord.');
program
  .optionsGroup('Benchmarks:')
  .addOption(new Option('--only <suites>', `comma-separated, of ${SUITES.join(', ')} (default: all)`))
  .option('--retrain-minutes <n>', 'time budget of the retrain the burst runs beside', numberArg(), 1.5)
  .option('--soak-interactions <n>', 'interactions in the soak', positive, SOAK_DEFAULTS.interactions)
  .option('--soak-rate <n>', 'interactions per second in the soak', numberArg(z.number().positive()), SOAK_DEFAULTS.ratePerSec)
  .option('--soak-length <n>', 'characters asked per soak interaction', positive, SOAK_DEFAULTS.length)
  .option('--soak-swaps <n>', 'hot-swaps spread through the soak', count, SOAK_DEFAULTS.swaps)
  .option('--soak-kills <n>', 'worker crashes spread through the soak', count, SOAK_DEFAULTS.kills)
  .option('--soak-warmup <n>', 'interactions (and a swap there and back) before the start figures', count, SOAK_DEFAULTS.warmup)
  .option('--warm-runs <n>', 'consecutive warm-start retrains in the nightly series', positive, 3)
  .option('--warm-minutes <n>', 'time budget of each warm start', numberArg(z.number().positive()), 20)
  .parse();
const a = program.opts<{
  name: string;
  models: string;
  only?: string;
  retrainMinutes: number;
  soakInteractions: number;
  soakRate: number;
  soakLength: number;
  soakSwaps: number;
  soakKills: number;
  soakWarmup: number;
  warmRuns: number;
  warmMinutes: number;
}>();
const only = a.only?.split(',').map((s) => s.trim());
const bad = only?.filter((s) => !(SUITES as readonly string[]).includes(s));
const run = (suite: (typeof SUITES)[number]) => !only || only.includes(suite);

await main('bench', async () => {
  if (bad?.length) throw new Error(`--only: unknown ${bad.join(', ')} (choose from ${SUITES.join(', ')})`);
  console.log(`bardbot benchmarks — ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}`);
  if (run('ml')) {
    console.log('\n## Generation and training');
    console.table(await benchMl(a.models, a.name));
  }
  if (run('burst')) {
    console.log('\n## 200-interaction burst through the fake Discord');
    console.table(await benchBurst(a.models, a.name));
  }
  if (run('retrain')) {
    console.log('\n## The burst while a retrain runs');
    console.table(await benchBurstDuringRetrain(a.models, a.name, a.retrainMinutes));
  }
  if (run('soak')) {
    const o = { ...SOAK_DEFAULTS, interactions: a.soakInteractions, ratePerSec: a.soakRate, length: a.soakLength, swaps: a.soakSwaps, kills: a.soakKills, warmup: a.soakWarmup };
    console.log(`\n## Soak: ${o.interactions} interactions at ${o.ratePerSec}/s with ${o.swaps} hot-swaps and ${o.kills} worker crashes`);
    console.table(await benchSoak(a.models, a.name, o));
  }
  if (run('warm')) {
    console.log(`\n## The nightly refresh: ${a.warmRuns} consecutive ${a.warmMinutes}-minute warm starts on an unchanged corpus`);
    console.table(await benchWarmSeries(a.models, a.name, a.warmRuns, a.warmMinutes));
  }
});
// Whatever a failed start left running (worker threads, sockets), the run ends here rather than hanging.
process.exit();
