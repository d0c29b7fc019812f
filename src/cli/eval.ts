// npm run eval [-- --version v2 --corpus data/shakespeare]
// Validation loss of a model version on the held-out split of the corpus.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../ml/backend.js';
import { readCorpus, splitCorpus } from '../ml/corpus.js';
import { evaluateLoss } from '../ml/evaluate.js';
import { ModelRegistry } from '../registry/registry.js';
import { loadVersion } from '../serving/loaded-model.js';

const { values: a } = parseArgs({
  options: {
    name: { type: 'string', default: 'shakespeare' },
    version: { type: 'string' },
    models: { type: 'string', default: 'models' },
    corpus: { type: 'string' },
  },
  strict: true,
});

try {
  const backend = await initBackend('train');
  const registry = new ModelRegistry(a.models!);
  const ref = a.version ? await registry.verify(a.name!, a.version) : (await registry.resolveServable(a.name!)).ref;
  const loaded = await loadVersion(ref.dir);
  const corpus = await readCorpus(a.corpus ?? path.join('data', a.name!));
  const meta = loaded.metadata;
  if (corpus.sha256 !== meta.corpus.sha256) {
    console.log(`note: the corpus changed since ${ref.version} was trained (sha256 ${meta.corpus.sha256.slice(0, 12)} → ${corpus.sha256.slice(0, 12)}); evaluating on the current one`);
  }
  const { val } = splitCorpus(corpus.text, meta.corpus.valFraction);
  const unknown = loaded.vocab.unknown(val);
  if (unknown.length > 0) throw new Error(`the held-out text has characters ${ref.version} never saw: ${unknown.map((c) => JSON.stringify(c)).join(' ')}`);
  const t0 = performance.now();
  const r = evaluateLoss(loaded.decoder, loaded.vocab.encode(val));
  console.log(`${ref.name} ${ref.version} on the held-out ${(meta.corpus.valFraction * 100).toFixed(0)}% (${r.chars} chars, backend ${backend.name}, ${((performance.now() - t0) / 1000).toFixed(1)} s):`);
  console.log(`val loss ${r.nats.toFixed(4)} nats/char = ${r.bitsPerChar.toFixed(4)} bits/char (recorded at training: ${meta.valLoss.nats.toFixed(4)})`);
} catch (err) {
  console.error(`eval: ${(err as Error).message}`);
  process.exitCode = 1;
}
