// `npm start`: validates the configuration, starts the generation service, and
// runs the Discord bot, or console mode when DISCORD_TOKEN is not set.
// SIGINT/SIGTERM stop taking commands, let those running finish (bounded) and
// exit 0; a failed login exits 1.
import { loadConfigOrExit } from './config.js';

const config = loadConfigOrExit();
// Everything else is imported after validation: src/log.ts reads LOG_LEVEL when it loads.
const [{ log }, { loadCommands }, { startServices }, { Cooldowns }] = await Promise.all([
  import('./log.js'),
  import('./discord/commands.js'),
  import('./discord/services.js'),
  import('./discord/cooldowns.js'),
]);

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

const commands = await loadCommands();
const running = await startServices(config);
stops.push((ms) => running.close(ms));
const serving = running.services.generator.current();
log.info(
  { backend: running.services.generator.backend, model: config.MODEL_NAME, version: serving?.version ?? null },
  `tfjs backend: ${running.services.generator.backend}; serving ${config.MODEL_NAME} ${serving?.version ?? '(no version yet)'}`,
);

if (!config.DISCORD_TOKEN) {
  const { runConsole } = await import('./console/repl.js');
  log.warn('DISCORD_TOKEN is not set: running in console mode');
  // One person typing, one command at a time: no cooldown.
  const services = { ...running.services, cooldowns: new Cooldowns(0) };
  await runConsole({ commands, services, input: process.stdin, output: process.stdout });
  await shutdown(0, 'end of input');
} else {
  const { Bot } = await import('./discord/bot.js');
  const bot = new Bot({ config: { ...config, DISCORD_TOKEN: config.DISCORD_TOKEN }, commands, services: running.services });
  stops.push((ms) => bot.stop(ms));
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
  await startRetrainSchedule(bot);
}

/**
 * Discord mode only (console mode is a local demo; /retrain start works
 * there): outcome reports, and the schedule with its catch-up.
 */
async function startRetrainSchedule(bot: { post(channelId: string, content: string): Promise<void> }): Promise<void> {
  if (config.RETRAIN_REPORT_CHANNEL_ID) {
    const { reportRetrainOutcomes } = await import('./discord/reports.js');
    reportRetrainOutcomes(running.retrain, bot, config.RETRAIN_REPORT_CHANNEL_ID, config.MODEL_NAME);
  }
  if (!config.RETRAIN_ENABLED) return log.info('scheduled retraining is off (RETRAIN_ENABLED=false)');
  const { RetrainScheduler } = await import('./scheduler/scheduler.js');
  const scheduler = new RetrainScheduler({ cron: config.RETRAIN_CRON, timezone: config.RETRAIN_TIMEZONE, runner: running.retrain });
  stops.push(async () => scheduler.stop());
  await scheduler.start();
}
