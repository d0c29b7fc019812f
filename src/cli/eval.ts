// npm run eval [-- --version v2 --corpus data/shakespeare]
// Validation loss of a model version on the held-out split of the corpus.
import { initBackend } from '../ml/backend.js';
import { readCorpus, splitCorpus } from '../ml/corpus.js';
import { evaluateLoss } from '../ml/evaluate.js';
import { loadFromRegistry } from '../registry/loader.js';
import { ModelRegistry } from '../registry/registry.js';
import { cliProgram, corpusPath, main, type ModelFlags } from './program.js';

const { program, config } = cliProgram('eval', 'Validation loss of a model version on the held-out split of the corpus.', { corpus: true });
const flags = program.option('--version <v>', 'the version to score, e.g. v1 (default: the one the bot serves)').parse().opts<ModelFlags & { version?: string }>();

await main('eval', async () => {
  const backend = await initBackend('train');
  const { ref, ...loaded } = await loadFromRegistry(new ModelRegistry(flags.models), flags.name, flags.version);
  const corpus = await readCorpus(corpusPath(flags, config));
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
});
