// Runs one command, whatever it came from, and turns every failure into a
// short private message for the user. Shared by the Discord bot and console mode.
import { log } from '../log.js';
import type { Command, Invocation, Services } from './command.js';
import { GENERIC_FAILURE, InteractionExpiredError, userMessage } from './errors.js';

const describe = (i: Invocation) => ({ command: i.commandName, subcommand: i.subcommand ?? undefined, user: i.user.id });

/** Runs `command`; never rejects. */
export async function runCommand(command: Command, invocation: Invocation, services: Services): Promise<void> {
  const t0 = performance.now();
  try {
    await command.execute(invocation, services);
    log.debug({ ...describe(invocation), ms: Math.round(performance.now() - t0) }, 'command answered');
  } catch (err) {
    if (err instanceof InteractionExpiredError) {
      log.warn({ ...describe(invocation), err: err.cause }, 'interaction expired before it was answered; dropped');
      return;
    }
    const message = userMessage(err);
    if (message === undefined) log.error({ ...describe(invocation), err }, 'command failed');
    else log.info({ ...describe(invocation), reason: message }, 'command refused');
    await refuse(invocation, message ?? GENERIC_FAILURE);
  }
}

/** Tells the user `message` privately; never rejects. */
export async function refuse(invocation: Invocation, message: string): Promise<void> {
  try {
    await invocation.fail(message);
  } catch (err) {
    log.warn({ ...describe(invocation), err: err instanceof InteractionExpiredError ? err.cause : err }, 'could not tell the user about a failure');
  }
}
