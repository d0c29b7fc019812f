import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCorpus, readUtf8, splitCorpus } from '../src/ml/corpus.js';
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

  it('counts code points everywhere: an emoji is one character to build, encode, name and decode', () => {
    const text = 'a😀b𝔣a';
    const v = Vocabulary.fromText(text);
    expect(v.chars).toEqual(['a', 'b', '𝔣', '😀']);
    const ids = v.encode(text);
    expect([...ids]).toEqual([0, 3, 1, 2, 0]);
    expect(v.decode(ids)).toBe(text);
    expect(() => v.encode('a🌹')).toThrow('unknown characters: "🌹"');
    expect(v.unknown('a🌹')).toEqual(['🌹']);
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

  it('never splits a character between training and validation', () => {
    // The boundary (index 9 of 10 UTF-16 units) falls inside the emoji: it goes to validation whole.
    const s = splitCorpus('12345678😀', 0.1);
    expect([s.train, s.val, s.boundary]).toEqual(['12345678', '😀', 8]);
  });

  it('refuses a file that is not UTF-8, naming it and the first bad byte, and keeps a real U+FFFD', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'corpus-'));
    const file = path.join(dir, 'a.txt');
    // "naïve" in Latin-1: ï is the single byte 0xef, at byte offset 6 after a UTF-8 U+FFFD (3 bytes) and " na".
    await writeFile(file, Buffer.concat([Buffer.from('\uFFFD na'), Buffer.from([0xef]), Buffer.from('ve\n')]));
    await expect(readCorpus(dir)).rejects.toThrow(`corpus file ${file} is not valid UTF-8: invalid byte 0xef at byte offset 6; save it as UTF-8`);
    await writeFile(file, 'ok \uFFFD é 😀\n');
    expect(await readUtf8(file)).toBe('ok \uFFFD é 😀\n');
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
