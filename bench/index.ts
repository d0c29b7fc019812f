// npm run bench: every benchmark in one run; figures and ratios measured side
// by side, printed as tables. `--only` picks some.
import os from 'node:os';
import { Option } from 'commander';
import { cliProgram, main, numberArg } from '../src/cli/program.js';
import { benchBurst } from './burst.js';
import { benchMl } from './ml-all.js';
import { benchBurstDuringRetrain } from './retrain.js';

const SUITES = ['ml', 'burst', 'retrain'] as const;
const { program } = cliProgram('bench', 'Benchmarks of the served model: generation, training, bursts through the fake Discord.');
program
  .optionsGroup('Benchmarks:')
  .addOption(new Option('--only <suites>', `comma-separated, of ${SUITES.join(', ')} (default: all)`))
  .option('--retrain-minutes <n>', 'time budget of the retrain the burst runs beside', numberArg(), 1.5)
  .parse();
const a = program.opts<{ name: string; models: string; only?: string; retrainMinutes: number }>();
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
});
