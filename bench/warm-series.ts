// The nightly refresh, measured (issue 10): consecutive time-limited retrains
// of the shipped model on an unchanged corpus, each warm-started from whatever
// is serving after the one before, each judged by the gate as the nightly job
// would be. In a scratch copy of the registry, kept so a published candidate
// can be inspected (or shipped).
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { retrain } from '../src/training/retrain.js';
import { scratchRegistry } from './burst.js';
import type { Row } from './ml.js';

export async function benchWarmSeries(modelsDir: string, name: string, runs: number, minutes: number): Promise<Row[]> {
  const { root, models } = await scratchRegistry(modelsDir);
  const corpusDir = path.join(root, 'data', name);
  await cp(path.join('data', name), corpusDir, { recursive: true });
  const rows: Row[] = [];
  for (let i = 1; i <= runs; i++) {
    let epoch = 0;
    const r = await retrain(
      {
        modelName: name,
        modelsDir: models,
        corpusDir,
        candidateDir: path.join(root, 'runs', name, 'candidate'),
        maxMinutes: minutes,
        tolerance: 0,
        keepVersions: 100,
        command: `npm run bench -- --only warm (run ${i} of ${runs}, ${minutes} min)`,
      },
      {
        onProgress: (p) => {
          if (p.epoch === undefined || p.epoch === epoch) return;
          if (epoch) console.error(`warm start ${i}: epoch ${epoch} done, val ${p.valLoss?.toFixed(4)}`);
          epoch = p.epoch;
        },
      },
    );
    const loss = (x?: number) => x?.toFixed(4) ?? '—';
    rows.push({
      what: `warm start ${i} of ${runs} (${minutes} min, from ${r.servingVersion ?? 'nothing'}, ${r.epochs} epochs)`,
      value: `${r.start}: serving ${loss(r.oldValLoss)} → candidate ${loss(r.newValLoss)}; ${r.outcome}${r.version ? ` as ${r.version}` : ''} (${r.reason})`,
    });
    console.error(`${rows.at(-1)!.what}: ${rows.at(-1)!.value}`);
  }
  rows.push({ what: 'registry of the series', value: models });
  return rows;
}
