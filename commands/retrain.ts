// /retrain start | status | cancel, for admins: registered with Manage Server
// as the default permission and checked again on every run (servers can
// override command permissions). Progress is shown by editing the reply every
// few seconds while the run goes, for as long as Discord lets us (interaction
// tokens last 15 minutes); the admin who started a run gets its outcome as a
// follow-up. Runs go on whatever happens to the messages; every outcome is
// also logged and reported by the controller.
import { setTimeout as sleep } from 'node:timers/promises';
import { PermissionFlagsBits } from 'discord.js';
import { slashCommand, type Invocation, type Services } from '../src/discord/command.js';
import { UserError } from '../src/discord/errors.js';
import { log } from '../src/log.js';
import { RetrainBusyError, type Retrainer } from '../src/training/controller.js';
import { outcomeText, progressText } from '../src/training/report.js';
import type { RunOutcome } from '../src/training/run-records.js';

const EDIT_EVERY_MS = 5000;
const LIVE_FOR_MS = 14 * 60_000;

export const data = slashCommand('retrain', '(admins) Retrain the model on the current corpus and publish it if it is better')
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .addSubcommand((s) =>
    s
      .setName('start')
      .setDescription('Start a retrain now')
      .addIntegerOption((o) => o.setName('epochs').setDescription('Epochs to train (default: as configured)').setMinValue(1).setMaxValue(1000))
      .addIntegerOption((o) => o.setName('minutes').setDescription('Time budget in minutes (default: as configured)').setMinValue(1).setMaxValue(24 * 60)),
  )
  .addSubcommand((s) => s.setName('status').setDescription('Progress of the running retrain, or how the last one ended'))
  .addSubcommand((s) => s.setName('cancel').setDescription('Stop the running retrain; nothing is published'));

export async function execute(invocation: Invocation, services: Services): Promise<void> {
  if (!invocation.isAdmin) throw new UserError('Only members who can manage this server may use /retrain.');
  const retrainer = services.retrain;
  switch (invocation.subcommand) {
    case 'start':
      return start(invocation, retrainer, services.modelName);
    case 'status':
      return status(invocation, retrainer, services.modelName);
    case 'cancel':
      return cancel(invocation, retrainer, services.modelName);
    default:
      throw new UserError('Use /retrain start, /retrain status or /retrain cancel.');
  }
}

async function start(invocation: Invocation, retrainer: Retrainer, modelName: string): Promise<void> {
  let done: Promise<RunOutcome>;
  try {
    done = retrainer.start({
      trigger: 'admin',
      userId: invocation.user.id,
      epochs: invocation.options.getInteger('epochs') ?? undefined,
      minutes: invocation.options.getInteger('minutes') ?? undefined,
    });
  } catch (err) {
    if (err instanceof RetrainBusyError) throw new UserError(`Not started: ${err.message}. /retrain status shows its progress.`);
    throw err;
  }
  const run = (await retrainer.status()).running!;
  await invocation.reply({ content: progressText(modelName, run), ephemeral: true });
  // Followed in the background: a run takes minutes to hours, and console mode runs one command at a time.
  void follow(invocation, retrainer, modelName, run.id, done);
}

async function status(invocation: Invocation, retrainer: Retrainer, modelName: string): Promise<void> {
  const { running, last } = await retrainer.status();
  if (!running) {
    const content = last ? `No retrain is running. The last one: ${outcomeText(modelName, last)}` : 'No retrain is running, and none has run yet.';
    return invocation.reply({ content, ephemeral: true });
  }
  await invocation.reply({ content: progressText(modelName, running), ephemeral: true });
  void follow(invocation, retrainer, modelName, running.id);
}

async function cancel(invocation: Invocation, retrainer: Retrainer, modelName: string): Promise<void> {
  if (!(await retrainer.status()).running) throw new UserError('No retrain is running.');
  await invocation.defer({ ephemeral: true });
  const outcome = await retrainer.cancel(`${invocation.user.name} (${invocation.user.id})`);
  await invocation.edit({ content: outcome ? outcomeText(modelName, outcome) : 'The retrain had already finished.' });
}

/**
 * Keeps the reply showing the run's progress until it ends (then its
 * outcome) or the interaction is about to expire; with `done` (the admin who
 * started it), the outcome also comes as a follow-up. Never rejects.
 */
async function follow(invocation: Invocation, retrainer: Retrainer, modelName: string, runId: string, done?: Promise<RunOutcome>): Promise<void> {
  try {
    let over = false;
    for (const until = Date.now() + LIVE_FOR_MS; !over && Date.now() < until; ) {
      await Promise.race([sleep(EDIT_EVERY_MS), ...(done ? [done] : [])]);
      const { running, last } = await retrainer.status();
      if (running?.id === runId) {
        await invocation.edit({ content: progressText(modelName, running) });
        continue;
      }
      over = true;
      if (last?.id === runId) await invocation.edit({ content: done ? `Retrain ${runId} ${last.outcome}.` : outcomeText(modelName, last) });
    }
    if (!over) await invocation.edit({ content: `Retrain ${runId} is still running; live updates stopped here (/retrain status shows it).` });
  } catch (err) {
    log.warn({ err, run: runId }, 'stopped updating the /retrain message');
  }
  if (!done) return;
  try {
    await invocation.followUp({ content: outcomeText(modelName, await done), ephemeral: true });
  } catch (err) {
    log.warn({ err, run: runId }, 'could not tell the admin how their retrain ended (it is logged and reported)');
  }
}
