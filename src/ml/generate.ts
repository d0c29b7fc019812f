// Batched text generation on the stateful decoder. Rows join and leave (when
// done) between steps, so concurrent requests share every step's matrix
// multiplies; a joining row is primed with its seed inside the batch, a
// character a step, so a burst of requests primes together too.
import { concatStates, selectRows, type CharDecoder, type LstmState } from './decoder.js';
import { makeRng, type Rng } from './rng.js';
import { sample, type SamplingOptions } from './sampling.js';
import { listCharacters, type Vocabulary } from './vocab.js';

export const LIMITS = {
  maxSeedChars: 500,
  minLength: 1,
  maxLength: 2000,
  maxTemperature: 2,
} as const;

export interface GenerationRequest extends SamplingOptions {
  /** Text the output starts with; primes the state. May be empty. */
  seed: string;
  /** Characters to generate after the seed. */
  length: number;
  /** Makes the output reproducible. */
  rngSeed?: number;
  /**
   * 'line': after `length` characters, go on to the end of the line or
   * sentence if that comes within ENDING_SLACK more (else stop at a word
   * end); never past LIMITS.maxLength. `length` stays "about how much".
   */
  ending?: 'line';
}

/** How far past `length` a natural ending may go, as a fraction of `length`. */
export const ENDING_SLACK = 0.15;
/** Characters that end a sentence (kept) or a line (the newline is dropped). */
const SENTENCE_ENDS = new Set(['.', '!', '?']);

export class GenerationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenerationInputError';
  }
}

/** Checks a request against the limits and the vocabulary; throws GenerationInputError. */
export function validateRequest(req: GenerationRequest, vocab: Vocabulary): void {
  if (req.seed.length > LIMITS.maxSeedChars) {
    throw new GenerationInputError(`seed is ${req.seed.length} characters; the limit is ${LIMITS.maxSeedChars}`);
  }
  const unknown = vocab.unknown(req.seed);
  if (unknown.length > 0) {
    throw new GenerationInputError(`the seed has characters the model never saw: ${listCharacters(unknown, ' ')}`);
  }
  if (!Number.isInteger(req.length) || req.length < LIMITS.minLength || req.length > LIMITS.maxLength) {
    throw new GenerationInputError(`length must be a whole number from ${LIMITS.minLength} to ${LIMITS.maxLength}`);
  }
  if (!(req.temperature > 0 && req.temperature <= LIMITS.maxTemperature)) {
    throw new GenerationInputError(`temperature must be above 0 and at most ${LIMITS.maxTemperature}`);
  }
  if (req.topK !== undefined && !(Number.isInteger(req.topK) && req.topK >= 1 && req.topK <= vocab.size)) {
    throw new GenerationInputError(`top_k must be a whole number from 1 to ${vocab.size}`);
  }
  if (req.topP !== undefined && !(req.topP > 0 && req.topP <= 1)) {
    throw new GenerationInputError('top_p must be above 0 and at most 1');
  }
  if (req.ending !== undefined && req.ending !== 'line') throw new GenerationInputError("ending must be 'line' or absent");
}

/**
 * Priming starts after a newline (so an empty seed starts a fresh line, as a
 * speech does in the corpus); vocabularies without one start after a space,
 * else after their first character.
 */
function startChar(vocab: Vocabulary): string {
  return ['\n', ' '].find((c) => vocab.has(c)) ?? vocab.chars[0];
}

interface Row<K> {
  key: K;
  req: GenerationRequest;
  rng: Rng;
  /** The priming characters (start character + seed), fed one a step before any is sampled. */
  prime: Int32Array;
  /** How many of `prime` have been fed. */
  fed: number;
  last: number;
  out: number[];
  /** Most characters it may generate: `length`, plus the slack for a natural ending. */
  max: number;
}

/** Continuous batching: `add` requests at any time, call `step` until `size` is 0. */
export class BatchGenerator<K = number> {
  private rows: Row<K>[] = [];
  private state: LstmState | undefined;
  private joining: Row<K>[] = [];

  /** `decoder` runs every step unless `step` is given another (same weights, another backend). */
  constructor(
    private readonly decoder: CharDecoder,
    private readonly vocab: Vocabulary,
  ) {}

  get size(): number {
    return this.rows.length + this.joining.length;
  }

  /** Keys of every request not finished yet. */
  keys(): K[] {
    return [...this.rows, ...this.joining].map((r) => r.key);
  }

  /** Validates a request; it joins the batch at the next step. */
  add(key: K, req: GenerationRequest): void {
    validateRequest(req, this.vocab);
    const prime = this.vocab.encode(startChar(this.vocab) + req.seed);
    const max = req.ending === 'line' ? Math.min(LIMITS.maxLength, req.length + Math.ceil(req.length * ENDING_SLACK)) : req.length;
    this.joining.push({ key, req, rng: makeRng(req.rngSeed), prime, fed: 0, last: 0, out: [], max });
  }

  /** One decode step for every row; returns the rows that finished. */
  step(decoder = this.decoder): { key: K; text: string }[] {
    this.admit();
    if (this.rows.length === 0 || !this.state) return [];
    const input = Int32Array.from(this.rows, (r) => (r.fed < r.prime.length ? r.prime[r.fed++] : r.last));
    const { logits: values, state } = decoder.step(input, this.state);
    this.state = state;
    const v = decoder.vocabSize;
    const done: number[] = [];
    this.rows.forEach((row, i) => {
      // Still priming: the model has not read the whole seed yet.
      if (row.fed < row.prime.length) return;
      row.last = sample(values.subarray(i * v, (i + 1) * v), row.req, row.rng);
      row.out.push(row.last);
      if (this.finished(row)) done.push(i);
    });
    const finished = done.map((i) => ({ key: this.rows[i].key, text: this.rows[i].req.seed + this.vocab.decode(this.ending(this.rows[i])) }));
    if (done.length > 0) this.keep(this.rows.map((_, i) => i).filter((i) => !done.includes(i)));
    return finished;
  }

  /** The text so far (seed included) of an unfinished request, or undefined. */
  partial(key: K): string | undefined {
    const row = [...this.rows, ...this.joining].find((r) => r.key === key);
    return row && row.req.seed + this.vocab.decode(row.out);
  }

  /** Drops every row. */
  clear(): void {
    this.state = undefined;
    this.rows = [];
    this.joining = [];
  }

  private finished(row: Row<K>): boolean {
    const n = row.out.length;
    if (n < row.req.length) return false;
    if (row.req.ending !== 'line' || n >= row.max) return true;
    const last = this.vocab.chars[row.out[n - 1]];
    return last === '\n' || SENTENCE_ENDS.has(last);
  }

  /** A finished row's output: without the newline that ended it, or cut at a word end when no ending came in time. */
  private ending(row: Row<K>): number[] {
    const out = row.out;
    if (row.req.ending !== 'line') return out;
    const last = this.vocab.chars[out[out.length - 1]];
    if (last === '\n') return out.slice(0, -1);
    if (SENTENCE_ENDS.has(last)) return out;
    for (let i = out.length - 1; i >= row.req.length; i--) if (this.vocab.chars[out[i]] === ' ') return out.slice(0, i);
    return out;
  }

  private admit(): void {
    if (this.joining.length === 0) return;
    const fresh = this.decoder.zeroState(this.joining.length);
    this.state = this.state ? concatStates([this.state, fresh]) : fresh;
    this.rows.push(...this.joining);
    this.joining = [];
  }

  private keep(indices: number[]): void {
    this.rows = indices.map((i) => this.rows[i]);
    this.state = indices.length > 0 ? selectRows(this.state!, indices) : undefined;
  }
}

/** Generates every request to completion in one batch; results in request order. */
export function generate(decoder: CharDecoder, vocab: Vocabulary, requests: GenerationRequest[]): string[] {
  const batch = new BatchGenerator<number>(decoder, vocab);
  const out: string[] = new Array(requests.length);
  requests.forEach((r, i) => batch.add(i, r));
  while (batch.size > 0) for (const { key, text } of batch.step()) out[key] = text;
  return out;
}
