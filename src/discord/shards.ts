// Sharding (SHARD_COUNT): discord.js's ShardingManager runs each gateway shard
// in a child process of its own, and those processes serve the interactions
// (src/main.ts in shard mode, joined to the manager with joinShardManager).
//
// The manager process owns the schedule and the trainer. It is the one
// process that lives as long as the bot: discord.js respawns a shard that
// dies, and a respawned shard 0 would take a running retrain down with it.
// Every shard already has an IPC channel to it (ShardingManager's), so shards
// forward /retrain start, status and cancel to it, and after a publish or a
// rollback it has every shard serve the registry's pointer before answering
// (the pointer watch, MODEL_WATCH_SECONDS, stays the fallback). A rollback
// runs in the shard that got the command, whose own pool proves the version
// loads (and reverts it otherwise), exactly as in one process; the manager
// then brings the other shards along. The manager has no generation pool.
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { REST, Routes, ShardingManager, type RESTGetAPIGatewayBotResult, type Shard } from 'discord.js';
import type { App } from '../app/wiring.js';
import { retrainController, startRetrainSchedule } from '../app/wiring.js';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { ModelRegistry } from '../registry/registry.js';
import { execArgvFor, moduleUrl } from '../runtime/entry.js';
import type { RetrainScheduler } from '../scheduler/scheduler.js';
import { lockedBy, RetrainBusyError, runningMessage, type RetrainController, type RetrainStatus, type Retrainer, type StartRequest } from '../training/controller.js';
import type { RunInfo, RunOutcome } from '../training/run-records.js';
import { reportRetrainOutcomes } from './reports.js';

/** What every shard process runs: the bot's own entry, which sees SHARDING_MANAGER in its environment. */
const SHARD_ENTRY = moduleUrl('../main.js', import.meta.url);
/** How long a shard gets from spawn to READY; loading TensorFlow.js and the model comes first. */
const SHARD_READY_MS = 180_000;
/** Bounds on a call across the IPC channel; a cancel may wait for a publish in progress. */
const CALL_MS = 15_000;
const CANCEL_MS = 120_000;
const SYNC_MS = 60_000;

type Call =
  | { bardbot: 'call'; id: number; op: 'retrain.start'; req: StartRequest }
  | { bardbot: 'call'; id: number; op: 'retrain.status' }
  | { bardbot: 'call'; id: number; op: 'retrain.cancel'; by?: string }
  /** A shard rolled back to `version`: the others are to serve it too. */
  | { bardbot: 'call'; id: number; op: 'served'; version: string }
  /** To a shard: serve the registry's pointer now. */
  | { bardbot: 'call'; id: number; op: 'sync' };
type Message =
  | Call
  | { bardbot: 'reply'; id: number; value?: unknown; error?: { name: string; message: string } }
  /** The outcome of the run that the call `id` (a retrain.start) started. */
  | { bardbot: 'done'; id: number; outcome: RunOutcome }
  /** The manager's running retrain, so a shard refuses a second start at once, as the controller does. */
  | { bardbot: 'running'; run?: RunInfo };
type CallBody = Call extends infer C ? (C extends Call ? Omit<C, 'bardbot' | 'id'> : never) : never;

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && typeof (m as { bardbot?: unknown }).bardbot === 'string';

/** The shard this process serves, when discord.js's ShardingManager started it (it sets these variables). */
export function managedShard(env: NodeJS.ProcessEnv = process.env): { id: number; count: number } | undefined {
  if (env.SHARDING_MANAGER !== 'true') return undefined;
  return { id: Number(env.SHARDS), count: Number(env.SHARD_COUNT) };
}

/** Calls across one IPC channel: ids, a bounded wait each, errors carried by name and message. */
class Calls {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  call(send: (m: Message) => Promise<unknown>, body: CallBody, timeoutMs: number): { id: number; reply: Promise<unknown> } {
    const id = ++this.next;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => this.settle({ bardbot: 'reply', id, error: { name: 'Error', message: `no answer to ${body.op} within ${timeoutMs} ms` } }), timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    send({ ...body, bardbot: 'call', id } as Call).catch((err: Error) => this.settle({ bardbot: 'reply', id, error: { name: 'Error', message: `could not send ${body.op}: ${err.message}` } }));
    return { id, reply };
  }

  settle(m: Extract<Message, { bardbot: 'reply' }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (!m.error) return p.resolve(m.value);
    p.reject(m.error.name === 'RetrainBusyError' ? new RetrainBusyError(m.error.message) : new Error(m.error.message));
  }
}

/** Runs `call` with `handlers` and sends the reply (or the error) back. */
async function answer(call: Call, handlers: Partial<{ [Op in Call['op']]: (c: Extract<Call, { op: Op }>) => Promise<unknown> }>, send: (m: Message) => Promise<unknown>): Promise<void> {
  let reply: Message;
  try {
    const handler = handlers[call.op] as ((c: Call) => Promise<unknown>) | undefined;
    if (!handler) throw new Error(`unknown call ${call.op}`);
    reply = { bardbot: 'reply', id: call.id, value: await handler(call) };
  } catch (err) {
    reply = { bardbot: 'reply', id: call.id, error: { name: (err as Error).name, message: (err as Error).message } };
  }
  await send(reply).catch((err: unknown) => log.warn({ err, op: call.op }, 'could not answer over the shard IPC channel'));
}

/** Discord's recommended shard count, from the configured API (discord.js's own 'auto' always asks discord.com). */
async function recommendedShardCount(config: Config & { DISCORD_TOKEN: string }): Promise<number> {
  const rest = new REST({ api: config.DISCORD_API_URL }).setToken(config.DISCORD_TOKEN);
  const { shards } = (await rest.get(Routes.gatewayBot())) as RESTGetAPIGatewayBotResult;
  return shards;
}

/** The manager process: spawns the shards, runs the trainer and the schedule, answers the shards. */
export class ShardedBot {
  private manager: ShardingManager | undefined;
  private scheduler: RetrainScheduler | undefined;
  private readonly calls = new Calls();
  private readonly retrain: RetrainController;
  private running: RunInfo | undefined;

  constructor(private readonly config: Config & { DISCORD_TOKEN: string; SHARD_COUNT: number | 'auto' }) {
    this.retrain = retrainController(config, new ModelRegistry(config.MODELS_DIR), () => this.syncAll());
    // Every start, the schedule's too, is mirrored to the shards.
    const start = this.retrain.start.bind(this.retrain);
    this.retrain.start = (req) => {
      const done = start(req);
      void this.retrain.status().then(({ running }) => {
        this.running = running;
        this.broadcast({ bardbot: 'running', run: running });
      });
      return done;
    };
    this.retrain.on('finished', () => {
      this.running = undefined;
      this.broadcast({ bardbot: 'running' });
    });
  }

  /** Spawns every shard (one at a time, each once the previous one is READY, as Discord's identify limit asks), then starts the schedule. */
  async start(): Promise<void> {
    const { config } = this;
    const count = config.SHARD_COUNT === 'auto' ? await recommendedShardCount(config) : config.SHARD_COUNT;
    // Each shard runs a generation pool (one worker per core by default): on one machine the cores are shared out.
    if (config.GEN_WORKERS === undefined) process.env.GEN_WORKERS = String(Math.max(1, Math.floor(availableParallelism() / count)));
    log.info({ shards: count, auto: config.SHARD_COUNT === 'auto', genWorkersPerShard: Number(process.env.GEN_WORKERS) }, `starting ${count} shard(s)`);
    const manager = new ShardingManager(fileURLToPath(SHARD_ENTRY), { totalShards: count, token: config.DISCORD_TOKEN, execArgv: execArgvFor(SHARD_ENTRY), mode: 'process', respawn: true });
    this.manager = manager;
    manager.on('shardCreate', (shard) => {
      const send = (m: Message) => shard.send(m);
      shard.on('message', (m: unknown) => {
        if (!isMessage(m)) return;
        if (m.bardbot === 'reply') this.calls.settle(m);
        else if (m.bardbot === 'call') void answer(m, this.handlers(shard), send);
      });
      shard.on('ready', () => void send({ bardbot: 'running', run: this.running }).catch(() => undefined));
      shard.on('death', (child) => log.warn({ shardId: shard.id, code: 'exitCode' in child ? child.exitCode : undefined }, `shard ${shard.id} exited${manager.respawn ? '; respawning it' : ''}`));
    });
    await manager.spawn({ timeout: SHARD_READY_MS });
    log.info({ shards: count }, 'every shard is connected');
    if (config.RETRAIN_REPORT_CHANNEL_ID) {
      const rest = new REST({ api: config.DISCORD_API_URL }).setToken(config.DISCORD_TOKEN);
      const poster = { post: async (channelId: string, content: string) => void (await rest.post(Routes.channelMessages(channelId), { body: { content, allowed_mentions: { parse: [] } } })) };
      reportRetrainOutcomes(this.retrain, poster, config.RETRAIN_REPORT_CHANNEL_ID, config.MODEL_NAME);
    }
    this.scheduler = await startRetrainSchedule(config, this.retrain);
  }

  /** Stops the schedule, then every shard (each finishes its commands in flight, bounded), then the trainer. */
  async stop(graceMs: number): Promise<void> {
    this.scheduler?.stop();
    const manager = this.manager;
    if (manager) {
      manager.respawn = false;
      await Promise.all([...manager.shards.values()].map((shard) => stopShard(shard, graceMs)));
    }
    await this.retrain.close();
  }

  private handlers(shard: Shard): Parameters<typeof answer>[1] {
    return {
      'retrain.start': async (call) => {
        const done = this.retrain.start(call.req);
        void done.then((outcome) => shard.send({ bardbot: 'done', id: call.id, outcome } satisfies Message)).catch((err: unknown) => log.warn({ err, shardId: shard.id }, 'could not tell the shard how its retrain ended'));
        return (await this.retrain.status()).running;
      },
      'retrain.status': () => this.retrain.status(),
      'retrain.cancel': (call) => this.retrain.cancel(call.by),
      served: async (call) => {
        log.info({ version: call.version, shardId: shard.id }, `shard ${shard.id} serves ${call.version}; syncing the others`);
        return this.syncAll();
      },
    };
  }

  /** Has every live shard serve the registry's pointer; resolves once all have answered (bounded). */
  private async syncAll(): Promise<void> {
    const shards = [...(this.manager?.shards.values() ?? [])].filter((shard) => shard.process?.connected);
    const results = await Promise.allSettled(shards.map((shard) => this.calls.call((m) => shard.send(m), { op: 'sync' }, SYNC_MS).reply));
    results.forEach((r, i) => r.status === 'rejected' && log.error({ err: r.reason as Error, shardId: shards[i]!.id }, 'a shard could not serve the current version (its pointer watch tries again)'));
  }

  private broadcast(m: Message): void {
    for (const shard of this.manager?.shards.values() ?? []) {
      if (shard.process?.connected) shard.send(m).catch((err: unknown) => log.warn({ err, shardId: shard.id }, 'could not message the shard'));
    }
  }
}

/** SIGTERM (the shard finishes what it is running, as one process does), then SIGKILL past the grace. */
async function stopShard(shard: Shard, graceMs: number): Promise<void> {
  const child = shard.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs + 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * In a shard process: /retrain goes to the manager, which owns the trainer;
 * the manager's "serve the pointer now" is answered; a rollback done here is
 * passed on so every shard serves it. Returns a function that leaves.
 */
export function joinShardManager(app: App): () => void {
  if (!process.send) throw new Error('joinShardManager: this process has no IPC channel to a ShardingManager');
  const calls = new Calls();
  const send = (m: Message) => new Promise<void>((resolve, reject) => process.send!(m, undefined, {}, (err) => (err ? reject(err) : resolve())));
  const outcomes = new Map<number, (outcome: RunOutcome) => void>();
  let running: RunInfo | undefined;
  let starting: Promise<unknown> | undefined;

  const onMessage = (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.bardbot === 'reply') calls.settle(m);
    else if (m.bardbot === 'running') running = m.run;
    else if (m.bardbot === 'done') {
      outcomes.get(m.id)?.(m.outcome);
      outcomes.delete(m.id);
    } else if (m.bardbot === 'call') {
      void answer(m, { sync: async () => (await app.sync()).version }, send);
    }
  };
  process.on('message', onMessage);

  const retrain: Retrainer = {
    start(req) {
      // Refused at once, as the controller's own start is: the manager's run (mirrored here), or a
      // trainer of another process (a CLI) holding the lock file the manager's controller also checks.
      if (running) throw new RetrainBusyError(runningMessage(running));
      if (starting) throw new RetrainBusyError('a retrain is being started');
      const locked = lockedBy(app.retrain.lockFile);
      if (locked) throw new RetrainBusyError(locked);
      const { id, reply } = calls.call(send, { op: 'retrain.start', req }, CALL_MS);
      starting = reply
        .then((run) => (running = run as RunInfo | undefined))
        .catch(() => undefined)
        .finally(() => (starting = undefined));
      return new Promise<RunOutcome>((resolve, reject) => {
        outcomes.set(id, resolve);
        reply.catch((err: Error) => {
          outcomes.delete(id);
          reject(err);
        });
      });
    },
    async status() {
      // After a start from here, the status shows that run.
      await starting;
      return (await calls.call(send, { op: 'retrain.status' }, CALL_MS).reply) as RetrainStatus;
    },
    async cancel(by) {
      return (await calls.call(send, { op: 'retrain.cancel', by }, CANCEL_MS).reply) as RunOutcome | undefined;
    },
  };
  app.services.retrain = retrain;

  const models = app.services.models;
  const rollback = models.rollback.bind(models);
  models.rollback = async (version, by) => {
    const result = await rollback(version, by);
    await calls.call(send, { op: 'served', version: result.to }, SYNC_MS).reply.catch((err: unknown) => log.warn({ err }, 'could not have the other shards serve the rollback (their pointer watch will)'));
    return result;
  };
  return () => process.off('message', onMessage);
}
