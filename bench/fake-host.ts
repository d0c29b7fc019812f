// Runs the fake Discord in a child process of its own for the benchmarks that
// drive the bot through it (burst, soak), so that Discord's side shares
// neither the bot's event loop nor its memory (the soak measures the bot's
// RSS, and the fake keeps every interaction it sent), and does the timing on
// that side, as Discord would see it. Every request is answered, with its
// result or its error, and every wait here is bounded: a benchmark may fail,
// never hang. The bot's side of this link is FakeHost in burst.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeDiscord, type InteractionHandle, type JsonObject } from '../tools/fake-discord/server.js';

export interface HostOptions {
  token: string;
  /** The fake's acknowledgement deadline (Discord: 3 s); 0 measures late acknowledgements rather than refusing them. */
  ackTimeoutMs: number;
}

export type HostRequest =
  | { type: 'burst'; count: number; length: number; seed: string }
  | { type: 'ask'; seed: string; length: number }
  | { type: 'soak'; plan: SoakPlan }
  | { type: 'close' };

/** What each request is answered with. */
export interface HostResults {
  burst: BurstTimes;
  ask: string;
  soak: SoakResult;
  close: null;
}

export type HostMessage = { type: 'ready'; apiUrl: string } | { type: 'reply'; id: number; result?: unknown; error?: string } | { type: 'fatal'; error: string };

export interface BurstTimes {
  acks: number[];
  finals: number[];
  seconds: number;
  answered: number;
}

/** /shakespeare interactions sent at a steady rate; see bench/soak.ts. */
export interface SoakPlan {
  count: number;
  ratePerSec: number;
  length: number;
  seed: string;
  /** Indices of the interactions sent with `killSeed` instead, which crashes the worker that writes it. */
  kills: number[];
  killSeed: string;
  /** One user per interaction, numbered from here (a warm-up and the run do not share users). */
  firstUser: number;
  /** An interaction with no passage or refusal within this is unanswered. */
  answerTimeoutMs: number;
}

export type SoakOutcome =
  | { kind: 'passage'; version: string; ackMs?: number; finalMs: number }
  | { kind: 'refused'; message: string; ackMs?: number }
  | { kind: 'unanswered'; ackMs?: number }
  | { kind: 'not-sent'; message: string };

export interface SoakResult {
  outcomes: SoakOutcome[];
  seconds: number;
  /** How far the sending fell behind its schedule at worst (the fake's own loop was late). */
  maxSendLagMs: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as HostOptions;
const send = (m: HostMessage) => process.send!(m);
// A failure outside a request (a listener that threw) ends the host loudly; the bench rejects what it waits for.
const fatal = (err: unknown) => {
  const m: HostMessage = { type: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  setTimeout(() => process.exit(1), 1000);
  try {
    // Exits once the message is out.
    process.send!(m, undefined, undefined, () => process.exit(1));
  } catch {
    process.exit(1);
  }
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
// The bench is gone (crashed or killed): no orphan.
process.on('disconnect', () => process.exit(0));

const fake = await startFakeDiscord({ token: options.token, interactionAckTimeoutMs: options.ackTimeoutMs });
const user = (i: number) => String(200000000000000000n + BigInt(i));
let asked = 1_000_000;
/** A passage's signature line, "— shakespeare v2" (see passageReply): only the final edit has it. */
const SIGNATURE = /— \S+ (v\d+)$/;
const isPassage = (msg: JsonObject) => SIGNATURE.test(String(msg.content));

async function handle(m: HostRequest): Promise<unknown> {
  switch (m.type) {
    case 'close':
      await fake.close();
      return null;
    case 'ask': {
      const reply = await fake.sendInteraction({ name: 'shakespeare', userId: user(++asked), options: { seed: m.seed, length: m.length } }).waitForResponse(isPassage, 60_000);
      return String(reply.content);
    }
    case 'burst':
      return burst(m.count, m.length, m.seed);
    case 'soak':
      return soak(m.plan);
  }
}

async function burst(count: number, length: number, seed: string): Promise<BurstTimes> {
  await fake.sendInteraction({ name: 'shakespeare', userId: user(count), options: { length: 20 } }).waitForResponse(undefined, 30_000);
  const t0 = performance.now();
  const handles = Array.from({ length: count }, (_, i) => fake.sendInteraction({ name: 'shakespeare', userId: user(i), options: { seed, length } }));
  // The signed, final edit: a long passage streams partial edits (without the signature) first.
  const replies = await Promise.allSettled(handles.map((h) => h.waitForResponse(isPassage, 120_000)));
  return {
    acks: handles.map((h) => h.callbacks[0]?.sinceDispatchMs ?? Infinity),
    finals: handles.map((h) => h.edits[h.edits.length - 1]?.sinceDispatchMs ?? Infinity),
    seconds: (performance.now() - t0) / 1000,
    answered: replies.filter((r) => r.status === 'fulfilled').length,
  };
}

/** How `h` was answered so far: a passage, a refusal, or nothing yet (undefined). */
function answer(h: InteractionHandle): SoakOutcome | undefined {
  const ackMs = h.callbacks[0]?.sinceDispatchMs;
  for (const r of h.records) {
    if (r.error || !r.message) continue;
    const content = String(r.message.content ?? '');
    const visible = r.kind === 'callback' ? r.type === 4 : r.kind === 'edit' && r.messageId === '@original';
    const version = visible ? SIGNATURE.exec(content)?.[1] : undefined;
    if (version) return { kind: 'passage', version, ackMs, finalMs: r.sinceDispatchMs };
    // A refusal is a private reply, or (after a public defer) a private follow-up.
    if ((r.kind === 'callback' && r.type === 4) || r.kind === 'followup') return { kind: 'refused', message: content, ackMs };
  }
  return undefined;
}

async function soak(plan: SoakPlan): Promise<SoakResult> {
  const kills = new Set(plan.kills);
  const outcomes: SoakOutcome[] = [];
  const open = new Map<number, InteractionHandle>();
  const t0 = performance.now();
  const due = (i: number) => t0 + (i * 1000) / plan.ratePerSec;
  let next = 0;
  let maxSendLagMs = 0;
  // Ends by itself: sending stops at `count`, and each interaction is settled by its answer or its timeout.
  while (next < plan.count || open.size > 0) {
    const now = performance.now();
    for (; next < plan.count && due(next) <= now; next++) {
      maxSendLagMs = Math.max(maxSendLagMs, now - due(next));
      const seed = kills.has(next) ? plan.killSeed : plan.seed;
      try {
        open.set(next, fake.sendInteraction({ name: 'shakespeare', userId: user(plan.firstUser + next), options: { seed, length: plan.length } }));
      } catch (err) {
        // E.g. no gateway session while the bot reconnects: counted, and the run goes on.
        outcomes[next] = { kind: 'not-sent', message: (err as Error).message };
      }
    }
    for (const [i, h] of open) {
      const outcome = answer(h) ?? (Date.now() - h.dispatchedAt > plan.answerTimeoutMs ? { kind: 'unanswered', ackMs: h.callbacks[0]?.sinceDispatchMs } : undefined);
      if (!outcome) continue;
      outcomes[i] = outcome;
      open.delete(i);
    }
    await sleep(5);
  }
  return { outcomes, seconds: (performance.now() - t0) / 1000, maxSendLagMs };
}

process.on('message', (m: HostRequest & { id: number }) => {
  handle(m).then(
    (result) => send({ type: 'reply', id: m.id, result }),
    (err: unknown) => send({ type: 'reply', id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
send({ type: 'ready', apiUrl: fake.apiUrl });
