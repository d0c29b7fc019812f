/**
 * Fake Discord REST API (v10) under /api/v10: the routes a slash-command bot
 * uses, Discord-shaped errors, generous rate-limit headers, request log and
 * injectable failures (e.g. a 429 or 500 on the next matching request).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ApiError, Errors, parseBody, rateLimitHeaders, readBody, requireObject, sendJson, type ParsedBody, type ReceivedFile } from './http.js';
import { withoutLocalizations, type CommandStore } from './commands.js';
import type { FakeGateway } from './gateway.js';
import type { FakeInteraction } from './interactions.js';
import { MessageType, type MessageFactory } from './messages.js';
import type { PendingDeliveries } from './outgoing.js';
import { makeUser, type World } from './state.js';
import { RecordLog, deepClone, type JsonObject } from './util.js';

export interface RequestRecord {
  method: string;
  /** Path after /api/v10, percent-decoded (`@original`, not `%40original`). */
  path: string;
  query: string;
  status: number;
  /** Whether `Authorization: Bot <token>` was present and correct. */
  authorized: boolean;
  at: number;
  durationMs: number;
}

/** A bot message posted with POST /channels/:id/messages. */
export interface ChannelMessageRecord {
  channelId: string;
  body: JsonObject;
  files: ReceivedFile[];
  multipart: boolean;
  /** The created message as returned to the bot. */
  message: JsonObject;
  at: number;
}

/** Makes the next matching request(s) fail with the given response. */
export interface FailureRule {
  method?: string;
  /** Matched against the decoded path after /api/v10 (string: exact match). */
  path: string | RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many requests to fail (default 1). */
  times?: number;
}

export interface RestContext {
  world: World;
  commands: CommandStore;
  gateway: FakeGateway;
  messages: MessageFactory;
  interactionsByToken: Map<string, FakeInteraction>;
  /** HTTP-mode interactions whose endpoint is still answering (see outgoing.ts). */
  pendingDeliveries: PendingDeliveries;
  channelMessages: RecordLog<ChannelMessageRecord>;
  requests: RecordLog<RequestRecord>;
  failures: FailureRule[];
  maxRequestBytes: number;
  log: (line: string) => void;
}

interface Call {
  params: Record<string, string>;
  query: URLSearchParams;
  body: ParsedBody;
}

interface Route {
  method: string;
  pattern: string;
  /** Interaction callbacks and webhooks are authenticated by their token, not the bot token. */
  auth: boolean;
  handle: (call: Call) => { status?: number; body?: unknown } | undefined;
}

export function createRestHandler(ctx: RestContext): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = buildRoutes(ctx);
  return (req, res) => {
    const started = performance.now();
    handle(ctx, routes, req, res, started).catch((error: unknown) => {
      ctx.log(`REST handler crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { message: '500: Internal Server Error (fake-discord bug)', code: 0 });
      else res.destroy();
    });
  };
}

async function handle(ctx: RestContext, routes: Route[], req: IncomingMessage, res: ServerResponse, started: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = (req.method ?? 'GET').toUpperCase();
  const segments = url.pathname.split('/').filter(Boolean).map(safeDecode);

  // Files users attached to commands: /ephemeral-attachments/:application/:id/:name
  if (segments[0] === 'ephemeral-attachments' && method === 'GET') {
    if (!ctx.messages.userAttachments.serve(segments[2] ?? '', res)) sendJson(res, 404, { message: '404: Not Found', code: 0 });
    return;
  }

  // CDN-like download of uploaded attachments: /attachments/:channel/:id/:name
  if (segments[0] === 'attachments' && method === 'GET') {
    const stored = ctx.messages.attachments.get(segments[2] ?? '');
    if (!stored) return sendJson(res, 404, { message: '404: Not Found', code: 0 });
    res.writeHead(200, { 'content-type': stored.contentType, 'content-length': String(stored.bytes.length) });
    res.end(stored.bytes);
    return;
  }

  const path = `/${segments.slice(2).join('/')}`;
  const authorized = req.headers.authorization === `Bot ${ctx.world.token}`;
  const finish = (status: number, body: unknown, extraHeaders: Record<string, string> = {}, bucket = 'unrouted') => {
    sendJson(res, status, body, { ...rateLimitHeaders(`${method}:${bucket}`), ...extraHeaders });
    ctx.requests.push({ method, path, query: url.search, status, authorized, at: Date.now(), durationMs: performance.now() - started });
    ctx.log(`${method} ${path}${url.search} -> ${status}`);
  };

  try {
    if (segments[0] !== 'api' || segments[1] !== 'v10') throw Errors.notFound();
    const raw = await readBody(req, ctx.maxRequestBytes);
    // Discord takes webhook calls for an interaction only once its initial response is in.
    if (segments[2] === 'webhooks') await ctx.pendingDeliveries.get(segments[4] ?? '');

    const failure = ctx.failures.find(
      (rule) => (!rule.method || rule.method.toUpperCase() === method) && (typeof rule.path === 'string' ? rule.path === path : rule.path.test(path)),
    );
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) ctx.failures.splice(ctx.failures.indexOf(failure), 1);
      return finish(failure.status, failure.body ?? { message: `${failure.status}: injected by fake-discord`, code: 0 }, failure.headers);
    }

    const pathSegments = segments.slice(2);
    let methodMismatch = false;
    for (const route of routes) {
      const params = matchPattern(route.pattern, pathSegments);
      if (!params) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      if (route.auth && !authorized) throw Errors.unauthorized();
      const body = await parseBody(req.headers['content-type'], raw);
      const result = route.handle({ params, query: url.searchParams, body }) ?? {};
      return finish(result.status ?? (result.body === undefined ? 204 : 200), result.body, {}, route.pattern);
    }
    throw methodMismatch ? Errors.methodNotAllowed() : Errors.notFound();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return finish(error.status, error.toBody());
  }
}

function buildRoutes(ctx: RestContext): Route[] {
  const { world, commands } = ctx;
  const checkApp = (app: string | undefined) => {
    if (app !== world.applicationId) throw Errors.unknownApplication();
  };
  const checkGuild = (guild: string | undefined): string => {
    if (!guild || !world.guilds.has(guild)) throw Errors.unknownGuild();
    return guild;
  };
  const interaction = (token: string | undefined, app?: string): FakeInteraction => {
    const found = ctx.interactionsByToken.get(token ?? '');
    if (app !== undefined) {
      // Webhook routes: an unknown token is an invalid webhook token.
      if (app !== world.applicationId) throw Errors.unknownWebhook();
      if (!found) throw Errors.invalidWebhookToken();
    } else if (!found) throw Errors.unknownInteraction();
    return found;
  };
  const json = (call: Call) => requireObject(call.body.json);
  const commandRoutes = (prefix: string, guildOf: (call: Call) => string | undefined): Route[] => [
    {
      method: 'GET',
      pattern: prefix,
      auth: true,
      handle: (c) => {
        const list = commands.list(guildOf(c));
        return { body: c.query.get('with_localizations') === 'true' ? list : withoutLocalizations(list) };
      },
    },
    { method: 'PUT', pattern: prefix, auth: true, handle: (c) => ({ body: commands.overwrite(guildOf(c), c.body.json ?? []) }) },
    {
      method: 'POST',
      pattern: prefix,
      auth: true,
      handle: (c) => {
        const [command, created] = commands.create(guildOf(c), c.body.json);
        return { status: created ? 201 : 200, body: command };
      },
    },
    { method: 'GET', pattern: `${prefix}/:command`, auth: true, handle: (c) => ({ body: commands.get(guildOf(c), c.params.command ?? '') }) },
    { method: 'PATCH', pattern: `${prefix}/:command`, auth: true, handle: (c) => ({ body: commands.edit(guildOf(c), c.params.command ?? '', c.body.json) }) },
    {
      method: 'DELETE',
      pattern: `${prefix}/:command`,
      auth: true,
      handle: (c) => {
        commands.delete(guildOf(c), c.params.command ?? '');
        return undefined;
      },
    },
  ];

  return [
    {
      method: 'GET',
      pattern: '/gateway/bot',
      auth: true,
      handle: () => ({
        body: {
          url: ctx.gateway.url,
          shards: world.recommendedShards,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
        },
      }),
    },
    { method: 'GET', pattern: '/gateway', auth: false, handle: () => ({ body: { url: ctx.gateway.url } }) },
    { method: 'GET', pattern: '/users/@me', auth: true, handle: () => ({ body: world.botUser }) },
    {
      method: 'GET',
      pattern: '/users/:user',
      auth: true,
      handle: (c) => {
        const id = c.params.user ?? '';
        if (!/^\d{1,20}$/.test(id)) throw new ApiError(404, 10013, 'Unknown User');
        return { body: id === world.botUser.id ? world.botUser : makeUser(id, `user-${id}`) };
      },
    },
    { method: 'GET', pattern: '/applications/@me', auth: true, handle: () => ({ body: world.applicationObject() }) },
    ...commandRoutes('/applications/:app/commands', (c) => {
      checkApp(c.params.app);
      return undefined;
    }),
    ...commandRoutes('/applications/:app/guilds/:guild/commands', (c) => {
      checkApp(c.params.app);
      return checkGuild(c.params.guild);
    }),
    {
      method: 'GET',
      pattern: '/guilds/:guild',
      auth: true,
      handle: (c) => {
        const guild = world.guilds.get(checkGuild(c.params.guild));
        const { channels: _c, members: _m, threads: _t, presences: _p, voice_states: _v, ...rest } = world.guildCreatePayload(guild!);
        return { body: rest };
      },
    },
    {
      // Opens (or returns) the DM channel with a user: discord.js's user.send() does this first.
      method: 'POST',
      pattern: '/users/@me/channels',
      auth: true,
      handle: (c) => {
        const recipient = json(c).recipient_id;
        if (typeof recipient !== 'string' || !/^\d{1,20}$/.test(recipient)) {
          throw Errors.invalidFormBody(['recipient_id'], 'NUMBER_TYPE_COERCE', `Value "${String(recipient)}" is not snowflake.`);
        }
        return { body: world.dmChannelObject(world.dmChannel(recipient)) };
      },
    },
    {
      method: 'GET',
      pattern: '/channels/:channel',
      auth: true,
      handle: (c) => {
        const dm = world.dmChannels.get(c.params.channel ?? '');
        if (dm) return { body: world.dmChannelObject(dm) };
        const channel = world.channels.get(c.params.channel ?? '');
        if (!channel) throw Errors.unknownChannel();
        return { body: world.channelObject(channel) };
      },
    },
    {
      method: 'POST',
      pattern: '/channels/:channel/messages',
      auth: true,
      handle: (c) => {
        const id = c.params.channel ?? '';
        const channel = world.channels.get(id) ?? (world.dmChannels.has(id) ? { id, guildId: undefined } : undefined);
        if (!channel) throw Errors.unknownChannel();
        const body = json(c);
        const message = ctx.messages.create(body, c.body.files, { channelId: channel.id, guildId: channel.guildId, type: MessageType.Default });
        ctx.channelMessages.push({ channelId: channel.id, body, files: c.body.files, multipart: c.body.multipart, message: deepClone(message), at: Date.now() });
        return { body: message };
      },
    },
    {
      method: 'POST',
      pattern: '/interactions/:id/:token/callback',
      auth: false,
      handle: (c) => {
        const found = interaction(c.params.token);
        if (found.id !== c.params.id) throw Errors.unknownInteraction();
        const result = found.handleCallback(json(c), c.body.files, c.body.multipart, c.query.get('with_response') === 'true');
        return { body: result };
      },
    },
    {
      method: 'POST',
      pattern: '/webhooks/:app/:token',
      auth: false,
      handle: (c) => ({ body: interaction(c.params.token, c.params.app).handleFollowUp(json(c), c.body.files, c.body.multipart) }),
    },
    ...(['GET', 'PATCH', 'DELETE'] as const).map(
      (method): Route => ({
        method,
        pattern: '/webhooks/:app/:token/messages/:message',
        auth: false,
        handle: (c) => ({
          body: interaction(c.params.token, c.params.app).handleMessage(method, c.params.message ?? '', json(c), c.body.files, c.body.multipart),
        }),
      }),
    ),
  ];
}

/** Matches `/a/:b/c` against path segments; literal segments must be equal. */
function matchPattern(pattern: string, segments: string[]): Record<string, string> | undefined {
  const parts = pattern.split('/').filter(Boolean);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const segment = segments[i] as string;
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment) return undefined;
  }
  return params;
}

/** discord.js sends `%40original`; decode so both spellings match. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
