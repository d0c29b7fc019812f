// Every short user-facing string (refusals, notes, labels, command and option
// descriptions) in one typed catalog: English is the reference, and each entry
// is a function of exactly the values it needs, so a translation cannot drop or
// misname one. Every translation (src/app/i18n/*.ts) is a whole Catalog, so a
// missing one fails the build. Picked by the Discord locale of the interaction;
// English where there is none (and in console mode). Long admin reports
// (replies/retrain.ts, replies/model-info.ts) stay English: they are tables of
// numbers and technical reasons for the operator, who reads the logs in English too.
import { listCharacters } from '../ml/vocab.js';
import type { OutcomeKind } from '../training/run-records.js';
import { de } from './i18n/de.js';
import { es } from './i18n/es-ES.js';
import { seedChanges, type SeedChanges } from './i18n/format.js';
import { fr } from './i18n/fr.js';
import { ja } from './i18n/ja.js';
import { pt } from './i18n/pt-BR.js';

const en = {
  buttonAgain: () => 'Again',
  buttonContinue: () => 'Continue',
  buttonUnknown: () => 'This button no longer works; run the command again.',
  buttonNotPassage: () => 'This message no longer holds a passage to work from.',
  continueTooLong: () => 'This passage is too long to continue here; use Again, or /shakespeare with its last lines as the seed.',
  seedChanged: (v: SeedChanges) =>
    seedChanges(v, { changed: (p) => `changed ${p}`, dropped: (c) => `dropped ${c} (unknown to the model)`, more: (n) => ` and ${n} more`, separator: '; ' }),
  seedNote: (v: { what: string }) => `Seed adjusted: ${v.what}.`,
  shakespeareDescription: () => 'Write Shakespeare-like text that starts with your seed',
  versionGone: (v: { was: string; now: string }) => `${v.was} is no longer served; ${v.now} wrote this.`,
  nothingToContinue: () => 'That message has no text I can continue.',
  continueMenu: () => 'Continue as Shakespeare',
  writing: () => '*writing…*',
  cutShort: (v: { chars: number; file: string }) => `Cut short here; all ${v.chars} characters are in ${v.file}.`,
  // Policies (src/app/policies.ts); `guarded` is the command as typed, e.g. "/model rollback".
  adminOnly: (v: { guarded: string }) => `Only members who can manage this server may use ${v.guarded}.`,
  guildOnly: (v: { guarded: string }) => `${v.guarded} works in a server only.`,
  cooldown: (v: { seconds: number }) => `You asked a moment ago; try again in ${v.seconds} s.`,
  // Failures (src/app/errors.ts, dispatch.ts); a `detail` is a technical reason, in English.
  invalidRequest: (v: { detail: string }) => `Invalid request: ${v.detail}.`,
  busy: (v: { seconds: number }) => `The bard is busy; try again in ${v.seconds} s.`,
  noModel: () => 'No model is loaded yet; try again in a minute.',
  modelLoading: () => 'The model is loading; try again in a few seconds.',
  workerFailed: () => 'The generator failed while writing this; it has restarted, so try again.',
  refused: (v: { detail: string }) => `Refused: ${v.detail}.`,
  genericFailure: () => 'Something went wrong; it has been logged.',
  restarting: () => 'The bot is restarting; try again in a minute.',
  unknownCommand: (v: { command: string }) => `Unknown command /${v.command}.`,
  useSubcommand: (v: { choices: string[] }) => `Use ${v.choices.join(', ')}.`,
  // /model
  noVersions: (v: { model: string }) => `There are no versions of ${v.model} yet.`,
  badVersionName: () => 'Versions are named like v3; /model versions lists them.',
  unknownVersion: (v: { model: string; version: string }) => `There is no ${v.model} ${v.version}; /model versions lists them.`,
  rollbackFailed: (v: { model: string; version: string; detail: string; serving?: string }) =>
    `Could not load ${v.model} ${v.version}: ${v.detail}. Still serving ${v.serving ?? 'nothing'}.`,
  nowServing: (v: { model: string; version: string; was?: string }) => `Now serving ${v.model} ${v.version}${v.was ? ` (was ${v.was})` : ''}.`,
  chartDescription: () => 'Training and validation loss per epoch',
  // /retrain; `last` is an outcome from replies/retrain.ts (English, see above).
  retrainBusy: (v: { detail: string }) => `Not started: ${v.detail}. /retrain status shows its progress.`,
  retrainWillReport: () => 'The outcome will follow here, or by DM if the run outlasts this message (15 minutes).',
  retrainIdle: (v: { last: string }) => `No retrain is running. The last one: ${v.last}`,
  retrainNever: () => 'No retrain is running, and none has run yet.',
  retrainNotRunning: () => 'No retrain is running.',
  retrainAlreadyOver: () => 'The retrain had already finished.',
  retrainEnded: (v: { run: string; outcome: OutcomeKind }) => `Retrain ${v.run} ${v.outcome}.`,
  retrainStillRunning: (v: { run: string }) => `Retrain ${v.run} is still running; live updates stopped here (/retrain status shows it).`,
  // Command definitions: descriptions (at most 100 characters) and option names
  // (lowercase, no spaces). The English *Name entries only mirror the builders'
  // setName(), which handlers read: Discord sends options by that name whatever the user sees.
  // Command and subcommand names stay English: refusals and notes name them, as in "/model versions".
  seedName: () => 'seed',
  seedOption: () => 'Text the passage starts with, e.g. ROMEO:',
  lengthName: () => 'length',
  lengthOption: (v: { default: number }) => `Characters to write after the seed (default ${v.default})`,
  temperatureName: () => 'temperature',
  temperatureOption: (v: { default: number }) => `Randomness: low is safe, high is wild (default ${v.default})`,
  topKOption: () => 'Sample only from the k likeliest characters',
  topPOption: () => 'Sample only from the likeliest characters covering this probability',
  modelDescription: () => 'About the model that writes the text',
  modelInfoDescription: () => 'Version, validation loss, training details and a loss chart',
  modelVersionsDescription: () => '(admins) List every version and which one is current',
  modelRollbackDescription: () => '(admins) Serve another version now',
  versionName: () => 'version',
  versionOption: () => 'The version to serve, e.g. v2',
  retrainDescription: () => '(admins) Retrain the model on the current corpus and publish it if it is better',
  retrainStartDescription: () => 'Start a retrain now',
  epochsName: () => 'epochs',
  epochsOption: () => 'Epochs to train (default: as configured)',
  minutesName: () => 'minutes',
  minutesOption: () => 'Time budget in minutes (default: as configured)',
  retrainStatusDescription: () => 'Progress of the running retrain, or how the last one ended',
  retrainCancelDescription: () => 'Stop the running retrain; nothing is published',
  // /corpus: the command's definition (descriptions and option names, as above), then its replies.
  corpusAddDescription: () => 'Add a UTF-8 .txt file to the corpus; the next retrain trains on it',
  fileName: () => 'file',
  corpusFileOption: () => 'A .txt file, UTF-8',
  nameName: () => 'name',
  corpusNameOption: () => 'Store it under this name (default: the file\'s own)',
  corpusListDescription: () => 'The files, their sizes, and which are new since the serving version was trained',
  corpusRemoveDescription: () => 'Remove a file from the corpus (never the last one)',
  corpusRemoveNameOption: () => 'The file, as /corpus list shows it',
  corpusDescription: () => '(admins) The text the model is retrained on',
  corpusNotTxt: (v: { name: string }) => `Only .txt files can be added to the corpus; ${v.name} is not one.`,
  corpusTooLarge: (v: { name: string; limit: string }) => `${v.name} is larger than ${v.limit}, the most /corpus add takes; nothing was downloaded past that.`,
  corpusUnavailable: (v: { name: string; reason: string }) => `Could not get ${v.name}: ${v.reason}. Nothing was added.`,
  corpusBadName: (v: { name: string }) => `${JSON.stringify(v.name)} is not a name I can store: letters, digits, ".", "-" and "_", ending in .txt, not starting with a dot, no folders.`,
  corpusExists: (v: { name: string }) => `The corpus already has ${v.name}; remove it first (/corpus remove) or add it under another name.`,
  corpusMissing: (v: { name: string }) => `The corpus has no file ${v.name}; /corpus list shows its files.`,
  corpusLastFile: (v: { name: string }) => `${v.name} is the corpus's only file, and a retrain needs one; add another before removing it.`,
  corpusNotUtf8: (v: { name: string; byte: number; offset: number }) =>
    `${v.name} is not UTF-8 text (invalid byte 0x${v.byte.toString(16).padStart(2, '0')} at byte offset ${v.offset}): a binary file, or text in another encoding. Save it as UTF-8 and add it again.`,
  corpusBinary: (v: { name: string }) => `${v.name} is a binary file (it contains NUL bytes), not text.`,
  corpusEmpty: (v: { name: string }) => `${v.name} has no text.`,
  corpusAdded: (v: { name: string; chars: number; model: string }) =>
    `Added ${v.name} to the ${v.model} corpus: ${v.chars.toLocaleString('en-US')} characters. The next retrain (nightly, or /retrain start) trains on it.`,
  corpusNewChars: (v: { version: string; chars: string[] }) =>
    `${v.chars.length} character${v.chars.length === 1 ? '' : 's'} new to the vocabulary of ${v.version}: ${listCharacters(v.chars)}. The next retrain starts from scratch (a new vocabulary cannot warm-start).`,
  corpusNoNewChars: (v: { version: string }) => `Every character in it is in the vocabulary of ${v.version}.`,
  corpusListHeader: (v: { model: string; files: number; chars: number }) =>
    `The ${v.model} corpus: ${v.files} file${v.files === 1 ? '' : 's'}, ${v.chars.toLocaleString('en-US')} characters.`,
  corpusListFile: (v: { name: string; chars: number; size: string; isNew: boolean; problem?: string }) =>
    `• ${v.name}: ${v.chars.toLocaleString('en-US')} characters, ${v.size}${v.isNew ? ' (new since the serving version was trained)' : ''}${v.problem ? ` (${v.problem}: every retrain fails until it is fixed or removed)` : ''}`,
  corpusListMore: (v: { count: number }) => `…and ${v.count} more.`,
  corpusNoFiles: (v: { model: string }) => `The ${v.model} corpus has no files; /corpus add one.`,
  corpusUnchanged: (v: { version: string }) => `${v.version} (serving) was trained on exactly these files.`,
  corpusChanged: (v: { version: string; removed: string[] }) =>
    `The corpus has changed since ${v.version} (serving) was trained${v.removed.length ? `; removed since: ${v.removed.join(', ')}` : ''}.`,
  corpusRemoved: (v: { name: string; files: number }) => `Removed ${v.name}; ${v.files} file${v.files === 1 ? '' : 's'} left. The next retrain trains without it.`,
  corpusGoneChars: (v: { version: string; chars: string[] }) =>
    `${v.chars.length} character${v.chars.length === 1 ? '' : 's'} of the vocabulary of ${v.version} no longer occur in the corpus: ${listCharacters(v.chars)}. The next retrain starts from scratch.`,
};

export type Catalog = typeof en;
export type TextKey = keyof Catalog;
/** The entries that take no values: what Discord's localization maps are made of. */
export type PlainKey = { [K in TextKey]: Parameters<Catalog[K]> extends [] ? K : never }[TextKey];

/** The locales with translations (Discord's names). */
export const LOCALES = ['de', 'fr', 'es-ES', 'pt-BR', 'ja'] as const;
export type Locale = (typeof LOCALES)[number];

/** Every translation is a whole Catalog: one missing or with other values fails the build. */
const translations: Readonly<Record<Locale, Catalog>> = { de, fr, 'es-ES': es, 'pt-BR': pt, ja };

/** The catalog for a Discord locale: its own, else one of the same language ("es-419" reads es-ES), else English. */
function catalog(locale: string): Catalog {
  if (Object.hasOwn(translations, locale)) return translations[locale as Locale];
  const language = locale.split('-')[0];
  const sameLanguage = LOCALES.find((l) => l.split('-')[0] === language);
  return sameLanguage ? translations[sameLanguage] : en;
}

/** The catalog entry `key` in `locale` (a Discord locale such as "de" or "pt-BR"), else in English. */
export function text<K extends TextKey>(locale: string, key: K, ...vars: Parameters<Catalog[K]>): string {
  return (catalog(locale)[key] as (...a: Parameters<Catalog[K]>) => string)(...vars);
}

/** `key` in every translated locale, for Discord's name_localizations and description_localizations. */
export function localizations<K extends TextKey>(key: K, ...vars: Parameters<Catalog[K]>): Record<Locale, string> {
  return Object.fromEntries(LOCALES.map((l) => [l, text(l, key, ...vars)])) as Record<Locale, string>;
}

/** A message to show later in its reader's language: for errors made where the locale is not at hand. */
export type Phrase = (locale: string) => string;

export function phrase<K extends TextKey>(key: K, ...vars: Parameters<Catalog[K]>): Phrase {
  return (locale) => text(locale, key, ...vars);
}
