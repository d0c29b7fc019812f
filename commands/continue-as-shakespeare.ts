// "Continue as Shakespeare", a message context-menu command (right-click a
// message → Apps): a passage seeded with the end of that message's text. The
// target message comes in the interaction, so no Message Content intent is needed.
import { ApplicationCommandType, ContextMenuCommandBuilder } from 'discord.js';
import { installed, type Invocation, type Policy } from '../src/app/command.js';
import { UserError } from '../src/app/errors.js';
import { localizations, phrase, text } from '../src/app/i18n.js';
import type { Services } from '../src/app/services.js';
import { writePassage } from './shakespeare.js';

export const data = installed(
  new ContextMenuCommandBuilder().setName(text('en-US', 'continueMenu')).setNameLocalizations(localizations('continueMenu')).setType(ApplicationCommandType.Message),
  'anywhere',
);

export const policy: Policy = { cooldown: true };

export async function execute(invocation: Invocation, services: Services): Promise<void> {
  const content = invocation.target?.content ?? '';
  if (!content.trim()) throw new UserError(phrase('nothingToContinue'));
  await writePassage(invocation, services, content, undefined, { tail: true });
}
