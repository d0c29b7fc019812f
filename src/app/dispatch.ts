// Runs one command, whatever it came from: finds the handler (the command or
// its subcommand), enforces the declared policies, and turns every failure into
// a short private message for the user. Shared by the Discord bot and console mode.
import { log } from '../log.js';
import type { Command, Handler, Invocation, Policy } from './command.js';
import type { CooldownStore } from './cooldowns.js';
import { GENERIC_FAILURE, InteractionExpiredError, UserError, userMessage } from './errors.js';
import { adminRefusal, cooldownRefusal, guildOnlyRefusal } from './policies.js';
import type { Services } from './services.js';

const describe = (i: Invocation) => ({ command: i.commandName, subcommand: i.subcommand ?? undefined, user: i.user.id });

export class Dispatcher {
  constructor(
    readonly commands: ReadonlyMap<string, Command>,
    private readonly services: Services,
    private readonly cooldowns: CooldownStore,
  ) {}

  /** Runs the invoked command; never rejects. */
  async run(invocation: Invocation): Promise<void> {
    const t0 = performance.now();
    let cooling = false;
    try {
      const command = this.commands.get(invocation.commandName);
      if (!command) throw new UserError(`Unknown command /${invocation.commandName}.`);
      const { handler, policies } = resolve(command, invocation);
      for (const [policy, guarded] of policies) {
        const refusal = adminRefusal(policy, invocation, guarded) ?? guildOnlyRefusal(policy, invocation, guarded);
        if (refusal) throw new UserError(refusal);
      }
      for (const [policy] of policies) {
        const wait = await cooldownRefusal(policy, invocation, this.cooldowns);
        if (wait) throw new UserError(wait);
        cooling ||= policy.cooldown === true;
      }
      await handler(invocation, this.services);
      log.debug({ ...describe(invocation), ms: Math.round(performance.now() - t0) }, 'command answered');
    } catch (err) {
      // A run that failed (bad input, queue full, model swapped out) does not count against the cooldown.
      if (cooling) await Promise.resolve(this.cooldowns.release(invocation.user.id)).catch((e: unknown) => log.warn({ err: e }, 'could not release a cooldown'));
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
}

/** The handler to run and the policies that guard it, outermost first, each with what it guards. */
function resolve(command: Command, invocation: Invocation): { handler: Handler; policies: [Policy, string][] } {
  const name = `/${command.data.name}`;
  const policies: [Policy, string][] = command.policy ? [[command.policy, name]] : [];
  if (!command.subcommands) return { handler: command.execute, policies };
  const sub = invocation.subcommand && Object.hasOwn(command.subcommands, invocation.subcommand) ? command.subcommands[invocation.subcommand] : undefined;
  if (!sub) throw new UserError(`Use ${Object.keys(command.subcommands).map((s) => `${name} ${s}`).join(', ')}.`);
  if (sub.policy) policies.push([sub.policy, `${name} ${invocation.subcommand}`]);
  return { handler: sub.run, policies };
}

/** Tells the user `message` privately; never rejects. */
export async function refuse(invocation: Invocation, message: string): Promise<void> {
  try {
    await invocation.fail(message);
  } catch (err) {
    log.warn({ ...describe(invocation), err: err instanceof InteractionExpiredError ? err.cause : err }, 'could not tell the user about a failure');
  }
}
