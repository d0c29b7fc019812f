// The service side of a process, started from src/main.ts: metrics around the
// app, the HTTP server when it is on, and in HTTP interactions mode the
// /interactions endpoint (no gateway connection at all). Returns what
// shutdown must stop.
import { REST, Routes } from 'discord.js';
import type { Dispatcher } from '../app/dispatch.js';
import type { App } from '../app/wiring.js';
import type { Config } from '../config.js';
import { syncCommands } from '../discord/registration.js';
import { log } from '../log.js';
import { interactionsEndpoint, recentIds, type FirstSeen } from './endpoint.js';
import { Metrics, meterDispatcher, meterGeneration } from './metrics.js';
import { HttpServer } from './server.js';
import { publicKeyFromHex } from './verify.js';

export interface Gateway {
  isReady(): boolean;
  ws: { shards: ReadonlyMap<number, { ping: number; status: number }> };
}

export interface ServiceOptions {
  config: Config;
  app: App;
  /** Runs the commands: metered here, and in http mode the endpoint's. */
  dispatcher: Dispatcher;
  /** Gateway mode: the discord.js client, for readiness and its ping. */
  gateway?: Gateway;
  /** Shared replay protection (Redis); in-process by default. */
  firstSeen?: FirstSeen;
  /** What serving runs without, reported by /readyz (shared state in Redis unreachable). */
  degraded?: () => string | undefined;
}

export interface Service {
  metrics: Metrics;
  /** Undefined when the HTTP server is off. */
  http?: HttpServer;
  stop(graceMs: number): Promise<void>;
}

/** The HTTP port when the server is on: HTTP_PORT, or 8080 in http mode. */
export function httpPort(config: Config): number | undefined {
  return config.HTTP_PORT ?? (config.DISCORD_MODE === 'http' ? 8080 : undefined);
}

export async function startService({ config, app, dispatcher, gateway, firstSeen = recentIds(), degraded }: ServiceOptions): Promise<Service> {
  const metrics = new Metrics();
  // Services is read at call time by every handler, so the metered facade takes effect at once.
  app.services.generator = meterGeneration(app.services.generator, metrics);
  metrics.watchModel(config.MODEL_NAME, app.services.generator);
  metrics.watchRetrain(app.retrain);
  if (gateway) metrics.watchGateway(gateway.ws);
  meterDispatcher(dispatcher, metrics);
  const port = httpPort(config);
  const inFlight = new Set<Promise<void>>();
  let accepting = true;
  const http = config.DISCORD_MODE === 'http';
  const rest = new REST({ api: config.DISCORD_API_URL, globalRequestsPerSecond: 500 });
  if (config.DISCORD_TOKEN) rest.setToken(config.DISCORD_TOKEN);

  const server =
    port === undefined
      ? undefined
      : await HttpServer.start({
          host: config.HTTP_HOST,
          port,
          metrics,
          notReady: () => {
            if (!app.services.generator.serving()) return 'no model is served yet';
            if (gateway && !gateway.isReady()) return 'the gateway is not connected';
            if (!accepting) return 'shutting down';
            return undefined;
          },
          degraded,
          interactions: http
            ? interactionsEndpoint({
                publicKey: publicKeyFromHex(config.DISCORD_PUBLIC_KEY ?? ''),
                dispatcher,
                rest,
                hasBotToken: config.DISCORD_TOKEN !== undefined,
                adminUserIds: config.ADMIN_USER_IDS,
                metrics,
                firstSeen,
                accepting: () => accepting,
                track: (task) => {
                  inFlight.add(task);
                  void task.finally(() => inFlight.delete(task));
                },
              })
            : undefined,
        });

  if (http && config.DISCORD_TOKEN) {
    // With a bot token each replica keeps the definitions current (written only when they differ).
    const register = async () => {
      const { id } = (await rest.get(Routes.currentApplication())) as { id: string };
      await syncCommands({ rest, applicationId: id, guildId: config.DISCORD_GUILD_ID, definitions: [...app.commands.values()].map((c) => c.data.toJSON()) });
    };
    await register().catch((err: unknown) => log.error({ err }, 'could not register slash commands'));
  }

  return {
    metrics,
    http: server,
    async stop(graceMs) {
      accepting = false;
      const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.allSettled(inFlight), deadline]);
      if (inFlight.size > 0) log.warn({ unfinished: inFlight.size }, 'stopping with commands still running');
      await server?.close();
    },
  };
}
