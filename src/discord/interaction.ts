// The Invocation adapter for a Discord slash-command interaction. Every
// message goes out with mentions disabled, and Discord's "this interaction is
// gone" errors become InteractionExpiredError so they are logged, not shown.
import {
  AttachmentBuilder,
  DiscordAPIError,
  MessageFlags,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  userMention,
  type ChatInputCommandInteraction,
} from 'discord.js';
import type { Invocation, OptionReader, Reply } from '../app/command.js';
import { InteractionExpiredError } from '../app/errors.js';
import { fitMessage } from '../app/replies/limits.js';

/** Nothing in a reply pings anyone, whatever text the model or the user wrote. */
export const NO_MENTIONS = { parse: [] };

const EXPIRED_CODES = new Set<unknown>([RESTJSONErrorCodes.UnknownInteraction, RESTJSONErrorCodes.InvalidWebhookToken]);

function payload(reply: Reply) {
  return {
    content: reply.content === undefined ? undefined : fitMessage(reply.content),
    embeds: reply.embeds,
    files: reply.files?.map((f) => new AttachmentBuilder(f.data, { name: f.name, description: f.description })),
    allowedMentions: NO_MENTIONS,
  };
}

export class DiscordInvocation implements Invocation {
  readonly isAdmin: boolean;
  private ephemeral = false;

  constructor(
    private readonly interaction: ChatInputCommandInteraction,
    adminUserIds: readonly string[],
  ) {
    this.isAdmin =
      adminUserIds.includes(interaction.user.id) || (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false);
  }

  get commandName(): string {
    return this.interaction.commandName;
  }
  get subcommand(): string | null {
    return this.interaction.options.getSubcommand(false);
  }
  get user() {
    return { id: this.interaction.user.id, name: this.interaction.user.username };
  }
  get options(): OptionReader {
    return this.interaction.options;
  }
  get context(): Invocation['context'] {
    return this.interaction.inGuild() ? 'guild' : 'private';
  }

  mention(userId: string): string {
    return userMention(userId);
  }

  defer(opts: { ephemeral?: boolean } = {}): Promise<void> {
    this.ephemeral = opts.ephemeral ?? false;
    return this.call(() => this.interaction.deferReply(this.ephemeral ? { flags: MessageFlags.Ephemeral } : {}));
  }

  reply(reply: Reply & { ephemeral?: boolean }): Promise<void> {
    this.ephemeral = reply.ephemeral ?? false;
    return this.call(() => this.interaction.reply({ ...payload(reply), ...(this.ephemeral ? { flags: MessageFlags.Ephemeral } : {}) }));
  }

  edit(reply: Reply): Promise<void> {
    return this.call(() => this.interaction.editReply(payload(reply)));
  }

  followUp(reply: Reply & { ephemeral?: boolean }): Promise<void> {
    return this.call(() => this.interaction.followUp({ ...payload(reply), ...(reply.ephemeral ? { flags: MessageFlags.Ephemeral } : {}) }));
  }

  async tellLater(reply: Reply): Promise<void> {
    const { user, channelId, client } = this.interaction;
    try {
      await user.send(payload(reply));
    } catch (err) {
      // DMs closed (or the user is gone): say it where they asked, naming them (mentions never ping).
      const channel = channelId ? await client.channels.fetch(channelId) : null;
      if (!channel?.isSendable()) throw err;
      await channel.send(payload({ ...reply, content: `${userMention(user.id)} ${reply.content ?? ''}` }));
    }
  }

  async fail(message: string): Promise<void> {
    const i = this.interaction;
    if (!i.deferred && !i.replied) return this.reply({ content: message, ephemeral: true });
    if (this.ephemeral) return this.edit({ content: message, embeds: [], files: [] });
    // A public "thinking…" cannot become private: remove it and answer privately.
    await this.call(() => i.deleteReply());
    await this.followUp({ content: message, ephemeral: true });
  }

  private async call(request: () => Promise<unknown>): Promise<void> {
    try {
      await request();
    } catch (err) {
      if (err instanceof DiscordAPIError && EXPIRED_CODES.has(err.code)) throw new InteractionExpiredError(err);
      throw err;
    }
  }
}
