// Checkpoints: model, Adam moments and the metrics so far, written to a
// temporary folder and renamed into place so a crash never leaves half of one.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModel, saveModel } from '../ml/io.js';
import { Vocabulary } from '../ml/vocab.js';
import type { EpochMetrics } from './loop.js';

type OptimizerWeights = Awaited<ReturnType<tf.Optimizer["getWeights"]>>;

interface CheckpointState {
  vocab: string[];
  metrics: EpochMetrics[];
  optimizer: tf.io.WeightsManifestEntry[];
}

export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  metrics: EpochMetrics[],
  vocab: Vocabulary,
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await saveModel(model, tmp);
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  await writeFile(path.join(tmp, 'optimizer.bin'), new Uint8Array(data as ArrayBuffer));
  const state: CheckpointState = { vocab: [...vocab.chars], metrics, optimizer: specs };
  await writeFile(path.join(tmp, 'state.json'), JSON.stringify(state, null, 1));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

export async function loadCheckpoint(
  dir: string,
  vocab: Vocabulary,
): Promise<{ model: tf.LayersModel; optimizerWeights: OptimizerWeights; metrics: EpochMetrics[] } | undefined> {
  let state: CheckpointState;
  try {
    state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as CheckpointState;
  } catch {
    return undefined;
  }
  if (!vocab.equals(new Vocabulary(state.vocab))) {
    throw new Error(`checkpoint ${dir} was trained on another vocabulary; delete it or train without --resume`);
  }
  const bin = await readFile(path.join(dir, 'optimizer.bin'));
  const map = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer, state.optimizer);
  const optimizerWeights = state.optimizer.map((s) => ({ name: s.name, tensor: map[s.name] }));
  return { model: await loadModel(dir), optimizerWeights, metrics: state.metrics };
}
