// The /corpus facade: the files of DATA_DIR/<model>/ that every retrain (the
// nightly one and /retrain start) reads. Names are plain file names that stay
// inside that folder; an upload passes the checks training applies (UTF-8,
// via the same decoder) before it is written, atomically, so a retrain
// starting meanwhile reads it whole or not at all; the last file is never
// removed; changes run one at a time, so two admins cannot both remove "the
// second to last" file.
import { lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { corpusFiles, decodeUtf8, InvalidUtf8Error, readCorpus, sha256 } from '../ml/corpus.js';
import { Vocabulary } from '../ml/vocab.js';
import type { AttachmentLimits } from './command.js';
import type { AddedFile, CorpusFile, CorpusListing, CorpusStore, Generation, RemovedFile } from './services.js';

export type CorpusProblem =
  | { kind: 'badName' | 'exists' | 'missing' | 'lastFile' | 'binary' | 'empty'; name: string }
  | { kind: 'notUtf8'; name: string; byte: number; offset: number };

/** Why /corpus refused a change; nothing was changed. */
export class CorpusRefusal extends Error {
  constructor(readonly problem: CorpusProblem) {
    super(`corpus ${problem.kind}: ${problem.name}`);
    this.name = 'CorpusRefusal';
  }
}

/** Plain names only: letters, digits, dot, dash, underscore; no dot-files; .txt, which is what training reads. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,95}\.txt$/;

export const validFileName = (name: string): boolean => NAME.test(name);

/** Unicode characters of `text` (a surrogate pair is one). */
const charCount = (text: string) => text.length - (text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);

export interface CorpusStoreOptions {
  dir: string;
  generator: Pick<Generation, 'serving'>;
  limits: AttachmentLimits;
}

export class CorpusFolder implements CorpusStore {
  readonly limits: AttachmentLimits;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: CorpusStoreOptions) {
    this.limits = opts.limits;
  }

  async list(): Promise<CorpusListing> {
    const serving = this.opts.generator.serving();
    const trained = new Set(serving?.metadata.corpus.files ?? []);
    const names = await this.names();
    const texts: (string | undefined)[] = [];
    const files = await Promise.all(
      names.map(async (name, i): Promise<CorpusFile> => {
        const bytes = await readFile(this.file(name));
        const entry = { name, bytes: bytes.length, chars: 0, new: serving !== undefined && !trained.has(name) };
        try {
          texts[i] = decodeUtf8(bytes, name);
          return { ...entry, chars: charCount(texts[i]) };
        } catch (err) {
          if (err instanceof InvalidUtf8Error) return { ...entry, problem: err.message };
          throw err;
        }
      }),
    );
    const chars = files.reduce((n, f) => n + f.chars, 0);
    if (!serving) return { files, chars };
    // Joined as readCorpus joins them, so the hash is the one training would record.
    const unchanged = texts.length === names.length && texts.every((t) => t !== undefined) && sha256(texts.join('')) === serving.metadata.corpus.sha256;
    return { files, chars, serving: { version: serving.version, unchanged, removed: [...trained].filter((f) => !names.includes(f)) } };
  }

  add(name: string, bytes: Buffer): Promise<AddedFile> {
    return this.exclusive(async () => {
      const file = this.checked(name);
      let text;
      try {
        text = decodeUtf8(bytes, name);
      } catch (err) {
        if (err instanceof InvalidUtf8Error) throw new CorpusRefusal({ kind: 'notUtf8', name, byte: err.byte, offset: err.offset });
        throw err;
      }
      // Valid UTF-8 but not text: NUL never occurs in a text file.
      if (text.includes('\0')) throw new CorpusRefusal({ kind: 'binary', name });
      if (text.trim() === '') throw new CorpusRefusal({ kind: 'empty', name });
      if (await exists(file)) throw new CorpusRefusal({ kind: 'exists', name });
      await mkdir(this.opts.dir, { recursive: true });
      // Its temporary file (name.txt.<hash>) is not a .txt file: a retrain starting now never reads half of it.
      await writeFileAtomic(file, bytes);
      const serving = this.opts.generator.serving();
      const newChars = serving && new Vocabulary(serving.metadata.vocab).unknown(text);
      return { name, chars: charCount(text), ...(serving && newChars ? { serving: { version: serving.version, newChars } } : {}) };
    });
  }

  remove(name: string): Promise<RemovedFile> {
    return this.exclusive(async () => {
      const file = this.checked(name);
      const names = await this.names();
      if (!names.includes(name)) throw new CorpusRefusal({ kind: 'missing', name });
      if (names.length === 1) throw new CorpusRefusal({ kind: 'lastFile', name });
      await unlink(file);
      const serving = this.opts.generator.serving();
      if (!serving) return { name, files: names.length - 1 };
      // The vocabulary must stay the same for a retrain to warm-start; say which characters left with the file.
      const left = await readCorpus(this.opts.dir).then((c) => new Set(c.text), () => new Set<string>());
      return { name, files: names.length - 1, serving: { version: serving.version, goneChars: serving.metadata.vocab.filter((c) => !left.has(c)) } };
    });
  }

  /** The corpus files (what readCorpus reads); none when the folder does not exist yet. */
  private async names(): Promise<string[]> {
    try {
      return await corpusFiles(this.opts.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private file(name: string): string {
    return path.join(this.opts.dir, name);
  }

  /** The path of `name`, refused unless it is a plain name that stays in the folder. */
  private checked(name: string): string {
    const dir = path.resolve(this.opts.dir);
    const file = path.resolve(dir, name);
    if (!validFileName(name) || path.dirname(file) !== dir) throw new CorpusRefusal({ kind: 'badName', name });
    return file;
  }

  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
