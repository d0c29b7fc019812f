// /retrain start | status | cancel, for admins: registered with Manage Server
// as the default permission, and the admin policy is checked again on every
// run (servers can override command permissions). Progress is shown by editing
// the reply every few seconds while the run goes, for as long as Discord lets
// us (interaction tokens last 15 minutes); the admin who started a run gets
// its outcome as a follow-up. Runs go on whatever happens to the messages;
// every outcome is also logged and reported by the controller.
import { setTimeout as sleep } from 'node:timers/promises';
import { PermissionFlagsBits } from 'discord.js';
import { slashCommand, withDescription, type Invocation, type Policy, type Subcommand } from '../src/app/command.js';
import { UserError } from '../src/app/errors.js';
import { localizations, phrase, text } from '../src/app/i18n.js';
import { outcomeText, progressText } from '../src/app/replies/retrain.js';
import type { Services } from '../src/app/services.js';
import { log } from '../src/log.js';
import { RetrainBusyError } from '../src/training/controller.js';
import type { RunOutcome } from '../src/training/run-records.js';

const EDIT_EVERY_MS = 5000;
const LIVE_FOR_MS = 14 * 60_000;

export const data = slashCommand('retrain', 'retrainDescription')
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .addSubcommand((s) =>
    withDescription(s.setName('start'), 'retrainStartDescription')
      .addIntegerOption((o) =>
        withDescription(o.setName('epochs').setNameLocalizations(localizations('epochsName')), 'epochsOption').setMinValue(1).setMaxValue(1000),
      )
      .addIntegerOption((o) =>
        withDescription(o.setName('minutes').setNameLocalizations(localizations('minutesName')), 'minutesOption').setMinValue(1).setMaxValue(24 * 60),
      ),
  )
  .addSubcommand((s) => withDescription(s.setName('status'), 'retrainStatusDescription'))
  .addSubcommand((s) => withDescription(s.setName('cancel'), 'retrainCancelDescription'));

export const policy: Policy = { admin: true, guildOnly: true };

async function start(invocation: Invocation, { retrain, models }: Services): Promise<void> {
  let done: Promise<RunOutcome>;
  try {
    done = retrain.start({
      trigger: 'admin',
      userId: invocation.user.id,
      epochs: invocation.options.getInteger('epochs') ?? undefined,
      minutes: invocation.options.getInteger('minutes') ?? undefined,
    });
  } catch (err) {
    if (err instanceof RetrainBusyError) throw new UserError(phrase('retrainBusy', { detail: err.message }));
    throw err;
  }
  // follow() awaits the outcome; until it does, a refusal that arrives late
  // (a sharded bot asks the manager process) must not count as unhandled.
  done.catch(() => undefined);
  const run = (await retrain.status()).running!;
  const where = text(invocation.locale, 'retrainWillReport');
  await invocation.reply({ content: `${progressText(models.name, run, invocation.mention)}\n${where}`, ephemeral: true });
  // Followed in the background: a run takes minutes to hours, and console mode runs one command at a time.
  void follow(invocation, retrain, models.name, run.id, done);
}

async function status(invocation: Invocation, { retrain, models }: Services): Promise<void> {
  const { running, last } = await retrain.status();
  if (!running) {
    const { locale } = invocation;
    const content = last ? text(locale, 'retrainIdle', { last: outcomeText(models.name, last, invocation.mention) }) : text(locale, 'retrainNever');
    return invocation.reply({ content, ephemeral: true });
  }
  await invocation.reply({ content: progressText(models.name, running, invocation.mention), ephemeral: true });
  void follow(invocation, retrain, models.name, running.id);
}

async function cancel(invocation: Invocation, { retrain, models }: Services): Promise<void> {
  if (!(await retrain.status()).running) throw new UserError(phrase('retrainNotRunning'));
  await invocation.defer({ ephemeral: true });
  const outcome = await retrain.cancel(`${invocation.user.name} (${invocation.user.id})`);
  await invocation.edit({ content: outcome ? outcomeText(models.name, outcome, invocation.mention) : text(invocation.locale, 'retrainAlreadyOver') });
}

/**
 * Keeps the reply showing the run's progress until it ends (then its
 * outcome) or the interaction is about to expire; with `done` (the admin who
 * started it), the outcome also comes as a follow-up. Never rejects.
 */
async function follow(invocation: Invocation, retrainer: Services['retrain'], modelName: string, runId: string, done?: Promise<RunOutcome>): Promise<void> {
  try {
    let over = false;
    for (const until = Date.now() + LIVE_FOR_MS; !over && Date.now() < until; ) {
      await Promise.race([sleep(EDIT_EVERY_MS), ...(done ? [done] : [])]);
      const { running, last } = await retrainer.status();
      if (running?.id === runId) {
        await invocation.edit({ content: progressText(modelName, running, invocation.mention) });
        continue;
      }
      over = true;
      if (last?.id === runId) {
        const content = done ? text(invocation.locale, 'retrainEnded', { run: runId, outcome: last.outcome }) : outcomeText(modelName, last, invocation.mention);
        await invocation.edit({ content });
      }
    }
    if (!over) await invocation.edit({ content: text(invocation.locale, 'retrainStillRunning', { run: runId }) });
  } catch (err) {
    log.warn({ err, run: runId }, 'stopped updating the /retrain message');
  }
  if (!done) return;
  let content: string;
  try {
    content = outcomeText(modelName, await done, invocation.mention);
  } catch (err) {
    log.warn({ err, run: runId }, 'the retrain was refused after it was shown as started');
    return;
  }
  try {
    await invocation.followUp({ content, ephemeral: true });
  } catch {
    // The interaction's token outlived (runs take longer than its 15 minutes): a DM instead.
    try {
      await invocation.tellLater({ content });
    } catch (err) {
      log.warn({ err, run: runId }, 'could not tell the admin how their retrain ended (it is logged and reported)');
    }
  }
}

export const subcommands: Record<string, Subcommand> = {
  start: { run: start },
  status: { run: status },
  cancel: { run: cancel },
};
