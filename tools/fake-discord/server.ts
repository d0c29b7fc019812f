/**
 * A local fake of Discord (REST API v10 + gateway) for end-to-end tests of a
 * bot built on the real, unmodified discord.js client. Loopback only.
 *
 *   const fake = await startFakeDiscord({ token: 'test-token' });
 *   const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
 *   await client.login('test-token');
 *   const interaction = fake.sendInteraction({ name: 'ping' });
 *   await interaction.waitForResponse((m) => m.content === 'pong');
 *   await client.destroy(); await fake.close();
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIUser } from 'discord.js';
import type { AttachmentDownload, AttachmentInput } from './attachments.js';
import { CommandStore, type CommandWriteRecord, type StoredCommand } from './commands.js';
import { FakeGateway, type GatewayEventRecord } from './gateway.js';
import type { ReceivedFile } from './http.js';
import { FakeInteraction, type ComponentInput, type InteractionHandle, type InteractionInput } from './interactions.js';
import { MessageFactory } from './messages.js';
import { InteractionSigner, deliver, type DeliveredInteraction, type PendingDeliveries } from './outgoing.js';
import { createRestHandler, type ChannelMessageRecord, type FailureRule, type RequestRecord } from './rest.js';
import { World, type WorldOptions } from './state.js';
import { RecordLog, withTimeout, type JsonObject } from './util.js';

export type { CommandWriteRecord, StoredCommand } from './commands.js';
export { guildOnShard, shardOf, type GatewayEventRecord } from './gateway.js';
export type { ReceivedFile } from './http.js';
export type { AttachmentDownload, AttachmentInput } from './attachments.js';
export type { CallbackRecord, ComponentInput, InteractionHandle, InteractionInput, InteractionRecord, OptionValue, WebhookRecord } from './interactions.js';
export type { ChannelMessageRecord, FailureRule, RequestRecord } from './rest.js';
export type { DeliveredInteraction } from './outgoing.js';
export { DEFAULT_APP_PERMISSIONS, DEFAULT_MEMBER_PERMISSIONS, Permission } from './state.js';
export { FakeDiscordClosedError, FakeDiscordTimeoutError, type JsonObject } from './util.js';

export interface FakeDiscordOptions extends WorldOptions {
  /** The bot token every authenticated REST call and IDENTIFY must carry. */
  token: string;
  /** Loopback port; 0 (default) picks a free one. */
  port?: number;
  /** HELLO heartbeat_interval (Discord: 41250). Short values make zombie detection testable. */
  heartbeatIntervalMs?: number;
  /** Deadline for the initial interaction callback (Discord: 3000); <= 0 disables. */
  interactionAckTimeoutMs?: number;
  /** Interaction token lifetime (Discord: 15 min). */
  interactionTokenTtlMs?: number;
  /** Per-file upload limit (default 10 MiB, Discord's default); larger files get 413. */
  maxUploadBytes?: number;
  /** Default timeout of the wait helpers (default 5000 ms). */
  defaultWaitMs?: number;
  /** Dispatches kept per gateway session for RESUME replay (default 1000). */
  replayBufferSize?: number;
  /** Debug log sink (default: silent; set FAKE_DISCORD_DEBUG=1 to log to stderr). */
  log?: (line: string) => void;
}

export interface FakeDiscord {
  /** Pass as `new Client({ rest: { api: fake.apiUrl } })`, e.g. http://127.0.0.1:PORT/api */
  readonly apiUrl: string;
  /** ws://127.0.0.1:PORT/gateway (what GET /gateway/bot returns). */
  readonly gatewayUrl: string;
  readonly port: number;
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: APIUser;
  /** The default guild (listed in READY) and its first text channel. */
  readonly guildId: string;
  readonly channelId: string;

  // --- gateway ---
  /** Number of IDENTIFYs accepted. */
  readonly identifies: number;
  /** Number of successful RESUMEs (RESUMED sent). */
  readonly resumes: number;
  readonly heartbeats: number;
  readonly liveGatewayConnections: number;
  readonly gatewayEvents: readonly GatewayEventRecord[];
  /** Closes live gateway sockets (default code 4000 -> discord.js RESUMEs). */
  dropGateway(options?: { code?: number; terminate?: boolean; invalidateSession?: boolean }): Promise<void>;
  /** Sends op 7 RECONNECT to live sockets. */
  requestReconnect(): void;
  /** Resolves when a session has been resumed after the latest dropGateway()/requestReconnect(). */
  waitForResume(timeoutMs?: number): Promise<GatewayEventRecord>;
  /** Resolves on the first READY sent (already sent or future). */
  waitForReady(timeoutMs?: number): Promise<GatewayEventRecord>;
  waitForGatewayEvent(predicate: (event: GatewayEventRecord) => boolean, timeoutMs?: number): Promise<GatewayEventRecord>;
  /** Stop (false) or resume (true) answering heartbeats with HEARTBEAT_ACK. */
  setHeartbeatAcks(enabled: boolean): void;
  /** Raw dispatch (op 0) to every session, whatever its shard, e.g. `fake.dispatch('GUILD_DELETE', {...})`. */
  dispatch(event: string, data: unknown): void;

  // --- interactions ---
  /**
   * Dispatches INTERACTION_CREATE for an application command (a slash command,
   * a message command with `targetMessage`, autocomplete with `focused`), on
   * the connection of its guild's shard (shardOf; DMs: shard 0); throws if
   * that shard has no gateway session.
   */
  sendInteraction(input: InteractionInput): InteractionHandle;
  /** Dispatches INTERACTION_CREATE for a click on a button of `input.message` (interaction type 3). */
  pressButton(input: ComponentInput): InteractionHandle;
  readonly interactions: readonly InteractionHandle[];
  /** HTTP interactions: the application's Ed25519 public key (hex), for DISCORD_PUBLIC_KEY. */
  readonly publicKey: string;
  /**
   * HTTP interactions: signs the interaction and POSTs it to `url` (the bot's
   * endpoint) as Discord does; a 200 JSON answer is taken as the initial
   * callback (late ones are rejected as on Discord). No gateway is involved.
   */
  deliverInteraction(url: string, input: InteractionInput, timeoutMs?: number): Promise<DeliveredInteraction>;
  /** The signature headers for `body` at `timestamp` (unix seconds), for hand-made requests. */
  signatureHeaders(body: string | Buffer, timestamp?: string): Record<string, string>;
  /** Expires an interaction's token (see InteractionHandle.expire). */
  expireInteraction(id: string): void;

  // --- application commands ---
  /** Registered commands: global when guildId is omitted, else that guild's. */
  commands(guildId?: string): StoredCommand[];
  /** Number of command write requests (PUT/POST/PATCH/DELETE), changed or not. */
  readonly commandWrites: number;
  readonly commandWriteLog: readonly CommandWriteRecord[];
  /** Seeds commands without counting a write (e.g. "already registered" state). */
  setCommands(definitions: JsonObject[], guildId?: string): StoredCommand[];

  // --- messages, files, raw requests ---
  readonly messages: readonly ChannelMessageRecord[];
  /** The DM channel the bot opened with `userId` (POST /users/@me/channels), if it did. */
  dmChannelId(userId: string): string | undefined;
  waitForMessage(predicate?: (record: ChannelMessageRecord) => boolean, timeoutMs?: number): Promise<ChannelMessageRecord>;
  /** Every file uploaded in any multipart request (callbacks, edits, follow-ups, channel messages). */
  readonly attachments: readonly ReceivedFile[];
  /**
   * A file as a user attaches it to a slash command: pass the returned `id`
   * as the attachment option's value; the interaction then carries the object
   * in `data.resolved.attachments`, and its URL serves the bytes.
   */
  addAttachment(input: AttachmentInput): JsonObject;
  /** Every download of an addAttachment() file, once its response closed (finished or cut off). */
  readonly attachmentDownloads: readonly AttachmentDownload[];
  waitForAttachmentDownload(predicate?: (download: AttachmentDownload) => boolean, timeoutMs?: number): Promise<AttachmentDownload>;
  readonly requests: readonly RequestRecord[];
  /** Makes the next matching REST request(s) fail, e.g. `{ method: 'PATCH', path: /@original$/, status: 500 }`. */
  failNext(rule: FailureRule): void;

  /** Terminates all sockets and stops listening (bounded). Pending waits reject. */
  close(): Promise<void>;
}

export async function startFakeDiscord(options: FakeDiscordOptions): Promise<FakeDiscord> {
  const log =
    options.log ?? (process.env.FAKE_DISCORD_DEBUG ? (line: string) => process.stderr.write(`[fake-discord] ${line}\n`) : () => {});
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return new FakeDiscordServer(server, port, options, log);
}

class FakeDiscordServer implements FakeDiscord {
  readonly apiUrl: string;
  readonly port: number;
  readonly #server: Server;
  readonly #world: World;
  readonly #commands: CommandStore;
  readonly #gateway: FakeGateway;
  readonly #messages: MessageFactory;
  readonly #interactions: FakeInteraction[] = [];
  readonly #byToken = new Map<string, FakeInteraction>();
  readonly #channelMessages = new RecordLog<ChannelMessageRecord>('channel messages');
  readonly #requests = new RecordLog<RequestRecord>('REST requests');
  readonly #failures: FailureRule[] = [];
  readonly #signer = new InteractionSigner();
  readonly #pendingDeliveries: PendingDeliveries = new Map();
  readonly #options: FakeDiscordOptions;
  readonly #waitMs: number;
  #closed = false;

  constructor(server: Server, port: number, options: FakeDiscordOptions, log: (line: string) => void) {
    this.#server = server;
    this.port = port;
    this.#options = options;
    this.#waitMs = options.defaultWaitMs ?? 5000;
    const base = `http://127.0.0.1:${port}`;
    this.apiUrl = `${base}/api`;
    this.#world = new World(options);
    this.#commands = new CommandStore(this.#world.applicationId, this.#world.ids);
    this.#messages = new MessageFactory(this.#world, base, options.maxUploadBytes ?? 10 * 1024 * 1024);
    this.#gateway = new FakeGateway(this.#world, `ws://127.0.0.1:${port}`, {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      replayBufferSize: options.replayBufferSize ?? 1000,
      log,
    });
    server.on(
      'request',
      createRestHandler({
        world: this.#world,
        commands: this.#commands,
        gateway: this.#gateway,
        messages: this.#messages,
        interactionsByToken: this.#byToken,
        pendingDeliveries: this.#pendingDeliveries,
        channelMessages: this.#channelMessages,
        requests: this.#requests,
        failures: this.#failures,
        // Room for 10 files at the upload limit plus the JSON payload.
        maxRequestBytes: 11 * (options.maxUploadBytes ?? 10 * 1024 * 1024),
        log,
      }),
    );
    server.on('upgrade', (req, socket, head) => this.#gateway.handleUpgrade(req, socket, head));
  }

  get gatewayUrl() {
    return this.#gateway.url;
  }
  get token() {
    return this.#world.token;
  }
  get applicationId() {
    return this.#world.applicationId;
  }
  get botUser() {
    return this.#world.botUser;
  }
  get guildId() {
    return this.#world.defaultGuild.id;
  }
  get channelId() {
    return this.#world.defaultChannel.id;
  }
  get identifies() {
    return this.#gateway.identifies;
  }
  get resumes() {
    return this.#gateway.resumes;
  }
  get heartbeats() {
    return this.#gateway.heartbeats;
  }
  get liveGatewayConnections() {
    return this.#gateway.liveConnections;
  }
  get gatewayEvents() {
    return this.#gateway.events.items;
  }

  dropGateway(options?: { code?: number; terminate?: boolean; invalidateSession?: boolean }): Promise<void> {
    return this.#gateway.drop(options);
  }

  requestReconnect(): void {
    this.#gateway.requestReconnect();
  }

  waitForResume(timeoutMs = this.#waitMs): Promise<GatewayEventRecord> {
    return this.#gateway.events.waitFor((event) => event.kind === 'resumed', {
      timeoutMs,
      fromIndex: this.#gateway.lastDropIndex,
      description: 'a RESUMED after the latest gateway drop',
    });
  }

  waitForReady(timeoutMs = this.#waitMs): Promise<GatewayEventRecord> {
    return this.#gateway.events.waitFor((event) => event.kind === 'ready', { timeoutMs, description: 'READY to be sent' });
  }

  waitForGatewayEvent(predicate: (event: GatewayEventRecord) => boolean, timeoutMs = this.#waitMs): Promise<GatewayEventRecord> {
    return this.#gateway.events.waitFor(predicate, { timeoutMs, description: 'a gateway event matching the predicate' });
  }

  setHeartbeatAcks(enabled: boolean): void {
    this.#gateway.heartbeatAcks = enabled;
  }

  dispatch(event: string, data: unknown): void {
    this.#gateway.dispatch(event, data);
  }

  sendInteraction(input: InteractionInput): InteractionHandle {
    return this.#dispatchInteraction(input);
  }

  pressButton(input: ComponentInput): InteractionHandle {
    return this.#dispatchInteraction(input);
  }

  #dispatchInteraction(input: InteractionInput | ComponentInput): InteractionHandle {
    if (!this.#gateway.hasSession) {
      throw new Error('fake-discord: no gateway session; wait for the client to be ready (clientReady) before sending interactions');
    }
    const interaction = this.#newInteraction(input);
    this.#gateway.dispatchInteraction(interaction.payload);
    return interaction;
  }

  get publicKey(): string {
    return this.#signer.publicKey;
  }

  deliverInteraction(url: string, input: InteractionInput, timeoutMs = 10_000): Promise<DeliveredInteraction> {
    return deliver(url, this.#newInteraction(input), this.#signer, this.#pendingDeliveries, timeoutMs);
  }

  signatureHeaders(body: string | Buffer, timestamp?: string): Record<string, string> {
    return this.#signer.headers(body, timestamp);
  }

  #newInteraction(input: InteractionInput | ComponentInput): FakeInteraction {
    if (this.#closed) throw new Error('fake-discord: closed');
    const interaction = new FakeInteraction(this.#world, this.#messages, this.#commands, input, {
      ackTimeoutMs: this.#options.interactionAckTimeoutMs ?? 3000,
      tokenTtlMs: this.#options.interactionTokenTtlMs ?? 15 * 60 * 1000,
      defaultWaitMs: this.#waitMs,
      attachmentSizeLimit: this.#options.maxUploadBytes ?? 10 * 1024 * 1024,
    });
    this.#interactions.push(interaction);
    this.#byToken.set(interaction.token, interaction);
    return interaction;
  }

  get interactions(): readonly InteractionHandle[] {
    return this.#interactions;
  }

  expireInteraction(id: string): void {
    const interaction = this.#interactions.find((candidate) => candidate.id === id);
    if (!interaction) throw new Error(`fake-discord: unknown interaction ${id}`);
    interaction.expire();
  }

  commands(guildId?: string): StoredCommand[] {
    return this.#commands.list(guildId);
  }

  get commandWrites() {
    return this.#commands.writes.items.length;
  }

  get commandWriteLog() {
    return this.#commands.writes.items;
  }

  setCommands(definitions: JsonObject[], guildId?: string): StoredCommand[] {
    return this.#commands.overwrite(guildId, definitions, false);
  }

  get messages() {
    return this.#channelMessages.items;
  }

  dmChannelId(userId: string): string | undefined {
    return [...this.#world.dmChannels.values()].find((dm) => dm.recipientId === userId)?.id;
  }

  waitForMessage(predicate: (record: ChannelMessageRecord) => boolean = () => true, timeoutMs = this.#waitMs): Promise<ChannelMessageRecord> {
    return this.#channelMessages.waitFor(predicate, { timeoutMs, description: 'a channel message matching the predicate' });
  }

  addAttachment(input: AttachmentInput): JsonObject {
    return this.#messages.userAttachments.add(input);
  }

  get attachmentDownloads(): readonly AttachmentDownload[] {
    return this.#messages.userAttachments.downloads.items;
  }

  waitForAttachmentDownload(predicate: (download: AttachmentDownload) => boolean = () => true, timeoutMs = this.#waitMs): Promise<AttachmentDownload> {
    return this.#messages.userAttachments.downloads.waitFor(predicate, { timeoutMs, description: 'an attachment download matching the predicate' });
  }

  get attachments(): readonly ReceivedFile[] {
    const fromInteractions = this.#interactions.flatMap((interaction) => interaction.records.flatMap((record) => record.files));
    return [...fromInteractions, ...this.#channelMessages.items.flatMap((record) => record.files)];
  }

  get requests() {
    return this.#requests.items;
  }

  failNext(rule: FailureRule): void {
    this.#failures.push({ ...rule });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const reason = 'the fake was closed';
    for (const interaction of this.#interactions) interaction.close(reason);
    this.#messages.userAttachments.close(reason);
    this.#channelMessages.close(reason);
    this.#requests.close(reason);
    this.#commands.writes.close(reason);
    await this.#gateway.close().catch(() => {});
    this.#server.closeAllConnections();
    await withTimeout(new Promise<void>((resolve) => this.#server.close(() => resolve())), 2000, 'HTTP server to close').catch(() => {});
  }
}
