// The char-LSTM: one-hot characters in, next-character logits out at every
// position (returnSequences), so each step of a sequence supervises training.
import * as tf from '@tensorflow/tfjs';

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
    if (arch.dropout > 0) x = tf.layers.dropout({ rate: arch.dropout, seed, name: `dropout_${i}` }).apply(x) as tf.SymbolicTensor;
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
