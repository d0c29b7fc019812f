// The Invocation adapter for the Discord interactions that run a command: a
// slash command, a press of one of the bot's buttons, or a message
// context-menu command. Every message goes out with mentions disabled and
// within Discord's limits, and Discord's "this interaction is gone" errors
// become InteractionExpiredError so they are logged, not shown.
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  DiscordAPIError,
  MessageFlags,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  userMention,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type MessageContextMenuCommandInteraction,
} from 'discord.js';
import { parseButtonId, type ButtonPress, type Invocation, type OptionReader, type Reply, type SourceMessage } from '../app/command.js';
import { InteractionExpiredError } from '../app/errors.js';
import { fitMessage } from '../app/replies/limits.js';
import { remoteAttachment } from './attachments.js';

/** Nothing in a reply pings anyone, whatever text the model or the user wrote. */
export const NO_MENTIONS = { parse: [] };

const EXPIRED_CODES = new Set<unknown>([RESTJSONErrorCodes.UnknownInteraction, RESTJSONErrorCodes.InvalidWebhookToken, RESTJSONErrorCodes.UnknownWebhook]);

/** Runs a request for an interaction; Discord's "this interaction is gone" becomes InteractionExpiredError (logged, not shown). */
export async function answerInteraction(request: () => Promise<unknown>): Promise<void> {
  try {
    await request();
  } catch (err) {
    if (err instanceof DiscordAPIError && EXPIRED_CODES.has(err.code)) throw new InteractionExpiredError(err);
    throw err;
  }
}

/** Discord allows 5 buttons in a row. */
const BUTTONS_PER_ROW = 5;

export type CommandInteraction = ChatInputCommandInteraction | ButtonInteraction | MessageContextMenuCommandInteraction;

function payload(reply: Reply) {
  const rows: ActionRowBuilder<ButtonBuilder>[] = [];
  for (let i = 0; i < (reply.buttons?.length ?? 0); i += BUTTONS_PER_ROW) {
    const buttons = reply.buttons!.slice(i, i + BUTTONS_PER_ROW).map((b) => new ButtonBuilder().setCustomId(b.id).setLabel(b.label).setStyle(ButtonStyle.Secondary));
    rows.push(new ActionRowBuilder<ButtonBuilder>().addComponents(buttons));
  }
  return {
    content: reply.content === undefined ? undefined : fitMessage(reply.content),
    embeds: reply.embeds,
    files: reply.files?.map((f) => new AttachmentBuilder(f.data, { name: f.name, description: f.description })),
    components: reply.buttons === undefined ? undefined : rows,
    allowedMentions: NO_MENTIONS,
  };
}

/**
 * Members with Manage Server and the listed users, in a server. A
 * user-installed app used in a DM or group DM has no member: nobody is an admin there.
 */
export function isAdmin(interaction: Pick<Interaction, 'member' | 'user' | 'memberPermissions'>, adminUserIds: readonly string[]): boolean {
  if (interaction.member === null) return false;
  return adminUserIds.includes(interaction.user.id) || (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false);
}

/** Options of a slash command; other interactions have none. */
const NO_OPTIONS: OptionReader = { getString: () => null, getInteger: () => null, getNumber: () => null, getBoolean: () => null, getAttachment: () => null };

export class DiscordInvocation implements Invocation {
  readonly isAdmin: boolean;
  readonly live = true;
  readonly commandName: string;
  readonly press: ButtonPress | null = null;
  readonly target: SourceMessage | null = null;
  private ephemeral = false;
  /** deferUpdate() was called: the answer edits the pressed message, which must never be deleted. */
  private updating = false;

  constructor(
    private readonly interaction: CommandInteraction,
    adminUserIds: readonly string[],
  ) {
    this.isAdmin = isAdmin(interaction, adminUserIds);
    if (interaction.isButton()) {
      const { command, action, args } = parseButtonId(interaction.customId);
      this.commandName = command;
      this.press = { action, args, message: { id: interaction.message.id, content: interaction.message.content } };
    } else {
      this.commandName = interaction.commandName;
      if (interaction.isMessageContextMenuCommand()) this.target = { id: interaction.targetMessage.id, content: interaction.targetMessage.content };
    }
  }

  get subcommand(): string | null {
    return this.interaction.isChatInputCommand() ? this.interaction.options.getSubcommand(false) : null;
  }
  get user() {
    return { id: this.interaction.user.id, name: this.interaction.user.username };
  }
  get options(): OptionReader {
    if (!this.interaction.isChatInputCommand()) return NO_OPTIONS;
    const options = this.interaction.options;
    return {
      getString: (name) => options.getString(name),
      getInteger: (name) => options.getInteger(name),
      getNumber: (name) => options.getNumber(name),
      getBoolean: (name) => options.getBoolean(name),
      getAttachment: (name) => {
        const file = options.getAttachment(name);
        return file && remoteAttachment({ name: file.name, url: file.url, size: file.size, contentType: file.contentType });
      },
    };
  }
  get context(): Invocation['context'] {
    return this.interaction.inGuild() ? 'guild' : 'private';
  }
  get locale(): string {
    return this.interaction.locale;
  }

  mention(userId: string): string {
    return userMention(userId);
  }

  defer(opts: { ephemeral?: boolean } = {}): Promise<void> {
    this.ephemeral = opts.ephemeral ?? false;
    return this.call(() => this.interaction.deferReply(this.ephemeral ? { flags: MessageFlags.Ephemeral } : {}));
  }

  deferUpdate(): Promise<void> {
    const i = this.interaction;
    if (!i.isButton()) throw new Error('deferUpdate() is for button presses');
    this.updating = true;
    return this.call(() => i.deferUpdate());
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
    // The pressed message stays as it was; the refusal goes to the presser alone.
    if (this.updating) return this.followUp({ content: message, ephemeral: true });
    if (this.ephemeral) return this.edit({ content: message, embeds: [], files: [], buttons: [] });
    // A public "thinking…" cannot become private: remove it and answer privately.
    await this.call(() => i.deleteReply());
    await this.followUp({ content: message, ephemeral: true });
  }

  private call(request: () => Promise<unknown>): Promise<void> {
    return answerInteraction(request);
  }
}
