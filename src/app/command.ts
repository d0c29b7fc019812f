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
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Services } from './services.js';

export interface ReplyFile {
  name: string;
  data: Buffer;
  description?: string;
}

export interface Reply {
  content?: string;
  embeds?: APIEmbed[];
  files?: ReplyFile[];
}

/** Typed option getters, named like discord.js's; null when the user left an option out. */
export interface OptionReader {
  getString(name: string): string | null;
  getInteger(name: string): number | null;
  getNumber(name: string): number | null;
  getBoolean(name: string): boolean | null;
}

export interface Invocation {
  readonly commandName: string;
  readonly subcommand: string | null;
  readonly user: { id: string; name: string };
  /** Members with Manage Server, users in ADMIN_USER_IDS, and the console operator. */
  readonly isAdmin: boolean;
  /** Where it was invoked: a server, a DM or private channel, or the console. */
  readonly context: 'guild' | 'private' | 'console';
  readonly options: OptionReader;
  /** How this adapter names a user in text (a mention that never pings on Discord). */
  mention(userId: string): string;
  /** Acknowledges now ("thinking…"); the answer follows with edit(). */
  defer(opts?: { ephemeral?: boolean }): Promise<void>;
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

interface CommandBase {
  data: { name: string; toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody };
  /** Applies to every subcommand too. */
  policy?: Policy;
}

/** A slash command module: `data` (a SlashCommandBuilder), an optional `policy`, and `execute` or `subcommands`. */
export type Command = CommandBase & ({ execute: Handler; subcommands?: never } | { subcommands: Readonly<Record<string, Subcommand>>; execute?: never });

/**
 * A SlashCommandBuilder for a guild command. Installation and contexts are set
 * explicitly because Discord fills in defaults for them, and registration only
 * writes when what Discord stores differs from what we define.
 */
export function slashCommand(name: string, description: string): SlashCommandBuilder {
  return new SlashCommandBuilder()
    .setName(name)
    .setDescription(description)
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
}
