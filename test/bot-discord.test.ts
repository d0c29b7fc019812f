// The bot end to end: the real discord.js client (through src/discord/bot.ts)
// against the fake Discord, the real application (src/app/wiring.ts) with tiny
// models from a temporary registry. Every wait is bounded.
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../src/config.js';
import { ModelsFacade } from '../src/app/models.js';
import { startApp, type App } from '../src/app/wiring.js';
import { Bot, CACHE_LIMITS } from '../src/discord/bot.js';
import { log } from '../src/log.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { ServingManager } from '../src/serving/manager.js';
import { WorkerPool } from '../src/serving/pool.js';
import { PointerSource } from '../src/serving/source.js';
import { Permission, startFakeDiscord, type FakeDiscord, type InteractionHandle, type InteractionInput, type JsonObject } from '../tools/fake-discord/server.js';
import { publishTinyModel } from './helpers/tiny-model.js';

const TOKEN = 'bardbot-test-token';
const ADMIN_ID = '199999999999999999';
/** Mention and markdown syntax the tiny models know, so seeds may use it. */
const EXTRA_CHARS = '@everyone <@123> ``` **bold** # _x_';
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const EPHEMERAL = 1 << 6;
const WAIT_MS = 20_000;

let fake: FakeDiscord;
let app: App;
let config: Config & { DISCORD_TOKEN: string };
let root: string;
const bots: Bot[] = [];
let lastUser = 100_000_000_000_000_000n;
/** A fresh user for each request, so the cooldown only bites where a test wants it. */
const newUser = () => String(++lastUser);

async function startBot(overrides: Partial<Config> = {}): Promise<Bot> {
  const bot = new Bot({ config: { ...config, ...overrides }, dispatcher: app.dispatcher() });
  bots.push(bot);
  await bot.start();
  return bot;
}

async function stopBot(bot: Bot): Promise<void> {
  bots.splice(bots.indexOf(bot), 1);
  await bot.stop(1000);
}

interface Answer {
  message: JsonObject;
  /** Whether only the user sees it. */
  ephemeral: boolean;
}

/** The first message the user gets: the @original response, or a follow-up when the deferred reply was replaced. */
async function answer(handle: InteractionHandle): Promise<Answer> {
  const result = await Promise.race([
    handle.waitForResponse(undefined, WAIT_MS).then((message) => ({ message })),
    handle.waitForFollowUp(undefined, WAIT_MS).then((r) => ({ message: r.message! })),
  ]);
  return { message: result.message, ephemeral: (Number(result.message.flags) & EPHEMERAL) !== 0 };
}

async function send(input: InteractionInput): Promise<Answer & { handle: InteractionHandle }> {
  const handle = fake.sendInteraction({ userId: newUser(), ...input });
  return { handle, ...(await answer(handle)) };
}

const content = (a: Answer) => String(a.message.content);

/** The buttons under a message, and a press of the one labelled `label`. */
const buttonsOf = (m: JsonObject) => ((m.components as JsonObject[])[0].components as JsonObject[]).map((b) => ({ label: b.label, id: String(b.custom_id) }));
const press = (message: JsonObject, label: string, userId = newUser()) => fake.pressButton({ message, customId: buttonsOf(message).find((b) => b.label === label)!.id, userId });
/** The passage text of a message (without fences, notes and signature). */
const passage = (m: JsonObject) => String(m.content).split('\n```\n')[0].slice(4).replace(/\u200b/g, '');

/**
 * A natural ending: `length` characters, then to the end of the line or
 * sentence within 15 % more, else back to a word end.
 */
const expectAbout = (chars: number, length: number) => {
  expect(chars).toBeGreaterThanOrEqual(length - 30);
  expect(chars).toBeLessThanOrEqual(Math.ceil(length * 1.15));
};

/** Every message-bearing request the bot made for this interaction disabled mentions. */
function expectNoMentionsAllowed(handle: InteractionHandle): void {
  const bodies = handle.records
    .filter((r) => !r.error && (r.kind === 'edit' || r.kind === 'followup' || (r.kind === 'callback' && r.type === 4)))
    .map((r) => (r.kind === 'callback' ? (r.body.data as JsonObject) : r.body));
  expect(bodies.length).toBeGreaterThan(0);
  for (const body of bodies) expect(body.allowed_mentions).toEqual({ parse: [] });
}

/**
 * Runs `fn` with other serving (its own worker pool, `maxQueue`, the registry's
 * current version loaded or nothing) behind the running bot's services.
 */
async function withServing(opts: { maxQueue?: number; load: boolean }, fn: () => Promise<void>): Promise<void> {
  const registry = new ModelRegistry(root);
  const manager = new ServingManager(await WorkerPool.start({ workers: 1, maxQueue: opts.maxQueue ?? 256 }));
  const source = new PointerSource(registry, 'shakespeare');
  const sync = async () => {
    const ref = await source.aspired();
    await manager.load(ref);
    return ref;
  };
  if (opts.load) await sync();
  const saved = { ...app.services };
  app.services.generator = manager;
  app.services.models = new ModelsFacade({ registry, name: 'shakespeare', generator: manager, sync });
  try {
    await fn();
  } finally {
    Object.assign(app.services, saved);
    await manager.close(2000);
  }
}

beforeAll(async () => {
  log.level = process.env.LOG_LEVEL ?? 'warn';
  root = await mkdtemp(path.join(tmpdir(), 'bardbot-models-'));
  await publishTinyModel(root, { extraChars: EXTRA_CHARS });
  await publishTinyModel(root, { extraChars: EXTRA_CHARS, epochs: 1, seed: 7 }); // v2, current
  // v3: a damaged version (its weights no longer match their checksum).
  const models = path.join(root, 'shakespeare');
  await cp(path.join(models, 'v1'), path.join(models, 'v3'), { recursive: true });
  await appendFile(path.join(models, 'v3', 'weights.bin'), 'x');

  fake = await startFakeDiscord({ token: TOKEN, heartbeatIntervalMs: 1000 });
  config = {
    ...parseConfig({
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: fake.apiUrl,
      MODELS_DIR: root,
      COOLDOWN_SECONDS: '60',
      ADMIN_USER_IDS: ADMIN_ID,
      MODEL_WATCH_SECONDS: '0',
    }),
    DISCORD_TOKEN: TOKEN,
  };
  app = await startApp(config);
  await startBot();
}, 120_000);

afterAll(async () => {
  await Promise.all(bots.splice(0).map((b) => b.stop(1000)));
  await app?.close(1000);
  await fake?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('bot on (fake) Discord', () => {
  it('registers its commands once; a restart compares and writes nothing', async () => {
    expect(fake.commands().map((c) => c.name).sort()).toEqual(['Continue as Shakespeare', 'corpus', 'model', 'retrain', 'shakespeare']);
    expect(fake.commandWrites).toBe(1);
    await stopBot(await startBot());
    expect(fake.commandWrites).toBe(1);
    // With DISCORD_GUILD_ID the commands go to that guild.
    await stopBot(await startBot({ DISCORD_GUILD_ID: fake.guildId }));
    expect(fake.commandWriteLog.map((w) => w.guildId)).toEqual([undefined, fake.guildId]);
    expect(fake.commands(fake.guildId).map((c) => c.name).sort()).toEqual(['Continue as Shakespeare', 'corpus', 'model', 'retrain', 'shakespeare']);
  });

  it('/shakespeare acknowledges at once, then edits in a signed passage that starts with the seed', async () => {
    const a = await send({ name: 'shakespeare', options: { seed: 'ROMEO:', length: 200 } });
    const [ack] = a.handle.callbacks;
    expect(ack.type).toBe(5);
    expect(ack.sinceDispatchMs).toBeLessThan(1000);
    expect(a.ephemeral).toBe(false);
    // A short passage arrives in one edit.
    expect(a.handle.edits).toHaveLength(1);
    const text = content(a);
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(text.startsWith('```\nROMEO:')).toBe(true);
    expect(text.endsWith('```\n— shakespeare v2')).toBe(true);
    // Backticks the model writes get zero-width spaces; without them the passage is seed + about 200.
    expectAbout(passage(a.message).length - 6, 200);
    expectNoMentionsAllowed(a.handle);
  });

  it('never pings, and markdown in the text cannot break out of the code block', async () => {
    const a = await send({ name: 'shakespeare', options: { seed: '@everyone <@123> ``` **bold**', length: 100 } });
    expect(content(a).startsWith('```\n@everyone <@123> `\u200b`\u200b` **bold**')).toBe(true);
    expect(content(a).match(/```/g)).toHaveLength(2);
    expect(a.message.mention_everyone).toBe(false);
    expect(a.message.mentions).toEqual([]);
    expectNoMentionsAllowed(a.handle);
  });

  it('cuts a passage too long for one message and attaches the whole text', async () => {
    const seed = 'To be, or not to be: '.repeat(23).slice(0, 480);
    const a = await send({ name: 'shakespeare', options: { seed, length: 2000 } });
    expect(content(a).length).toBeLessThanOrEqual(2000);
    const chars = Number(/all (\d+) characters are in shakespeare-v2\.txt/.exec(content(a))?.[1]);
    // A natural ending never goes past the 2,000-character limit on length.
    expect(chars).toBeGreaterThan(480 + 1900);
    expect(chars).toBeLessThanOrEqual(2480);
    const file = a.handle.edits.at(-1)!.files[0];
    expect(file.name).toBe('shakespeare-v2.txt');
    const whole = file.bytes.toString('utf8');
    expect(whole).toHaveLength(chars);
    expect(whole.startsWith(seed)).toBe(true);
  });

  it('/model info answers with an embed and a PNG loss chart', async () => {
    const a = await send({ name: 'model', subcommand: 'info' });
    const [embed] = a.message.embeds as JsonObject[];
    expect(embed.title).toBe('shakespeare v2');
    expect(JSON.stringify(embed.fields)).toMatch(/nats\/char.*bits\/char/);
    expect(embed.image).toMatchObject({ url: 'attachment://loss.png' });
    const png = a.handle.edits.at(-1)!.files.find((f) => f.name === 'loss.png')!;
    expect(png.bytes.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
    expect((a.message.attachments as JsonObject[])[0]).toMatchObject({ filename: 'loss.png', content_type: 'image/png' });
  });

  it('renders the loss chart once per version: a burst of /model info leaves every command acknowledged in time', async () => {
    // Drawing a chart takes ~100 ms of the event loop; 30 of them would push acknowledgements past Discord's 3 s.
    const infos = Array.from({ length: 30 }, () => fake.sendInteraction({ name: 'model', subcommand: 'info', userId: newUser() }));
    const other = fake.sendInteraction({ name: 'shakespeare', userId: newUser(), options: { length: 5 } });
    await Promise.all([...infos, other].map((h) => h.waitForResponse(undefined, WAIT_MS)));
    for (const h of [...infos, other]) expect(h.callbacks.map((c) => c.type)).toEqual([5]);
    for (const h of infos) expect(h.edits.at(-1)!.files.find((f) => f.name === 'loss.png')?.bytes.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
    // The very same PNG each time: drawn once for the version.
    const [first, second] = [await app.services.models.info(), await app.services.models.info()];
    expect(first?.chart).toBeInstanceOf(Buffer);
    expect(second?.chart).toBe(first?.chart);
  });

  describe('errors: a short private message', () => {
    it('refuses a seed too long for the model, whatever a client sends', async () => {
      const a = await send({ name: 'shakespeare', options: [{ name: 'seed', type: 3, value: 'a'.repeat(501) }] });
      expect(a.ephemeral).toBe(true);
      expect(content(a)).toContain('seed is 501 characters; the limit is 500');
    });

    it('keeps every reply within Discord\'s limits, however much it would echo', async () => {
      // 400 characters the model never saw: all dropped, and the note naming them stays short.
      const seed = Array.from({ length: 400 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('');
      const a = await send({ name: 'shakespeare', options: { seed, length: 20 } });
      expect(a.ephemeral).toBe(false);
      expect(content(a).length).toBeLessThanOrEqual(2000);
      expect(content(a)).toMatch(/\*Seed adjusted: dropped "一" "丁" .* and 395 more \(unknown to the model\)\.\*/);
      const version = await send({ name: 'model', subcommand: 'rollback', options: { version: `v${'9'.repeat(3000)}` }, userId: ADMIN_ID });
      expect(content(version)).toBe('Versions are named like v3; /model versions lists them.');
    });

    it('checks ranges itself when a client sends what Discord would not', async () => {
      const raw = (name: string, type: number, value: number) => ({ name: 'shakespeare', options: [{ name, type, value }] });
      const tooLong = await send(raw('length', 4, 5000));
      expect(tooLong.ephemeral).toBe(true);
      expect(content(tooLong)).toContain('length must be a whole number from 1 to 2000');
      const cold = await send(raw('temperature', 10, 0));
      expect(content(cold)).toContain('temperature must be above 0');
    });

    it('asks a user who just asked to wait (cooldown)', async () => {
      const userId = newUser();
      const first = await send({ name: 'shakespeare', userId, options: { length: 10 } });
      expect(first.ephemeral).toBe(false);
      const second = await send({ name: 'shakespeare', userId, options: { length: 10 } });
      expect(second.ephemeral).toBe(true);
      expect(content(second)).toMatch(/try again in \d+ s/);
    });

    it('says the bard is busy when the generation queue is full', async () => {
      await withServing({ maxQueue: 1, load: true }, async () => {
        const handles = [1, 2, 3].map(() => fake.sendInteraction({ name: 'shakespeare', userId: newUser(), options: { length: 2000 } }));
        const answers = await Promise.all(handles.map(answer));
        const busy = answers.filter((a) => /busy; try again in \d+ s/.test(content(a)));
        expect(busy.length).toBeGreaterThanOrEqual(1);
        for (const a of busy) expect(a.ephemeral).toBe(true);
        expect(answers.filter((a) => !a.ephemeral).length).toBeGreaterThanOrEqual(1);
        // The public "thinking…" of a refused request was removed.
        const refused = handles.filter((h) => h.followUps.length > 0);
        for (const h of refused) expect(h.original).toBeUndefined();
      });
    });

    it('says so when no model is loaded yet', async () => {
      await withServing({ load: false }, async () => {
        for (const input of [{ name: 'shakespeare' }, { name: 'model', subcommand: 'info' }]) {
          const a = await send(input);
          expect(a.ephemeral).toBe(true);
          expect(content(a)).toContain('No model is loaded yet');
        }
      });
    });

    it('refuses admin commands to others, and lists versions for admins', async () => {
      const refused = await send({ name: 'model', subcommand: 'versions' });
      expect(refused.ephemeral).toBe(true);
      expect(content(refused)).toContain('Only members who can manage this server');
      for (const who of [{ memberPermissions: Permission.ManageGuild }, { userId: ADMIN_ID }]) {
        const listed = await send({ name: 'model', subcommand: 'versions', ...who });
        expect(listed.ephemeral).toBe(true);
        const lines = content(listed).split('\n');
        expect(lines[1]).toMatch(/^\*\*v3\*\* · damaged: .*weights\.bin/);
        expect(lines[2]).toMatch(/^\*\*v2\*\* · .*nats\/char.* ← current, serving$/);
        expect(lines[3]).toMatch(/^\*\*v1\*\* · /);
      }
    });

    it('logs an interaction that expired before the bot answered, and keeps going', async () => {
      const handle = fake.sendInteraction({ name: 'shakespeare', userId: newUser() });
      handle.expire();
      await expect.poll(() => handle.records.length, { timeout: WAIT_MS }).toBeGreaterThan(0);
      expect(handle.records.map((r) => r.error?.code)).toEqual([10062]);
      const later = await send({ name: 'shakespeare', options: { length: 5 } });
      expect(later.ephemeral).toBe(false);
      expect(handle.records).toHaveLength(1);
    });
  });

  it('forgives seeds: typographic forms and accents become the corpus\'s ASCII, unknown characters are dropped, and a note says so', async () => {
    const a = await send({ name: 'shakespeare', options: { seed: 'Hello 😀 world — ’tis café…', length: 20 } });
    expect(a.handle.callbacks[0].type).toBe(5);
    expect(a.ephemeral).toBe(false);
    expect(content(a).startsWith("```\nHello world - 'tis cafe...")).toBe(true);
    expect(content(a)).toContain('*Seed adjusted: changed "—"→"-" "’"→"\'" "é"→"e" "…"→"..."; dropped "😀" (unknown to the model).*\n— shakespeare v2');
    // A seed the model knows as typed gets no note.
    expect(content(await send({ name: 'shakespeare', options: { seed: 'ROMEO:', length: 5 } }))).not.toContain('Seed adjusted');
  });

  it('streams a slow passage: partial edits at least 1.5 s apart after the first 2 s, backing off on 429, then the final edit', { timeout: 40_000 }, async () => {
    const real = app.services.generator;
    const full = 'ROMEO: ' + 'So shall you hear of carnal acts. '.repeat(20);
    // Writes the text over ~6 s, reporting it every 250 ms as the serving manager does.
    app.services.generator = {
      validate: (p) => real.validate(p),
      serving: () => real.serving(),
      backend: real.backend,
      generate: async (_params, progress) => {
        for (let i = 1; i <= 24; i++) {
          await sleep(250);
          progress?.onText?.(full.slice(0, Math.ceil((full.length * i) / 24)));
        }
        return { text: full, version: 'v2', model: 'shakespeare', totalMs: 6000 };
      },
    };
    fake.failNext({ method: 'PATCH', path: /@original$/, status: 429, headers: { 'retry-after': '1', 'x-ratelimit-scope': 'user' }, body: { message: 'You are being rate limited.', retry_after: 1, global: false } });
    try {
      const handle = fake.sendInteraction({ name: 'shakespeare', userId: newUser(), options: { seed: 'ROMEO:', length: 600 } });
      const final = await handle.waitForEdit((e) => String(e.message?.content).endsWith('— shakespeare v2'), WAIT_MS);
      const partials = handle.edits.filter((e) => String(e.body.content).includes('*writing…*'));
      expect(partials.length).toBeGreaterThanOrEqual(2);
      expect(partials[0].sinceDispatchMs).toBeGreaterThanOrEqual(2000);
      for (let i = 1; i < partials.length; i++) expect(partials[i].sinceDispatchMs - partials[i - 1].sinceDispatchMs).toBeGreaterThanOrEqual(1450);
      expect(handle.edits.at(-1)).toBe(final);
      expect(passage(final.message!)).toBe(full);
      expect(buttonsOf(final.message!).map((b) => b.label)).toEqual(['Again', 'Continue']);
      expect(fake.requests.some((r) => r.method === 'PATCH' && r.status === 429 && r.path.includes(handle.token))).toBe(true);
      expectNoMentionsAllowed(handle);
    } finally {
      app.services.generator = real;
    }
  });

  describe('buttons under every passage', () => {

    it('Again writes a new passage from the same seed and settings, for whoever presses it', async () => {
      const first = await send({ name: 'shakespeare', options: { seed: 'ROMEO:', length: 60, temperature: 1.2 } });
      expect(buttonsOf(first.message).map((b) => b.label)).toEqual(['Again', 'Continue']);
      const again = press(first.message, 'Again');
      const second = await answer(again);
      expect(again.callbacks[0].type).toBe(5);
      expect(second.ephemeral).toBe(false);
      expect(passage(second.message).startsWith('ROMEO:')).toBe(true);
      expectAbout(passage(second.message).length - 6, 60);
      expect(content(second).endsWith('— shakespeare v2')).toBe(true);
      expect(buttonsOf(second.message)).toEqual(buttonsOf(first.message));
      expectNoMentionsAllowed(again);
    });

    it('Continue appends in place while the message stays within 2,000 characters, else posts a new message', async () => {
      const first = await send({ name: 'shakespeare', options: { seed: 'JULIET:', length: 100 } });
      const more = press(first.message, 'Continue');
      const edit = await more.waitForEdit((e) => e.messageId === '@original' && String(e.message?.content).endsWith('— shakespeare v2'), WAIT_MS);
      expect(more.callbacks.map((c) => c.type)).toEqual([6]);
      const grown = edit.message!;
      expect(grown.id).toBe(first.message.id);
      expect(passage(grown).startsWith(passage(first.message))).toBe(true);
      expectAbout(passage(grown).length - passage(first.message).length, 100);
      expect(String(grown.content).length).toBeLessThanOrEqual(2000);
      expectNoMentionsAllowed(more);

      const long = await send({ name: 'shakespeare', options: { length: 1500 } });
      const beyond = press(long.message, 'Continue');
      const next = await beyond.waitForFollowUp(undefined, WAIT_MS);
      expect(beyond.original?.content).toBe(long.message.content);
      expect(next.message!.flags ?? 0).toBe(0);
      expectAbout(passage(next.message!).length, 1500);
      expect(String(next.message!.content).length).toBeLessThanOrEqual(2000);
      // A passage too long to show whole offers Again only.
      const cut = await send({ name: 'shakespeare', options: { length: 2000 } });
      expect(buttonsOf(cut.message).map((b) => b.label)).toEqual(['Again']);
    });

    it('Continue in place shows the continuation as it is written, in the pressed message, then the final edit', { timeout: 40_000 }, async () => {
      const first = await send({ name: 'shakespeare', options: { seed: 'JULIET:', length: 80 } });
      const before = passage(first.message);
      const real = app.services.generator;
      const added = ' Good night, good night! parting is such sweet sorrow.'.repeat(4);
      // Writes over ~4 s, reporting the text so far (seed included) every 250 ms, as the serving manager does.
      app.services.generator = {
        validate: (p) => real.validate(p),
        serving: () => real.serving(),
        backend: real.backend,
        generate: async (params, progress) => {
          const full = params.seed + added;
          for (let i = 1; i <= 16; i++) {
            await sleep(250);
            progress?.onText?.(full.slice(0, params.seed.length + Math.ceil((added.length * i) / 16)));
          }
          return { text: full, version: 'v2', model: 'shakespeare', totalMs: 4000 };
        },
      };
      try {
        const more = press(first.message, 'Continue');
        const final = await more.waitForEdit((e) => e.messageId === '@original' && String(e.message?.content).endsWith('— shakespeare v2'), WAIT_MS);
        const partials = more.edits.filter((e) => String(e.body.content).includes('*writing…*'));
        expect(partials.length).toBeGreaterThanOrEqual(1);
        for (const p of partials) {
          expect(p.messageId).toBe('@original');
          expect(passage(p.message!).startsWith(before)).toBe(true);
        }
        expect(more.edits.at(-1)).toBe(final);
        expect(final.message!.id).toBe(first.message.id);
        expect(passage(final.message!)).toBe(before + added);
        expect(more.followUps).toHaveLength(0);
        expectNoMentionsAllowed(more);
      } finally {
        app.services.generator = real;
      }
    });

    it('a button from a version no longer served still works, on the serving version, and says so', async () => {
      const first = await send({ name: 'shakespeare', options: { seed: 'ROMEO:', length: 20 } });
      const gone = JSON.parse(JSON.stringify(first.message).replaceAll(':v2:', ':v9:')) as JsonObject;
      const again = await answer(fake.pressButton({ message: gone, customId: buttonsOf(gone)[0].id, userId: newUser() }));
      expect(again.ephemeral).toBe(false);
      expect(content(again)).toContain('*v9 is no longer served; v2 wrote this.*\n— shakespeare v2');
    });

    it('an unknown button, or a message without a passage, gets a short private note; presses share the cooldown', async () => {
      const first = await send({ name: 'shakespeare', options: { length: 10 } });
      const forged = { ...first.message, components: [{ type: 1, components: [{ type: 2, style: 2, label: 'Odd', custom_id: 'shakespeare:nope:v2' }] }] };
      const unknown = await answer(fake.pressButton({ message: forged, customId: 'shakespeare:nope:v2', userId: newUser() }));
      expect(unknown.ephemeral).toBe(true);
      expect(content(unknown)).toBe('This button no longer works; run the command again.');
      const emptied = await answer(press({ ...first.message, content: 'gone' }, 'Again'));
      expect(content(emptied)).toBe('This message no longer holds a passage to work from.');
      const userId = newUser();
      expect((await answer(press(first.message, 'Again', userId))).ephemeral).toBe(false);
      const cooling = await answer(press(first.message, 'Continue', userId));
      expect(cooling.ephemeral).toBe(true);
      expect(content(cooling)).toMatch(/try again in \d+ s/);
    });
  });

  describe('"Continue as Shakespeare" (message context menu)', () => {
    it('is registered as a message command, usable in servers, DMs and group DMs, for server and user installs', () => {
      const menu = fake.commands().find((c) => c.name === 'Continue as Shakespeare')!;
      expect(menu.type).toBe(3);
      expect(menu.contexts).toEqual([0, 1, 2]);
      expect(menu.integration_types).toEqual([0, 1]);
    });

    it('continues any message, seeded with its last 500 characters, normalized', async () => {
      const base = (await send({ name: 'shakespeare', options: { length: 5 } })).message;
      const text = 'Friends, “Romans” 😀 countrymen! '.repeat(30) + 'ROMEO:';
      const targetMessage = { ...base, id: '300000000000000001', content: text, author: { id: '42', username: 'someone', discriminator: '0', avatar: null, global_name: null }, components: [] };
      const a = await send({ name: 'Continue as Shakespeare', targetMessage });
      expect(a.ephemeral).toBe(false);
      const seed = text.replaceAll(' 😀', '').replaceAll('“', '').replaceAll('”', '').slice(-500);
      expect(String(a.message.content).startsWith('```\n' + seed)).toBe(true);
      expect(content(a)).toContain('dropped "“" "”" "😀"');
      const empty = await send({ name: 'Continue as Shakespeare', targetMessage: { ...targetMessage, content: '' } });
      expect(empty.ephemeral).toBe(true);
      expect(content(empty)).toBe('That message has no text I can continue.');
    });
  });

  describe('autocomplete on seed', () => {
    const complete = async (value: string, input: Partial<InteractionInput> = {}) => {
      const handle = fake.sendInteraction({ name: 'shakespeare', options: { seed: value }, focused: 'seed', userId: newUser(), ...input });
      const callback = await handle.waitForCallback(WAIT_MS);
      expect(callback.type).toBe(8);
      expect(callback.sinceDispatchMs).toBeLessThan(3000);
      return (callback.data!.choices as JsonObject[]).map((c) => String(c.name));
    };

    it('suggests the corpus\'s speaker headings that match, most frequent first, within Discord\'s limits', async () => {
      const ro = await complete('ro');
      expect(ro[0]).toBe('ROMEO:');
      expect(ro.every((c) => c.toLowerCase().includes('ro'))).toBe(true);
      const all = await complete('');
      expect(all).toHaveLength(25);
      expect(new Set(all).size).toBe(25);
      expect(await complete('king richard')).toContain('KING RICHARD III:');
    });

    it('keeps the user and member caches bounded however many users write (the bot itself stays cached)', { timeout: 90_000 }, async () => {
      const bot = bots[0];
      const users = CACHE_LIMITS.users + 100;
      for (let i = 0; i < users; i += 50) await Promise.all(Array.from({ length: Math.min(50, users - i) }, () => complete('ro')));
      expect(bot.client.users.cache.size).toBeLessThanOrEqual(CACHE_LIMITS.users + 1);
      expect(bot.client.users.cache.has(bot.client.user!.id)).toBe(true);
      const guild = bot.client.guilds.cache.get(fake.guildId)!;
      expect(guild.members.cache.size).toBeLessThanOrEqual(CACHE_LIMITS.membersPerGuild + 1);
      expect(guild.members.cache.size).toBeGreaterThan(CACHE_LIMITS.membersPerGuild / 2);
    });

    it('answers 6,000 typed characters, and works in DMs of a user install', async () => {
      expect(await complete('x'.repeat(6000))).toEqual([]);
      expect((await complete('JUL', { install: 'user', context: 1 }))[0]).toBe('JULIET:');
    });
  });

  it('localizes command names, descriptions, button labels and notes from the interaction\'s locale; English otherwise', async () => {
    const menu = fake.commands().find((c) => c.name === 'Continue as Shakespeare')!;
    expect(menu.name_localizations).toMatchObject({ de: 'Als Shakespeare fortsetzen', ja: 'シェイクスピア風に続ける' });
    const slash = fake.commands().find((c) => c.name === 'shakespeare')!;
    expect(Object.keys(slash.description_localizations as JsonObject).sort()).toEqual(['de', 'es-ES', 'fr', 'ja', 'pt-BR']);
    const de = await send({ name: 'shakespeare', options: { length: 10 }, locale: 'de' });
    expect(buttonsOf(de.message).map((b) => b.label)).toEqual(['Noch einmal', 'Weiter']);
    const forged = { ...de.message, components: [{ type: 1, components: [{ type: 2, style: 2, label: 'X', custom_id: 'shakespeare:nope' }] }] };
    const ja = await answer(fake.pressButton({ message: forged, customId: 'shakespeare:nope', userId: newUser(), locale: 'ja' }));
    expect(content(ja)).toBe('このボタンはもう使えません。コマンドをもう一度実行してください。');
    const other = await send({ name: 'shakespeare', options: { length: 10 }, locale: 'ko' });
    expect(buttonsOf(other.message).map((b) => b.label)).toEqual(['Again', 'Continue']);
  });

  describe('user installs', () => {
    it('/shakespeare works in DMs and group DMs with the app installed to the user', async () => {
      for (const context of [1, 2] as const) {
        const a = await send({ name: 'shakespeare', options: { seed: 'ROMEO:', length: 20 }, install: 'user', context });
        expect(a.handle.payload.member).toBeUndefined();
        expect(a.handle.payload.authorizing_integration_owners).toEqual({ '1': a.handle.userId });
        expect(a.ephemeral).toBe(false);
        expect(content(a).startsWith('```\nROMEO:')).toBe(true);
        const again = await answer(press(a.message, 'Again'));
        expect(content(again).startsWith('```\nROMEO:')).toBe(true);
      }
    });

    it('admin commands stay server-only, and nobody is an admin without a member', async () => {
      const model = fake.commands().find((c) => c.name === 'model')!;
      expect([model.contexts, model.integration_types]).toEqual([[0], [0]]);
      // A modified client sends one anyway, as a listed admin, in a DM.
      const a = await send({ name: 'model', subcommand: 'versions', userId: ADMIN_ID, install: 'user', context: 1, allowUnregistered: true });
      expect(a.ephemeral).toBe(true);
      expect(content(a)).toMatch(/Only members who can manage this server|works in a server only/);
    });
  });

  it('rolls back for admins: a damaged version is refused, another is served at once', async () => {
    const admin = { memberPermissions: Permission.ManageGuild };
    const damaged = await send({ name: 'model', subcommand: 'rollback', options: { version: 'v3' }, ...admin });
    expect(damaged.ephemeral).toBe(true);
    expect(content(damaged)).toMatch(/v3 is corrupt: weights\.bin does not match its checksum/);
    expect(app.services.generator.serving()?.version).toBe('v2');

    const missing = await send({ name: 'model', subcommand: 'rollback', options: { version: 'v9' }, ...admin });
    expect(content(missing)).toContain('There is no shakespeare v9');

    const done = await send({ name: 'model', subcommand: 'rollback', options: { version: 'v1' }, ...admin });
    expect(content(done)).toBe('Now serving shakespeare v1 (was v2).');
    expect((await new ModelRegistry(root).readPointer('shakespeare'))?.version).toBe('v1');
    const next = await send({ name: 'shakespeare', options: { length: 20 } });
    expect(content(next).endsWith('— shakespeare v1')).toBe(true);
  });

  it('resumes after the gateway drops and still answers', async () => {
    const identifies = fake.identifies;
    await fake.dropGateway();
    await fake.waitForResume(WAIT_MS);
    expect(fake.identifies).toBe(identifies);
    const a = await send({ name: 'shakespeare', options: { seed: 'JULIET:', length: 30 } });
    expect(content(a).startsWith('```\nJULIET:')).toBe(true);
  });

  // Functional: every command of a burst is acknowledged (the fake refuses
  // callbacks after Discord's 3 s) and answered. Speed is measured by `npm run bench`.
  it('acknowledges and answers every command of a burst', { timeout: 90_000 }, async () => {
    const handles = Array.from({ length: 50 }, (_, i) =>
      fake.sendInteraction({ name: 'shakespeare', userId: newUser(), options: { seed: 'A', length: 20 + (i % 10) } }),
    );
    const answers = await Promise.all(handles.map((h) => h.waitForResponse(undefined, 60_000)));
    for (const h of handles) expect(h.callbacks).toHaveLength(1);
    for (const m of answers) expect(String(m.content)).toMatch(/^```\nA[\s\S]*— shakespeare v1$/);
  });
});
