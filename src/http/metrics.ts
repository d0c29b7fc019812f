// Prometheus metrics (prom-client), gathered by decorating the parts the app
// already has (the Generation facade, each Invocation, the retrain controller,
// the discord.js client) rather than reaching inside them, so the core stays
// unaware of monitoring. One Registry per process, served on GET /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Invocation, Reply } from '../app/command.js';
import type { Dispatcher } from '../app/dispatch.js';
import type { Generation } from '../app/services.js';
import { QueueFullError } from '../serving/types.js';
import type { RetrainController } from '../training/controller.js';

export class Metrics {
  readonly registry = new Registry();
  readonly interactions = new Counter({
    name: 'bardbot_interactions_total',
    help: 'Commands run, by command and outcome (answered, refused)',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly ackSeconds = new Histogram({
    name: 'bardbot_ack_latency_seconds',
    help: 'From an interaction arriving to its first response (defer or reply)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
    registers: [this.registry],
  });
  readonly generationSeconds = new Histogram({
    name: 'bardbot_generation_latency_seconds',
    help: 'Time to generate one request, queueing included',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly generatedChars = new Counter({ name: 'bardbot_generated_chars_total', help: 'Characters generated', registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'bardbot_generation_queue_depth', help: 'Generation requests in flight', registers: [this.registry] });
  readonly busyRefusals = new Counter({ name: 'bardbot_busy_refusals_total', help: 'Requests refused because the queue was full', registers: [this.registry] });
  readonly modelInfo = new Gauge({ name: 'bardbot_model_info', help: 'The served model version (1 for the one served)', labelNames: ['model', 'version'] as const, registers: [this.registry] });
  readonly retrainRuns = new Counter({ name: 'bardbot_retrain_runs_total', help: 'Retrain runs by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly lastPublish = new Gauge({ name: 'bardbot_retrain_last_published_timestamp_seconds', help: 'When a retrain last published a version', registers: [this.registry] });
  readonly gatewayPing = new Gauge({ name: 'bardbot_gateway_ping_seconds', help: 'Gateway heartbeat round trip', labelNames: ['shard'] as const, registers: [this.registry] });
  readonly shardStatus = new Gauge({ name: 'bardbot_shard_status', help: "discord.js Status of each shard (0 ready, 5 disconnected…)", labelNames: ['shard'] as const, registers: [this.registry] });

  constructor() {
    // Event-loop lag, memory, GC, handles: what a replica's health looks like from outside.
    collectDefaultMetrics({ register: this.registry });
  }

  /** The info gauge follows what `generator` serves, read at every scrape. */
  watchModel(modelName: string, generator: Pick<Generation, 'serving'>): void {
    let shown: string | undefined;
    const update = () => {
      const version = generator.serving()?.version;
      if (version === shown) return;
      if (shown !== undefined) this.modelInfo.remove({ model: modelName, version: shown });
      if (version !== undefined) this.modelInfo.set({ model: modelName, version }, 1);
      shown = version;
    };
    update();
    this.refreshers.push(update);
  }

  watchRetrain(retrain: Pick<RetrainController, 'on'>): void {
    retrain.on('finished', (outcome) => {
      this.retrainRuns.inc({ outcome: outcome.outcome });
      if (outcome.outcome === 'published') this.lastPublish.set(Date.now() / 1000);
    });
  }

  /** Gateway ping and status per shard, read at every scrape. */
  watchGateway(ws: { shards: ReadonlyMap<number, { ping: number; status: number }> }): void {
    this.refreshers.push(() => {
      for (const [id, shard] of ws.shards) {
        if (shard.ping >= 0) this.gatewayPing.set({ shard: String(id) }, shard.ping / 1000);
        this.shardStatus.set({ shard: String(id) }, shard.status);
      }
    });
  }

  /** The exposition text (Content-Type: `this.registry.contentType`). */
  async scrape(): Promise<string> {
    for (const refresh of this.refreshers) refresh();
    return this.registry.metrics();
  }

  private readonly refreshers: (() => void)[] = [];
}

/** `generator` with its requests counted and timed. */
export function meterGeneration(generator: Generation, metrics: Metrics): Generation {
  return {
    get backend() {
      return generator.backend;
    },
    validate: (params) => generator.validate(params),
    serving: () => generator.serving(),
    async generate(params) {
      const stop = metrics.generationSeconds.startTimer();
      metrics.queueDepth.inc();
      try {
        const result = await generator.generate(params);
        metrics.generatedChars.inc(result.text.length - params.seed.length);
        stop();
        return result;
      } catch (err) {
        if (err instanceof QueueFullError) metrics.busyRefusals.inc();
        throw err;
      } finally {
        metrics.queueDepth.dec();
      }
    },
  };
}

/**
 * `inner` with its first response timed from `receivedAt`; finished() counts
 * its outcome: refused when fail() was called.
 */
export class MeteredInvocation implements Invocation {
  private acked = false;
  private failed = false;

  constructor(
    private readonly inner: Invocation,
    private readonly metrics: Metrics,
    private readonly receivedAt = performance.now(),
  ) {}

  get commandName() {
    return this.inner.commandName;
  }
  get subcommand() {
    return this.inner.subcommand;
  }
  get user() {
    return this.inner.user;
  }
  get isAdmin() {
    return this.inner.isAdmin;
  }
  get context() {
    return this.inner.context;
  }
  get options() {
    return this.inner.options;
  }
  get live() {
    return this.inner.live;
  }
  get locale() {
    return this.inner.locale;
  }
  get press() {
    return this.inner.press;
  }
  get target() {
    return this.inner.target;
  }
  /** A property, as handlers pass it around unbound (`invocation.mention`). */
  readonly mention = (userId: string): string => this.inner.mention(userId);
  defer(opts?: { ephemeral?: boolean }): Promise<void> {
    this.ack();
    return this.inner.defer(opts);
  }
  deferUpdate(): Promise<void> {
    this.ack();
    return this.inner.deferUpdate();
  }
  reply(reply: Reply & { ephemeral?: boolean }): Promise<void> {
    this.ack();
    return this.inner.reply(reply);
  }
  edit(reply: Reply): Promise<void> {
    return this.inner.edit(reply);
  }
  followUp(reply: Reply & { ephemeral?: boolean }): Promise<void> {
    return this.inner.followUp(reply);
  }
  tellLater(reply: Reply): Promise<void> {
    return this.inner.tellLater(reply);
  }
  fail(message: string): Promise<void> {
    this.failed = true;
    this.ack();
    return this.inner.fail(message);
  }

  finished(): void {
    this.metrics.interactions.inc({ command: this.inner.commandName, outcome: this.failed ? 'refused' : 'answered' });
  }

  private ack(): void {
    if (this.acked) return;
    this.acked = true;
    this.metrics.ackSeconds.observe((performance.now() - this.receivedAt) / 1000);
  }
}

/** Every run of `dispatcher` timed and counted (the instance's run is wrapped; adapters keep their reference). */
export function meterDispatcher(dispatcher: Dispatcher, metrics: Metrics): void {
  const run = dispatcher.run.bind(dispatcher);
  dispatcher.run = (invocation) => {
    const metered = invocation instanceof MeteredInvocation ? invocation : new MeteredInvocation(invocation, metrics);
    return run(metered).finally(() => metered.finished());
  };
}
