// /corpus end to end: the real bot (src/discord/bot.ts, the real discord.js
// client) against the fake Discord, whose interactions carry attachment
// options (type 11, `data.resolved.attachments`) with a CDN URL the fake
// serves; the real application over a tiny model trained on the corpus
// folder's one file. Also console mode (a local path) and the HTTP
// interactions adapter reading the same payload.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { REST, type APIChatInputApplicationCommandInteraction } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../src/app/wiring.js';
import { parseConfig, type Config } from '../src/config.js';
import { runConsole } from '../src/console/repl.js';
import { Bot } from '../src/discord/bot.js';
import { HttpInvocation } from '../src/http/invocation.js';
import { log } from '../src/log.js';
import { readCorpus } from '../src/ml/corpus.js';
import { Permission, startFakeDiscord, type FakeDiscord, type InteractionInput, type JsonObject } from '../tools/fake-discord/server.js';
import { publishTinyModel } from './helpers/tiny-model.js';

const TOKEN = 'bardbot-corpus-token';
const ADMIN_ID = '177777777777777777';
const EPHEMERAL = 1 << 6;
const WAIT_MS = 20_000;
const MiB = 2 ** 20;
/** The tiny model's corpus: the first characters of the shipped one, as data/shakespeare/tinyshakespeare.txt. */
const CHARS = 5000;
const SHIPPED = fileURLToPath(new URL('../data/shakespeare/', import.meta.url));
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);

let root: string;
let corpusDir: string;
let fake: FakeDiscord;
let app: App;
let bot: Bot;
let lastUser = 300_000_000_000_000_000n;

const text = (m: JsonObject | undefined) => String(m?.content ?? '');
/** /corpus as the admin, with a file attached when `file` is given; resolves with the visible answer. */
async function corpus(subcommand: string, options: Record<string, string> = {}, extra: Partial<InteractionInput> = {}) {
  const handle = fake.sendInteraction({ name: 'corpus', subcommand, options, userId: ADMIN_ID, ...extra });
  const message = await handle.waitForResponse(undefined, WAIT_MS);
  expect(Number(message.flags) & EPHEMERAL).toBe(EPHEMERAL);
  return { handle, message, text: text(message) };
}
const attach = (filename: string, bytes: Buffer, more: Partial<Parameters<FakeDiscord['addAttachment']>[0]> = {}) =>
  String(fake.addAttachment({ filename, bytes, contentType: 'text/plain; charset=utf-8', ...more }).id);
const downloadsOf = (id: string) => fake.attachmentDownloads.filter((d) => d.id === id);

beforeAll(async () => {
  log.level = process.env.LOG_LEVEL ?? 'warn';
  root = await mkdtemp(path.join(tmpdir(), 'corpus-discord-'));
  corpusDir = path.join(root, 'data', 'shakespeare');
  await mkdir(corpusDir, { recursive: true });
  await writeFile(path.join(corpusDir, 'tinyshakespeare.txt'), (await readCorpus(SHIPPED)).text.slice(0, CHARS));
  await publishTinyModel(path.join(root, 'models'), { epochs: 1, chars: CHARS });
  // A server boosted to 100 MiB uploads, so the client sends the 50 MB file (the bot's own cap is 10 MiB).
  fake = await startFakeDiscord({ token: TOKEN, heartbeatIntervalMs: 1000, maxUploadBytes: 100 * MiB });
  const config: Config & { DISCORD_TOKEN: string } = {
    ...parseConfig({
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: fake.apiUrl,
      MODELS_DIR: path.join(root, 'models'),
      DATA_DIR: path.join(root, 'data'),
      ADMIN_USER_IDS: ADMIN_ID,
      MODEL_WATCH_SECONDS: '0',
      COOLDOWN_SECONDS: '0',
      GEN_WORKERS: '1',
      CORPUS_DOWNLOAD_TIMEOUT_SECONDS: '2',
    }),
    DISCORD_TOKEN: TOKEN,
  };
  app = await startApp(config);
  bot = new Bot({ config, dispatcher: app.dispatcher() });
  await bot.start();
}, 180_000);

afterAll(async () => {
  await bot?.stop(1000);
  await app?.close(1000);
  await fake?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('/corpus on (fake) Discord', () => {
  it('is registered for Manage Server with an attachment option, and refuses non-admins', async () => {
    const def = fake.commands().find((c) => c.name === 'corpus')!;
    expect(def.default_member_permissions).toBe(String(Permission.ManageGuild));
    const add = (def.options as JsonObject[]).find((o) => o.name === 'add')!;
    expect((add.options as JsonObject[]).map((o) => [o.name, o.type, o.required ?? false])).toEqual([
      ['file', 11, true],
      ['name', 3, false],
    ]);
    const id = attach('sneaky.txt', Buffer.from('x\n'));
    for (const [subcommand, options] of [['add', { file: id }], ['list', {}], ['remove', { name: 'tinyshakespeare.txt' }]] as const) {
      const h = fake.sendInteraction({ name: 'corpus', subcommand, options, userId: String(++lastUser) });
      expect(text(await h.waitForResponse(undefined, WAIT_MS))).toBe('Only members who can manage this server may use /corpus.');
    }
    expect(downloadsOf(id)).toEqual([]);
    expect(await readdir(corpusDir)).toEqual(['tinyshakespeare.txt']);
  });

  it('lists the corpus the serving version was trained on', async () => {
    const { text: listing } = await corpus('list');
    expect(listing).toBe(
      [
        `The shakespeare corpus: 1 file, ${CHARS.toLocaleString('en-US')} characters.`,
        `• tinyshakespeare.txt: ${CHARS.toLocaleString('en-US')} characters, 4.9 KiB`,
        'v1 (serving) was trained on exactly these files.',
      ].join('\n'),
    );
  });

  it('adds an attachment: downloaded whole, stored, its size and new characters in the reply; list shows it as new', async () => {
    const bytes = Buffer.from('KING LEAR:\nO, reason not the need! Café — naïve 😀\n');
    const id = attach('lear.txt', bytes);
    const { text: reply, handle } = await corpus('add', { file: id, name: 'lear' }, { memberPermissions: Permission.ManageGuild });
    expect(reply).toMatch(/^Added lear\.txt to the shakespeare corpus: 50 characters\. The next retrain \(nightly, or \/retrain start\) trains on it\.\n/);
    expect(reply).toMatch(/\n\d characters new to the vocabulary of v1: .*"é".*"—".*"ï".*"😀"\. The next retrain starts from scratch/);
    expect(handle.payload.data).toMatchObject({ resolved: { attachments: { [id]: { filename: 'lear.txt', size: bytes.length, ephemeral: true } } } });
    expect(downloadsOf(id)).toEqual([expect.objectContaining({ bytesSent: bytes.length, complete: true })]);
    expect(await readFile(path.join(corpusDir, 'lear.txt'))).toEqual(bytes);
    // What the nightly refresh and /retrain start read.
    expect((await readCorpus(corpusDir)).files.map((f) => path.basename(f))).toEqual(['lear.txt', 'tinyshakespeare.txt']);

    const { text: listing } = await corpus('list');
    expect(listing).toContain('• lear.txt: 50 characters, 57 B (new since the serving version was trained)\n• tinyshakespeare.txt: ');
    expect(listing).toContain(`The shakespeare corpus: 2 files, ${(CHARS + 50).toLocaleString('en-US')} characters.`);
    expect(listing).toMatch(/The corpus has changed since v1 \(serving\) was trained\.$/);

    const again = await corpus('add', { file: attach('lear.txt', Buffer.from('more\n')) });
    expect(again.text).toBe('The corpus already has lear.txt; remove it first (/corpus remove) or add it under another name.');
  });

  it('refuses a 50 MB attachment by its declared size, without downloading it', async () => {
    const id = attach('big.txt', Buffer.alloc(50 * 1000 * 1000, 'a'));
    const { text: reply } = await corpus('add', { file: id });
    expect(reply).toBe('big.txt is larger than 10 MiB, the most /corpus add takes; nothing was downloaded past that.');
    expect(downloadsOf(id)).toEqual([]);
    expect(await readdir(corpusDir)).not.toContain('big.txt');
  });

  it('cuts off a file whose declared size is a lie at the cap, with or without a Content-Length', async () => {
    const body = Buffer.alloc(50 * 1000 * 1000, 'a');
    for (const chunked of [false, true]) {
      const id = attach(`liar-${chunked}.txt`, body, { declaredSize: 1000, chunked });
      const { text: reply } = await corpus('add', { file: id });
      expect(reply).toBe(`liar-${chunked}.txt is larger than 10 MiB, the most /corpus add takes; nothing was downloaded past that.`);
      const download = await fake.waitForAttachmentDownload((d) => d.id === id, WAIT_MS);
      expect(download.complete).toBe(false);
      expect(download.bytesSent).toBeLessThan(body.length);
    }
    expect((await readdir(corpusDir)).filter((f) => f.startsWith('liar'))).toEqual([]);
  });

  it('refuses a binary file, naming why; and a file that is not .txt without downloading it', async () => {
    const png = await corpus('add', { file: attach('picture.txt', PNG, { contentType: 'image/png' }) });
    expect(png.text).toBe(
      'picture.txt is not UTF-8 text (invalid byte 0x89 at byte offset 0): a binary file, or text in another encoding. Save it as UTF-8 and add it again.',
    );
    const nul = await corpus('add', { file: attach('nul.txt', Buffer.from('ab\0cd')) });
    expect(nul.text).toBe('nul.txt is a binary file (it contains NUL bytes), not text.');
    const id = attach('picture.png', PNG, { contentType: 'image/png' });
    expect((await corpus('add', { file: id })).text).toBe('Only .txt files can be added to the corpus; picture.png is not one.');
    expect(downloadsOf(id)).toEqual([]);
    expect(await readdir(corpusDir)).toEqual(['lear.txt', 'tinyshakespeare.txt']);
  });

  it('refuses names that would leave the data folder, before downloading', async () => {
    for (const name of ['../evil.txt', '../../models/x', '.hidden', 'a/b.txt']) {
      const id = attach('ok.txt', Buffer.from('fine\n'));
      const { text: reply } = await corpus('add', { file: id, name });
      expect(reply).toMatch(/ is not a name I can store: letters, digits, "\.", "-" and "_", ending in \.txt, not starting with a dot, no folders\.$/);
      expect(downloadsOf(id)).toEqual([]);
    }
    expect((await corpus('remove', { name: '../shakespeare/lear.txt' })).text).toMatch(/^"\.\.\/shakespeare\/lear\.txt" is not a name I can store/);
    expect(await readdir(path.join(root, 'data'))).toEqual(['shakespeare']);
    expect(await readdir(corpusDir)).toEqual(['lear.txt', 'tinyshakespeare.txt']);
  });

  it('gives up on a download that outlasts CORPUS_DOWNLOAD_TIMEOUT_SECONDS', async () => {
    const id = attach('slow.txt', Buffer.from('slow\n'), { stallMs: 5000 });
    const { text: reply } = await corpus('add', { file: id });
    expect(reply).toBe('Could not get slow.txt: no complete answer within 2 s. Nothing was added.');
    expect((await fake.waitForAttachmentDownload((d) => d.id === id, WAIT_MS)).complete).toBe(false);
  });

  it('removes a file, and never the last one', async () => {
    expect((await corpus('remove', { name: 'lear.txt' })).text).toBe('Removed lear.txt; 1 file left. The next retrain trains without it.');
    expect((await corpus('remove', { name: 'lear.txt' })).text).toBe('The corpus has no file lear.txt; /corpus list shows its files.');
    expect((await corpus('remove', { name: 'tinyshakespeare' })).text).toBe(
      "tinyshakespeare.txt is the corpus's only file, and a retrain needs one; add another before removing it.",
    );
    expect(await readdir(corpusDir)).toEqual(['tinyshakespeare.txt']);
    expect((await corpus('list')).text).toMatch(/v1 \(serving\) was trained on exactly these files\.$/);
  });

  it('reads the same attachment through the HTTP interactions adapter', async () => {
    const bytes = Buffer.from('HTTP mode\n');
    const { handle } = await corpus('add', { file: attach('http.txt', bytes) });
    const payload = handle.payload as unknown as APIChatInputApplicationCommandInteraction;
    const invocation = new HttpInvocation(payload, new REST(), [], () => {}, false);
    const file = invocation.options.getAttachment('file')!;
    expect([file.name, file.size, file.contentType, invocation.subcommand]).toEqual(['http.txt', bytes.length, 'text/plain; charset=utf-8', 'add']);
    expect(await file.read({ maxBytes: MiB, timeoutMs: 5000 })).toEqual(bytes);
    await expect(file.read({ maxBytes: 4, timeoutMs: 5000 })).rejects.toThrow('the attachment is larger than 4 bytes');
    await corpus('remove', { name: 'http.txt' });
  });
});

describe('/corpus in console mode', () => {
  it('lists, adds from a local path and removes', async () => {
    const file = path.join(root, 'sonnet.txt');
    await writeFile(file, 'Shall I compare thee to a summer’s day?\n');
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (d: Buffer) => (printed += d.toString()));
    input.end([`/corpus add file:${file}`, '/corpus list', `/corpus add file:${path.join(root, 'missing.txt')}`, '/corpus remove name:sonnet.txt', ''].join('\n'));
    await runConsole({ dispatcher: app.dispatcher(), input, output });
    expect(printed).toContain('Added sonnet.txt to the shakespeare corpus: 40 characters.');
    expect(printed).toMatch(/1 character new to the vocabulary of v1: "’"\./);
    expect(printed).toContain('• sonnet.txt: 40 characters, 42 B (new since the serving version was trained)');
    expect(printed).toMatch(/error: Could not get missing\.txt: ENOENT/);
    expect(printed).toContain('Removed sonnet.txt; 1 file left.');
    expect(await readdir(corpusDir)).toEqual(['tinyshakespeare.txt']);
  });
});
