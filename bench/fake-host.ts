// Runs the fake Discord in its own worker thread for the burst benchmark, so
// that Discord's side does not share the bot's event loop (or core), and does
// the timing on that side, as Discord would see it.
import { parentPort, workerData } from 'node:worker_threads';
import { startFakeDiscord } from '../tools/fake-discord/server.js';

export type HostRequest =
  | { type: 'burst'; count: number; length: number; seed: string }
  | { type: 'ask'; seed: string; length: number }
  | { type: 'soak'; count: number; seconds: number; length: number }
  | { type: 'close' };
export interface BurstTimes {
  acks: number[];
  finals: number[];
  seconds: number;
  answered: number;
}

/** How each interaction of a soak ended, as its user saw it. */
export interface SoakOutcomes {
  /** A public passage. */
  answered: number;
  /** A private message instead, counted by its text. */
  refused: Record<string, number>;
  /** Nothing at all within the bound (the user saw "the application did not respond"). */
  unanswered: number;
  /** Acknowledged later than Discord's 3 s. */
  lateAcks: number;
  seconds: number;
}

const EPHEMERAL = 1 << 6;

const port = parentPort!;
// Late acknowledgements are measured rather than refused.
const fake = await startFakeDiscord({ token: (workerData as { token: string }).token, interactionAckTimeoutMs: 0 });
port.postMessage({ type: 'ready', apiUrl: fake.apiUrl });

let asked = 1_000_000;
port.on('message', async (m: HostRequest) => {
  if (m.type === 'close') {
    await fake.close();
    port.close();
    return;
  }
  const user = (i: number) => String(200000000000000000n + BigInt(i));
  if (m.type === 'ask') {
    const reply = await fake.sendInteraction({ name: 'shakespeare', userId: user(++asked), options: { seed: m.seed, length: m.length } }).waitForResponse((msg) => String(msg.content).includes(m.seed), 60_000);
    port.postMessage({ type: 'reply', text: String(reply.content) });
    return;
  }
  if (m.type === 'soak') {
    port.postMessage({ type: 'result', outcomes: await soak(m.count, m.seconds, m.length, user) });
    return;
  }
  await fake.sendInteraction({ name: 'shakespeare', userId: user(m.count), options: { length: 20 } }).waitForResponse(undefined, 30_000);
  const t0 = performance.now();
  const handles = Array.from({ length: m.count }, (_, i) => fake.sendInteraction({ name: 'shakespeare', userId: user(i), options: { seed: m.seed, length: m.length } }));
  const replies = await Promise.allSettled(handles.map((h) => h.waitForResponse((msg) => String(msg.content).includes(m.seed), 120_000)));
  const times: BurstTimes = {
    acks: handles.map((h) => h.callbacks[0]?.sinceDispatchMs ?? Infinity),
    finals: handles.map((h) => h.edits[h.edits.length - 1]?.sinceDispatchMs ?? Infinity),
    seconds: (performance.now() - t0) / 1000,
    answered: replies.filter((r) => r.status === 'fulfilled').length,
  };
  port.postMessage({ type: 'result', times });
});

/** Sends `count` interactions at an even pace over `seconds` and sorts out how each one ended. */
async function soak(count: number, seconds: number, length: number, user: (i: number) => string): Promise<SoakOutcomes> {
  const t0 = performance.now();
  const ended: Promise<{ text: string; ephemeral: boolean } | undefined>[] = [];
  const handles = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * seconds * 1000) / count;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const h = fake.sendInteraction({ name: 'shakespeare', userId: user(i), options: { seed: 'ROMEO:', length } });
    handles.push(h);
    const first = Promise.race([
      h.waitForResponse(undefined, 120_000),
      h.waitForFollowUp(undefined, 120_000).then((r) => r.message!),
    ]);
    ended.push(first.then((msg) => ({ text: String(msg.content), ephemeral: (Number(msg.flags) & EPHEMERAL) !== 0 })).catch(() => undefined));
  }
  const results = await Promise.all(ended);
  const outcomes: SoakOutcomes = { answered: 0, refused: {}, unanswered: 0, lateAcks: 0, seconds: (performance.now() - t0) / 1000 };
  for (const r of results) {
    if (!r) outcomes.unanswered++;
    else if (!r.ephemeral && r.text.startsWith('```')) outcomes.answered++;
    else outcomes.refused[r.text] = (outcomes.refused[r.text] ?? 0) + 1;
  }
  outcomes.lateAcks = handles.filter((h) => (h.callbacks[0]?.sinceDispatchMs ?? Infinity) > 3000).length;
  return outcomes;
}
