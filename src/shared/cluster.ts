// Joins a process to the others sharing its Redis: versions served after a
// publish or rollback are announced to every replica (which then serve the
// registry's current version at once), and retraining is one run
// cluster-wide. The controller's own file lock stays underneath: it also
// guards CLIs, and a shared volume on one host.
//
// Without Redis the lock fails closed: a start is refused (or, if Redis stops
// answering just after, the run is cancelled) rather than risking two runs.
import type { App } from '../app/wiring.js';
import { log } from '../log.js';
import { RetrainBusyError, runningMessage, type RetrainStatus, type StartRequest } from '../training/controller.js';
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
/** Why a start is refused while Redis is unavailable. */
const lockUnavailable = (why: string) => `the cluster-wide retrain lock cannot be taken: ${why}; try again once it is back (no run is started that could overlap another replica's)`;
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
  return guardRetrain(app, shared);
}

/**
 * Makes the controller's start/status/cancel cluster-wide (the instance's
 * methods are replaced, so /retrain goes through them): start is refused
 * while another replica holds the Redis lock, status shows that replica's
 * run, cancel is sent to it. The schedule goes through app.scheduleRunner,
 * which takes the lock first. Returns a stop function.
 */
function guardRetrain(app: App, shared: SharedState): () => void {
  const controller = app.retrain;
  const key = shared.key('retrain');
  const channel = shared.key('retrain-events');
  const local = { start: controller.start.bind(controller), status: controller.status.bind(controller), cancel: controller.cancel.bind(controller) };
  let remote: Holder | undefined;
  const remoteOutcomes = new Map<string, (o: RunOutcome) => void>();
  const subscriber = shared.duplicate();

  const refresh = async () => {
    const text = await shared.track(() => shared.redis.get(key));
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
  /** Renews this replica's lease; takes it again if a restarted (empty) Redis lost it. */
  const renew = async (info: RunInfo) => {
    if ((await write(info, 'XX')) || (await write(info, 'NX'))) return;
    await refresh();
    log.error({ holder: current()?.instance }, 'lost the retrain lock to another replica while running');
  };
  /** Takes the lock before any trainer is forked (the schedule ticks on every replica at the same second). */
  const claim = async (req: StartRequest): Promise<string | undefined> => {
    const why = shared.unavailable();
    if (why) return lockUnavailable(why);
    const { running } = await local.status();
    if (running) return runningMessage(running);
    const info: RunInfo = { id: 'pending', trigger: req.trigger, startedAt: new Date().toISOString(), maxMinutes: req.minutes ?? 0 };
    try {
      if (await shared.track(() => write(info, 'NX'))) return undefined;
      await refresh();
      return `another replica (${current()?.instance ?? 'unknown'}) holds the retrain lock`;
    } catch (err) {
      return lockUnavailable(`Redis is not answering (${(err as Error).message})`);
    }
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

  /** Starts a local run under the cluster lock; `held` when claim() already took it. */
  const start = (req: StartRequest, held: boolean): Promise<RunOutcome> => {
    const done = local.start(req);
    void (async () => {
      const info = (await local.status()).running;
      if (!info) return;
      let locked: boolean;
      try {
        locked = await write(info, held ? 'XX' : 'NX');
      } catch (err) {
        log.error({ err: (err as Error).message }, 'Redis stopped answering as the retrain started; cancelling it rather than risking two runs');
        await local.cancel(lockUnavailable('Redis is not answering'));
        return;
      }
      if (!locked) {
        // Lost a race that the cached holder could not see: the other replica's run goes on.
        await refresh();
        log.warn({ holder: current()?.instance }, 'another replica took the retrain lock first; cancelling this run');
        await local.cancel('another replica started a retrain first');
        return;
      }
      await publish({ type: 'changed', from: shared.instance });
      const renewal = setInterval(() => void renew(info).catch(() => undefined), RENEW_MS);
      const outcome = await done.catch(() => undefined);
      clearInterval(renewal);
      const text = await shared.redis.get(key);
      if (text && (JSON.parse(text) as Holder).instance === shared.instance) await shared.redis.del(key);
      if (outcome) await publish({ type: 'finished', from: shared.instance, outcome });
    })().catch((err: unknown) => log.error({ err }, 'retrain lock bookkeeping failed'));
    return done;
  };

  controller.start = (req) => {
    // Fail closed: without Redis this replica cannot know whether another one is training (the 2 s poll keeps unavailable() current).
    const why = shared.unavailable();
    if (why) throw new RetrainBusyError(lockUnavailable(why));
    if (remote) throw new RetrainBusyError(`another replica (${remote.instance}) has been retraining since ${remote.status.startedAt}`);
    return start(req, false);
  };

  // The schedule's ticks take the lock before forking: every replica ticks at
  // the same second, so the cached holder cannot tell them apart. One wins and
  // runs; the others log that they skipped (resolving undefined).
  app.scheduleRunner = {
    start: async (req) => {
      const refused = await claim(req);
      if (!refused) {
        let done: Promise<RunOutcome>;
        try {
          done = start(req, true);
        } catch (err) {
          // Refused here (e.g. a CLI holds the file lock): the claim is ours, give it back.
          await shared.redis.del(key).catch(() => undefined);
          if (!(err instanceof RetrainBusyError)) throw err;
          log.warn({ trigger: req.trigger }, `${req.trigger} retrain skipped: ${err.message}`);
          return undefined;
        }
        return done;
      }
      log.warn({ trigger: req.trigger }, `${req.trigger} retrain skipped: ${refused}`);
      return undefined;
    },
    lastCompletedAt: () => controller.lastCompletedAt(),
    failures: () => controller.failures(),
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
