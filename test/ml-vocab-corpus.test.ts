import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCorpus, splitCorpus } from '../src/ml/corpus.js';
import { UnknownCharactersError, Vocabulary } from '../src/ml/vocab.js';

describe('Vocabulary', () => {
  it('is sorted and deterministic, and round-trips text', () => {
    const a = Vocabulary.fromText('hello world');
    const b = Vocabulary.fromText('world hello');
    expect(a.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(b.equals(a)).toBe(true);
    const ids = a.encode('hello');
    expect([...ids]).toEqual([3, 2, 4, 4, 5]);
    expect(a.decode(ids)).toBe('hello');
  });

  it('names every unknown character instead of encoding -1', () => {
    const v = Vocabulary.fromText('abc');
    expect(() => v.encode('abz€z')).toThrow(UnknownCharactersError);
    try {
      v.encode('abz€z');
    } catch (err) {
      expect((err as UnknownCharactersError).characters).toEqual(['z', '€']);
      expect((err as Error).message).toBe('unknown characters: "z", "€"');
    }
    expect(v.unknown('cab')).toEqual([]);
  });
});

describe('corpus', () => {
  it('splits the first 90% for training and the contiguous rest for validation', () => {
    const text = 'x'.repeat(95) + 'y'.repeat(5);
    const s = splitCorpus(text);
    expect(s.boundary).toBe(90);
    expect(s.train).toBe(text.slice(0, 90));
    expect(s.val).toBe(text.slice(90));
    expect(s.train.length + s.val.length).toBe(text.length);
    expect(() => splitCorpus(text, 1)).toThrow(/valFraction/);
  });

  it('splits tiny-shakespeare where nanoGPT does', async () => {
    const c = await readCorpus('data/shakespeare');
    expect(c.text.length).toBe(1_115_394);
    expect(Vocabulary.fromText(c.text).size).toBe(65);
    expect(splitCorpus(c.text).boundary).toBe(1_003_854);
  });

  it('reads every .txt of a folder in name order and hashes the result', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'corpus-'));
    await writeFile(path.join(dir, 'b.txt'), 'second\n');
    await writeFile(path.join(dir, 'a.txt'), 'first\n');
    await writeFile(path.join(dir, 'notes.md'), 'ignored');
    const c = await readCorpus(dir);
    expect(c.text).toBe('first\nsecond\n');
    expect(c.files.map((f) => path.basename(f))).toEqual(['a.txt', 'b.txt']);
    await writeFile(path.join(dir, 'a.txt'), 'changed\n');
    expect((await readCorpus(dir)).sha256).not.toBe(c.sha256);
  });
});
