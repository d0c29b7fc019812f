// The corpus folder behind /corpus (src/app/corpus.ts) on real files: names
// that stay in the folder, training's UTF-8 check on uploads, atomic adds,
// never removing the last file, and what is new since the serving version;
// and the console's local-file attachment under the same cap.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttachmentTooLargeError, AttachmentUnavailableError } from '../src/app/command.js';
import { CorpusFolder, CorpusRefusal, type CorpusProblem } from '../src/app/corpus.js';
import { localAttachment } from '../src/console/invocation.js';
import { readCorpus, sha256 } from '../src/ml/corpus.js';
import type { ServingModel } from '../src/serving/types.js';
import { FAKE_META } from './helpers/fake-version.js';

const LIMITS = { maxBytes: 1024, timeoutMs: 1000 };
const FIRST = 'First Citizen:\nBefore we proceed any further, hear me speak.\n';

let root: string;
let dir: string;
let serving: ServingModel | undefined;
let store: CorpusFolder;

/** A served version trained on exactly `text` from `files`. */
function servedOn(text: string, files: string[]): ServingModel {
  const vocab = [...new Set(text)].sort();
  const metadata = { ...FAKE_META, name: 'bard', version: 'v1', createdAt: new Date(0).toISOString(), checksums: {}, vocab, corpus: { ...FAKE_META.corpus, sha256: sha256(text), files } };
  return { name: 'bard', version: 'v1', metadata };
}

const refusal = (problem: Partial<CorpusProblem>) => expect.objectContaining({ name: 'CorpusRefusal', problem: expect.objectContaining(problem) as unknown });

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'corpus-store-'));
  dir = path.join(root, 'data', 'bard');
  store = new CorpusFolder({ dir, generator: { serving: () => serving }, limits: LIMITS });
  await store.add('a.txt', Buffer.from(FIRST));
  serving = servedOn(FIRST, ['a.txt']);
});

afterEach(async () => {
  serving = undefined;
  await rm(root, { recursive: true, force: true });
});

describe('the corpus folder (/corpus)', () => {
  it('adds a file that the next retrain reads, naming the characters new to the serving vocabulary', async () => {
    const added = await store.add('b.txt', Buffer.from('Café 😀\n'));
    expect(added).toEqual({ name: 'b.txt', chars: 7, serving: { version: 'v1', newChars: ['é', '😀'] } });
    expect((await readCorpus(dir)).text).toBe(FIRST + 'Café 😀\n');
    // write-file-atomic's temporary file is gone, and was never a .txt.
    expect((await readdir(dir)).sort()).toEqual(['a.txt', 'b.txt']);
    expect((await store.add('c.txt', Buffer.from('hear me\n'))).serving).toEqual({ version: 'v1', newChars: [] });
  });

  it('lists sizes and the total, the files new since the serving version, and whether the corpus is what it was trained on', async () => {
    expect(await store.list()).toEqual({
      files: [{ name: 'a.txt', bytes: FIRST.length, chars: FIRST.length, new: false }],
      chars: FIRST.length,
      serving: { version: 'v1', unchanged: true, removed: [] },
    });
    await store.add('b.txt', Buffer.from('é\n'));
    const listing = await store.list();
    expect(listing.files.map((f) => [f.name, f.bytes, f.chars, f.new])).toEqual([
      ['a.txt', FIRST.length, FIRST.length, false],
      ['b.txt', 3, 2, true],
    ]);
    expect(listing.chars).toBe(FIRST.length + 2);
    expect(listing.serving).toEqual({ version: 'v1', unchanged: false, removed: [] });
    await store.remove('a.txt');
    expect((await store.list()).serving).toEqual({ version: 'v1', unchanged: false, removed: ['a.txt'] });
  });

  it('flags a file dropped in by hand that a retrain would refuse', async () => {
    await writeFile(path.join(dir, 'latin1.txt'), Buffer.from([0x6e, 0x61, 0xef, 0x76, 0x65]));
    const file = (await store.list()).files.find((f) => f.name === 'latin1.txt');
    expect(file?.problem).toBe('corpus file latin1.txt is not valid UTF-8: invalid byte 0xef at byte offset 2; save it as UTF-8');
  });

  it('refuses names that are not plain .txt names in the folder, before touching anything', async () => {
    for (const name of ['../evil.txt', '../../etc/passwd.txt', '/tmp/evil.txt', 'sub/x.txt', 'sub\\x.txt', '.hidden.txt', 'notes.md', 'a b.txt', '.txt', '', '..']) {
      await expect(store.add(name, Buffer.from('x\n'))).rejects.toEqual(refusal({ kind: 'badName', name }));
      await expect(store.remove(name)).rejects.toEqual(refusal({ kind: 'badName', name }));
    }
    expect(await readdir(dir)).toEqual(['a.txt']);
    expect(await readdir(path.join(root, 'data'))).toEqual(['bard']);
  });

  it('refuses what training would refuse or should not train on: not UTF-8, binary, empty; and an existing name', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await expect(store.add('image.txt', png)).rejects.toEqual(refusal({ kind: 'notUtf8', name: 'image.txt', byte: 0x89, offset: 0 }));
    await expect(store.add('nul.txt', Buffer.from('text\0more'))).rejects.toEqual(refusal({ kind: 'binary', name: 'nul.txt' }));
    await expect(store.add('blank.txt', Buffer.from(' \n\n'))).rejects.toEqual(refusal({ kind: 'empty', name: 'blank.txt' }));
    await expect(store.add('a.txt', Buffer.from('other\n'))).rejects.toEqual(refusal({ kind: 'exists', name: 'a.txt' }));
    expect(await readFile(path.join(dir, 'a.txt'), 'utf8')).toBe(FIRST);
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('never removes the last file, even when two removals race', async () => {
    await expect(store.remove('a.txt')).rejects.toEqual(refusal({ kind: 'lastFile', name: 'a.txt' }));
    await expect(store.remove('zzz.txt')).rejects.toEqual(refusal({ kind: 'missing', name: 'zzz.txt' }));
    await store.add('b.txt', Buffer.from('hear\n'));
    const results = await Promise.allSettled([store.remove('a.txt'), store.remove('b.txt')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(CorpusRefusal);
    expect(await readdir(dir)).toEqual(['b.txt']);
  });

  it('says which characters of the serving vocabulary a removal takes out of the corpus', async () => {
    await store.add('b.txt', Buffer.from('Zounds!\n'));
    serving = servedOn(FIRST + 'Zounds!\n', ['a.txt', 'b.txt']);
    expect(await store.remove('b.txt')).toEqual({ name: 'b.txt', files: 1, serving: { version: 'v1', goneChars: ['!', 'Z'] } });
  });

  it('works without a served version, and creates the folder for the first file', async () => {
    serving = undefined;
    const fresh = new CorpusFolder({ dir: path.join(root, 'data', 'new'), generator: { serving: () => undefined }, limits: LIMITS });
    expect(await fresh.list()).toEqual({ files: [], chars: 0 });
    expect(await fresh.add('first.txt', Buffer.from('To be\n'))).toEqual({ name: 'first.txt', chars: 6 });
    expect((await fresh.list()).files).toEqual([{ name: 'first.txt', bytes: 6, chars: 6, new: false }]);
  });
});

describe('a local file as an attachment (console mode)', () => {
  it('reads it under the cap, refuses past it, and says when it is missing', async () => {
    const file = path.join(root, 'sonnets.txt');
    await writeFile(file, 'x'.repeat(LIMITS.maxBytes));
    const attachment = localAttachment(file);
    expect([attachment.name, attachment.size]).toEqual(['sonnets.txt', LIMITS.maxBytes]);
    expect((await attachment.read(LIMITS)).length).toBe(LIMITS.maxBytes);
    await writeFile(file, 'x'.repeat(LIMITS.maxBytes + 1));
    await expect(localAttachment(file).read(LIMITS)).rejects.toBeInstanceOf(AttachmentTooLargeError);
    await expect(localAttachment(path.join(root, 'none.txt')).read(LIMITS)).rejects.toBeInstanceOf(AttachmentUnavailableError);
  });
});
