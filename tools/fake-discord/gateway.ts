/**
 * Fake Discord gateway (v10, JSON encoding, no compression) on the loopback
 * HTTP server's upgrade path: HELLO, IDENTIFY -> READY + GUILD_CREATE,
 * heartbeats, RESUME with replay of missed dispatches, forced drops. Sharded
 * sessions (IDENTIFY `shard: [i, n]`) get only their guilds, and each
 * interaction goes to the shard of its guild (shardOf).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { World } from './state.js';
import { RecordLog, isJsonObject, randomToken, withTimeout, type JsonObject } from './util.js';

const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
  RequestSoundboardSounds: 31,
} as const;

export interface GatewayEventRecord {
  kind:
    | 'connect'
    | 'identify'
    | 'ready'
    | 'resume'
    | 'resumed'
    | 'invalid_session'
    | 'reconnect_requested'
    | 'dropped'
    | 'closed'
    | 'interaction';
  at: number;
  sessionId?: string;
  /** Close code for 'dropped' / 'closed'. */
  code?: number;
  /** Number of dispatches replayed, for 'resumed'. */
  replayed?: number;
  /** The IDENTIFY / RESUME `d`, for 'identify' / 'resume'; `{ id, guild_id }` for 'interaction'. */
  data?: JsonObject;
  /** The session's `[shard_id, num_shards]`, for 'identify' and 'interaction'. */
  shard?: [number, number];
}

/**
 * Discord's routing rule: a guild's events go to shard
 * `(guild_id >> 22) % num_shards`; what has no guild (DMs) goes to shard 0.
 */
export function shardOf(guildId: string | undefined, numShards: number): number {
  return guildId === undefined ? 0 : Number((BigInt(guildId) >> 22n) % BigInt(numShards));
}

/** A guild id (a snowflake of about `atMs`) that shardOf puts on `shard` of `numShards`: for sharded worlds. */
export function guildOnShard(shard: number, numShards: number, atMs = Date.now()): string {
  let t = BigInt(atMs) - 1420070400000n;
  t += BigInt(shard) - (t % BigInt(numShards));
  return String(t << 22n);
}

export interface GatewayOptions {
  heartbeatIntervalMs: number;
  /** Dispatches kept per session for RESUME replay. */
  replayBufferSize: number;
  log: (line: string) => void;
}

interface Dispatch {
  op: 0;
  s: number;
  t: string;
  d: unknown;
}

interface Session {
  id: string;
  seq: number;
  replay: Dispatch[];
  connection: Connection | undefined;
  shard: [number, number];
  intents: number;
  invalid: boolean;
}

interface Connection {
  socket: WebSocket;
  session: Session | undefined;
}

export class FakeGateway {
  readonly events = new RecordLog<GatewayEventRecord>('gateway events');
  /** Index in `events` of the most recent forced drop / reconnect request. */
  lastDropIndex = 0;
  heartbeats = 0;
  heartbeatAcks = true;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4096 * 1024 });
  readonly #sessions = new Map<string, Session>();
  readonly #connections = new Set<Connection>();

  constructor(
    private readonly world: World,
    private readonly urlBase: string,
    private readonly options: GatewayOptions,
  ) {}

  /** URL returned by GET /gateway/bot (no query: discord.js appends `?v=10&encoding=json`). */
  get url(): string {
    return `${this.urlBase}/gateway`;
  }

  get identifies(): number {
    return this.events.items.filter((event) => event.kind === 'identify').length;
  }

  get resumes(): number {
    return this.events.items.filter((event) => event.kind === 'resumed').length;
  }

  get liveConnections(): number {
    return [...this.#connections].filter((connection) => connection.socket.readyState === WebSocket.OPEN).length;
  }

  /** Sessions that can still receive (or, if disconnected, later replay) dispatches. */
  get hasSession(): boolean {
    return [...this.#sessions.values()].some((session) => !session.invalid);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!url.pathname.startsWith('/gateway')) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, url.searchParams));
  }

  /**
   * INTERACTION_CREATE to the session(s) of the interaction's shard (DMs: shard
   * 0); throws when that shard has no session.
   */
  dispatchInteraction(payload: JsonObject): void {
    const guildId = typeof payload.guild_id === 'string' ? payload.guild_id : undefined;
    const sessions = [...this.#sessions.values()].filter((s) => !s.invalid && shardOf(guildId, s.shard[1]) === s.shard[0]);
    if (sessions.length === 0) throw new Error(`fake-discord: no gateway session for the shard of ${guildId ? `guild ${guildId}` : 'a DM'}`);
    for (const session of sessions) {
      this.events.push({ kind: 'interaction', at: Date.now(), sessionId: session.id, shard: session.shard, data: { id: payload.id, guild_id: guildId } });
      this.#dispatchTo(session, 'INTERACTION_CREATE', payload);
    }
  }

  /** Sends a dispatch to every live session, whatever its shard; disconnected resumable sessions buffer it for replay. */
  dispatch(t: string, d: unknown): void {
    for (const session of this.#sessions.values()) {
      if (!session.invalid) this.#dispatchTo(session, t, d);
    }
  }

  /**
   * Closes every live gateway socket abnormally (default close code 4000, which
   * discord.js answers with RESUME). Resolves once the sockets are closed.
   */
  async drop({
    code = 4000,
    terminate = false,
    invalidateSession = false,
  }: { code?: number; terminate?: boolean; invalidateSession?: boolean } = {}): Promise<void> {
    const live = [...this.#connections].filter((connection) => connection.socket.readyState === WebSocket.OPEN);
    if (live.length === 0) throw new Error('fake-discord: no live gateway connection to drop');
    this.lastDropIndex = this.events.nextIndex;
    const closed = live.map((connection) => new Promise<void>((resolve) => connection.socket.once('close', () => resolve())));
    for (const connection of live) {
      if (invalidateSession && connection.session) connection.session.invalid = true;
      this.events.push({ kind: 'dropped', at: Date.now(), sessionId: connection.session?.id, code: terminate ? 1006 : code });
      if (terminate) connection.socket.terminate();
      else connection.socket.close(code, 'fake-discord: dropped by test');
    }
    await withTimeout(Promise.all(closed), 5000, 'gateway sockets to close after drop');
  }

  /** Sends op 7 RECONNECT; discord.js closes and RESUMEs. */
  requestReconnect(): void {
    this.lastDropIndex = this.events.nextIndex;
    for (const connection of this.#connections) {
      if (connection.socket.readyState !== WebSocket.OPEN) continue;
      this.events.push({ kind: 'reconnect_requested', at: Date.now(), sessionId: connection.session?.id });
      this.#send(connection, { op: Op.Reconnect, d: null, s: null, t: null });
    }
  }

  /** Terminates all sockets (used by fake.close()). */
  async close(): Promise<void> {
    for (const connection of this.#connections) connection.socket.terminate();
    this.#connections.clear();
    await withTimeout(new Promise<void>((resolve) => this.#wss.close(() => resolve())), 2000, 'gateway server to close');
    this.events.close('the fake was closed');
  }

  #onConnection(socket: WebSocket, query: URLSearchParams): void {
    const connection: Connection = { socket, session: undefined };
    this.#connections.add(connection);
    this.events.push({ kind: 'connect', at: Date.now() });
    socket.on('message', (raw, isBinary) => this.#onMessage(connection, raw, isBinary));
    socket.on('close', (code) => {
      this.#connections.delete(connection);
      const session = connection.session;
      if (session && session.connection === connection) {
        session.connection = undefined;
        // A client closing with 1000/1001 ends its session (Discord semantics).
        if (code === 1000 || code === 1001) {
          session.invalid = true;
          this.#sessions.delete(session.id);
        }
      }
      this.events.push({ kind: 'closed', at: Date.now(), sessionId: session?.id, code });
    });
    socket.on('error', (error) => this.options.log(`gateway socket error: ${error.message}`));

    if (query.get('v') !== '10') {
      socket.close(4012, 'fake-discord: only API v10 is supported');
      return;
    }
    if ((query.get('encoding') ?? 'json') !== 'json') {
      socket.close(4012, 'fake-discord: only encoding=json is supported');
      return;
    }
    // compress=zlib-stream is ignored: text frames are always valid for discord.js.
    this.#send(connection, { op: Op.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs, _trace: ['fake-discord'] }, s: null, t: null });
  }

  #onMessage(connection: Connection, raw: RawData, isBinary: boolean): void {
    let payload: unknown;
    try {
      if (isBinary) throw new Error('binary frames are not supported');
      payload = JSON.parse(rawToString(raw));
    } catch {
      connection.socket.close(4002, 'Error while decoding payload.');
      return;
    }
    if (!isJsonObject(payload) || typeof payload.op !== 'number') {
      connection.socket.close(4002, 'Error while decoding payload.');
      return;
    }
    const d = isJsonObject(payload.d) ? payload.d : {};
    switch (payload.op) {
      case Op.Heartbeat:
        this.heartbeats++;
        if (this.heartbeatAcks) this.#send(connection, { op: Op.HeartbeatAck, d: null, s: null, t: null });
        return;
      case Op.Identify:
        this.#identify(connection, d);
        return;
      case Op.Resume:
        this.#resume(connection, d);
        return;
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
      case Op.RequestGuildMembers:
      case Op.RequestSoundboardSounds:
        if (!connection.session) connection.socket.close(4003, 'Not authenticated.');
        return;
      default:
        connection.socket.close(4001, 'Unknown opcode.');
    }
  }

  #identify(connection: Connection, d: JsonObject): void {
    if (connection.session) {
      connection.socket.close(4005, 'Already authenticated.');
      return;
    }
    if (d.token !== this.world.token) {
      connection.socket.close(4004, 'Authentication failed.');
      return;
    }
    const shard: [number, number] =
      Array.isArray(d.shard) && d.shard.length === 2 ? [Number(d.shard[0]), Number(d.shard[1])] : [0, 1];
    const [id, count] = shard;
    if (!Number.isInteger(id) || !Number.isInteger(count) || count < 1 || id < 0 || id >= count) {
      connection.socket.close(4010, 'Invalid shard.');
      return;
    }
    const { token: _token, ...withoutToken } = d;
    this.events.push({ kind: 'identify', at: Date.now(), data: withoutToken, shard });
    const session: Session = {
      id: randomToken('session').replace(/[^a-zA-Z0-9]/g, '').slice(0, 32),
      seq: 0,
      replay: [],
      connection,
      shard,
      intents: typeof d.intents === 'number' ? d.intents : 0,
      invalid: false,
    };
    this.#sessions.set(session.id, session);
    connection.session = session;
    const guilds = [...this.world.guilds.values()].filter((guild) => shardOf(guild.id, count) === id);
    this.#dispatchTo(session, 'READY', {
      v: 10,
      user: this.world.botUser,
      user_settings: {},
      guilds: guilds.map((guild) => ({ id: guild.id, unavailable: true })),
      relationships: [],
      private_channels: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      session_type: 'normal',
      session_id: session.id,
      resume_gateway_url: this.url,
      shard,
      application: { id: this.world.applicationId, flags: 0 },
      _trace: ['fake-discord'],
    });
    this.events.push({ kind: 'ready', at: Date.now(), sessionId: session.id });
    // discord.js waits (15 s by default) for one GUILD_CREATE per READY guild.
    for (const guild of guilds) this.#dispatchTo(session, 'GUILD_CREATE', this.world.guildCreatePayload(guild));
  }

  #resume(connection: Connection, d: JsonObject): void {
    if (d.token !== this.world.token) {
      connection.socket.close(4004, 'Authentication failed.');
      return;
    }
    this.events.push({ kind: 'resume', at: Date.now(), sessionId: String(d.session_id), data: { session_id: d.session_id, seq: d.seq } });
    const session = this.#sessions.get(String(d.session_id));
    const seq = typeof d.seq === 'number' ? d.seq : -1;
    const oldest = session?.replay[0]?.s ?? (session ? session.seq + 1 : 0);
    // Unknown / invalidated session, or a gap we can no longer replay: op 9 (not resumable).
    if (!session || session.invalid || seq > session.seq || seq + 1 < oldest) {
      this.events.push({ kind: 'invalid_session', at: Date.now(), sessionId: String(d.session_id) });
      if (session) this.#sessions.delete(session.id);
      this.#send(connection, { op: Op.InvalidSession, d: false, s: null, t: null });
      return;
    }
    session.connection?.socket.terminate();
    session.connection = connection;
    connection.session = session;
    const missed = session.replay.filter((dispatch) => dispatch.s > seq);
    for (const dispatch of missed) this.#send(connection, dispatch);
    this.#dispatchTo(session, 'RESUMED', { _trace: ['fake-discord'] });
    this.events.push({ kind: 'resumed', at: Date.now(), sessionId: session.id, replayed: missed.length });
  }

  #dispatchTo(session: Session, t: string, d: unknown): void {
    const dispatch: Dispatch = { op: Op.Dispatch, s: ++session.seq, t, d };
    session.replay.push(dispatch);
    if (session.replay.length > this.options.replayBufferSize) session.replay.shift();
    if (session.connection) this.#send(session.connection, dispatch);
  }

  #send(connection: Connection, payload: JsonObject | Dispatch): void {
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    connection.socket.send(JSON.stringify(payload));
  }
}

function rawToString(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8');
  return raw.toString('utf8');
}
