/**
 * End-to-end checks of the fake Discord against the real, unmodified discord.js
 * client: login, command registration, deferred replies and edits, gateway
 * RESUME, bad token, multipart attachments, interaction error rules.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, DiscordAPIError, Events, GatewayIntentBits, type ChatInputCommandInteraction } from 'discord.js';
import { ShardClientUtil } from 'discord.js';
import { guildOnShard, shardOf, startFakeDiscord, type FakeDiscord, type FakeDiscordOptions } from '../tools/fake-discord/server.js';

const TOKEN = 'fake-bot-token.for-tests';
/** A valid 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let fake: FakeDiscord | undefined;
const clients: Client[] = [];

afterEach(async () => {
  // Clients first: a live client would try to reconnect to the closed fake.
  await Promise.all(clients.splice(0).map((client) => client.destroy()));
  await fake?.close();
  fake = undefined;
});

async function startFake(options: Partial<FakeDiscordOptions> = {}): Promise<FakeDiscord> {
  fake = await startFakeDiscord({ token: TOKEN, heartbeatIntervalMs: 1000, ...options });
  return fake;
}

/** Real discord.js client pointed at the fake; resolves once `clientReady` fired. */
async function startClient(target: FakeDiscord, handler?: (interaction: ChatInputCommandInteraction) => Promise<void>) {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: target.apiUrl, globalRequestsPerSecond: 1000 },
  });
  clients.push(client);
  const errors: unknown[] = [];
  if (handler) {
    client.on(Events.InteractionCreate, (interaction) => {
      if (interaction.isChatInputCommand()) handler(interaction).catch((error: unknown) => errors.push(error));
    });
  }
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(TOKEN);
  await withTimeout(ready, 5000, 'clientReady');
  return { client, errors };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const PING = {
  name: 'ping',
  description: 'Replies with pong',
  options: [{ name: 'echo', description: 'Text to echo back', type: 3, required: false }],
};

describe('fake Discord with the real discord.js client', () => {
  it('logs in, registers commands, and sees a deferred reply and its edit', { timeout: 15_000 }, async () => {
    const target = await startFake();
    const { client, errors } = await startClient(target, async (interaction) => {
      await interaction.deferReply();
      const echo = interaction.options.getString('echo') ?? '';
      await interaction.editReply({ content: `pong ${echo}`, allowedMentions: { parse: [] } });
    });

    expect(client.user?.id).toBe(target.botUser.id);
    expect(client.application?.id).toBe(target.applicationId);
    expect(client.guilds.cache.get(target.guildId)?.members.me?.id).toBe(target.botUser.id);
    expect(target.identifies).toBe(1);

    await client.application!.commands.set([PING], target.guildId);
    expect(target.commands(target.guildId).map((command) => command.name)).toEqual(['ping']);
    expect(target.commands()).toEqual([]);
    // Same definitions again: still a write request, but nothing changed.
    await client.application!.commands.set([PING], target.guildId);
    expect(target.commandWrites).toBe(2);
    expect(target.commandWriteLog.map((write) => write.changed)).toEqual([['ping'], []]);

    const interaction = target.sendInteraction({ name: 'ping', options: { echo: 'hello @everyone' } });
    const callback = await interaction.waitForCallback();
    expect(callback.type).toBe(5);
    const edit = await interaction.waitForEdit();
    expect(edit.messageId).toBe('@original');
    expect(edit.body.allowed_mentions).toEqual({ parse: [] });
    expect(edit.message?.content).toBe('pong hello @everyone');
    expect(edit.message?.mention_everyone).toBe(false);
    expect(edit.sinceDispatchMs).toBeGreaterThanOrEqual(callback.sinceDispatchMs);
    expect((await interaction.waitForResponse()).content).toBe('pong hello @everyone');
    // discord.js URL-encodes @original; the fake accepts and logs it decoded.
    expect(target.requests.some((r) => r.method === 'PATCH' && r.path.endsWith('/messages/@original') && r.status === 200)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('resumes after a gateway drop, replays missed events, and keeps answering', { timeout: 15_000 }, async () => {
    const target = await startFake({ heartbeatIntervalMs: 300 });
    const { client, errors } = await startClient(target, async (interaction) => {
      await interaction.reply({ content: 'pong', allowedMentions: { parse: [] } });
    });
    await client.application!.commands.set([PING], target.guildId);
    const shardResumed = new Promise<number>((resolve) => client.once(Events.ShardResume, (_id, replayed) => resolve(replayed)));

    await target.dropGateway(); // close code 4000: discord.js resumes
    // Sent while the bot is disconnected: must be replayed on RESUME.
    const missed = target.sendInteraction({ name: 'ping' });
    const resumed = await target.waitForResume(5000);
    expect(resumed.replayed).toBe(1);
    // discord.js counts the RESUMED dispatch itself among the replayed events.
    expect(await withTimeout(shardResumed, 5000, 'shardResume')).toBeGreaterThanOrEqual(1);
    expect(target.resumes).toBe(1);
    expect(target.identifies).toBe(1);
    expect((await missed.waitForResponse()).content).toBe('pong');

    const later = target.sendInteraction({ name: 'ping' });
    expect((await later.waitForCallback()).type).toBe(4);
    expect(later.original?.content).toBe('pong');
    // Heartbeats (first one after a random share of the 300 ms interval) are acknowledged.
    await withTimeout(waitUntil(() => target.heartbeats >= 2), 3000, 'two heartbeats');
    expect(client.ws.ping).toBeGreaterThanOrEqual(0);
    expect(target.resumes).toBe(1); // no zombie-connection resume happened
    expect(errors).toEqual([]);
  });

  it('rejects login with a bad token (401 from the fake)', { timeout: 10_000 }, async () => {
    const target = await startFake();
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: target.apiUrl } });
    clients.push(client);
    await expect(client.login('not-the-token')).rejects.toThrow(/invalid token/i);
    expect(target.requests).toContainEqual(expect.objectContaining({ method: 'GET', path: '/gateway/bot', status: 401, authorized: false }));
    expect(target.identifies).toBe(0);

    const response = await fetch(`${target.apiUrl}/v10/users/@me`, { headers: { authorization: 'Bot nope' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: '401: Unauthorized', code: 0 });
    const unknown = await fetch(`${target.apiUrl}/v10/no/such/route`, { headers: { authorization: `Bot ${TOKEN}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: '404: Not Found', code: 0 });
  });

  it('receives an attachment edit as multipart with the PNG bytes', { timeout: 15_000 }, async () => {
    const target = await startFake();
    const { client, errors } = await startClient(target, async (interaction) => {
      await interaction.deferReply();
      await interaction.editReply({ content: 'chart', files: [{ attachment: PNG, name: 'x.png' }], allowedMentions: { parse: [] } });
    });
    await client.application!.commands.set([PING], target.guildId);

    const interaction = target.sendInteraction({ name: 'ping' });
    const edit = await interaction.waitForEdit((e) => e.files.length > 0);
    expect(edit.multipart).toBe(true);
    expect(edit.body.content).toBe('chart');
    const [file] = edit.files;
    expect(file?.name).toBe('x.png');
    expect(file?.contentType).toBe('image/png');
    expect(file?.bytes.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
    expect(file?.bytes.equals(PNG)).toBe(true);
    expect(target.attachments).toHaveLength(1);

    const attachment = (edit.message?.attachments as Array<Record<string, unknown>>)[0];
    expect(attachment).toMatchObject({ filename: 'x.png', content_type: 'image/png', size: PNG.length, width: 1, height: 1 });
    const download = await fetch(String(attachment?.url));
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('sends an attachment option as Discord does (value = id, data.resolved.attachments) and serves its ephemeral URL', { timeout: 15_000 }, async () => {
    const target = await startFake({ maxUploadBytes: 1024 });
    const { client, errors } = await startClient(target, async (interaction) => {
      const file = interaction.options.getAttachment('file', true);
      const bytes = Buffer.from(await (await fetch(file.url)).arrayBuffer());
      await interaction.reply({ content: `${file.name} ${file.size} ${file.contentType} ${bytes.toString()}`, allowedMentions: { parse: [] } });
    });
    const upload = { name: 'upload', description: 'takes a file', options: [{ type: 11, name: 'file', description: 'a file', required: true }] };
    await client.application!.commands.set([upload], target.guildId);

    const attachment = target.addAttachment({ filename: 'notes.txt', bytes: Buffer.from('hello'), contentType: 'text/plain; charset=utf-8' });
    expect(attachment).toMatchObject({ filename: 'notes.txt', size: 5, content_type: 'text/plain; charset=utf-8', ephemeral: true });
    expect(String(attachment.url)).toMatch(new RegExp(`/ephemeral-attachments/${target.applicationId}/${String(attachment.id)}/notes\\.txt\\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]{64}&$`));
    const interaction = target.sendInteraction({ name: 'upload', options: { file: String(attachment.id) } });
    expect(interaction.payload.data).toMatchObject({ options: [{ name: 'file', type: 11, value: attachment.id }], resolved: { attachments: { [String(attachment.id)]: attachment } } });
    expect((await interaction.waitForResponse()).content).toBe('notes.txt 5 text/plain; charset=utf-8 hello');
    expect(await target.waitForAttachmentDownload()).toMatchObject({ id: attachment.id, bytesSent: 5, complete: true });

    // What the Discord client would never send: an id it did not upload, or a file over attachment_size_limit.
    expect(() => target.sendInteraction({ name: 'upload', options: { file: '123' } })).toThrow('which was not added with fake.addAttachment()');
    const big = target.addAttachment({ filename: 'big.txt', bytes: Buffer.alloc(1025) });
    expect(() => target.sendInteraction({ name: 'upload', options: { file: String(big.id) } })).toThrow('is over attachment_size_limit 1024');
    expect(errors).toEqual([]);
  });

  it('enforces interaction rules: expiry, double acknowledgement, message limits', { timeout: 15_000 }, async () => {
    const target = await startFake();
    const outcomes: Array<{ step: string; code: unknown }> = [];
    const attempt = async (step: string, action: () => Promise<unknown>) => {
      try {
        await action();
        outcomes.push({ step, code: 'ok' });
      } catch (error) {
        outcomes.push({ step, code: error instanceof DiscordAPIError ? error.code : String(error) });
      }
    };
    const { client } = await startClient(target, async (interaction) => {
      const mode = interaction.options.getString('echo');
      if (mode === 'expired') {
        await attempt('expired reply', () => interaction.reply('too late'));
      } else if (mode === 'twice') {
        await attempt('first reply', () => interaction.reply('one'));
        // Bypass discord.js's own guard to hit the API a second time.
        await attempt('second callback', () =>
          client.rest.post(`/interactions/${interaction.id}/${interaction.token}/callback`, { body: { type: 4, data: { content: 'two' } }, auth: false }),
        );
        await attempt('too long edit', () => interaction.editReply('x'.repeat(2001)));
        await attempt('follow-up', () => interaction.followUp({ content: 'more', allowedMentions: { parse: [] } }));
      }
    });
    await client.application!.commands.set([PING], target.guildId);

    const expired = target.sendInteraction({ name: 'ping', options: { echo: 'expired' } });
    expired.expire();
    await withTimeout(waitUntil(() => outcomes.length >= 1), 5000, 'expired outcome');
    expect(outcomes[0]).toEqual({ step: 'expired reply', code: 10062 });
    expect(expired.records[0]?.error?.status).toBe(404);

    const twice = target.sendInteraction({ name: 'ping', options: { echo: 'twice' } });
    await twice.waitForFollowUp();
    await withTimeout(waitUntil(() => outcomes.length >= 5), 5000, 'all outcomes');
    expect(outcomes.slice(1)).toEqual([
      { step: 'first reply', code: 'ok' },
      { step: 'second callback', code: 40060 },
      { step: 'too long edit', code: 50035 },
      { step: 'follow-up', code: 'ok' },
    ]);
    expect(twice.original?.content).toBe('one');

    expect(() => target.sendInteraction({ name: 'ping', options: { nope: 'x' } })).toThrow(/no option "nope"/);
    expect(() => target.sendInteraction({ name: 'unknown' })).toThrow(/not registered/);
  });

  it('covers deadlines, subcommands, channel posts, 429 retries and op 7 reconnects', { timeout: 15_000 }, async () => {
    const target = await startFake({ interactionAckTimeoutMs: 150, interactionTokenTtlMs: 400 });
    const codes: unknown[] = [];
    const { client, errors } = await startClient(target, async (interaction) => {
      const sub = interaction.options.getSubcommand();
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      try {
        if (sub === 'slow-ack') {
          await sleep(250); // past the (shortened) 3 s rule
          await interaction.reply('late');
        } else if (sub === 'slow-edit') {
          await interaction.deferReply();
          await sleep(500); // past the (shortened) 15 min token lifetime
          await interaction.editReply('late');
        } else {
          const temperature = interaction.options.getNumber('temperature', true);
          const length = interaction.options.getInteger('length', true);
          await interaction.reply({ content: `t=${temperature} n=${length}`, allowedMentions: { parse: [] } });
        }
      } catch (error) {
        codes.push(error instanceof DiscordAPIError ? error.code : error);
      }
    });
    await client.application!.commands.set([
      {
        name: 'bard',
        description: 'Writes verse',
        options: [
          {
            type: 1,
            name: 'write',
            description: 'Write some lines',
            options: [
              { type: 10, name: 'temperature', description: 'Sampling temperature', required: true, min_value: 0.1, max_value: 2 },
              { type: 4, name: 'length', description: 'Characters', required: true },
            ],
          },
          { type: 1, name: 'slow-ack', description: 'Answers too late' },
          { type: 1, name: 'slow-edit', description: 'Edits too late' },
        ],
      },
    ]); // global
    expect(target.commands().map((command) => command.name)).toEqual(['bard']);

    // Option types come from the registered definition: 1 is sent as a NUMBER.
    const write = target.sendInteraction({ name: 'bard', subcommand: 'write', options: { temperature: 1, length: 200 } });
    expect((await write.waitForResponse()).content).toBe('t=1 n=200');
    expect(() => target.sendInteraction({ name: 'bard', subcommand: 'write', options: { temperature: 5, length: 1 } })).toThrow(/max_value/);

    target.sendInteraction({ name: 'bard', subcommand: 'slow-ack' });
    target.sendInteraction({ name: 'bard', subcommand: 'slow-edit' });
    await withTimeout(waitUntil(() => codes.length >= 2), 5000, 'deadline errors');
    expect(codes.sort()).toEqual([10062, 50027]);

    // A bot report to a channel, after one injected 429 that discord.js waits out.
    target.failNext({
      method: 'POST',
      path: `/channels/${target.channelId}/messages`,
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: 0.05, global: false },
      headers: { 'retry-after': '0.05' },
    });
    const channel = await client.channels.fetch(target.channelId);
    if (!channel?.isSendable()) throw new Error('channel not sendable');
    await channel.send({ content: 'Nightly report', files: [{ attachment: PNG, name: 'loss.png' }] });
    const report = await target.waitForMessage((record) => record.body.content === 'Nightly report');
    expect(report.files[0]?.bytes.equals(PNG)).toBe(true);
    expect(target.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages')).map((r) => r.status)).toEqual([429, 200]);

    target.requestReconnect(); // op 7: discord.js closes with 4200 and resumes
    await target.waitForResume(5000);
    const after = target.sendInteraction({ name: 'bard', subcommand: 'write', options: { temperature: 0.5, length: 3 } });
    expect((await after.waitForResponse()).content).toBe('t=0.5 n=3');
    expect(target.identifies).toBe(1);
    expect(errors).toEqual([]);
  });
});

describe('fake Discord with several shards', () => {
  it('routes by (guild_id >> 22) % num_shards as discord.js computes it, DMs to shard 0', () => {
    for (const count of [1, 2, 3, 16]) {
      for (let i = 0; i < 50; i++) {
        const id = String(((BigInt(Date.now()) - 1420070400000n - BigInt(i * 7919)) << 22n) | BigInt(i * 4099));
        expect(shardOf(id, count)).toBe(ShardClientUtil.shardIdForGuildId(id, count));
      }
      for (let shard = 0; shard < count; shard++) expect(shardOf(guildOnShard(shard, count), count)).toBe(shard);
    }
    expect(shardOf(undefined, 4)).toBe(0);
  });

  it('gives each shard its own guilds and interactions, and recommends its shard count', { timeout: 20_000 }, async () => {
    const [even, odd] = [guildOnShard(0, 2), guildOnShard(1, 2)];
    const target = await startFake({ guildId: even, guilds: [{ id: odd, name: 'Rose Theatre' }], recommendedShards: 2 });
    // Usable in the bot's DM too (user install), for the DM rule.
    target.setCommands([{ ...PING, integration_types: [0, 1], contexts: [0, 1, 2] }]);
    const gatewayBot = await fetch(`${target.apiUrl}/v10/gateway/bot`, { headers: { authorization: `Bot ${TOKEN}` } });
    expect(((await gatewayBot.json()) as { shards: number }).shards).toBe(2);

    const seen: string[][] = [[], []];
    const shards = await Promise.all(
      [0, 1].map(async (id) => {
        const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: target.apiUrl }, shards: id, shardCount: 2 });
        clients.push(client);
        client.on(Events.InteractionCreate, (interaction) => {
          if (!interaction.isChatInputCommand()) return;
          seen[id]!.push(interaction.guildId ?? 'dm');
          void interaction.reply({ content: `shard ${id}` });
        });
        const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
        await client.login(TOKEN);
        await withTimeout(ready, 10_000, `clientReady of shard ${id}`);
        return client;
      }),
    );
    expect(target.gatewayEvents.filter((e) => e.kind === 'identify').map((e) => e.data?.shard).sort()).toEqual([[0, 2], [1, 2]]);
    expect(shards.map((client) => [...client.guilds.cache.keys()])).toEqual([[even], [odd]]);

    const inOdd = target.sendInteraction({ name: 'ping', guildId: odd });
    const inEven = target.sendInteraction({ name: 'ping', guildId: even });
    const dm = target.sendInteraction({ name: 'ping', context: 1, install: 'user' });
    expect((await inOdd.waitForResponse()).content).toBe('shard 1');
    expect((await inEven.waitForResponse()).content).toBe('shard 0');
    expect((await dm.waitForResponse()).content).toBe('shard 0');
    expect(seen).toEqual([[even, 'dm'], [odd]]);
    const routed = (id: string) => target.gatewayEvents.filter((e) => e.kind === 'interaction' && e.data?.id === id).map((e) => e.shard);
    expect([routed(inOdd.id), routed(inEven.id), routed(dm.id)]).toEqual([[[1, 2]], [[0, 2]], [[0, 2]]]);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error('condition not met');
}
