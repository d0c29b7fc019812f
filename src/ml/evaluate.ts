// Validation loss: the model reads held-out text as it generates, state carried
// forward, in `streams` contiguous parallel pieces; mean next-char cross-entropy.
import type { CharDecoder } from './decoder.js';

export interface LossReport {
  nats: number;
  bitsPerChar: number;
  chars: number;
}

/** Mean loss over `ids` (next char of each position but the last). */
export function evaluateLoss(decoder: CharDecoder, ids: Int32Array, streams = 64): LossReport {
  const len = Math.floor((ids.length - 1) / streams);
  if (len < 1) throw new Error(`text too short to evaluate: ${ids.length} chars`);
  const v = decoder.vocabSize;
  let state = decoder.zeroState(streams);
  const cur = new Int32Array(streams);
  let total = 0;
  for (let t = 0; t < len; t++) {
    for (let s = 0; s < streams; s++) cur[s] = ids[s * len + t];
    const out = decoder.step(cur, state);
    state = out.state;
    for (let s = 0; s < streams; s++) {
      // -log softmax(logits)[target], computed stably.
      const row = out.logits.subarray(s * v, (s + 1) * v);
      let max = -Infinity;
      for (let j = 0; j < v; j++) max = Math.max(max, row[j]);
      let sum = 0;
      for (let j = 0; j < v; j++) sum += Math.exp(row[j] - max);
      total += Math.log(sum) + max - row[ids[s * len + t + 1]];
    }
  }
  const nats = total / (len * streams);
  return { nats, bitsPerChar: nats / Math.LN2, chars: len * streams };
}
