// The contract between command modules (commands/*.ts) and whatever runs them:
// a Discord interaction or a line typed in console mode. Handlers see only this
// narrow Invocation and the Services facades, so the same code answers in both
// places; policies (admin, cooldown, guild only) are declared here and
// enforced by the dispatcher, never inside a handler.
import {
  ApplicationIntegrationType,
  InteractionContextType,
  SlashCommandBuilder,
  type APIEmbed,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import { localizations, text, type Catalog, type Locale, type PlainKey, type TextKey } from './i18n.js';
import type { Services } from './services.js';

export interface ReplyFile {
  name: string;
  data: Buffer;
  description?: string;
}

/** A button under a message; `id` comes from buttonId(). */
export interface ReplyButton {
  id: string;
  label: string;
}

export interface Reply {
  content?: string;
  embeds?: APIEmbed[];
  files?: ReplyFile[];
  /** Buttons under the message; [] removes those it had. */
  buttons?: ReplyButton[];
}

/** A message an invocation is about: the one a pressed button is on, or a context menu's target. */
export interface SourceMessage {
  id: string;
  content: string;
}

/** A press of a button made by buttonId(command, action, ...args). */
export interface ButtonPress {
  action: string;
  args: readonly string[];
  message: SourceMessage;
}

/** Typed option getters, named like discord.js's; null when the user left an option out. */
export interface OptionReader {
  getString(name: string): string | null;
  getInteger(name: string): number | null;
  getNumber(name: string): number | null;
  getBoolean(name: string): boolean | null;
  getAttachment(name: string): Attachment | null;
}

/** A file given as an option: uploaded to Discord, or a local path in console mode. */
export interface Attachment {
  readonly name: string;
  /** Bytes, as declared by whoever sent it (checked again while reading). */
  readonly size: number;
  readonly contentType: string | null;
  /**
   * Its bytes. Rejects with AttachmentTooLargeError past `maxBytes` (declared
   * or counted while reading, so a false size cannot fill memory) and with
   * AttachmentUnavailableError when it cannot be read within `timeoutMs`.
   */
  read(limits: AttachmentLimits): Promise<Buffer>;
}

export interface AttachmentLimits {
  maxBytes: number;
  timeoutMs: number;
}

export class AttachmentTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the attachment is larger than ${maxBytes} bytes`);
    this.name = 'AttachmentTooLargeError';
  }
}

export class AttachmentUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`the attachment could not be read: ${reason}`);
    this.name = 'AttachmentUnavailableError';
  }
}

export interface Invocation {
  readonly commandName: string;
  readonly subcommand: string | null;
  readonly user: { id: string; name: string };
  /** Members with Manage Server, users in ADMIN_USER_IDS, and the console operator. */
  readonly isAdmin: boolean;
  /** Where it was invoked: a server, a DM or private channel, or the console. */
  readonly context: 'guild' | 'private' | 'console';
  /** Whether edits replace what the user sees (Discord), so a reply can show text as it is written; false where each edit is printed anew (console). */
  readonly live: boolean;
  /** The user's language (Discord's locale, e.g. "de" or "es-ES"). */
  readonly locale: string;
  readonly options: OptionReader;
  /** Set when a button on one of the bot's messages was pressed; commandName is the button's command. */
  readonly press: ButtonPress | null;
  /** The message a message context-menu command was used on. */
  readonly target: SourceMessage | null;
  /** How this adapter names a user in text (a mention that never pings on Discord). */
  mention(userId: string): string;
  /** Acknowledges now ("thinking…"); the answer follows with edit(). */
  defer(opts?: { ephemeral?: boolean }): Promise<void>;
  /** Button presses only: acknowledges without a new message; edit() then changes the pressed message. */
  deferUpdate(): Promise<void>;
  /** Answers at once, without defer(). */
  reply(reply: Reply & { ephemeral?: boolean }): Promise<void>;
  /** Replaces the deferred or first answer. */
  edit(reply: Reply): Promise<void>;
  followUp(reply: Reply & { ephemeral?: boolean }): Promise<void>;
  /**
   * Tells this user something after the interaction can no longer be answered
   * (Discord: its token lasts 15 minutes): a direct message, or a post in the
   * channel it came from when DMs are closed.
   */
  tellLater(reply: Reply): Promise<void>;
  /** A short error only this user sees, whatever was sent before. */
  fail(message: string): Promise<void>;
}

/** What a command or subcommand requires; checked by the dispatcher before it runs. */
export interface Policy {
  /** Only admins (see Invocation.isAdmin). */
  admin?: boolean;
  /** Only in a server (or the console), never in DMs. */
  guildOnly?: boolean;
  /** The per-user cooldown (COOLDOWN_SECONDS) applies; a run that fails does not count. */
  cooldown?: boolean;
}

export type Handler = (invocation: Invocation, services: Services) => Promise<void>;

export interface Subcommand {
  policy?: Policy;
  run: Handler;
}

/** What autocomplete asks: the option being typed and its text so far (at most MAX_QUERY characters). */
export interface CompletionQuery {
  option: string;
  value: string;
}

/** Suggestions for the option being typed, best first; the dispatcher enforces Discord's limits. */
export type Completer = (query: CompletionQuery, services: Services) => Promise<string[]>;

interface CommandBase {
  /** A SlashCommandBuilder, or a ContextMenuCommandBuilder for a message command. */
  data: { name: string; toJSON(): RESTPostAPIApplicationCommandsJSONBody };
  /** Applies to every subcommand and button too. */
  policy?: Policy;
  /** Handlers for this command's buttons, by action (see buttonId). */
  buttons?: Readonly<Record<string, Subcommand>>;
  complete?: Completer;
}

/** A command module: `data`, an optional `policy`, `buttons` and `complete`, and `execute` or `subcommands`. */
export type Command = CommandBase & ({ execute: Handler; subcommands?: never } | { subcommands: Readonly<Record<string, Subcommand>>; execute?: never });

/**
 * A SlashCommandBuilder for a guild command, described by the catalog entry
 * `description` (src/app/i18n.ts). Installation and contexts are set
 * explicitly because Discord fills in defaults for them, and registration only
 * writes when what Discord stores differs from what we define.
 */
export function slashCommand(name: string, description: PlainKey, where: Installs = 'guild'): SlashCommandBuilder {
  return installed(withDescription(new SlashCommandBuilder().setName(name), description), where);
}

/** A command, subcommand or option builder: what Discord shows of it can be translated. */
interface Describable<B> {
  setDescription(description: string): B;
  setDescriptionLocalizations(localized: Record<Locale, string>): B;
}

/** Sets `builder`'s description to the catalog entry `key`: English as the default, and each translation for Discord to show its readers. */
export function withDescription<B extends Describable<B>, K extends TextKey>(builder: B, key: K, ...vars: Parameters<Catalog[K]>): B {
  return builder.setDescription(text('en-US', key, ...vars)).setDescriptionLocalizations(localizations(key, ...vars));
}

/**
 * 'guild': installed to servers, used in servers (admin commands). 'anywhere':
 * also installed to a user's account, and usable in DMs with the bot and in
 * group DMs.
 */
export type Installs = 'guild' | 'anywhere';

export function installed<B extends { setContexts(...c: InteractionContextType[]): B; setIntegrationTypes(...t: ApplicationIntegrationType[]): B }>(builder: B, where: Installs): B {
  return where === 'guild'
    ? builder.setContexts(InteractionContextType.Guild).setIntegrationTypes(ApplicationIntegrationType.GuildInstall)
    : builder
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall);
}

/** Discord's limit on a component's custom_id. */
const CUSTOM_ID_LIMIT = 100;

/** The custom_id of a button that the dispatcher routes to `command`'s buttons[action] with `args`. */
export function buttonId(command: string, action: string, ...args: string[]): string {
  const id = [command, action, ...args].join(':');
  if (args.some((a) => a.includes(':')) || id.length > CUSTOM_ID_LIMIT) throw new Error(`bad button id ${id}`);
  return id;
}

/** The command, action and args of a custom_id made by buttonId. */
export function parseButtonId(id: string): { command: string; action: string; args: string[] } {
  const [command = '', action = '', ...args] = id.split(':');
  return { command, action, args };
}
