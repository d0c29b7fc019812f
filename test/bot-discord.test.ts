// The bot end to end: the real discord.js client (through src/discord/bot.ts)
// against the fake Discord, the real application (src/app/wiring.ts) with tiny
// models from a temporary registry. Every wait is bounded.
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../src/config.js';
import { ModelsFacade } from '../src/app/models.js';
import { startApp, type App } from '../src/app/wiring.js';
import { Bot } from '../src/discord/bot.js';
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
    expect(fake.commands().map((c) => c.name).sort()).toEqual(['model', 'retrain', 'shakespeare']);
    expect(fake.commandWrites).toBe(1);
    await stopBot(await startBot());
    expect(fake.commandWrites).toBe(1);
    // With DISCORD_GUILD_ID the commands go to that guild.
    await stopBot(await startBot({ DISCORD_GUILD_ID: fake.guildId }));
    expect(fake.commandWriteLog.map((w) => w.guildId)).toEqual([undefined, fake.guildId]);
    expect(fake.commands(fake.guildId).map((c) => c.name).sort()).toEqual(['model', 'retrain', 'shakespeare']);
  });

  it('/shakespeare acknowledges at once, then edits in a signed passage that starts with the seed', async () => {
    const a = await send({ name: 'shakespeare', options: { seed: 'ROMEO:', length: 200 } });
    const [ack] = a.handle.callbacks;
    expect(ack.type).toBe(5);
    expect(ack.sinceDispatchMs).toBeLessThan(1000);
    expect(a.ephemeral).toBe(false);
    const text = content(a);
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(text.startsWith('```\nROMEO:')).toBe(true);
    expect(text.endsWith('```\n— shakespeare v2')).toBe(true);
    // Backticks the model writes get zero-width spaces; without them the passage is seed + 200.
    expect(text.split('\n```\n')[0].slice(4).replace(/\u200b/g, '')).toHaveLength(206);
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
    expect(content(a)).toContain('all 2480 characters are in shakespeare-v2.txt');
    const file = a.handle.edits.at(-1)!.files[0];
    expect(file.name).toBe('shakespeare-v2.txt');
    const whole = file.bytes.toString('utf8');
    expect(whole).toHaveLength(2480);
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
    it('names the seed characters the model does not know, before acknowledging', async () => {
      const a = await send({ name: 'shakespeare', options: { seed: 'café ☃' } });
      expect(a.handle.callbacks[0].type).toBe(4);
      expect(a.ephemeral).toBe(true);
      expect(content(a)).toContain('"é" "☃"');
      expectNoMentionsAllowed(a.handle);
    });

    it('keeps every refusal within Discord\'s limits, however much it would echo', async () => {
      const seed = Array.from({ length: 400 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('');
      const a = await send({ name: 'shakespeare', options: { seed } });
      expect(a.ephemeral).toBe(true);
      expect(content(a).length).toBeLessThanOrEqual(2000);
      expect(content(a)).toMatch(/never saw: "一" "丁" .* and 390 more/);
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
