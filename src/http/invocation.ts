// The Invocation adapter for an interaction that came over HTTP (Discord's
// interactions endpoint). The first response goes back in the HTTP response
// itself (`respond`); everything after it goes through the interaction webhook
// over REST, with the same payload rules as the gateway adapter: mentions
// never ping, text fits Discord's limit, expired tokens become InteractionExpiredError.
import {
  InteractionResponseType,
  MessageFlags,
  PermissionFlagsBits,
  Routes,
  userMention,
  type APIApplicationCommandInteractionDataOption,
  type APIChatInputApplicationCommandInteraction,
  type APIInteractionResponse,
  type REST,
  type RawFile,
} from 'discord.js';
import type { Invocation, OptionReader, Reply } from '../app/command.js';
import { fitMessage } from '../app/replies/limits.js';
import { remoteAttachment } from '../discord/attachments.js';
import { answerInteraction, NO_MENTIONS } from '../discord/interaction.js';

type RawOption = APIApplicationCommandInteractionDataOption;

/** The raw message body and its files (REST's multipart form when there are files). */
function payload(reply: Reply, flags = 0): { body: Record<string, unknown>; files?: RawFile[] } {
  const body: Record<string, unknown> = {
    content: reply.content === undefined ? undefined : fitMessage(reply.content),
    embeds: reply.embeds,
    allowed_mentions: NO_MENTIONS,
    ...(flags ? { flags } : {}),
  };
  // An empty list removes the attachments an edited message had; undefined keeps them.
  if (reply.files) body.attachments = reply.files.map((f, id) => ({ id, filename: f.name, description: f.description }));
  return { body, files: reply.files?.map((f, i) => ({ key: `files[${i}]`, name: f.name, data: f.data })) };
}

/** The leaf options, under any subcommand. */
function leafOptions(options: readonly RawOption[] | undefined): { subcommand: string | null; leaves: readonly RawOption[] } {
  const sub = options?.[0];
  if (sub && (sub.type === 1 || sub.type === 2)) {
    const inner = sub.type === 2 ? sub.options[0] : sub;
    return { subcommand: inner?.name ?? null, leaves: inner?.options ?? [] };
  }
  return { subcommand: null, leaves: options ?? [] };
}

export class HttpInvocation implements Invocation {
  readonly live = true;
  // The endpoint takes slash commands; buttons, menus and autocomplete come over the gateway.
  readonly press = null;
  readonly target = null;
  readonly isAdmin: boolean;
  readonly subcommand: string | null;
  readonly options: OptionReader;
  readonly user: { id: string; name: string };
  private ephemeral = false;
  private responded = false;
  private readonly appId: string;
  private readonly token: string;

  constructor(
    private readonly interaction: APIChatInputApplicationCommandInteraction,
    /** Webhook calls need no bot token; `rest` also sends DMs when it has one. */
    private readonly rest: REST,
    adminUserIds: readonly string[],
    /** Sends the HTTP response (the initial callback); called at most once. */
    private readonly respond: (response: APIInteractionResponse) => void,
    private readonly hasBotToken: boolean,
  ) {
    const user = interaction.member?.user ?? interaction.user;
    this.user = { id: user?.id ?? '0', name: user?.username ?? 'unknown' };
    const permissions = BigInt(interaction.member?.permissions ?? 0);
    this.isAdmin = adminUserIds.includes(this.user.id) || (permissions & PermissionFlagsBits.ManageGuild) !== 0n;
    const { subcommand, leaves } = leafOptions(interaction.data.options);
    this.subcommand = subcommand;
    const get = (name: string, types: number[]) => {
      const option = leaves.find((o) => o.name === name);
      return option && types.includes(option.type) && 'value' in option ? option.value : null;
    };
    this.options = {
      getString: (name) => get(name, [3]) as string | null,
      getInteger: (name) => get(name, [4]) as number | null,
      getNumber: (name) => get(name, [10, 4]) as number | null,
      getBoolean: (name) => get(name, [5]) as boolean | null,
      getAttachment: (name) => {
        // The option's value is an id; the file itself is in data.resolved.
        const file = interaction.data.resolved?.attachments?.[String(get(name, [11]))];
        return file ? remoteAttachment({ name: file.filename, url: file.url, size: file.size, contentType: file.content_type ?? null }) : null;
      },
    };
    this.appId = interaction.application_id;
    this.token = interaction.token;
  }

  get commandName(): string {
    return this.interaction.data.name;
  }
  get context(): Invocation['context'] {
    return this.interaction.guild_id ? 'guild' : 'private';
  }
  get locale(): string {
    return this.interaction.locale ?? 'en-US';
  }
  /** Whether the initial response has gone out (the endpoint defers on its own when a handler is slow). */
  get acknowledged(): boolean {
    return this.responded;
  }

  mention(userId: string): string {
    return userMention(userId);
  }

  defer(opts: { ephemeral?: boolean } = {}): Promise<void> {
    if (this.responded) return Promise.resolve();
    this.ephemeral = opts.ephemeral ?? false;
    this.send({ type: InteractionResponseType.DeferredChannelMessageWithSource, data: this.ephemeral ? { flags: MessageFlags.Ephemeral } : undefined });
    return Promise.resolve();
  }

  deferUpdate(): Promise<void> {
    return Promise.reject(new Error('deferUpdate() is for button presses'));
  }

  async reply(reply: Reply & { ephemeral?: boolean }): Promise<void> {
    if (this.responded) return this.edit(reply);
    this.ephemeral = reply.ephemeral ?? false;
    const flags = this.ephemeral ? MessageFlags.Ephemeral : 0;
    // Files cannot ride in a JSON response: acknowledge, then upload them with the edit.
    if (reply.files?.length) {
      await this.defer({ ephemeral: this.ephemeral });
      return this.edit(reply);
    }
    this.send({ type: InteractionResponseType.ChannelMessageWithSource, data: payload(reply, flags).body });
  }

  edit(reply: Reply): Promise<void> {
    const { body, files } = payload(reply);
    return this.call(() => this.rest.patch(Routes.webhookMessage(this.appId, this.token, '@original'), { body, files, auth: false }));
  }

  followUp(reply: Reply & { ephemeral?: boolean }): Promise<void> {
    const { body, files } = payload(reply, reply.ephemeral ? MessageFlags.Ephemeral : 0);
    return this.call(() => this.rest.post(Routes.webhook(this.appId, this.token), { body, files, auth: false }));
  }

  async tellLater(reply: Reply): Promise<void> {
    // Without a bot token only the interaction's webhook is left (it lasts 15 minutes).
    if (!this.hasBotToken) return this.followUp({ ...reply, ephemeral: true });
    const { body, files } = payload(reply);
    try {
      const dm = (await this.rest.post(Routes.userChannels(), { body: { recipient_id: this.user.id } })) as { id: string };
      await this.rest.post(Routes.channelMessages(dm.id), { body, files });
    } catch (err) {
      // DMs closed: say it where they asked, naming them (mentions never ping).
      if (!this.interaction.channel?.id) throw err;
      const named = payload({ ...reply, content: `${userMention(this.user.id)} ${reply.content ?? ''}` });
      await this.rest.post(Routes.channelMessages(this.interaction.channel.id), { body: named.body, files: named.files });
    }
  }

  async fail(message: string): Promise<void> {
    if (!this.responded) return this.reply({ content: message, ephemeral: true });
    if (this.ephemeral) return this.edit({ content: message, embeds: [], files: [] });
    // A public "thinking…" cannot become private: remove it and answer privately.
    await this.call(() => this.rest.delete(Routes.webhookMessage(this.appId, this.token, '@original'), { auth: false }));
    await this.followUp({ content: message, ephemeral: true });
  }

  private send(response: APIInteractionResponse): void {
    this.responded = true;
    this.respond(response);
  }

  private call(request: () => Promise<unknown>): Promise<void> {
    return answerInteraction(request);
  }
}
