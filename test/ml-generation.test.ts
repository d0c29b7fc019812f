import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import { CharDecoder } from '../src/ml/decoder.js';
import { evaluateLoss } from '../src/ml/evaluate.js';
import { BatchGenerator, ENDING_SLACK, GenerationInputError, LIMITS, generate, validateRequest } from '../src/ml/generate.js';
import { buildModel } from '../src/ml/model.js';
import { makeRng } from '../src/ml/rng.js';
import { sample, softmax } from '../src/ml/sampling.js';
import { Vocabulary } from '../src/ml/vocab.js';
import { train, type TrainResult } from '../src/training/loop.js';
import { DEFAULT_TRAIN_CONFIG } from '../src/training/settings.js';

const PERIODIC = 'abcde\n'.repeat(400);
let trained: TrainResult;

beforeAll(async () => {
  await initBackend('generate');
  trained = await train({
    text: PERIODIC,
    config: { ...DEFAULT_TRAIN_CONFIG, units: 24, seqLen: 12, batchSize: 16, epochs: 8, warmupSteps: 5, learningRate: 0.02, minLearningRate: 0.002, evalStreams: 4 },
  });
}, 120_000);

describe('training', () => {
  it('learns a periodic text to near-zero loss', () => {
    expect(trained.metrics.length).toBeGreaterThan(0);
    expect(trained.metrics[0].trainLoss).toBeGreaterThan(1);
    expect(trained.valLoss).toBeLessThan(0.05);
  });

  it('generates the period back', () => {
    const [text] = generate(new CharDecoder(trained.model), trained.vocab, [{ seed: 'abc', length: 30, temperature: 0.5, rngSeed: 7 }]);
    expect(text).toBe('abc' + 'de\nabc'.repeat(5) + '');
  });
});

describe('stateful decoding', () => {
  it('gives the same next-char distribution as running the whole sequence through the model', () => {
    const vocab = Vocabulary.fromText('abcdefghij');
    const model = buildModel({ vocabSize: vocab.size, layers: 2, units: 12, dropout: 0 }, 11);
    const ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const full = tf.tidy(() => (model.predict(tf.oneHot(tf.tensor2d([ids], [1, ids.length], 'int32'), vocab.size).toFloat()) as tf.Tensor).arraySync() as number[][][]);
    const decoder = new CharDecoder(model);
    let state = decoder.zeroState(1);
    for (let i = 0; i < ids.length; i++) {
      const out = decoder.step(Int32Array.of(ids[i]), state);
      const got = softmax(out.logits);
      const want = softmax(full[0][i]);
      for (let j = 0; j < vocab.size; j++) expect(got[j]).toBeCloseTo(want[j], 5);
      state = out.state;
    }
    decoder.dispose();
    model.dispose();
  });

  it('batched rows decode exactly like single rows, and leave no tensors behind', () => {
    const before = tf.memory().numTensors;
    const decoder = new CharDecoder(trained.model);
    const reqs = [
      { seed: 'ab', length: 20, temperature: 1, rngSeed: 1 },
      { seed: '', length: 5, temperature: 1.5, rngSeed: 2 },
      { seed: 'e\na', length: 12, temperature: 0.8, topK: 2, rngSeed: 3 },
    ];
    const together = generate(decoder, trained.vocab, reqs);
    const alone = reqs.map((r) => generate(decoder, trained.vocab, [r])[0]);
    expect(together).toEqual(alone);
    expect(together.map((t) => t.length)).toEqual([22, 5, 15]);
    decoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the same RNG seed gives the same text; another seed, another text', () => {
    const vocab = Vocabulary.fromText('abcdefghij');
    const model = buildModel({ vocabSize: vocab.size, layers: 1, units: 8, dropout: 0 }, 5);
    const decoder = new CharDecoder(model);
    const req = { seed: 'abc', length: 80, temperature: 1.2 };
    const a = generate(decoder, vocab, [{ ...req, rngSeed: 42 }])[0];
    const b = generate(decoder, vocab, [{ ...req, rngSeed: 42 }])[0];
    const c = generate(decoder, vocab, [{ ...req, rngSeed: 43 }])[0];
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    model.dispose();
  });

  it('rows can join a batch while others are running', () => {
    const decoder = new CharDecoder(trained.model);
    const batch = new BatchGenerator<string>(decoder, trained.vocab);
    batch.add('first', { seed: 'a', length: 10, temperature: 1, rngSeed: 9 });
    const done: Record<string, string> = {};
    for (let i = 0; i < 4; i++) for (const f of batch.step()) done[f.key] = f.text;
    batch.add('second', { seed: 'c', length: 3, temperature: 1, rngSeed: 9 });
    while (batch.size > 0) for (const f of batch.step()) done[f.key] = f.text;
    expect(done.first).toBe(generate(decoder, trained.vocab, [{ seed: 'a', length: 10, temperature: 1, rngSeed: 9 }])[0]);
    expect(done.second).toBe(generate(decoder, trained.vocab, [{ seed: 'c', length: 3, temperature: 1, rngSeed: 9 }])[0]);
  });

  it('a burst decodes in one batch, priming included: every queued request joins the next step', () => {
    const decoder = new CharDecoder(trained.model);
    const batch = new BatchGenerator<number>(decoder, trained.vocab);
    for (let i = 0; i < 200; i++) batch.add(i, { seed: 'ab', length: 3, temperature: 1, rngSeed: i });
    const rows: number[] = [];
    const step = decoder.step.bind(decoder);
    decoder.step = (ids, state) => {
      rows.push(ids.length);
      return step(ids, state);
    };
    let finished = 0;
    while (batch.size > 0) finished += batch.step().length;
    // The start character and the 2-char seed are fed a step each, then 3 are sampled: 5 steps (not 400 priming steps of 1 row).
    expect(rows).toEqual([200, 200, 200, 200, 200]);
    expect(finished).toBe(200);
  });

  it("ending 'line' finishes the line the period ends, dropping its newline", () => {
    const decoder = new CharDecoder(trained.model);
    const [text] = generate(decoder, trained.vocab, [{ seed: 'a', length: 20, temperature: 0.5, rngSeed: 7, ending: 'line' }]);
    // 20 characters end mid-line ("...abc"); the line's "de" follows, within 15 % more.
    expect(text).toBe('a' + 'bcde\n' + 'abcde\n'.repeat(2) + 'abcde');
  });

  it("ending 'line' without any line end in reach stops at the slack, never past the length limit", () => {
    const vocab = Vocabulary.fromText('abcdefghij');
    const model = buildModel({ vocabSize: vocab.size, layers: 1, units: 8, dropout: 0 }, 5);
    const decoder = new CharDecoder(model);
    const [short, long] = generate(decoder, vocab, [
      { seed: '', length: 100, temperature: 1, rngSeed: 1, ending: 'line' },
      { seed: '', length: LIMITS.maxLength, temperature: 1, rngSeed: 1, ending: 'line' },
    ]);
    expect(short.length).toBe(100 + Math.ceil(100 * ENDING_SLACK));
    expect(long.length).toBe(LIMITS.maxLength);
    model.dispose();
  });

  it('validation loss of the trained model matches its training report', () => {
    const ids = trained.vocab.encode(PERIODIC.slice(-600));
    const report = evaluateLoss(new CharDecoder(trained.model), ids, 4);
    expect(report.nats).toBeLessThan(0.05);
    expect(report.bitsPerChar).toBeCloseTo(report.nats / Math.LN2, 10);
  });
});

describe('sampling', () => {
  it('top-k 1 is greedy; top-p keeps the smallest nucleus', () => {
    const logits = [1, 3, 2, 0.5];
    const rng = makeRng(1);
    for (let i = 0; i < 50; i++) expect(sample(logits, { temperature: 1, topK: 1 }, rng)).toBe(1);
    const seen = new Set<number>();
    // p = softmax: [0.09, 0.66, 0.24, 0.05]: top_p 0.8 keeps ids 1 and 2.
    for (let i = 0; i < 400; i++) seen.add(sample(logits, { temperature: 1, topP: 0.8 }, rng));
    expect([...seen].sort()).toEqual([1, 2]);
  });

  it('low temperature sharpens, high temperature flattens', () => {
    const cold = softmax([1, 2], 0.1);
    const hot = softmax([1, 2], 2);
    expect(cold[1]).toBeGreaterThan(0.99);
    expect(hot[1]).toBeLessThan(0.65);
  });
});

describe('request validation', () => {
  const vocab = Vocabulary.fromText('abc \n');
  const ok = { seed: 'ab', length: 10, temperature: 0.8 };
  it.each([
    [{ ...ok, seed: 'abz!' }, /never saw: "z" "!"/],
    [{ ...ok, seed: 'a'.repeat(501) }, /limit is 500/],
    [{ ...ok, length: 0 }, /length/],
    [{ ...ok, length: 2001 }, /length/],
    [{ ...ok, length: 1.5 }, /length/],
    [{ ...ok, temperature: 0 }, /temperature/],
    [{ ...ok, temperature: 2.5 }, /temperature/],
    [{ ...ok, topK: 0 }, /top_k/],
    [{ ...ok, topP: 1.5 }, /top_p/],
    [{ ...ok, ending: 'word' as 'line' }, /ending/],
  ])('rejects %o', (req, message) => {
    expect(() => validateRequest(req, vocab)).toThrow(GenerationInputError);
    expect(() => validateRequest(req, vocab)).toThrow(message);
  });

  it('accepts the limits and an empty seed', () => {
    expect(() => validateRequest({ seed: '', length: 2000, temperature: 2, topK: 5, topP: 1 }, vocab)).not.toThrow();
  });
});
