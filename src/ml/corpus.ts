// The training corpus: every .txt file of a folder (sorted, so the order is
// stable), or one file; its sha256; and the train/validation split. Files
// must be UTF-8: anything else is refused at read time, naming the file and
// the byte, rather than trained on as replacement characters.
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
  const files = info.isDirectory() ? (await corpusFiles(location)).map((f) => path.join(location, f)) : [location];
  if (files.length === 0) throw new Error(`no .txt files in ${location}`);
  // Files are joined as-is: tiny-shakespeare already ends with a newline.
  const text = (await Promise.all(files.map(readUtf8))).join('');
  if (text.length === 0) throw new Error(`corpus ${location} is empty`);
  return { text, sha256: sha256(text), files };
}

/** The names of a corpus folder's files, in the order they are joined: every .txt file, sorted. */
export async function corpusFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.txt')).sort();
}

/** A file's text; throws InvalidUtf8Error naming the file and the byte offset of the first invalid UTF-8 sequence. */
export async function readUtf8(file: string): Promise<string> {
  return decodeUtf8(await readFile(file), file);
}

export class InvalidUtf8Error extends Error {
  constructor(
    readonly file: string,
    readonly byte: number,
    readonly offset: number,
  ) {
    super(`corpus file ${file} is not valid UTF-8: invalid byte 0x${byte.toString(16).padStart(2, '0')} at byte offset ${offset}; save it as UTF-8`);
    this.name = 'InvalidUtf8Error';
  }
}

/** `bytes` as text, refused (InvalidUtf8Error naming `file`) when they are not UTF-8: the check every corpus file passes, on disk or uploaded. */
export function decodeUtf8(bytes: Buffer, file: string): string {
  const text = bytes.toString('utf8');
  // Node decodes invalid bytes as U+FFFD; a U+FFFD that was not encoded as such (EF BF BD) marks one.
  for (let i = text.indexOf('\uFFFD'); i !== -1; i = text.indexOf('\uFFFD', i + 1)) {
    const offset = Buffer.byteLength(text.slice(0, i));
    if (bytes[offset] !== 0xef || bytes[offset + 1] !== 0xbf || bytes[offset + 2] !== 0xbd) throw new InvalidUtf8Error(file, bytes[offset], offset);
  }
  return text;
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
  let boundary = Math.floor(text.length * (1 - valFraction));
  // Never between the two halves of a surrogate pair (an emoji, say): the whole character goes to validation.
  if (/[\uDC00-\uDFFF]/.test(text[boundary] ?? '') && /[\uD800-\uDBFF]/.test(text[boundary - 1] ?? '')) boundary--;
  return { train: text.slice(0, boundary), val: text.slice(boundary), boundary, valFraction };
}
