// The char-LSTM: one-hot characters in, next-character logits out at every
// position (returnSequences), so each step of a sequence supervises training.
import * as tf from '@tensorflow/tfjs';
import { hasLstmSequenceKernel, lstmSequence } from './fused-lstm.js';
import { makeRng, nextSeed } from './rng.js';

export interface Architecture {
  vocabSize: number;
  layers: number;
  units: number;
  dropout: number;
}

export function buildModel(arch: Architecture, seed?: number): tf.LayersModel {
  // Variable sequence length: training feeds [batch, seqLen, vocab] windows.
  const input = tf.input({ shape: [null, arch.vocabSize], name: 'chars' });
  let x: tf.SymbolicTensor = input;
  for (let i = 0; i < arch.layers; i++) {
    x = tf.layers
      .lstm({
        units: arch.units,
        returnSequences: true,
        name: `lstm_${i}`,
        // Uniform init like char-rnn; tfjs's default orthogonal init takes
        // seconds to minutes on wasm/cpu, paid again at every model load.
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
        recurrentInitializer: tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + 1 }),
        recurrentActivation: 'sigmoid',
        unitForgetBias: true,
      })
      .apply(x) as tf.SymbolicTensor;
    // Unseeded: training draws its own masks (trainingLoss); the layer only records the rate.
    if (arch.dropout > 0) x = tf.layers.dropout({ rate: arch.dropout, name: `dropout_${i}` }).apply(x) as tf.SymbolicTensor;
  }
  const logits = tf.layers
    .dense({ units: arch.vocabSize, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'char_lstm' });
}

/** Mean next-char cross-entropy in nats; `targets` are int32 ids [batch, seq]. */
export function lossFromLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const vocab = logits.shape[logits.shape.length - 1];
    const flat = logits.reshape([-1, vocab]);
    const labels = tf.oneHot(targets.reshape([-1]) as tf.Tensor1D, vocab);
    return tf.losses.softmaxCrossEntropy(labels, flat) as tf.Scalar;
  });
}

/** A batch as training feeds it: one-hot x [batch, seq, vocab] and the int32 targets y [batch, seq]. */
export interface TrainingBatch {
  x: tf.Tensor3D;
  y: tf.Tensor2D;
  /** Seeds the batch's dropout masks: fresh at every step, the same in a rerun. */
  dropoutSeed: number;
  /** Where these rows start in the whole batch, when they are a replica's share of it (default 0). */
  firstRow?: number;
}

/**
 * Inverted dropout whose mask is drawn row by row from (seed, row): a
 * replica's share of a batch draws exactly the masks the whole batch would,
 * so data-parallel training takes the single-thread step, and the time-major
 * fused path draws what the batch-major layers do.
 */
function dropoutByRow(h: tf.Tensor, rate: number, seed: number, firstRow: number, timeMajor: boolean): tf.Tensor {
  if (rate === 0) return h;
  const [a, b, units] = h.shape;
  const [steps, rows] = timeMajor ? [a, b] : [b, a];
  const masks = Array.from({ length: rows }, (_, r) => tf.randomUniform([steps, units], 0, 1, 'float32', `${seed}:${firstRow + r}`));
  const keep = tf.cast(tf.greaterEqual(tf.stack(masks, timeMajor ? 1 : 0), rate), 'float32');
  return tf.mul(h, tf.div(keep, 1 - rate));
}

/**
 * The mean loss of a batch in training mode. Where the backend has
 * TensorFlow's fused sequence op (tfjs-node), each LSTM layer runs as one op
 * forward and one backward, time-major; elsewhere as the tfjs LSTM layer.
 * Dropout is drawn here, not by the Dropout layers: tfjs reseeds a seeded
 * layer at every call, so it would drop the same units at every step, and
 * saved models carry a seed (earlier versions were built with one).
 */
export function trainingLoss(model: tf.LayersModel, batch: TrainingBatch): tf.Scalar {
  return tf.tidy(() => {
    const fused = hasLstmSequenceKernel();
    const maskSeed = makeRng(batch.dropoutSeed);
    let h: tf.Tensor = fused ? tf.transpose(batch.x, [1, 0, 2]) : batch.x;
    for (const layer of model.layers) {
      const kind = layer.getClassName();
      if (kind === 'LSTM' && fused) {
        const [kernel, recurrent, bias] = layer.trainableWeights.map((v) => v.read());
        h = lstmSequence(h as tf.Tensor3D, tf.concat([kernel, recurrent], 0) as tf.Tensor2D, bias as tf.Tensor1D);
      } else if (kind === 'Dropout') {
        h = dropoutByRow(h, (layer.getConfig() as { rate: number }).rate, nextSeed(maskSeed), batch.firstRow ?? 0, fused);
      } else if (kind === 'LSTM' || kind === 'Dense') h = layer.apply(h, { training: true }) as tf.Tensor;
      else if (kind !== 'InputLayer') throw new Error(`training cannot run a ${kind} layer`);
    }
    return lossFromLogits(h, fused ? tf.transpose(batch.y) : batch.y);
  });
}
