// /retrain end to end: the real bot (src/discord/bot.ts, the real discord.js
// client) against the fake Discord, the real application and a real
// RetrainController with tiny models: the test swaps it in for the one
// startApp() made, with tiny training settings and a lenient gate.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../src/config.js';
import { startApp, type App } from '../src/app/wiring.js';
import { Bot } from '../src/discord/bot.js';
import { reportRetrainOutcomes } from '../src/discord/reports.js';
import { log } from '../src/log.js';
import type { RetrainController } from '../src/training/controller.js';
import { retrain } from '../src/training/retrain.js';
import { Permission, startFakeDiscord, type FakeDiscord, type InteractionInput, type JsonObject } from '../tools/fake-discord/server.js';
import { makeLayout, type Layout } from './helpers/retrain-fixture.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'bardbot-retrain-token';
const ADMIN_ID = '188888888888888888';
const EPHEMERAL = 1 << 6;
const WAIT_MS = 20_000;
/** For what waits on training: the trainer runs at nice 19, so a busy machine starves it (two suites at once: over 120 s). */
const TRAIN_MS = 300_000;

let l: Layout;
let fake: FakeDiscord;
let app: App;
let controller: RetrainController;
let bot: Bot;
let lastUser = 200_000_000_000_000_000n;

const send = (input: InteractionInput) => fake.sendInteraction({ userId: String(++lastUser), ...input });
const text = (m: JsonObject | undefined) => String(m?.content ?? '');

beforeAll(async () => {
  log.level = process.env.LOG_LEVEL ?? 'warn';
  l = await makeLayout(8000, 'bard');
  await retrain(l.job({ epochs: 1 }));
  fake = await startFakeDiscord({ token: TOKEN, heartbeatIntervalMs: 1000 });
  const config: Config & { DISCORD_TOKEN: string } = {
    ...parseConfig({
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: fake.apiUrl,
      MODELS_DIR: l.registry.root,
      MODEL_NAME: l.name,
      ADMIN_USER_IDS: ADMIN_ID,
      MODEL_WATCH_SECONDS: '0',
      COOLDOWN_SECONDS: '0',
    }),
    DISCORD_TOKEN: TOKEN,
  };
  app = await startApp(config);
  // The gate is tested elsewhere: here any finished candidate is published.
  controller = l.controller(() => app.sync(), { tolerance: 10 });
  app.services.retrain = controller;
  bot = new Bot({ config, dispatcher: app.dispatcher() });
  await bot.start();
  reportRetrainOutcomes(controller, bot, fake.channelId, l.name);
}, 120_000);

// A test that failed mid-run must not leave its retrain to refuse the next test's.
afterEach(async () => {
  if ((await controller?.status())?.running) await controller.cancel('test cleanup');
});

afterAll(async () => {
  await controller?.close();
  await bot?.stop(1000);
  await app?.close(1000);
  await fake?.close();
  await l?.remove();
});

describe('/retrain on (fake) Discord', { timeout: 2 * TRAIN_MS }, () => {
  it('is registered for Manage Server only, and refuses non-admins when run', async () => {
    const def = fake.commands().find((c) => c.name === 'retrain')!;
    expect(def.default_member_permissions).toBe(String(Permission.ManageGuild));
    for (const subcommand of ['start', 'status', 'cancel']) {
      const h = send({ name: 'retrain', subcommand });
      const m = await h.waitForResponse(undefined, WAIT_MS);
      expect(text(m)).toBe('Only members who can manage this server may use /retrain.');
      expect(Number(m.flags) & EPHEMERAL).toBe(EPHEMERAL);
    }
    expect((await controller.status()).running).toBeUndefined();
  });

  it('start → progress edits → the outcome to the admin → /shakespeare from the new version', async () => {
    const h = send({ name: 'retrain', subcommand: 'start', options: { epochs: 12 }, userId: ADMIN_ID });
    const first = await h.waitForResponse(undefined, WAIT_MS);
    expect(text(first)).toMatch(/^Retraining bard \(run [0-9a-f]{8}, admin, by <@188888888888888888>, budget 5m 00s\)/);
    expect(Number(first.flags) & EPHEMERAL).toBe(EPHEMERAL);

    // Another admin (Manage Server) cannot start a second run meanwhile.
    const again = send({ name: 'retrain', subcommand: 'start', memberPermissions: Permission.ManageGuild });
    expect(text(await again.waitForResponse(undefined, WAIT_MS))).toMatch(/^Not started: a retrain is already running \(admin by 188888888888888888/);

    const progress = await h.waitForEdit((e) => /\[[█░]{20}\] \d+% epoch \d+\/12 · loss \d\.\d{3}/.test(text(e.message)), TRAIN_MS);
    expect(text(progress.message)).toMatch(/chars\/s · ETA /);
    const outcome = await h.waitForFollowUp(undefined, TRAIN_MS);
    expect(text(outcome.message)).toMatch(/^Retrain [0-9a-f]{8} published bard v2, now serving: validation loss .* \(v1\) → .* \(candidate\)/);
    expect(Number(outcome.message!.flags) & EPHEMERAL).toBe(EPHEMERAL);
    await h.waitForEdit((e) => / published\.$/.test(text(e.message)), WAIT_MS);
    // Edits come at a modest rate.
    const times = h.edits.map((e) => e.at);
    for (let i = 1; i < times.length - 1; i++) expect(times[i] - times[i - 1]).toBeGreaterThan(4000);

    // The report channel gets the outcome too, pinging no one.
    const report = await fake.waitForMessage((m) => /published bard v2/.test(String(m.body.content)), WAIT_MS);
    expect(report.channelId).toBe(fake.channelId);
    expect(report.body.allowed_mentions).toEqual({ parse: [] });

    const poem = send({ name: 'shakespeare', options: { seed: 'First', length: 40 } });
    expect(text(await poem.waitForResponse(undefined, WAIT_MS))).toMatch(/— bard v2$/);
  });

  it('status follows a run, and cancel stops it with nothing published', async () => {
    const started = send({ name: 'retrain', subcommand: 'start', options: { epochs: 500 }, memberPermissions: Permission.ManageGuild });
    await started.waitForResponse(undefined, WAIT_MS);
    await waitFor(async () => (await controller.status()).running?.progress.phase === 'training', TRAIN_MS, 'the run to train');
    const status = send({ name: 'retrain', subcommand: 'status', userId: ADMIN_ID });
    expect(text(await status.waitForResponse(undefined, WAIT_MS))).toMatch(/epoch 1\/500/);

    const cancel = send({ name: 'retrain', subcommand: 'cancel', userId: ADMIN_ID });
    expect(text(await cancel.waitForResponse((m) => /cancelled/.test(text(m)), WAIT_MS))).toMatch(/^Retrain [0-9a-f]{8} was cancelled; nothing was published: cancelled by /);
    const outcome = await started.waitForFollowUp(undefined, WAIT_MS);
    expect(text(outcome.message)).toMatch(/was cancelled; nothing was published: cancelled by .* \(188888888888888888\)/);
    await status.waitForEdit((e) => /^No retrain|was cancelled/.test(text(e.message)), WAIT_MS);
    expect(await l.registry.versions(l.name)).toEqual(['v1', 'v2']);

    const idle = send({ name: 'retrain', subcommand: 'status', userId: ADMIN_ID });
    expect(text(await idle.waitForResponse(undefined, WAIT_MS))).toMatch(/^No retrain is running\. The last one: Retrain [0-9a-f]{8} was cancelled/);
  });

  it('tells the admin by DM when the run outlasts the interaction token, and says so in the first reply', async () => {
    const h = send({ name: 'retrain', subcommand: 'start', options: { epochs: 2 }, userId: ADMIN_ID });
    const first = await h.waitForResponse(undefined, WAIT_MS);
    expect(text(first)).toContain('or by DM if the run outlasts this message');
    // What Discord does 15 minutes in: the token stops working for edits and follow-ups.
    h.expire();
    const dm = await fake.waitForMessage((m) => m.channelId === fake.dmChannelId(ADMIN_ID), TRAIN_MS);
    expect(text(dm.message)).toMatch(/^Retrain [0-9a-f]{8} (published bard v3|finished; the candidate was not published)/);
    expect(dm.body.allowed_mentions).toEqual({ parse: [] });
    expect(h.followUps.filter((f) => !f.error)).toHaveLength(0);
  });
});
