// Runs one command, whatever it came from: finds the handler (the command or
// its subcommand), enforces the declared policies, and turns every failure into
// a short private message for the user. Shared by the Discord bot and console mode.
import { log } from '../log.js';
import type { Command, CompletionQuery, Handler, Invocation, Policy } from './command.js';
import type { CooldownStore } from './cooldowns.js';
import { InteractionExpiredError, UserError, userMessage } from './errors.js';
import { adminRefusal, cooldownRefusal, guildOnlyRefusal, type Caller } from './policies.js';
import { phrase, text, type Phrase } from './i18n.js';
import { cutText } from './replies/limits.js';
import type { Services } from './services.js';

/** Discord's autocomplete limits: 25 choices, names and values of 1 to 100 characters. */
export const CHOICE_LIMITS = { choices: 25, chars: 100 } as const;

/** An autocomplete request: who is typing, in which command, and what. */
export type Completion = Caller & Pick<Invocation, 'commandName' | 'subcommand'> & { query: CompletionQuery };

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
      if (!command) throw new UserError(invocation.press ? phrase('buttonUnknown') : phrase('unknownCommand', { command: invocation.commandName }));
      const { handler, policies } = resolve(command, invocation);
      const refusal = accessRefusal(policies, invocation);
      if (refusal) throw new UserError(refusal);
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
      const message = userMessage(err, invocation.locale);
      // Logged in English, whatever language the user reads.
      if (message === undefined) log.error({ ...describe(invocation), err }, 'command failed');
      else log.info({ ...describe(invocation), reason: userMessage(err, 'en-US') }, 'command refused');
      await refuse(invocation, message ?? text(invocation.locale, 'genericFailure'));
    }
  }

  /**
   * Suggestions for an option being typed, within Discord's limits; [] where
   * the policies (admin, guild only) would refuse the command. No cooldown:
   * typing is not asking. Never rejects.
   */
  async complete(completion: Completion): Promise<{ name: string; value: string }[]> {
    try {
      const command = this.commands.get(completion.commandName);
      if (!command?.complete) return [];
      const policies = guards(command, completion.subcommand);
      if (accessRefusal(policies, completion)) return [];
      // A client may send far more than max_length while typing; nothing needs more than a choice's length.
      const query = { ...completion.query, value: completion.query.value.slice(0, CHOICE_LIMITS.chars) };
      const suggestions = await command.complete(query, this.services);
      return [...new Set(suggestions.map((s) => cutText(s, CHOICE_LIMITS.chars)).filter(Boolean))]
        .slice(0, CHOICE_LIMITS.choices)
        .map((s) => ({ name: s, value: s }));
    } catch (err) {
      log.error({ command: completion.commandName, user: completion.user.id, err }, 'autocomplete failed');
      return [];
    }
  }
}

function accessRefusal(policies: [Policy, string][], caller: Caller): Phrase | undefined {
  for (const [policy, guarded] of policies) {
    const refusal = adminRefusal(policy, caller, guarded) ?? guildOnlyRefusal(policy, caller, guarded);
    if (refusal) return refusal;
  }
  return undefined;
}

/** The command's and (when named and known) the subcommand's policies, outermost first, each with what it guards. */
function guards(command: Command, subcommand: string | null): [Policy, string][] {
  const name = `/${command.data.name}`;
  const policies: [Policy, string][] = command.policy ? [[command.policy, name]] : [];
  const sub = subcommand && command.subcommands && Object.hasOwn(command.subcommands, subcommand) ? command.subcommands[subcommand] : undefined;
  if (sub?.policy) policies.push([sub.policy, `${name} ${subcommand}`]);
  return policies;
}

/** The handler to run and the policies that guard it, outermost first, each with what it guards. */
function resolve(command: Command, invocation: Invocation): { handler: Handler; policies: [Policy, string][] } {
  const name = `/${command.data.name}`;
  const policies: [Policy, string][] = command.policy ? [[command.policy, name]] : [];
  if (invocation.press) {
    const { action } = invocation.press;
    const button = command.buttons && Object.hasOwn(command.buttons, action) ? command.buttons[action] : undefined;
    if (!button) throw new UserError(phrase('buttonUnknown'));
    if (button.policy) policies.push([button.policy, `${name} (${action})`]);
    return { handler: button.run, policies };
  }
  if (!command.subcommands) return { handler: command.execute, policies };
  const sub = invocation.subcommand && Object.hasOwn(command.subcommands, invocation.subcommand) ? command.subcommands[invocation.subcommand] : undefined;
  if (!sub) throw new UserError(phrase('useSubcommand', { choices: Object.keys(command.subcommands).map((s) => `${name} ${s}`) }));
  if (sub.policy) policies.push([sub.policy, `${name} ${invocation.subcommand}`]);
  return { handler: sub.run, policies };
}

/** Tells the user the bot is restarting (an adapter that stopped taking commands); never rejects. */
export const refuseRestarting = (invocation: Invocation): Promise<void> => refuse(invocation, text(invocation.locale, 'restarting'));

/** Tells the user `message` privately; never rejects. */
export async function refuse(invocation: Invocation, message: string): Promise<void> {
  try {
    await invocation.fail(message);
  } catch (err) {
    log.warn({ ...describe(invocation), err: err instanceof InteractionExpiredError ? err.cause : err }, 'could not tell the user about a failure');
  }
}
