// Seeds as people type them, made into seeds the served model can take
// (src/ml/normalize.ts), with the note that tells the user what changed.
import { LIMITS } from '../ml/generate.js';
import { normalizeSeed } from '../ml/normalize.js';
import { ModelNotLoadedError } from '../serving/types.js';
import { text } from './i18n.js';
import type { Generation } from './services.js';

export interface Seed {
  seed: string;
  /** What was changed or dropped, for a line under the passage; undefined when nothing was. */
  note?: string;
}

/**
 * `raw` normalized for the served version's vocabulary. `tail` keeps only the
 * last LIMITS.maxSeedChars characters of the result (continuations); otherwise
 * a seed too long stays too long, and validation refuses it.
 */
export function forgivingSeed(raw: string, generator: Pick<Generation, 'serving'>, locale: string, { tail = false } = {}): Seed {
  const model = generator.serving();
  if (!model) throw new ModelNotLoadedError();
  const vocab = new Set(model.metadata.vocab);
  const n = normalizeSeed(raw, (c) => vocab.has(c));
  const seed = tail ? n.text.slice(-LIMITS.maxSeedChars) : n.text;
  if (n.replaced.length === 0 && n.dropped.length === 0) return { seed };
  return { seed, note: text(locale, 'seedNote', { what: text(locale, 'seedChanged', n) }) };
}
