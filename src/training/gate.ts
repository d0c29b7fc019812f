// The retrain gate: a candidate is published only if its validation loss is
// not worse than the serving model's plus a tolerance, both measured on the
// same text: the held-out split of the current corpus, or, when that has
// characters the serving model never saw, the part of it the serving model
// can read. It fails closed: a serving model that exists but cannot be
// scored means nothing is published, and the reason says why.
import { CharDecoder } from '../ml/decoder.js';
import { evaluateLoss } from '../ml/evaluate.js';
import type { Vocabulary } from '../ml/vocab.js';
import type { LoadedModel } from '../registry/loader.js';
import type * as tf from '@tensorflow/tfjs';

export interface Decision {
  publish: boolean;
  reason: string;
}

/** What the candidate is compared with. */
export type Incumbent =
  /** No version exists yet: the first one is published without comparison. */
  | { kind: 'none'; why: string }
  /** A serving model exists but could not be scored: nothing is published. */
  | { kind: 'unscored'; why: string }
  /** The serving model's loss on `text`, on which the candidate is scored too; `note` says when that is not the whole held-out split. */
  | { kind: 'scored'; version: string; loss: number; text: string; note?: string };

export const NO_CANDIDATE = 'training finished no epoch, so there is no candidate';

/** Publish when the candidate is not worse than the serving model plus `tolerance` nats. */
export function gate(candidate: number, incumbent: Incumbent, tolerance: number): Decision {
  const f = (n: number) => n.toFixed(4);
  const tol = tolerance ? ` + ${tolerance} tolerance` : '';
  if (!Number.isFinite(candidate)) return { publish: false, reason: NO_CANDIDATE };
  if (incumbent.kind === 'none') return { publish: true, reason: incumbent.why };
  if (incumbent.kind === 'unscored') return { publish: false, reason: `not published: the gate cannot compare with the serving model (${incumbent.why})` };
  const on = incumbent.note ? ` (${incumbent.note})` : '';
  return candidate <= incumbent.loss + tolerance
    ? { publish: true, reason: `validation loss ${f(candidate)} ≤ ${f(incumbent.loss)} (serving)${tol}${on}` }
    : { publish: false, reason: `validation loss ${f(candidate)} is worse than the serving model's ${f(incumbent.loss)}${tol}${on}` };
}

/** Mean loss of a model on `text`, with its own decoder (freed after). */
export function lossOn(model: tf.LayersModel, vocab: Vocabulary, text: string, streams: number): number {
  const decoder = new CharDecoder(model);
  try {
    return evaluateLoss(decoder, vocab.encode(text), streams).nats;
  } finally {
    decoder.dispose();
  }
}

/**
 * Scores the serving model on the held-out text, leaving out the characters
 * it never saw (the candidate is then scored on the same text). Frees the
 * model's decoder, not its weights, which a warm start trains next.
 */
export function scoreIncumbent(serving: LoadedModel, version: string, val: string, streams: number): Incumbent {
  try {
    const unknown = new Set(serving.vocab.unknown(val));
    const all = [...val];
    const text = unknown.size ? all.filter((c) => !unknown.has(c)).join('') : val;
    const loss = evaluateLoss(serving.decoder, serving.vocab.encode(text), streams).nats;
    const note = unknown.size
      ? `both scored on the ${[...text].length} of ${all.length} held-out characters ${version} knows; ${unknown.size} new characters left out`
      : undefined;
    return { kind: 'scored', version, loss, text, note };
  } catch (err) {
    return { kind: 'unscored', why: `${version} could not be scored on the held-out text: ${(err as Error).message}` };
  } finally {
    serving.decoder.dispose();
  }
}
