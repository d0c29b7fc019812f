// npm run generate -- --seed "ROMEO:" --length 300 --temperature 0.8
// Prints text from the current (or a given) model version.
import { parseArgs } from 'node:util';
import { initBackend } from '../ml/backend.js';
import { generate } from '../ml/generate.js';
import { ModelRegistry } from '../registry/registry.js';
import { loadVersion } from '../serving/loaded-model.js';

const { values: a } = parseArgs({
  options: {
    seed: { type: 'string', default: '' },
    length: { type: 'string', default: '300' },
    temperature: { type: 'string', default: '0.8' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    'rng-seed': { type: 'string' },
    name: { type: 'string', default: 'shakespeare' },
    version: { type: 'string' },
    models: { type: 'string', default: 'models' },
  },
  strict: true,
});

const optional = (v: string | undefined) => (v === undefined ? undefined : Number(v));

try {
  await initBackend('generate');
  const registry = new ModelRegistry(a.models!);
  const ref = a.version ? await registry.verify(a.name!, a.version) : (await registry.resolveServable(a.name!)).ref;
  const loaded = await loadVersion(ref.dir);
  const t0 = performance.now();
  const [text] = generate(loaded.decoder, loaded.vocab, [
    {
      seed: a.seed!,
      length: Number(a.length),
      temperature: Number(a.temperature),
      topK: optional(a['top-k']),
      topP: optional(a['top-p']),
      rngSeed: optional(a['rng-seed']),
    },
  ]);
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(text + '\n');
  process.stderr.write(`-- ${ref.name} ${ref.version}, ${Number(a.length)} chars in ${secs.toFixed(2)} s\n`);
} catch (err) {
  process.stderr.write(`generate: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
