// /corpus add | list | remove, for admins: the text every retrain (nightly, or
// /retrain start) trains on. Registered with Manage Server as the default
// permission, and the admin policy is checked again on every run. An upload
// is refused before it is downloaded when its name or declared size is wrong,
// and cut off at the cap when the size was not the truth.
import { PermissionFlagsBits } from 'discord.js';
import { AttachmentTooLargeError, AttachmentUnavailableError, slashCommand, withDescription, type Invocation, type Policy, type Subcommand } from '../src/app/command.js';
import { CorpusRefusal, validFileName, type CorpusProblem } from '../src/app/corpus.js';
import { UserError } from '../src/app/errors.js';
import { localizations, text } from '../src/app/i18n.js';
import type { CorpusListing, Services } from '../src/app/services.js';

/** Files named in one /corpus list; the rest are counted (a message holds 2,000 characters). */
const LISTED = 25;

export const data = slashCommand('corpus', 'corpusDescription')
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .addSubcommand((s) =>
    withDescription(s.setName('add'), 'corpusAddDescription')
      .addAttachmentOption((o) => withDescription(o.setName('file').setNameLocalizations(localizations('fileName')), 'corpusFileOption').setRequired(true))
      .addStringOption((o) => withDescription(o.setName('name').setNameLocalizations(localizations('nameName')), 'corpusNameOption').setMaxLength(100)),
  )
  .addSubcommand((s) => withDescription(s.setName('list'), 'corpusListDescription'))
  .addSubcommand((s) =>
    withDescription(s.setName('remove'), 'corpusRemoveDescription').addStringOption((o) =>
      withDescription(o.setName('name').setNameLocalizations(localizations('nameName')), 'corpusRemoveNameOption').setRequired(true).setMaxLength(100),
    ),
  );

export const policy: Policy = { admin: true, guildOnly: true };

/** "Sonnets.TXT" → "Sonnets.txt", "sonnets" → "sonnets.txt": the ending training reads. */
const storedName = (given: string) => given.replace(/\.txt$/i, '') + '.txt';

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [value, unit] = bytes < 2 ** 20 ? [bytes / 1024, 'KiB'] : [bytes / 2 ** 20, 'MiB'];
  return `${Number(value.toFixed(1))} ${unit}`;
}

function refusal(locale: string, problem: CorpusProblem): string {
  switch (problem.kind) {
    case 'notUtf8':
      return text(locale, 'corpusNotUtf8', problem);
    case 'badName':
      return text(locale, 'corpusBadName', problem);
    case 'exists':
      return text(locale, 'corpusExists', problem);
    case 'missing':
      return text(locale, 'corpusMissing', problem);
    case 'lastFile':
      return text(locale, 'corpusLastFile', problem);
    case 'binary':
      return text(locale, 'corpusBinary', problem);
    case 'empty':
      return text(locale, 'corpusEmpty', problem);
  }
}

/** Runs a store call; its refusals become messages for the user. */
async function refused<T>(locale: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof CorpusRefusal) throw new UserError(refusal(locale, err.problem));
    throw err;
  }
}

async function add(invocation: Invocation, { corpus, models }: Services): Promise<void> {
  const { locale } = invocation;
  const file = invocation.options.getAttachment('file');
  if (!file) throw new UserError(text(locale, 'corpusUnavailable', { name: 'file', reason: 'no file was attached' }));
  if (!/\.txt$/i.test(file.name)) throw new UserError(text(locale, 'corpusNotTxt', { name: file.name }));
  const name = storedName(invocation.options.getString('name') ?? file.name);
  // Checked before downloading: a bad name or an oversized file costs nothing.
  if (!validFileName(name)) throw new UserError(refusal(locale, { kind: 'badName', name }));
  const limit = size(corpus.limits.maxBytes);
  if (file.size > corpus.limits.maxBytes) throw new UserError(text(locale, 'corpusTooLarge', { name: file.name, limit }));
  await invocation.defer({ ephemeral: true });
  let bytes: Buffer;
  try {
    bytes = await file.read(corpus.limits);
  } catch (err) {
    if (err instanceof AttachmentTooLargeError) throw new UserError(text(locale, 'corpusTooLarge', { name: file.name, limit }));
    if (err instanceof AttachmentUnavailableError) throw new UserError(text(locale, 'corpusUnavailable', { name: file.name, reason: err.reason }));
    throw err;
  }
  const added = await refused(locale, () => corpus.add(name, bytes));
  const lines = [text(locale, 'corpusAdded', { name: added.name, chars: added.chars, model: models.name })];
  if (added.serving) {
    const { version, newChars } = added.serving;
    lines.push(newChars.length > 0 ? text(locale, 'corpusNewChars', { version, chars: newChars }) : text(locale, 'corpusNoNewChars', { version }));
  }
  await invocation.edit({ content: lines.join('\n') });
}

function listText(locale: string, model: string, listing: CorpusListing): string {
  const { files, chars, serving } = listing;
  if (files.length === 0) return text(locale, 'corpusNoFiles', { model });
  const lines = [
    text(locale, 'corpusListHeader', { model, files: files.length, chars }),
    ...files.slice(0, LISTED).map((f) => text(locale, 'corpusListFile', { name: f.name, chars: f.chars, size: size(f.bytes), isNew: f.new, problem: f.problem })),
  ];
  if (files.length > LISTED) lines.push(text(locale, 'corpusListMore', { count: files.length - LISTED }));
  if (serving) lines.push(serving.unchanged ? text(locale, 'corpusUnchanged', serving) : text(locale, 'corpusChanged', serving));
  return lines.join('\n');
}

async function list(invocation: Invocation, { corpus, models }: Services): Promise<void> {
  await invocation.defer({ ephemeral: true });
  await invocation.edit({ content: listText(invocation.locale, models.name, await corpus.list()) });
}

async function remove(invocation: Invocation, { corpus }: Services): Promise<void> {
  const { locale } = invocation;
  const name = storedName(invocation.options.getString('name') ?? '');
  await invocation.defer({ ephemeral: true });
  const removed = await refused(locale, () => corpus.remove(name));
  const lines = [text(locale, 'corpusRemoved', removed)];
  if (removed.serving?.goneChars.length) lines.push(text(locale, 'corpusGoneChars', { version: removed.serving.version, chars: removed.serving.goneChars }));
  await invocation.edit({ content: lines.join('\n') });
}

export const subcommands: Record<string, Subcommand> = {
  add: { run: add },
  list: { run: list },
  remove: { run: remove },
};
