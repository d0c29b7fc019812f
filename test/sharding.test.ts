// Sharding for real: the bot (`tsx src/main.ts`, as `npm start` runs it) with
// SHARD_COUNT as a discord.js ShardingManager with two shard processes, each
// logged into the fake Discord with IDENTIFY shard [i, 2]; the fake routes each
// guild's interactions to its shard. The manager owns the trainer and the
// schedule; /retrain and /model rollback from either shard reach it, and both
// shards serve the new version without a restart. Tiny model, bounded waits.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guildOnShard, startFakeDiscord, type FakeDiscord, type InteractionHandle } from '../tools/fake-discord/server.js';
import { startBot, type BotProcess } from './helpers/bot-process.js';
import { publishTinyModel } from './helpers/tiny-model.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'bardbot-sharding-test-token';
const ADMIN = { memberPermissions: String(1 << 5) }; // Manage Server
/** One guild on each of two shards: (id >> 22) % 2 is 0 and 1. */
const GUILDS = [guildOnShard(0, 2), guildOnShard(1, 2)] as const;

type LogLine = { msg: string; shard?: number | 'manager'; time: number; port?: number; trigger?: string; /** The logging process (pino's first `pid`; a line may name another, e.g. the trainer's). */ process: number };
const lines = (bot: BotProcess): LogLine[] =>
  bot
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => ({ ...(JSON.parse(l) as LogLine), process: Number(/"pid":(\d+)/.exec(l)?.[1]) }));

let root: string;
let nextUser = 400_000_000_000_000_000n;
const user = () => String(nextUser++);

/** A registry with one tiny version and a few KB of corpus (a retrain then takes seconds); the bot's env for it. */
async function layout(dir: string): Promise<Record<string, string>> {
  await publishTinyModel(path.join(dir, 'models'), { epochs: 1 });
  const data = path.join(dir, 'data', 'shakespeare');
  await mkdir(data, { recursive: true });
  await writeFile(path.join(data, 'corpus.txt'), (await readFile(path.resolve('data/shakespeare/tinyshakespeare.txt'), 'utf8')).slice(0, 8000));
  return { MODELS_DIR: path.join(dir, 'models'), DATA_DIR: path.join(dir, 'data'), RUNS_DIR: path.join(dir, 'runs') };
}

const fakeWithTwoGuilds = () =>
  startFakeDiscord({ token: TOKEN, guildId: GUILDS[0], guilds: [{ id: GUILDS[1], name: 'Rose Theatre' }], recommendedShards: 2, heartbeatIntervalMs: 5000, defaultWaitMs: 30_000 });

/** Which shards the fake dispatched interaction `h` on. */
const routed = (fake: FakeDiscord, h: InteractionHandle) => fake.gatewayEvents.filter((e) => e.kind === 'interaction' && e.data?.id === h.id).map((e) => e.shard);

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'bardbot-shards-'));
}, 10_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('SHARD_COUNT=2: a ShardingManager with two shard processes', () => {
  let fake: FakeDiscord;
  let bot: BotProcess;
  /** Each shard's HTTP port (HTTP_PORT=0: any free port each). */
  const ports: number[] = [];
  const metrics = async (shard: number) => (await fetch(`http://127.0.0.1:${ports[shard]}/metrics`)).text();
  const served = async (shard: number) => /bardbot_model_info\{model="shakespeare",version="(v\d+)"\} 1/.exec(await metrics(shard))?.[1];
  const shakespeare = (guild: number) => fake.sendInteraction({ name: 'shakespeare', guildId: GUILDS[guild], userId: user(), options: { seed: 'ROMEO:', length: 20 } });
  const signature = async (h: InteractionHandle) => /— shakespeare (v\d+)/.exec(String((await h.waitForResponse((m) => /— shakespeare v\d+/.test(String(m.content)), 60_000)).content))?.[1];

  beforeAll(async () => {
    const env = await layout(path.join(root, 'two'));
    fake = await fakeWithTwoGuilds();
    bot = startBot({
      ...env,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: fake.apiUrl,
      SHARD_COUNT: '2',
      HTTP_PORT: '0',
      COOLDOWN_SECONDS: '0',
      // The pointer watch is all but off: serving a new version must come from the manager.
      MODEL_WATCH_SECONDS: '3600',
      RETRAIN_EPOCHS: '1',
      RETRAIN_MAX_MINUTES: '0.5',
      RETRAIN_TOLERANCE: '100',
    });
    await waitFor(() => lines(bot).some((l) => l.msg === 'every shard is connected') || bot.child.exitCode !== null, 200_000, `both shards to connect; output:\n${bot.output()}`);
    expect(bot.child.exitCode).toBeNull();
    // A shard's own lines come through its stdout, which may trail the manager's word over IPC.
    const shardsLogged = () => {
      for (const l of lines(bot)) if (l.msg === 'HTTP server listening' && typeof l.shard === 'number') ports[l.shard] = l.port!;
      return ports.length === 2 && ports.every(Boolean) && lines(bot).filter((l) => l.msg === 'connected to Discord').length === 2;
    };
    await waitFor(shardsLogged, 10_000, `both shards' HTTP servers and connections; output:\n${bot.output()}`);
  }, 240_000);

  afterAll(async () => {
    const code = await bot?.stop(30_000);
    await fake?.close();
    if (process.env.SHARDING_LOGS) await writeFile(process.env.SHARDING_LOGS, bot.output());
    expect(code).toBe(0);
  }, 60_000);

  it('identifies the two shards as [0, 2] and [1, 2], each with its own guild; shard 0 alone registers the commands', async () => {
    const identifies = fake.gatewayEvents.filter((e) => e.kind === 'identify');
    expect(identifies.map((e) => e.data?.shard).sort()).toEqual([[0, 2], [1, 2]]);
    expect(fake.liveGatewayConnections).toBe(2);
    const connected = lines(bot).filter((l) => l.msg === 'connected to Discord');
    expect(connected.map((l) => [l.shard, (l as { guilds?: number }).guilds]).sort()).toEqual([[0, 1], [1, 1]]);
    // Three processes: the manager and one per shard.
    expect(new Set(lines(bot).map((l) => l.process)).size).toBeGreaterThanOrEqual(3);
    await expect.poll(() => fake.commands().map((c) => c.name), { timeout: 10_000 }).toContain('shakespeare');
    expect(fake.commandWriteLog.length).toBe(1);
  });

  it("answers a /shakespeare in each guild from that guild's shard", async () => {
    const handles = [shakespeare(0), shakespeare(1)];
    expect(await Promise.all(handles.map(signature))).toEqual(['v1', 'v1']);
    expect(handles.map((h) => routed(fake, h))).toEqual([[[0, 2]], [[1, 2]]]);
    // Each shard process answered the one its connection received.
    const answered = async (shard: number) => Number(/bardbot_interactions_total\{command="shakespeare",outcome="answered"\} (\d+)/.exec(await metrics(shard))?.[1] ?? 0);
    expect([await answered(0), await answered(1)]).toEqual([1, 1]);
  });

  it('runs one retrain in the manager for a /retrain start from a shard, shows it from the other, and both shards serve the new version', async () => {
    const started = fake.sendInteraction({ name: 'retrain', subcommand: 'start', guildId: GUILDS[1], userId: user(), ...ADMIN });
    const reply = String((await started.waitForResponse((m) => /Retraining shakespeare/.test(String(m.content)), 30_000)).content);
    const runId = /\(run ([0-9a-f]+)/.exec(reply)?.[1];
    expect(runId).toBeDefined();
    // From the other shard: a second start is refused, and the status shows the same run.
    const again = fake.sendInteraction({ name: 'retrain', subcommand: 'start', guildId: GUILDS[0], userId: user(), ...ADMIN });
    expect(String((await again.waitForResponse(undefined, 30_000)).content)).toMatch(/Not started: a retrain is already running \(admin/);
    const status = fake.sendInteraction({ name: 'retrain', subcommand: 'status', guildId: GUILDS[0], userId: user(), ...ADMIN });
    expect(String((await status.waitForResponse(undefined, 30_000)).content)).toContain(`(run ${runId}`);
    expect(routed(fake, status)).toEqual([[0, 2]]);

    const outcome = await started.waitForFollowUp((f) => /Retrain [0-9a-f]+ (published|rejected|failed)/.test(String(f.body.content)), 170_000);
    expect(String(outcome.body.content)).toContain(`Retrain ${runId} published shakespeare v2, now serving`);
    // The outcome comes once every shard serves it (the pointer watch is off).
    expect([await served(0), await served(1)]).toEqual(['v2', 'v2']);
    expect(await Promise.all([shakespeare(0), shakespeare(1)].map(signature))).toEqual(['v2', 'v2']);

    const runs = lines(bot).filter((l) => l.msg === 'retrain started');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.shard).toBe('manager');
    expect(runs[0]!.process).toBe(bot.child.pid);
    const history = (await readFile(path.join(root, 'two', 'runs', 'shakespeare', 'retrain-history.jsonl'), 'utf8')).trim().split('\n');
    expect(history.map((l) => (JSON.parse(l) as { id: string; outcome: string }).outcome)).toEqual(['published']);
  }, 180_000);

  it('serves a /model rollback from one shard on both, without a restart', async () => {
    const rollback = fake.sendInteraction({ name: 'model', subcommand: 'rollback', guildId: GUILDS[1], userId: user(), options: { version: 'v1' }, ...ADMIN });
    expect(String((await rollback.waitForResponse((m) => /v1/.test(String(m.content)), 60_000)).content)).toMatch(/v1/);
    await waitFor(async () => (await served(0)) === 'v1' && (await served(1)) === 'v1', 10_000, 'both shards to serve v1');
    expect(await Promise.all([shakespeare(0), shakespeare(1)].map(signature))).toEqual(['v1', 'v1']);
    const pids = new Set(lines(bot).filter((l) => l.msg === 'connected to Discord').map((l) => l.process));
    expect(pids.size).toBe(2);
  });
});

describe('SHARD_COUNT=auto with the schedule on', () => {
  it("spawns Discord's recommended shard count and runs each scheduled tick in the manager alone", async () => {
    const env = await layout(path.join(root, 'auto'));
    const fake = await fakeWithTwoGuilds();
    const bot = startBot({
      ...env,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: fake.apiUrl,
      SHARD_COUNT: 'auto',
      RETRAIN_ENABLED: 'true',
      // A tick every 10 s; each one either starts a run or is skipped while one runs.
      RETRAIN_CRON: '*/10 * * * * *',
      RETRAIN_EPOCHS: '1',
      RETRAIN_MAX_MINUTES: '0.5',
    });
    try {
      const ticks = () => lines(bot).filter((l) => (l.msg === 'retrain started' && l.trigger === 'schedule') || /^schedule retrain skipped/.test(l.msg));
      await waitFor(() => ticks().length >= 2 || bot.child.exitCode !== null, 170_000, `two scheduled ticks; output:\n${bot.output()}`);
      expect(fake.gatewayEvents.filter((e) => e.kind === 'identify').map((e) => e.data?.shard).sort()).toEqual([[0, 2], [1, 2]]);
      expect(lines(bot).filter((l) => l.msg === 'retrain schedule started').map((l) => l.shard)).toEqual(['manager']);
      // One line per tick, from the manager: no shard ticks as well.
      const byTick = new Map<number, [LogLine['shard'], number][]>();
      for (const l of ticks()) byTick.set(Math.round(l.time / 10_000), [...(byTick.get(Math.round(l.time / 10_000)) ?? []), [l.shard, l.process]]);
      for (const same of byTick.values()) expect(same).toEqual([['manager', bot.child.pid]]);
    } finally {
      expect(await bot.stop(30_000)).toBe(0);
      await fake.close();
    }
  }, 180_000);
});

describe('SHARD_COUNT unset', () => {
  it('is one process with one unsharded connection that gets every guild, as before', async () => {
    const env = await layout(path.join(root, 'one'));
    const fake = await fakeWithTwoGuilds();
    const bot = startBot({ ...env, DISCORD_TOKEN: TOKEN, DISCORD_API_URL: fake.apiUrl, COOLDOWN_SECONDS: '0' });
    try {
      await fake.waitForGatewayEvent((e) => e.kind === 'ready', 120_000);
      const identifies = fake.gatewayEvents.filter((e) => e.kind === 'identify');
      expect(identifies).toHaveLength(1);
      expect(identifies[0]!.data?.shard ?? [0, 1]).toEqual([0, 1]);
      await expect.poll(() => fake.commands().map((c) => c.name), { timeout: 30_000 }).toContain('shakespeare');
      const handles = [0, 1].map((g) => fake.sendInteraction({ name: 'shakespeare', guildId: GUILDS[g], userId: user(), options: { length: 20 } }));
      for (const h of handles) expect(String((await h.waitForResponse((m) => /— shakespeare v1/.test(String(m.content)), 60_000)).content)).toContain('— shakespeare v1');
      expect(handles.map((h) => routed(fake, h))).toEqual([[[0, 1]], [[0, 1]]]);
      expect(new Set(lines(bot).map((l) => l.process))).toEqual(new Set([bot.child.pid]));
      expect(lines(bot).some((l) => l.shard !== undefined)).toBe(false);
    } finally {
      expect(await bot.stop(30_000)).toBe(0);
      await fake.close();
    }
  }, 180_000);
});
