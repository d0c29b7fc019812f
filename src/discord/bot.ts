// The Discord adapter: a discord.js client that turns interactions (slash
// commands, button presses, context-menu commands) into Invocations for the
// dispatcher and autocomplete into its suggestions, registers the definitions
// when they changed, and stops gracefully (no new commands, bounded wait for
// those in flight).
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Events, GatewayIntentBits, Options, type AutocompleteInteraction, type Interaction } from 'discord.js';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { refuseRestarting, type Dispatcher } from '../app/dispatch.js';
import { DiscordInvocation, isAdmin, NO_MENTIONS } from './interaction.js';
import { syncCommands } from './registration.js';

export interface BotOptions {
  config: Config & { DISCORD_TOKEN: string };
  dispatcher: Dispatcher;
}

/**
 * Every interaction brings its user and member, and discord.js caches each one
 * for good; nothing here reads them back. Over months of new users that is a
 * heap without bound, so both caches are capped (the bot's own entry kept).
 */
export const CACHE_LIMITS = { users: 500, membersPerGuild: 500 } as const;

/** How long start() waits for the gateway's READY after a successful login. */
const READY_TIMEOUT_MS = 60_000;

export class Bot {
  readonly client: Client;
  private readonly inFlight = new Set<Promise<void>>();
  private accepting = true;

  constructor(private readonly opts: BotOptions) {
    this.client = new Client({
      // Interactions arrive without any intent; Guilds keeps the guild cache discord.js expects.
      intents: [GatewayIntentBits.Guilds],
      // Interaction edits are webhook calls, which discord.js holds to 50/s by
      // default: a burst of answers would queue behind each other.
      rest: { api: opts.config.DISCORD_API_URL, globalRequestsPerSecond: 500 },
      allowedMentions: NO_MENTIONS,
      makeCache: Options.cacheWithLimits({
        ...Options.DefaultMakeCacheSettings,
        UserManager: { maxSize: CACHE_LIMITS.users, keepOverLimit: (user) => user.id === user.client.user.id },
        GuildMemberManager: { maxSize: CACHE_LIMITS.membersPerGuild, keepOverLimit: (member) => member.id === member.client.user.id },
      }),
    });
    this.client.on(Events.InteractionCreate, (interaction) => this.onInteraction(interaction));
    this.client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
    this.client.on(Events.Warn, (message) => log.warn(message));
    this.client.on(Events.ShardDisconnect, (event) => log.warn({ code: event.code }, 'gateway disconnected'));
    this.client.on(Events.ShardReconnecting, () => log.info('gateway reconnecting'));
    this.client.on(Events.ShardResume, (_id, replayed) => log.info({ replayed }, 'gateway session resumed'));
  }

  /** Logs in, waits for READY, then registers the commands if Discord's copy differs. */
  async start(): Promise<void> {
    const ready = once(this.client, Events.ClientReady, { signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
    await this.client.login(this.opts.config.DISCORD_TOKEN);
    await ready;
    log.info({ user: this.client.user?.tag, guilds: this.client.guilds.cache.size }, 'connected to Discord');
    // Sharded, the commands are the application's, not a shard's: the process with shard 0 registers them.
    if (this.client.shard && !this.client.shard.ids.includes(0)) return;
    try {
      await syncCommands({
        rest: this.client.rest,
        applicationId: this.client.application!.id,
        guildId: this.opts.config.DISCORD_GUILD_ID,
        definitions: [...this.opts.dispatcher.commands.values()].map((c) => c.data.toJSON()),
      });
    } catch (err) {
      // Commands registered earlier keep working; the next start tries again.
      log.error({ err }, 'could not register slash commands');
    }
  }

  /** Posts to a channel (retrain reports); mentions never ping. */
  async post(channelId: string, content: string): Promise<void> {
    const channel = await this.client.channels.fetch(channelId);
    if (!channel?.isSendable()) throw new Error(`channel ${channelId} is not one the bot can post in`);
    await channel.send({ content, allowedMentions: NO_MENTIONS });
  }

  /** Refuses new commands, waits up to graceMs for those running, disconnects. */
  async stop(graceMs: number): Promise<void> {
    this.accepting = false;
    const ac = new AbortController();
    await Promise.race([Promise.allSettled(this.inFlight), sleep(graceMs, undefined, { signal: ac.signal }).catch(() => undefined)]);
    ac.abort();
    if (this.inFlight.size > 0) log.warn({ unfinished: this.inFlight.size }, 'stopping with commands still running');
    await this.client.destroy();
  }

  private onInteraction(interaction: Interaction): void {
    if (interaction.isAutocomplete()) return this.track(this.complete(interaction));
    if (!interaction.isChatInputCommand() && !interaction.isButton() && !interaction.isMessageContextMenuCommand()) return;
    const invocation = new DiscordInvocation(interaction, this.opts.config.ADMIN_USER_IDS);
    this.track(this.accepting ? this.opts.dispatcher.run(invocation) : refuseRestarting(invocation));
  }

  private async complete(interaction: AutocompleteInteraction): Promise<void> {
    const focused = interaction.options.getFocused(true);
    const choices = await this.opts.dispatcher.complete({
      commandName: interaction.commandName,
      subcommand: interaction.options.getSubcommand(false),
      user: { id: interaction.user.id, name: interaction.user.username },
      isAdmin: isAdmin(interaction, this.opts.config.ADMIN_USER_IDS),
      context: interaction.inGuild() ? 'guild' : 'private',
      locale: interaction.locale,
      query: { option: focused.name, value: String(focused.value) },
    });
    try {
      await interaction.respond(choices);
    } catch (err) {
      // The user typed on (a newer request replaces this one) or the 3 s passed: nothing to tell them.
      log.debug({ err, command: interaction.commandName }, 'autocomplete answer not delivered');
    }
  }

  private track(task: Promise<void>): void {
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }
}
