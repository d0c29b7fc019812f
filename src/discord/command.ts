// The contract between command modules (commands/*.ts) and whatever runs them:
// a Discord interaction or a line typed in console mode. Handlers see only this
// narrow Invocation, so the same code answers in both places.
import {
  ApplicationIntegrationType,
  InteractionContextType,
  SlashCommandBuilder,
  type APIEmbed,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Config } from '../config.js';
import type { ModelRegistry, VersionRef } from '../registry/registry.js';
import type { Generator } from '../serving/types.js';
import type { Retrainer } from '../training/controller.js';
import type { Cooldowns } from './cooldowns.js';

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
  readonly options: OptionReader;
  /** Acknowledges now ("thinking…"); the answer follows with edit(). */
  defer(opts?: { ephemeral?: boolean }): Promise<void>;
  /** Answers at once, without defer(). */
  reply(reply: Reply & { ephemeral?: boolean }): Promise<void>;
  /** Replaces the deferred or first answer. */
  edit(reply: Reply): Promise<void>;
  followUp(reply: Reply & { ephemeral?: boolean }): Promise<void>;
  /** A short error only this user sees, whatever was sent before. */
  fail(message: string): Promise<void>;
}

/** The generator plus the serving controls commands need (GenerationService has them). */
export interface ServingGenerator extends Generator {
  /** Swaps to the registry's current version and returns it. */
  loadServable(): Promise<VersionRef>;
  /** The tfjs backend the workers run on. */
  readonly backend: string;
}

/**
 * What handlers may use. New capabilities (e.g. a retraining controller for
 * /retrain) are added as fields here and filled in by startServices().
 */
export interface Services {
  generator: ServingGenerator;
  registry: ModelRegistry;
  modelName: string;
  config: Config;
  cooldowns: Cooldowns;
  /** Starts, follows and cancels retraining (/retrain). */
  retrain: Retrainer;
}

/** A slash command module: export `data` (a SlashCommandBuilder) and `execute`. */
export interface Command {
  data: { name: string; toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody };
  execute(invocation: Invocation, services: Services): Promise<void>;
}

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
