// The training corpus: every .txt file of a folder (sorted, so the order is
// stable), or one file; its sha256; and the train/validation split.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface Corpus {
  text: string;
  sha256: string;
  files: string[];
}

export async function readCorpus(location: string): Promise<Corpus> {
  const info = await stat(location);
  const files = info.isDirectory()
    ? (await readdir(location)).filter((f) => f.endsWith('.txt')).sort().map((f) => path.join(location, f))
    : [location];
  if (files.length === 0) throw new Error(`no .txt files in ${location}`);
  // Files are joined as-is: tiny-shakespeare already ends with a newline.
  const text = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('');
  if (text.length === 0) throw new Error(`corpus ${location} is empty`);
  return { text, sha256: sha256(text), files };
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface Split {
  train: string;
  val: string;
  /** Index of the first validation character. */
  boundary: number;
  valFraction: number;
}

/** First (1 - valFraction) for training, the contiguous rest for validation (nanoGPT's convention). */
export function splitCorpus(text: string, valFraction = 0.1): Split {
  if (!(valFraction > 0 && valFraction < 1)) throw new Error(`valFraction must be in (0, 1), got ${valFraction}`);
  const boundary = Math.floor(text.length * (1 - valFraction));
  return { train: text.slice(0, boundary), val: text.slice(boundary), boundary, valFraction };
}
