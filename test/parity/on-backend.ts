// One side of a backend-parity check, run in a process of its own whose
// backend BARDBOT_BACKEND pins; prints one JSON line on stdout.
//   train ROOT   trains the tiny test model (1 epoch, fixed seed) into the registry at ROOT: its metrics
//   use ROOT     loads ROOT's current version: its loss on its own held-out text, and a sample
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '../../src/ml/backend.js';
import { readCorpus, splitCorpus } from '../../src/ml/corpus.js';
import { evaluateLoss } from '../../src/ml/evaluate.js';
import { generate } from '../../src/ml/generate.js';
import { ModelRegistry, type ModelMetadata } from '../../src/registry/registry.js';
import { loadVersion } from '../../src/registry/loader.js';
import { publishTinyModel } from '../helpers/tiny-model.js';

export const PARITY_CHARS = 8000;
const CORPUS_DIR = new URL('../../data/shakespeare/', import.meta.url).pathname;

export interface TrainSide {
  backend: string;
  version: string;
  metrics: { trainLoss: number; valLoss: number }[];
}
export interface UseSide {
  backend: string;
  trainedOn: string;
  loss: number;
  sample: string;
}

/** The held-out text a parity model was validated on during training. */
export async function heldOut(meta: ModelMetadata): Promise<string> {
  const text = (await readCorpus(CORPUS_DIR)).text.slice(0, PARITY_CHARS);
  return splitCorpus(text, meta.corpus.valFraction).val;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [task, root] = process.argv.slice(2);
  const backend = (await initBackend(task === 'train' ? 'train' : 'generate')).name;
  if (task === 'train') {
    const ref = await publishTinyModel(root, { chars: PARITY_CHARS, epochs: 1 });
    const lines = (await readFile(path.join(ref.dir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    const out: TrainSide = { backend, version: ref.version, metrics: lines.map((l) => JSON.parse(l) as TrainSide['metrics'][number]) };
    console.log(JSON.stringify(out));
  } else {
    const { ref } = await new ModelRegistry(root).resolveServable('shakespeare');
    const m = await loadVersion(ref.dir);
    const loss = evaluateLoss(m.decoder, m.vocab.encode(await heldOut(m.metadata)), Number(m.metadata.training.config.evalStreams)).nats;
    const [sample] = generate(m.decoder, m.vocab, [{ seed: 'ROMEO:', length: 100, temperature: 0.8, rngSeed: 1 }]);
    const out: UseSide = { backend, trainedOn: m.metadata.training.backend, loss, sample };
    console.log(JSON.stringify(out));
  }
}
