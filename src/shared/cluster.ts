// Joins a process to the others sharing its Redis: versions served after a
// publish or rollback are announced to every replica (which then serve the
// registry's current version at once), and retraining is one run
// cluster-wide. The controller's own file lock stays underneath: it also
// guards CLIs, and a shared volume on one host.
import type { App } from '../app/wiring.js';
import { log } from '../log.js';
import { RetrainBusyError, type RetrainController, type RetrainStatus } from '../training/controller.js';
import type { RunInfo, RunOutcome } from '../training/run-records.js';
import { SharedState } from './redis.js';

/** The cluster lock lives this long unless its holder renews it (a SIGKILLed holder frees it by itself). */
const LOCK_TTL_MS = 30_000;
const RENEW_MS = 10_000;
/** Fallback refresh of the holder this replica sees, when a pub/sub message was missed. */
const POLL_MS = 2000;
/** How long a cancel sent to the owning replica waits for its outcome. */
const REMOTE_CANCEL_MS = 60_000;

type Holder = { instance: string; status: NonNullable<RetrainStatus['running']> };
type RetrainMessage = { type: 'changed'; from: string } | { type: 'cancel'; from: string; by?: string } | { type: 'finished'; from: string; outcome: RunOutcome };

/** Connects to Redis and joins `app` to the cluster; close() leaves it. */
export async function startCluster(url: string, app: App, modelName: string): Promise<{ shared: SharedState; close(): Promise<void> }> {
  const shared = await SharedState.connect(url, modelName);
  const leave = await joinCluster(app, shared);
  return {
    shared,
    async close() {
      leave();
      await shared.close();
    },
  };
}

async function joinCluster(app: App, shared: SharedState): Promise<() => void> {
  await shared.onVersion((version) => {
    log.info({ version }, 'another replica announced a version; serving the registry pointer');
    app.sync().catch((err: unknown) => log.error({ err }, 'could not serve the announced version'));
  });
  const rollback = app.services.models.rollback.bind(app.services.models);
  app.services.models.rollback = async (version, by) => {
    const result = await rollback(version, by);
    await shared.announceVersion(result.to).catch((err: unknown) => log.warn({ err }, 'could not announce the rollback'));
    return result;
  };
  app.retrain.on('finished', (outcome) => {
    if (outcome.outcome === 'published' && outcome.version) void shared.announceVersion(outcome.version).catch((err: unknown) => log.warn({ err }, 'could not announce the new version'));
  });
  return guardRetrain(app.retrain, shared);
}

/**
 * Makes the controller's start/status/cancel cluster-wide (the instance's
 * methods are replaced, so the schedule and /retrain both go through it):
 * start is refused while another replica holds the Redis lock, status shows
 * that replica's run, cancel is sent to it. Returns a stop function.
 */
function guardRetrain(controller: RetrainController, shared: SharedState): () => void {
  const key = shared.key('retrain');
  const channel = shared.key('retrain-events');
  const local = { start: controller.start.bind(controller), status: controller.status.bind(controller), cancel: controller.cancel.bind(controller) };
  let remote: Holder | undefined;
  const remoteOutcomes = new Map<string, (o: RunOutcome) => void>();
  const subscriber = shared.redis.duplicate();

  const refresh = async () => {
    const text = await shared.redis.get(key);
    const holder = text ? (JSON.parse(text) as Holder) : undefined;
    remote = holder && holder.instance !== shared.instance ? holder : undefined;
  };
  // A function, so TypeScript does not keep start()'s narrowing of `remote` across awaits.
  const current = () => remote;
  const publish = (message: RetrainMessage) => shared.redis.publish(channel, JSON.stringify(message));
  const write = async (info: RunInfo, mode: 'NX' | 'XX') => {
    const { running } = await local.status();
    const holder: Holder = { instance: shared.instance, status: running ?? { ...info, progress: { phase: 'starting' } } };
    return (await shared.redis.set(key, JSON.stringify(holder), 'PX', LOCK_TTL_MS, mode as 'NX')) === 'OK';
  };

  subscriber.on('message', (_channel: string, text: string) => {
    const message = JSON.parse(text) as RetrainMessage;
    if (message.from === shared.instance) return;
    if (message.type === 'cancel') void local.status().then((s) => s.running && local.cancel(message.by));
    if (message.type === 'finished') remoteOutcomes.get(message.outcome.id)?.(message.outcome);
    void refresh().catch(() => undefined);
  });
  void subscriber.subscribe(channel).catch((err: unknown) => log.error({ err }, 'could not subscribe to retrain events'));
  const poll = setInterval(() => void refresh().catch(() => undefined), POLL_MS);
  poll.unref();
  void refresh().catch(() => undefined);

  controller.start = (req) => {
    if (remote) throw new RetrainBusyError(`another replica (${remote.instance}) has been retraining since ${remote.status.startedAt}`);
    const done = local.start(req);
    void (async () => {
      const info = (await local.status()).running;
      if (!info) return;
      if (!(await write(info, 'NX'))) {
        // Lost a race that the cached holder could not see: the other replica's run goes on.
        await refresh();
        log.warn({ holder: current()?.instance }, 'another replica took the retrain lock first; cancelling this run');
        await local.cancel('another replica started a retrain first');
        return;
      }
      await publish({ type: 'changed', from: shared.instance });
      const renew = setInterval(() => void write(info, 'XX').catch(() => undefined), RENEW_MS);
      const outcome = await done.catch(() => undefined);
      clearInterval(renew);
      const text = await shared.redis.get(key);
      if (text && (JSON.parse(text) as Holder).instance === shared.instance) await shared.redis.del(key);
      if (outcome) await publish({ type: 'finished', from: shared.instance, outcome });
    })().catch((err: unknown) => log.error({ err }, 'retrain lock bookkeeping failed'));
    return done;
  };

  controller.status = async () => {
    const status = await local.status();
    if (status.running) return status;
    await refresh().catch(() => undefined);
    return remote ? { ...status, running: remote.status } : status;
  };

  controller.cancel = async (by) => {
    if ((await local.status()).running) return local.cancel(by);
    await refresh();
    if (!remote) return undefined;
    const id = remote.status.id;
    const outcome = new Promise<RunOutcome | undefined>((resolve) => {
      remoteOutcomes.set(id, resolve);
      setTimeout(() => resolve(undefined), REMOTE_CANCEL_MS).unref();
    });
    await publish({ type: 'cancel', from: shared.instance, by });
    return outcome.finally(() => remoteOutcomes.delete(id));
  };

  return () => {
    clearInterval(poll);
    subscriber.disconnect();
  };
}
