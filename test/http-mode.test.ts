// HTTP interactions mode and the HTTP server, for real: the bot process
// (`tsx src/main.ts`) with DISCORD_MODE=http, the fake Discord signing and
// POSTing interactions to it and serving the webhook edits, health,
// readiness and Prometheus metrics. No gateway connection is opened.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from '../tools/fake-discord/server.js';
import { startBot, type BotProcess } from './helpers/bot-process.js';
import { publishTinyModel } from './helpers/tiny-model.js';

const TOKEN = 'bardbot-http-test-token';
const EPHEMERAL = 1 << 6;

let models: string;
let fake: FakeDiscord;
let bot: BotProcess;
let base: string;

beforeAll(async () => {
  models = await mkdtemp(path.join(tmpdir(), 'bardbot-models-'));
  await publishTinyModel(models, { epochs: 1 });
  fake = await startFakeDiscord({ token: TOKEN, interactionAckTimeoutMs: 3000 });
  bot = startBot({
    DISCORD_MODE: 'http',
    DISCORD_PUBLIC_KEY: fake.publicKey,
    DISCORD_TOKEN: TOKEN,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_GUILD_ID: fake.guildId,
    HTTP_PORT: '0',
    MODELS_DIR: models,
    COOLDOWN_SECONDS: '30',
  });
  await bot.ready();
  base = `http://127.0.0.1:${await bot.port()}`;
}, 90_000);

afterAll(async () => {
  await bot?.stop();
  await fake?.close();
  if (models) await rm(models, { recursive: true, force: true });
});

const post = (body: string, headers: Record<string, string>) =>
  fetch(`${base}/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/** Characters the /shakespeare below generated. */
let generated = NaN;

describe('DISCORD_MODE=http', () => {
  it('registers the commands with the bot token and opens no gateway connection', async () => {
    // Registration runs beside readiness at start: wait for it (bounded).
    await expect.poll(() => fake.commands(fake.guildId).map((c) => c.name).sort(), { timeout: 20_000 }).toEqual(['Continue as Shakespeare', 'corpus', 'model', 'retrain', 'shakespeare']);
    expect(fake.identifies).toBe(0);
    expect(fake.liveGatewayConnections).toBe(0);
  });

  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('answers a signed PING with PONG', async () => {
    const body = JSON.stringify({ id: '1', type: 1, application_id: fake.applicationId, token: 'x', version: 1 });
    const res = await post(body, fake.signatureHeaders(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 1 });
  });

  it('defers /shakespeare in the HTTP response and edits the answer in through the webhook', async () => {
    const delivered = await fake.deliverInteraction(`${base}/interactions`, { name: 'shakespeare', options: { seed: 'ROMEO:', length: 60 }, userId: '111111111111111111' });
    expect(delivered.status).toBe(200);
    expect(delivered.response).toEqual({ type: 5 });
    expect(delivered.ackMs).toBeLessThan(3000);
    expect(delivered.handle.callbacks).toHaveLength(1);
    const message = await delivered.handle.waitForResponse(undefined, 20_000);
    expect(String(message.content)).toMatch(/^```\nROMEO:[\s\S]*```\n— shakespeare v1/);
    // About 60 (the passage finishes its line): what the metrics must count.
    generated = String(message.content).split('\n```\n')[0]!.slice(4).replace(/\u200b/g, '').length - 'ROMEO:'.length;
    expect(generated).toBeGreaterThan(30);
    expect(generated).toBeLessThanOrEqual(69);
    const edit = delivered.handle.edits[0]!;
    expect(edit.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('holds the cooldown: a second request is refused privately in the HTTP response', async () => {
    const delivered = await fake.deliverInteraction(`${base}/interactions`, { name: 'shakespeare', options: { seed: 'ROMEO:', length: 20 }, userId: '111111111111111111' });
    expect(delivered.response?.type).toBe(4);
    const data = delivered.response?.data as { content: string; flags: number };
    expect(data.content).toMatch(/try again in \d+ s/);
    expect(data.flags & EPHEMERAL).toBe(EPHEMERAL);
  });

  it('answers /model info with its chart uploaded through the webhook', async () => {
    const delivered = await fake.deliverInteraction(`${base}/interactions`, { name: 'model', subcommand: 'info' });
    expect(delivered.status).toBe(200);
    await delivered.handle.waitForResponse((m) => JSON.stringify(m).includes('shakespeare'), 20_000);
  });

  it('refuses bad, missing and stale signatures, replays and bodies over 1 MB', async () => {
    const body = JSON.stringify({ id: '2', type: 1, application_id: fake.applicationId, token: 'x', version: 1 });
    const good = fake.signatureHeaders(body);
    expect((await post(body, {})).status).toBe(401);
    const flipped = good['x-signature-ed25519']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect((await post(body, { ...good, 'x-signature-ed25519': flipped })).status).toBe(401);
    expect((await post(body + ' ', good)).status).toBe(401);
    const old = fake.signatureHeaders(body, String(Math.floor(Date.now() / 1000) - 3600));
    expect((await post(body, old)).status).toBe(400);
    const big = ' '.repeat(1024 * 1024 + 10);
    expect((await post(big, fake.signatureHeaders(big))).status).toBe(400);
    // The same signed command twice: the second is refused, the command ran once.
    const first = await fake.deliverInteraction(`${base}/interactions`, { name: 'model', subcommand: 'versions', userId: '222222222222222222' });
    const replayBody = JSON.stringify(first.handle.payload);
    const replay = await post(replayBody, fake.signatureHeaders(replayBody));
    expect(replay.status).toBe(400);
  });

  it('exposes Prometheus metrics: interactions, latencies, model info, process defaults', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/bardbot_interactions_total\{command="shakespeare",outcome="answered"\} 1/);
    expect(text).toMatch(/bardbot_interactions_total\{command="shakespeare",outcome="refused"\} 1/);
    expect(text).toMatch(/bardbot_ack_latency_seconds_count \d+/);
    expect(text).toMatch(/bardbot_generation_latency_seconds_count 1/);
    expect(text).toContain(`bardbot_generated_chars_total ${generated}\n`);
    expect(text).toMatch(/bardbot_model_info\{model="shakespeare",version="v1"\} 1/);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('bardbot_generation_queue_depth 0');
  });

  it('stops on SIGTERM with exit 0', async () => {
    expect(await bot.stop()).toBe(0);
  });
});

describe('gateway mode with HTTP_PORT', () => {
  it('is ready once the gateway is connected, and meters gateway interactions and the shard', async () => {
    const b = startBot({ DISCORD_TOKEN: TOKEN, DISCORD_API_URL: fake.apiUrl, DISCORD_GUILD_ID: fake.guildId, HTTP_PORT: '0', MODELS_DIR: models });
    try {
      await b.ready();
      const port = await b.port();
      expect(fake.identifies).toBeGreaterThan(0);
      const interaction = fake.sendInteraction({ name: 'shakespeare', options: { seed: 'ROMEO:', length: 30 } });
      await interaction.waitForResponse(undefined, 20_000);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/bardbot_interactions_total\{command="shakespeare",outcome="answered"\} 1/);
      expect(text).toMatch(/bardbot_shard_status\{shard="0"\} 0/);
      // No ping sample yet: the first heartbeat comes after the fake's 41 s interval (discord.js reports -1 until then).
      expect(text).not.toMatch(/bardbot_gateway_ping_seconds\{shard="0"\} -/);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });
});

describe('service settings', () => {
  it('refuses DISCORD_MODE=http without DISCORD_PUBLIC_KEY', async () => {
    const b = startBot({ DISCORD_MODE: 'http' });
    expect(await b.exited).toBe(1);
    expect(b.output()).toContain('DISCORD_PUBLIC_KEY: is required when DISCORD_MODE=http');
  });

  it('is not ready until a model is served, with the reason', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'bardbot-empty-'));
    const b = startBot({ DISCORD_MODE: 'http', DISCORD_PUBLIC_KEY: fake.publicKey, HTTP_PORT: '0', MODELS_DIR: empty });
    try {
      const res = await fetch(`http://127.0.0.1:${await b.port()}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'not ready', reason: 'no model is served yet' });
    } finally {
      await b.stop();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
