// Runs the fake Discord in its own worker thread for the burst benchmark, so
// that Discord's side does not share the bot's event loop (or core), and does
// the timing on that side, as Discord would see it.
import { parentPort, workerData } from 'node:worker_threads';
import { startFakeDiscord } from '../tools/fake-discord/server.js';

export type HostRequest = { type: 'burst'; count: number; length: number; seed: string } | { type: 'ask'; seed: string; length: number } | { type: 'close' };
export interface BurstTimes {
  acks: number[];
  finals: number[];
  seconds: number;
  answered: number;
}

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
