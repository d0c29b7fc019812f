// The retrain gate: a candidate is published only if its validation loss is
// not worse than the serving model's, measured on the same held-out text of
// the current corpus, plus a tolerance.
import { evaluateLoss } from '../ml/evaluate.js';
import type { LoadedModel } from '../registry/loader.js';

export interface Decision {
  publish: boolean;
  reason: string;
}

export const NO_CANDIDATE = 'training finished no epoch, so there is no candidate';

/** Publish when the candidate is not worse than the serving model plus `tolerance` nats. */
export function gate(candidate: number, serving: number | undefined, tolerance: number, noServing = 'there is no serving model to compare with'): Decision {
  const f = (n: number) => n.toFixed(4);
  const tol = tolerance ? ` + ${tolerance} tolerance` : '';
  if (!Number.isFinite(candidate)) return { publish: false, reason: NO_CANDIDATE };
  if (serving === undefined) return { publish: true, reason: noServing };
  return candidate <= serving + tolerance
    ? { publish: true, reason: `validation loss ${f(candidate)} ≤ ${f(serving)} (serving)${tol}` }
    : { publish: false, reason: `validation loss ${f(candidate)} is worse than the serving model's ${f(serving)}${tol}` };
}

/**
 * The serving model's loss on the held-out text (the same measure training
 * reports), or why it has none. Frees the model's decoder, not its weights,
 * which a warm start trains next.
 */
export function servingLoss(serving: LoadedModel, version: string, val: string, streams: number): { loss?: number; note?: string } {
  try {
    const unreadable = serving.vocab.unknown(val);
    if (unreadable.length > 0) return { note: `${version} cannot read ${unreadable.length} new characters of the held-out text` };
    return { loss: evaluateLoss(serving.decoder, serving.vocab.encode(val), streams).nats };
  } finally {
    serving.decoder.dispose();
  }
}
