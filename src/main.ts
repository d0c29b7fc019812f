// `npm start`: process concerns only. Validates the configuration, starts the
// application (src/app/wiring.ts), and runs the Discord adapter, or console
// mode when DISCORD_TOKEN is not set. With SHARD_COUNT this process is the
// shard manager (src/discord/shards.ts: the trainer and the schedule, no
// generation) and each shard process runs this file again, in shard mode.
// SIGINT/SIGTERM stop taking commands, let those running finish (bounded) and
// exit 0; a failed login exits 1.
import { startApp } from './app/wiring.js';
import { loadConfigOrExit } from './config.js';
import { runConsole } from './console/repl.js';
import { Bot } from './discord/bot.js';
import { joinShardManager, managedShard, ShardedBot } from './discord/shards.js';
import { httpPort, startService } from './http/service.js';
import { startCluster } from './shared/cluster.js';
import { reportRetrainOutcomes } from './discord/reports.js';
import { log, setLogLevel } from './log.js';
import { mallocTuning } from './runtime/malloc.js';

const loaded = loadConfigOrExit();
setLogLevel(loaded.LOG_LEVEL);
/** Set in a shard process (spawned by the manager). */
const shard = managedShard();
const manager = loaded.SHARD_COUNT !== undefined && !shard;
if (shard) log.setBindings({ shard: shard.id });
if (manager) log.setBindings({ shard: 'manager' });
// Shards on one machine cannot share a port: shard i listens on HTTP_PORT + i (0 stays "any free port").
const config = shard && loaded.HTTP_PORT ? { ...loaded, HTTP_PORT: loaded.HTTP_PORT + shard.id } : loaded;

const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
/** What shutdown() stops, in reverse order of start, filled in as start-up gets that far. */
const stops: ((graceMs: number) => Promise<void>)[] = [];
let stopping: Promise<void> | undefined;

function shutdown(code: number, reason: string): Promise<void> {
  stopping ??= (async () => {
    log.info({ reason }, 'shutting down');
    // Whatever hangs, the process still ends.
    setTimeout(() => process.exit(code), graceMs + 5000).unref();
    try {
      for (const stop of [...stops].reverse()) await stop(graceMs);
    } catch (err) {
      log.error({ err }, 'error while shutting down');
    }
    process.exit(code);
  })();
  return stopping;
}
process.once('SIGINT', () => void shutdown(0, 'SIGINT'));
process.once('SIGTERM', () => void shutdown(0, 'SIGTERM'));
process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
// Also reached when start-up itself fails (a rejected top-level await).
process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'uncaught exception; shutting down');
  void shutdown(1, 'uncaught exception');
});

if (manager) await manage();
else await serve();

/** The shard manager: spawns the shards; owns the trainer and the schedule. */
async function manage(): Promise<void> {
  const bot = new ShardedBot({ ...config, DISCORD_TOKEN: config.DISCORD_TOKEN!, SHARD_COUNT: config.SHARD_COUNT! });
  stops.push((ms) => bot.stop(ms));
  try {
    await bot.start();
  } catch (err) {
    const rejected = (err as { status?: unknown }).status === 401;
    log.fatal({ err, api: config.DISCORD_API_URL }, rejected ? 'Discord rejected DISCORD_TOKEN: check the bot token (Developer Portal → your application → Bot)' : `could not start the shards: ${(err as Error).message}`);
    await shutdown(1, 'shards failed to start');
  }
}

/** One process serving interactions: the whole bot, or one shard of it. */
async function serve(): Promise<void> {
  const app = await startApp(config);
  stops.push((ms) => app.close(ms));
  // Replicas share cooldowns, the retrain lock and version announcements through Redis.
  const cluster = config.REDIS_URL ? await startCluster(config.REDIS_URL, app, config.MODEL_NAME) : undefined;
  // Stopped last, after the trainer: a run's cluster lock is released once it has ended.
  if (cluster) stops.unshift(() => cluster.close());
  const dispatcher = app.dispatcher(undefined, cluster?.shared.cooldowns(config.COOLDOWN_SECONDS));
  if (shard) {
    // /retrain and rollbacks reach the manager, which owns the trainer; without it there is nothing to serve for.
    const leave = joinShardManager(app);
    stops.push(async () => leave());
    process.once('disconnect', () => void shutdown(0, 'the shard manager is gone'));
  }
  const { generator } = app.services;
  const version = generator.serving()?.version;
  const malloc = mallocTuning();
  log.info(
    { backend: generator.backend, model: config.MODEL_NAME, version: version ?? null, malloc: { mmapThreshold: malloc.mmapThreshold ?? null, trimThreshold: malloc.trimThreshold ?? null } },
    `tfjs backend: ${generator.backend}; serving ${config.MODEL_NAME} ${version ?? '(no version yet)'}`,
  );
  if (malloc.glibc && (malloc.mmapThreshold === undefined || malloc.trimThreshold === undefined)) {
    log.warn('MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ is not set: glibc keeps freed model buffers, and RSS grows about 20 % over hot-swaps; start the bot with npm start or scripts/launch.sh, which set them');
  }

  if (config.DISCORD_MODE === 'http') {
    // Discord POSTs interactions to the HTTP server; no gateway connection.
    const service = await startService({ config, app, dispatcher, firstSeen: cluster?.shared.firstSeen, degraded: cluster?.shared.unavailable });
    stops.push((ms) => service.stop(ms));
    await app.startSchedule();
  } else if (!config.DISCORD_TOKEN) {
    log.warn('DISCORD_TOKEN is not set: running in console mode');
    // One person typing, one command at a time: no cooldown.
    await runConsole({ dispatcher: app.dispatcher(0), input: process.stdin, output: process.stdout });
    await shutdown(0, 'end of input');
  } else {
    const bot = new Bot({ config: { ...config, DISCORD_TOKEN: config.DISCORD_TOKEN }, dispatcher });
    stops.push((ms) => bot.stop(ms));
    if (httpPort(config) !== undefined) {
      const service = await startService({ config, app, dispatcher, gateway: bot.client });
      stops.push((ms) => service.stop(ms));
    }
    try {
      await bot.start();
    } catch (err) {
      const rejected = (err as { code?: unknown }).code === 'TokenInvalid';
      log.fatal(
        { err, api: config.DISCORD_API_URL },
        rejected
          ? 'Discord rejected DISCORD_TOKEN: check the bot token (Developer Portal → your application → Bot)'
          : `could not connect to Discord at ${config.DISCORD_API_URL}: ${(err as Error).message}`,
      );
      await shutdown(1, 'login failed');
    }
    // A shard leaves reports and the schedule to the manager.
    if (shard) return;
    if (config.RETRAIN_REPORT_CHANNEL_ID) reportRetrainOutcomes(app.retrain, bot, config.RETRAIN_REPORT_CHANNEL_ID, config.MODEL_NAME);
    await app.startSchedule();
  }
}
