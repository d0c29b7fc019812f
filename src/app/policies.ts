// The preconditions a command declares (see Policy), checked in one place for
// every way a command can be invoked. Each returns the refusal to show (a
// phrase, rendered in the caller's language), or undefined to let the command run.
import type { Invocation, Policy } from './command.js';
import type { CooldownStore } from './cooldowns.js';
import { phrase, type Phrase } from './i18n.js';

/** What the policies look at: who asks, and where. */
export type Caller = Pick<Invocation, 'user' | 'isAdmin' | 'context' | 'locale'>;

/** What the policy guards, as the user typed it: "/retrain" or "/model rollback". */
export type Guarded = string;

export function adminRefusal(policy: Policy, invocation: Caller, guarded: Guarded): Phrase | undefined {
  if (policy.admin && !invocation.isAdmin) return phrase('adminOnly', { guarded });
  return undefined;
}

export function guildOnlyRefusal(policy: Policy, invocation: Caller, guarded: Guarded): Phrase | undefined {
  if (policy.guildOnly && invocation.context === 'private') return phrase('guildOnly', { guarded });
  return undefined;
}

/** Takes the user's cooldown when the policy asks for one; the caller releases it if the run fails. */
export async function cooldownRefusal(policy: Policy, invocation: Caller, cooldowns: CooldownStore): Promise<Phrase | undefined> {
  if (!policy.cooldown) return undefined;
  const wait = await cooldowns.take(invocation.user.id);
  return wait > 0 ? phrase('cooldown', { seconds: wait }) : undefined;
}
