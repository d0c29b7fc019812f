// Next-character sampling from one row of logits: temperature, then top-k,
// then top-p (nucleus), then a draw from the renormalised distribution.
import type { Rng } from './rng.js';

export interface SamplingOptions {
  temperature: number;
  topK?: number;
  topP?: number;
}

/** Softmax of logits / temperature, numerically stable. */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const p = new Float64Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i] - max) / temperature);
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return p;
}

export function sample(logits: ArrayLike<number>, opts: SamplingOptions, rng: Rng): number {
  const p = softmax(logits, opts.temperature);
  if (!opts.topK && (opts.topP === undefined || opts.topP >= 1)) {
    // Plain sampling needs no sort (the hot path: one call per generated char).
    let r = rng();
    for (let i = 0; i < p.length; i++) if ((r -= p[i]) <= 0) return i;
    return p.length - 1;
  }
  const order = [...p.keys()].sort((a, b) => p[b] - p[a]);
  let keep = opts.topK ? Math.min(opts.topK, order.length) : order.length;
  if (opts.topP !== undefined && opts.topP < 1) {
    let cum = 0;
    for (let i = 0; i < keep; i++) {
      cum += p[order[i]];
      if (cum >= opts.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let i = 0; i < keep; i++) total += p[order[i]];
  let r = rng() * total;
  for (let i = 0; i < keep; i++) {
    r -= p[order[i]];
    if (r <= 0) return order[i];
  }
  return order[keep - 1];
}
