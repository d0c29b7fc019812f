// npm run bench: every benchmark in one run; figures and ratios measured side
// by side, printed as tables.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchBurst } from './burst.js';
import { benchMl } from './ml-all.js';
import { benchBurstDuringRetrain } from './retrain.js';

const { values: a } = parseArgs({
  options: {
    models: { type: 'string', default: 'models' },
    name: { type: 'string', default: 'shakespeare' },
    only: { type: 'string' },
    'retrain-minutes': { type: 'string', default: '1.5' },
  },
  strict: true,
});

console.log(`bardbot benchmarks — ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}`);
if (!a.only || a.only === 'ml') {
  console.log('\n## Generation and training (issue: foundation)');
  console.table(await benchMl(a.models, a.name));
}
if (!a.only || a.only === 'burst') {
  console.log('\n## 200-interaction burst through the fake Discord (issue: bot)');
  console.table(await benchBurst(a.models, a.name));
}
if (!a.only || a.only === 'retrain') {
  console.log('\n## The burst while a retrain runs (issue: retraining)');
  console.table(await benchBurstDuringRetrain(a.models, a.name, Number(a['retrain-minutes'])));
}
