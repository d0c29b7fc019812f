// Publishes registry versions made of arbitrary bytes: the registry checks
// files and checksums, not whether the bytes are a model.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelRegistry, PublishMetadata } from '../../src/registry/registry.js';

export const FAKE_META: PublishMetadata = {
  vocab: ['a', 'b'],
  architecture: { vocabSize: 2, layers: 1, units: 4, dropout: 0 },
  corpus: { sha256: 'x', chars: 10, files: ['a.txt'], valFraction: 0.1, boundary: 9 },
  valLoss: { nats: 1, bitsPerChar: 1 / Math.LN2, chars: 1 },
  training: { seconds: 1, epochs: 1, bestEpoch: 1, stopReason: 'epochs', backend: 'wasm', command: 'test', config: {} },
};

export async function publishBytes(registry: ModelRegistry, name: string, weightBytes: number, valLoss = 1) {
  const src = await mkdtemp(path.join(tmpdir(), 'src-'));
  await writeFile(path.join(src, 'model.json'), JSON.stringify({ n: Math.random() }));
  await writeFile(path.join(src, 'weights.bin'), new Uint8Array(weightBytes).fill(7));
  await writeFile(path.join(src, 'metrics.jsonl'), '{"epoch":1}\n');
  return registry.publish(name, src, { ...FAKE_META, valLoss: { nats: valLoss, bitsPerChar: valLoss / Math.LN2, chars: 1 } });
}
