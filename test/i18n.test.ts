// Localization end to end: the real discord.js client (src/discord/bot.ts)
// against the fake Discord, the real application with a tiny model. What the
// fake stored from the bot's registration carries every translation; refusals,
// errors and labels come back in the interaction's locale, English otherwise.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../src/config.js';
import { text } from '../src/app/i18n.js';
import { startApp, type App } from '../src/app/wiring.js';
import { Bot } from '../src/discord/bot.js';
import { log } from '../src/log.js';
import { Permission, startFakeDiscord, type FakeDiscord, type InteractionHandle, type InteractionInput, type JsonObject } from '../tools/fake-discord/server.js';
import { publishTinyModel } from './helpers/tiny-model.js';

const TOKEN = 'bardbot-i18n-token';
const EPHEMERAL = 1 << 6;
const WAIT_MS = 20_000;
const LOCALES = ['de', 'es-ES', 'fr', 'ja', 'pt-BR'];

let fake: FakeDiscord;
let app: App;
let config: Config & { DISCORD_TOKEN: string };
let root: string;
let bot: Bot | undefined;
let lastUser = 300_000_000_000_000_000n;
const newUser = () => String(++lastUser);

async function startBot(): Promise<Bot> {
  const started = new Bot({ config, dispatcher: app.dispatcher() });
  await started.start();
  return started;
}

/** The first message the user gets: the @original response, or a follow-up when the deferred reply was replaced. */
async function answer(handle: InteractionHandle): Promise<{ content: string; ephemeral: boolean; message: JsonObject }> {
  const message = await Promise.race([handle.waitForResponse(undefined, WAIT_MS), handle.waitForFollowUp(undefined, WAIT_MS).then((r) => r.message!)]);
  return { content: String(message.content), ephemeral: (Number(message.flags) & EPHEMERAL) !== 0, message };
}

const send = (input: InteractionInput) => answer(fake.sendInteraction({ userId: newUser(), ...input }));

/** A command, its subcommands and their options, each with where it sits. */
function* describable(node: JsonObject, at: string): Generator<[string, JsonObject]> {
  yield [at, node];
  for (const option of (node.options as JsonObject[] | undefined) ?? []) yield* describable(option, `${at} ${String(option.name)}`);
}

beforeAll(async () => {
  log.level = process.env.LOG_LEVEL ?? 'warn';
  root = await mkdtemp(path.join(tmpdir(), 'bardbot-i18n-'));
  await publishTinyModel(root);
  fake = await startFakeDiscord({ token: TOKEN, heartbeatIntervalMs: 1000 });
  config = {
    ...parseConfig({ DISCORD_TOKEN: TOKEN, DISCORD_API_URL: fake.apiUrl, MODELS_DIR: root, COOLDOWN_SECONDS: '60', MODEL_WATCH_SECONDS: '0' }),
    DISCORD_TOKEN: TOKEN,
  };
  app = await startApp(config);
  bot = await startBot();
}, 120_000);

afterAll(async () => {
  await bot?.stop(1000);
  await app?.close(1000);
  await fake?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('localization on (fake) Discord', () => {
  it('registers descriptions in all five locales on every command, subcommand and option, and localized option names', async () => {
    const commands = fake.commands();
    const slash = commands.filter((c) => c.type === 1);
    expect(slash.map((c) => c.name)).toEqual(expect.arrayContaining(['shakespeare', 'model', 'retrain']));
    for (const command of slash) {
      for (const [at, node] of describable(command, command.name)) {
        const localized = node.description_localizations as Record<string, string> | undefined;
        expect(Object.keys(localized ?? {}).sort(), at).toEqual(LOCALES);
        // Each is a translation, not the English text again.
        for (const locale of LOCALES) expect(localized![locale], `${at} (${locale})`).not.toBe(node.description);
      }
    }
    const shakespeare = slash.find((c) => c.name === 'shakespeare')!;
    const options = Object.fromEntries((shakespeare.options ?? []).map((o) => [o.name, o]));
    expect(options.seed.name_localizations).toEqual({ de: 'anfang', fr: 'amorce', 'es-ES': 'semilla', 'pt-BR': 'semente', ja: '書き出し' });
    expect(Object.keys(options.length.name_localizations as JsonObject).sort()).toEqual(LOCALES);
    expect(options.top_k.name_localizations).toBeUndefined();
    const rollback = (slash.find((c) => c.name === 'model')!.options as JsonObject[]).find((o) => o.name === 'rollback')!;
    expect((rollback.options as JsonObject[])[0].name_localizations).toMatchObject({ 'pt-BR': 'versão', ja: 'バージョン' });
    const menu = commands.find((c) => c.type === 3)!;
    expect(Object.keys(menu.name_localizations as JsonObject).sort()).toEqual(LOCALES);
  });

  it('compares with the localizations Discord stores: a restart writes nothing', async () => {
    // Discord lists commands without their localization maps unless asked.
    const bare = (await (await fetch(`${fake.apiUrl}/v10/applications/${fake.applicationId}/commands`, { headers: { authorization: `Bot ${TOKEN}` } })).json()) as JsonObject[];
    expect(bare.find((c) => c.name === 'shakespeare')).not.toHaveProperty('description_localizations');
    const writes = fake.commandWrites;
    await bot!.stop(1000);
    bot = await startBot();
    expect(fake.commandWrites).toBe(writes);
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/commands')).at(-1)?.query).toContain('with_localizations=true');
  });

  it('refuses a user who just asked in their language (de, ja), in English for a locale without translations (ko)', async () => {
    const expected: [string, RegExp][] = [
      ['de', /^Du hast gerade erst gefragt; versuch es in \d+ s noch einmal\.$/],
      ['ja', /^リクエストしたばかりです。\d+ 秒後にもう一度お試しください。$/],
      // A Spanish reader outside Spain gets the Spanish of Spain.
      ['es-419', /^Acabas de pedirlo; vuelve a intentarlo en \d+ s\.$/],
      ['ko', /^You asked a moment ago; try again in \d+ s\.$/],
    ];
    for (const [locale, refusal] of expected) {
      const userId = newUser();
      const first = await send({ name: 'shakespeare', options: { length: 10 }, userId, locale });
      expect(first.ephemeral).toBe(false);
      const second = await send({ name: 'shakespeare', options: { length: 10 }, userId, locale });
      expect(second.ephemeral).toBe(true);
      expect(second.content).toMatch(refusal);
    }
  });

  it('refuses /retrain start to a member who cannot manage the server in their language', async () => {
    const de = await send({ name: 'retrain', subcommand: 'start', locale: 'de' });
    expect(de.ephemeral).toBe(true);
    expect(de.content).toBe('Nur Mitglieder, die diesen Server verwalten dürfen, können /retrain verwenden.');
    const ja = await send({ name: 'retrain', subcommand: 'start', locale: 'ja' });
    expect(ja.content).toBe('/retrain は、このサーバーを管理できるメンバーだけが使えます。');
    const ko = await send({ name: 'retrain', subcommand: 'start', locale: 'ko' });
    expect(ko.content).toBe('Only members who can manage this server may use /retrain.');
    expect((await app.services.retrain.status()).running).toBeUndefined();
  });

  it('tells about failures in the reader\'s language: an unknown button, invalid input, a missing version, nothing to cancel', async () => {
    const passage = await send({ name: 'shakespeare', options: { length: 10 }, locale: 'de' });
    expect(((passage.message.components as JsonObject[])[0].components as JsonObject[]).map((b) => b.label)).toEqual(['Noch einmal', 'Weiter']);
    const forged = { ...passage.message, components: [{ type: 1, components: [{ type: 2, style: 2, label: 'X', custom_id: 'shakespeare:nope' }] }] };
    const unknown = await answer(fake.pressButton({ message: forged, customId: 'shakespeare:nope', userId: newUser(), locale: 'de' }));
    expect([unknown.ephemeral, unknown.content]).toEqual([true, 'Diese Schaltfläche funktioniert nicht mehr; starte den Befehl neu.']);

    // A modified client sends what Discord would not; the detail comes from the core, in English.
    const invalid = await send({ name: 'shakespeare', options: [{ name: 'temperature', type: 10, value: 0 }], locale: 'ja' });
    expect(invalid.content).toMatch(/^無効なリクエストです（temperature must be above 0 and at most [\d.]+）。$/);

    const admin = { memberPermissions: Permission.ManageGuild };
    const missing = await send({ name: 'model', subcommand: 'rollback', options: { version: 'v9' }, locale: 'fr', ...admin });
    expect(missing.content).toBe('shakespeare v9 n’existe pas ; /model versions liste les versions.');
    const badName = await send({ name: 'model', subcommand: 'rollback', options: { version: 'latest' }, locale: 'pt-BR', ...admin });
    expect(badName.content).toBe('As versões se chamam, por exemplo, v3; /model versions lista todas.');
    const cancel = await send({ name: 'retrain', subcommand: 'cancel', locale: 'es-ES', ...admin });
    expect([cancel.ephemeral, cancel.content]).toEqual([true, 'No hay ningún reentrenamiento en curso.']);
  });
});

describe('the catalog', () => {
  it('falls back from a regional locale to its language, and to English for others', () => {
    expect(text('pt-BR', 'buttonAgain')).toBe('De novo');
    expect(text('es-419', 'buttonAgain')).toBe('Otra vez');
    for (const locale of ['en-US', 'en-GB', 'ko', 'zh-TW', '']) expect(text(locale, 'buttonAgain')).toBe('Again');
  });

  it('says what a seed lost in each language, five at most', () => {
    const changes = { replaced: [{ from: '“', to: '"' }], dropped: ['😀', 'ж', 'ю', 'я', 'э', 'ы', 'щ'] };
    expect(text('en-US', 'seedChanged', changes)).toBe('changed "“"→"\\""; dropped "😀" "ж" "ю" "я" "э" and 2 more (unknown to the model)');
    expect(text('de', 'seedChanged', changes)).toBe('geändert "“"→"\\""; entfernt "😀" "ж" "ю" "я" "э" und 2 weitere (dem Modell unbekannt)');
    expect(text('ja', 'seedNote', { what: text('ja', 'seedChanged', { replaced: [], dropped: ['😀'] }) })).toBe('書き出しを調整しました（削除 "😀"（モデルが知らない文字））。');
  });
});
