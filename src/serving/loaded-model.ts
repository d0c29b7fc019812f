// A registry version loaded into memory: checksums verified, weights loaded,
// decoder ready. Shared by the workers, the CLIs and the benchmarks.
import type * as tf from '@tensorflow/tfjs';
import { CharDecoder } from '../ml/decoder.js';
import { loadModel } from '../ml/io.js';
import { Vocabulary } from '../ml/vocab.js';
import { verifyVersionDir, type ModelMetadata } from '../registry/registry.js';

export interface LoadedModel {
  model: tf.LayersModel;
  decoder: CharDecoder;
  vocab: Vocabulary;
  metadata: ModelMetadata;
}

export async function loadVersion(dir: string): Promise<LoadedModel> {
  const metadata = await verifyVersionDir(dir);
  const model = await loadModel(dir);
  return { model, decoder: new CharDecoder(model), vocab: new Vocabulary(metadata.vocab), metadata };
}
