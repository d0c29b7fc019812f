// POST /interactions: what Discord sends in HTTP interactions mode. Every
// request is verified first; a PING gets a PONG; a slash command runs through
// the same Dispatcher as on the gateway, and its first response (defer or
// reply) becomes the HTTP response. A handler that has not answered near
// Discord's 3 s deadline is deferred for it, so the interaction never fails.
import type { IncomingMessage } from 'node:http';
import { InteractionResponseType, InteractionType, type APIChatInputApplicationCommandInteraction, type APIInteractionResponse, type REST } from 'discord.js';
import { refuseRestarting, type Dispatcher } from '../app/dispatch.js';
import { log } from '../log.js';
import { HttpInvocation } from './invocation.js';
import { MeteredInvocation, type Metrics } from './metrics.js';
import { MAX_SKEW_SECONDS, verifyRequest } from './verify.js';
import type { KeyObject } from 'node:crypto';

/** Discord allows 3 s for the initial response; this leaves room for the network. */
export const AUTO_DEFER_MS = 1500;

/** Whether an interaction id is new; the same signed request sent twice runs once. */
export type FirstSeen = (interactionId: string) => Promise<boolean>;

/** In-process FirstSeen: ids are kept as long as a signed request stays acceptable. */
export function recentIds(ttlMs = 2 * MAX_SKEW_SECONDS * 1000): FirstSeen {
  const seen = new Map<string, number>();
  return (id) => {
    const now = Date.now();
    for (const [old, at] of seen) {
      if (now - at < ttlMs) break;
      seen.delete(old);
    }
    if (seen.has(id)) return Promise.resolve(false);
    seen.set(id, now);
    return Promise.resolve(true);
  };
}

export interface EndpointOptions {
  publicKey: KeyObject;
  dispatcher: Dispatcher;
  rest: REST;
  hasBotToken: boolean;
  adminUserIds: readonly string[];
  metrics: Metrics;
  firstSeen: FirstSeen;
  /** False while shutting down: commands are refused politely. */
  accepting(): boolean;
  /** Keeps the command's task, so shutdown can wait for it. */
  track(task: Promise<void>): void;
}

type Answer = { status: number; json: unknown };

export function interactionsEndpoint(opts: EndpointOptions): (body: Buffer, headers: IncomingMessage['headers']) => Promise<Answer> {
  return async (body, headers) => {
    const received = performance.now();
    const verdict = verifyRequest(opts.publicKey, headers['x-signature-ed25519'] as string | undefined, headers['x-signature-timestamp'] as string | undefined, body);
    if (!verdict.ok) {
      log.warn({ reason: verdict.reason }, 'refused an interaction request');
      return { status: verdict.status, json: { error: verdict.reason } };
    }
    let interaction: { type?: unknown; id?: unknown; data?: { type?: unknown } };
    try {
      interaction = JSON.parse(body.toString('utf8')) as typeof interaction;
    } catch {
      return { status: 400, json: { error: 'body is not JSON' } };
    }
    if (interaction.type === InteractionType.Ping) return { status: 200, json: { type: InteractionResponseType.Pong } };
    if (interaction.type !== InteractionType.ApplicationCommand || interaction.data?.type !== 1 || typeof interaction.id !== 'string') {
      return { status: 400, json: { error: 'only slash commands are handled' } };
    }
    if (!(await opts.firstSeen(interaction.id))) {
      log.warn({ id: interaction.id }, 'refused a replayed interaction');
      return { status: 400, json: { error: 'interaction already received' } };
    }

    let respond!: (response: APIInteractionResponse) => void;
    const first = new Promise<APIInteractionResponse>((resolve) => (respond = resolve));
    const raw = new HttpInvocation(interaction as APIChatInputApplicationCommandInteraction, opts.rest, opts.adminUserIds, respond, opts.hasBotToken);
    const invocation = new MeteredInvocation(raw, opts.metrics, received);
    const task = opts.accepting() ? opts.dispatcher.run(invocation) : refuseRestarting(invocation);
    opts.track(task);
    const timer = setTimeout(() => void invocation.defer(), AUTO_DEFER_MS);
    // A handler that ends without answering still owes Discord a response.
    void task.finally(() => !raw.acknowledged && void invocation.defer());
    try {
      return { status: 200, json: await first };
    } finally {
      clearTimeout(timer);
    }
  };
}
