// A registry version loaded into memory: checksums verified, weights loaded,
// decoder ready. Shared by the generation workers, the retrainer (warm start
// and the gate), the CLIs and the benchmarks.
import type * as tf from '@tensorflow/tfjs';
import { CharDecoder } from '../ml/decoder.js';
import { loadModel } from '../ml/io.js';
import { Vocabulary } from '../ml/vocab.js';
import { verifyVersionDir, type ModelMetadata, type ModelRegistry, type VersionRef } from './registry.js';

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

/** `version` of `name` when given, else the version to serve (resolveServable); loaded. */
export async function loadFromRegistry(registry: ModelRegistry, name: string, version?: string): Promise<LoadedModel & { ref: VersionRef }> {
  const ref = version ? await registry.verify(name, version) : (await registry.resolveServable(name)).ref;
  return { ...(await loadVersion(ref.dir)), ref };
}
