// The cluster paths of the scale-out shape that need time or an outage: two
// replicas (`tsx src/main.ts`, HTTP interactions mode) sharing a real
// redis-server and one registry folder, each with its own runs folder (only
// Redis keeps them from retraining at once), the fake Discord signing and
// POSTing straight to each replica. The retrain schedule ticks every 15 s
// with tiny runs that the gate always rejects (RETRAIN_TOLERANCE below any
// loss), so the served version only changes by rollback. Redis is then
// stopped (SIGSTOP: a hung server) and killed and restarted on its port.
// Skipped with one line where redis-server or nginx is missing.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from '../tools/fake-discord/server.js';
import type { RunOutcome } from '../src/training/run-records.js';
import { startBot, type BotProcess } from './helpers/bot-process.js';
import { logLines, replicaEnv, replicaLayout, servedVersion, type ReplicaLayout } from './helpers/replicas.js';
import { missing, startRedis, type Service } from './helpers/services.js';
import { publishTinyModel } from './helpers/tiny-model.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'bardbot-scale-out-redis-token';
const ADMIN = { memberPermissions: String(1 << 5) }; // Manage Server
const TICK_SECONDS = 15;
const absent = missing();
if (absent.length) console.log(`scale-out Redis test skipped: ${absent.join(' and ')} not installed (.ci/run installs them with apt-get)`);

let layout: ReplicaLayout;
let fake: FakeDiscord;
let redis: Service;
const replicas: BotProcess[] = [];
const ports: number[] = [];
const runsDirs = ['runs-a', 'runs-b'];
let nextUser = 310_000_000_000_000_000n;
const user = () => String(nextUser++);
const at = (i: number) => `http://127.0.0.1:${ports[i]}/interactions`;
const content = (d: { response?: { data?: unknown } }) => String((d.response?.data as { content?: string } | undefined)?.content);
const readyz = async (i: number) => {
  const res = await fetch(`http://127.0.0.1:${ports[i]}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; degraded?: string } };
};
/** Every run either replica recorded (retrain-history.jsonl in its runs folder). */
const runs = async () =>
  (
    await Promise.all(
      runsDirs.map(async (dir, replica) => {
        const text = await readFile(path.join(layout.root, dir, 'shakespeare', 'retrain-history.jsonl'), 'utf8').catch(() => '');
        return text.split('\n').filter(Boolean).map((l) => ({ ...(JSON.parse(l) as RunOutcome), replica }));
      }),
    )
  ).flat();

describe.skipIf(absent.length > 0)('two HTTP replicas sharing Redis: the scheduled retrain and a Redis outage', () => {
  beforeAll(async () => {
    layout = await replicaLayout('bardbot-scale-redis-');
    // v1 then v2 (current): the outage test rolls back to v1.
    await publishTinyModel(layout.models, { epochs: 1 });
    await publishTinyModel(layout.models, { epochs: 1, seed: 7 });
    [redis, fake] = await Promise.all([startRedis(), startFakeDiscord({ token: TOKEN, interactionAckTimeoutMs: 3000, defaultWaitMs: 30_000 })]);
    const env = {
      ...replicaEnv(layout, fake, TOKEN, redis.port),
      COOLDOWN_SECONDS: '60',
      // Only pub/sub can make a replica follow a rollback within the test.
      MODEL_WATCH_SECONDS: '3600',
      RETRAIN_ENABLED: 'true',
      RETRAIN_CRON: `*/${TICK_SECONDS} * * * * *`,
      RETRAIN_EPOCHS: '1',
      RETRAIN_MAX_MINUTES: '0.5',
      RETRAIN_TOLERANCE: '-1000',
    };
    replicas.push(...runsDirs.map((dir) => startBot({ ...env, RUNS_DIR: path.join(layout.root, dir) })));
    await Promise.all(replicas.map((r) => r.ready(90_000)));
    ports.push(...(await Promise.all(replicas.map((r) => r.port()))));
  }, 150_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    if (process.env.SCALE_OUT_LOGS) await Promise.all(replicas.map((r, i) => writeFile(`${process.env.SCALE_OUT_LOGS}-redis-${i}.log`, r.output())));
    await Promise.all([redis?.stop(), fake?.close()]);
    if (layout) await rm(layout.root, { recursive: true, force: true });
  });

  it('starts each scheduled tick on one replica, the other logging that it skipped; runs never overlap', async () => {
    // Trainers run at nice 19: with another suite on both cores they get a sliver of CPU.
    await waitFor(async () => (await runs()).filter((r) => r.trigger === 'schedule').length >= 2, 420_000, 'two scheduled runs to finish', 500);
    // Ticks, by the scheduled second they belong to: which replica started, which skipped.
    const ticks = new Map<number, { started: number[]; skipped: number[] }>();
    replicas.forEach((r, replica) => {
      for (const line of logLines(r.output())) {
        const started = line.msg === 'retrain started' && line.trigger === 'schedule';
        const skipped = String(line.msg).startsWith('schedule retrain skipped');
        if (!started && !skipped) continue;
        const tick = Math.floor((line.time as number) / (TICK_SECONDS * 1000));
        const entry = ticks.get(tick) ?? { started: [], skipped: [] };
        (started ? entry.started : entry.skipped).push(replica);
        ticks.set(tick, entry);
      }
    });
    const withRun = [...ticks.values()].filter((t) => t.started.length > 0);
    console.log(`scheduled ticks: ${[...ticks.values()].map((t) => `started ${t.started.join(',') || '-'} skipped ${t.skipped.join(',') || '-'}`).join('; ')}`);
    expect(withRun.length).toBeGreaterThanOrEqual(2);
    for (const tick of withRun) {
      expect(tick.started).toHaveLength(1);
      expect(tick.skipped).toEqual([1 - tick.started[0]!]);
    }
    const recorded = (await runs()).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    // No loser forked a trainer only to cancel it, and each run began after the one before had finished.
    expect(recorded.filter((r) => r.outcome === 'cancelled' || r.outcome === 'failed')).toEqual([]);
    for (let i = 1; i < recorded.length; i++) expect(Date.parse(recorded[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(recorded[i - 1]!.finishedAt));
  }, 480_000);

  it('bounds every Redis call when Redis stops answering (SIGSTOP): answers go on, /readyz notes it, /retrain start is refused', async () => {
    process.kill(redis.pid!, 'SIGSTOP');
    try {
      // The socket stays open and nothing answers: only the command timeout frees the callers.
      const during = await Promise.all([0, 1].map((i) => fake.deliverInteraction(at(i), { name: 'shakespeare', options: { seed: 'ROMEO:', length: 20 }, userId: user() })));
      for (const d of during) {
        expect(d.response?.type).toBe(5);
        expect(d.ackMs).toBeLessThan(3000);
      }
      await Promise.all(during.map((d) => d.handle.waitForResponse((m) => String(m.content).startsWith('```\nROMEO:'), 30_000)));
      for (const i of [0, 1]) await waitFor(async () => /not answering/.test((await readyz(i)).body.degraded ?? ''), 15_000, `replica ${i} /readyz to note that Redis is not answering`, 200);
      expect((await readyz(0)).status).toBe(200);
      const start = await fake.deliverInteraction(at(1), { name: 'retrain', subcommand: 'start', userId: user(), ...ADMIN });
      expect(content(start)).toMatch(/Not started: the cluster-wide retrain lock cannot be taken: Redis is not answering/);
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
    for (const i of [0, 1]) await waitFor(async () => (await readyz(i)).body.degraded === undefined, 15_000, `replica ${i} /readyz to be clean again`, 200);
  }, 120_000);

  it('keeps answering through a Redis outage with local cooldowns, refuses /retrain start, and shares state again once Redis is back', async () => {
    await redis.stop();
    for (const i of [0, 1]) await waitFor(async () => (await readyz(i)).body.degraded !== undefined, 15_000, `replica ${i} /readyz to report the outage`, 200);
    // Ready stays 200 (serving works), with the degraded shared state named.
    for (const i of [0, 1]) expect(await readyz(i)).toMatchObject({ status: 200, body: { status: 'ready', degraded: expect.stringMatching(/Redis/) as unknown } });

    // /shakespeare is acknowledged and answered on both replicas; a user's cooldown holds on the replica that served them.
    const during = await Promise.all([0, 1].map((i) => fake.deliverInteraction(at(i), { name: 'shakespeare', options: { seed: 'ROMEO:', length: 20 }, userId: user() })));
    for (const d of during) {
      expect(d.status).toBe(200);
      expect(d.response?.type).toBe(5);
      expect(d.ackMs).toBeLessThan(3000);
    }
    await Promise.all(during.map((d) => d.handle.waitForResponse((m) => String(m.content).startsWith('```\nROMEO:'), 30_000)));
    const id = user();
    expect((await fake.deliverInteraction(at(0), { name: 'shakespeare', options: { length: 20 }, userId: id })).response?.type).toBe(5);
    const again = await fake.deliverInteraction(at(0), { name: 'shakespeare', options: { length: 20 }, userId: id });
    expect(again.response?.type).toBe(4);
    expect(content(again)).toMatch(/try again in \d+ s/);

    // The lock fails closed: no run that could overlap another replica's.
    const start = await fake.deliverInteraction(at(0), { name: 'retrain', subcommand: 'start', userId: user(), ...ADMIN });
    expect(content(start)).toMatch(/Not started: the cluster-wide retrain lock cannot be taken: Redis is unreachable/);

    // Back on the same port, empty (no persistence), as after a restart.
    redis = await startRedis(redis.port);
    for (const i of [0, 1]) await waitFor(async () => (await readyz(i)).body.degraded === undefined, 20_000, `replica ${i} /readyz to be clean again`, 200);
    const probe = new Redis(`redis://127.0.0.1:${redis.port}`, { lazyConnect: true, commandTimeout: 2000 });
    try {
      await probe.connect();
      // Both replicas' version subscribers are back (ioredis resubscribes on reconnect).
      await waitFor(async () => Number(((await probe.pubsub('NUMSUB', 'bardbot:shakespeare:version')) as [string, number])[1]) >= 2, 20_000, 'both replicas to resubscribe', 200);
    } finally {
      probe.disconnect();
    }

    // Shared cooldowns again: first on A, refused on B.
    const shared = user();
    expect((await fake.deliverInteraction(at(0), { name: 'shakespeare', options: { length: 20 }, userId: shared })).response?.type).toBe(5);
    const onB = await fake.deliverInteraction(at(1), { name: 'shakespeare', options: { length: 20 }, userId: shared });
    expect(onB.response?.type).toBe(4);
    expect(content(onB)).toMatch(/try again in \d+ s/);

    // Version announcements again: a rollback through B is served by A (the pointer poll is an hour away).
    expect(await servedVersion(ports[0]!)).toBe('v2');
    const rolled = await fake.deliverInteraction(at(1), { name: 'model', subcommand: 'rollback', options: { version: 'v1' }, userId: user(), ...ADMIN });
    await rolled.handle.waitForResponse(undefined, 30_000);
    const t0 = performance.now();
    await waitFor(async () => (await servedVersion(ports[0]!)) === 'v1', 3000, 'replica A to serve v1 after the rollback through B', 20);
    console.log(`after the outage: rollback through B served by A ${(performance.now() - t0).toFixed(0)} ms after B answered`);
  }, 180_000);
});
