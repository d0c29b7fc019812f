/**
 * Injected application-command interactions: the INTERACTION_CREATE payload
 * discord.js 14 accepts, and the server side of the interaction's lifecycle
 * (initial callback, @original edits, follow-ups) with timestamped records.
 */
import { performance } from 'node:perf_hooks';
import type { UserAttachments } from './attachments.js';
import { ApiError, Errors, type ReceivedFile } from './http.js';
import { MessageFlag, MessageType, type MessageFactory } from './messages.js';
import type { CommandStore, StoredCommand } from './commands.js';
import { DEFAULT_APP_PERMISSIONS, DEFAULT_MEMBER_PERMISSIONS, makeUser, type FakeGuild, type World } from './state.js';
import { RecordLog, deepClone, isJsonObject, randomToken, type JsonObject } from './util.js';

export type OptionValue = string | number | boolean;

/** What a test passes to `fake.sendInteraction()`. */
export interface InteractionInput {
  /** Command name, e.g. `ping`. */
  name: string;
  subcommandGroup?: string;
  subcommand?: string;
  /**
   * `{ prompt: 'to be', length: 200 }` is typed from the registered command's
   * option definitions (3 string, 4 integer, 10 number, 5 boolean, 11
   * attachment: the id `fake.addAttachment()` returned) and checked
   * like the Discord client would (unknown / missing required / choices / ranges).
   * An array is sent verbatim as `data.options` (raw API option objects).
   */
  options?: Readonly<Record<string, OptionValue>> | readonly JsonObject[];
  userId?: string;
  username?: string;
  /** Member permissions bitfield; default: an ordinary member without admin. */
  memberPermissions?: string | bigint;
  /** The bot's permissions in the channel (`app_permissions`). */
  appPermissions?: string | bigint;
  guildId?: string;
  channelId?: string;
  locale?: string;
  /** Raw `data.resolved` for user/channel/role/attachment options. */
  resolved?: JsonObject;
  /**
   * Send even if no such command is registered (options then typed by JS
   * type), or where its contexts / integration types do not allow it (a
   * modified client).
   */
  allowUnregistered?: boolean;
  /**
   * Where it is used (`context`): 0 a server, 1 the bot's DM, 2 a group DM or
   * private channel. Default 0. 1 and 2 need `install: 'user'`.
   */
  context?: 0 | 1 | 2;
  /**
   * Which installation authorized it: 'guild' (default) or 'user' (the app is
   * installed to the user's account: `authorizing_integration_owners` has key
   * "1", and outside servers there is no `member`, only `user`).
   */
  install?: 'guild' | 'user';
  /** A message command (type 3) used on this message: `target_id` and `data.resolved.messages`. */
  targetMessage?: JsonObject;
  /**
   * An autocomplete request (interaction type 4) while this option is typed:
   * its value is sent as typed (partial, unchecked, `focused: true`); the
   * answer is callback type 8 with `choices`.
   */
  focused?: string;
}

/** What a test passes to `fake.pressButton()`: a click on a button of a message the bot sent. */
export interface ComponentInput {
  /** The message (as the bot sent or edited it) that carries the button. */
  message: JsonObject;
  customId: string;
  userId?: string;
  username?: string;
  memberPermissions?: string | bigint;
  locale?: string;
}

interface RecordBase {
  /** Wall-clock time the request arrived (ms since epoch). */
  at: number;
  /** Milliseconds from dispatch of the INTERACTION_CREATE to this request (monotonic clock). */
  sinceDispatchMs: number;
  /** Parsed JSON body (or `payload_json` of a multipart body). */
  body: JsonObject;
  files: ReceivedFile[];
  multipart: boolean;
  /** Set when the fake rejected the request. */
  error?: { status: number; code: number; message: string };
}

/** POST /interactions/:id/:token/callback */
export interface CallbackRecord extends RecordBase {
  kind: 'callback';
  /** 4 reply, 5 deferred reply, 6/7 component update, 9 modal, ... */
  type: number;
  data: JsonObject | undefined;
  withResponse: boolean;
  /** The @original message this callback produced (type 4 / 5). */
  message?: JsonObject;
}

/** Requests to /webhooks/:app/:token[/messages/:id] */
export interface WebhookRecord extends RecordBase {
  kind: 'edit' | 'followup' | 'delete' | 'fetch';
  /** `@original` or a follow-up message id. */
  messageId: string;
  /** The message after the request. */
  message?: JsonObject;
}

export type InteractionRecord = CallbackRecord | WebhookRecord;

/** Handle returned by `fake.sendInteraction()`. */
export interface InteractionHandle {
  readonly id: string;
  readonly token: string;
  /** Command name, or the custom_id of a pressed button. */
  readonly name: string;
  /** Undefined in DMs and group DMs. */
  readonly guildId: string | undefined;
  readonly channelId: string;
  readonly userId: string;
  /** The raw INTERACTION_CREATE `d` that was dispatched. */
  readonly payload: JsonObject;
  /** Wall-clock dispatch time (ms since epoch). */
  readonly dispatchedAt: number;
  /** Every request about this interaction, accepted or rejected, in order. */
  readonly records: readonly InteractionRecord[];
  readonly callbacks: readonly CallbackRecord[];
  /** Accepted PATCHes of @original (and of follow-ups). */
  readonly edits: readonly WebhookRecord[];
  readonly followUps: readonly WebhookRecord[];
  /** Current state of the @original response message, if any. */
  readonly original: JsonObject | undefined;
  readonly expired: boolean;
  /** Expires the token now: callbacks get 404 10062, webhook calls 401 50027. */
  expire(): void;
  /** First accepted initial callback. */
  waitForCallback(timeoutMs?: number): Promise<CallbackRecord>;
  /** First accepted edit matching the predicate (already received or future). */
  waitForEdit(predicate?: (edit: WebhookRecord) => boolean, timeoutMs?: number): Promise<WebhookRecord>;
  waitForFollowUp(predicate?: (followUp: WebhookRecord) => boolean, timeoutMs?: number): Promise<WebhookRecord>;
  /**
   * The user-visible @original message (not the "thinking..." placeholder) once
   * it matches the predicate, whether it came from a reply or defer + edit.
   */
  waitForResponse(predicate?: (message: JsonObject) => boolean, timeoutMs?: number): Promise<JsonObject>;
}

export interface InteractionTiming {
  /** Initial response deadline (Discord: 3 s); <= 0 disables. */
  ackTimeoutMs: number;
  /** Token lifetime (Discord: 15 min). */
  tokenTtlMs: number;
  defaultWaitMs: number;
  /** Sent as `attachment_size_limit`. */
  attachmentSizeLimit: number;
}

/** Interaction types: 2 application command, 3 message component, 4 autocomplete. */
const InteractionType = { Command: 2, Component: 3, Autocomplete: 4 } as const;
/** Callback types each interaction type may answer with (Discord's "interaction response types"). */
const CALLBACKS: Record<number, readonly number[]> = { 2: [4, 5, 9], 3: [4, 5, 6, 7, 9], 4: [8] };
const CHOICE_LIMIT = 25;
const CHOICE_CHARS = 100;

export class FakeInteraction implements InteractionHandle {
  readonly id: string;
  readonly token: string;
  readonly name: string;
  readonly guildId: string | undefined;
  readonly channelId: string;
  readonly userId: string;
  readonly payload: JsonObject;
  readonly dispatchedAt = Date.now();
  readonly #dispatchedPerf = performance.now();
  readonly #log: RecordLog<InteractionRecord>;
  #acknowledged = false;
  #expired = false;
  #original: JsonObject | undefined;
  readonly #followUps = new Map<string, JsonObject>();
  readonly #owners: JsonObject;

  constructor(
    world: World,
    private readonly factory: MessageFactory,
    commands: CommandStore,
    input: InteractionInput | ComponentInput,
    private readonly timing: InteractionTiming,
  ) {
    this.id = world.ids.next();
    this.token = randomToken(`interaction:${this.id}`);
    const component = 'customId' in input ? input : undefined;
    const command = component ? undefined : (input as InteractionInput);
    this.name = component ? component.customId : command!.name;
    const context = command?.context ?? (component && !component.message.guild_id ? 1 : 0);
    const install = command?.install ?? 'guild';
    if (context !== 0 && install !== 'user' && !component) throw new Error('fake-discord: DMs and group DMs need install: "user"');
    this.userId = input.userId ?? '80351110224678912';
    const user = makeUser(this.userId, input.username ?? 'groundling');
    this.#log = new RecordLog(`interaction ${this.id} (${component ? `button ${this.name}` : `/${this.name}`})`, 1000);

    let channelObject: JsonObject;
    let guild: FakeGuild | undefined;
    if (context === 0) {
      this.guildId = (component ? String(component.message.guild_id) : command?.guildId) ?? world.defaultGuild.id;
      guild = world.guilds.get(this.guildId);
      if (!guild) throw new Error(`fake-discord: unknown guild ${this.guildId}`);
      this.channelId = (component ? String(component.message.channel_id) : command?.channelId) ?? guild.channels[0]?.id ?? world.defaultChannel.id;
      const channel = world.channels.get(this.channelId);
      if (!channel) throw new Error(`fake-discord: unknown channel ${this.channelId}`);
      channelObject = world.channelObject(channel);
    } else {
      this.guildId = undefined;
      const given = component ? String(component.message.channel_id) : command?.channelId;
      if (context === 1) {
        const dm = world.dmChannel(this.userId);
        this.channelId = dm.id;
        channelObject = world.dmChannelObject(dm);
      } else {
        // A group DM the bot is not in: Discord sends a partial channel (type 3) with its recipients.
        this.channelId = given ?? world.ids.next();
        channelObject = { id: this.channelId, type: 3, name: null, recipients: [user], flags: 0 };
      }
    }

    let data: JsonObject;
    let type: number = InteractionType.Command;
    if (component) {
      type = InteractionType.Component;
      data = { custom_id: component.customId, component_type: 2 };
      const exists = JSON.stringify(component.message.components ?? []).includes(JSON.stringify(component.customId));
      if (!exists) throw new Error(`fake-discord: the message has no component with custom_id ${component.customId}`);
    } else {
      const input = command!;
      const commandType = input.targetMessage ? 3 : 1;
      const registered = commands.lookup(input.name, this.guildId, commandType);
      if (!registered && !input.allowUnregistered) {
        throw new Error(
          `fake-discord: ${commandType === 3 ? `message command "${input.name}"` : `/${input.name}`} is not registered (globally or in guild ${this.guildId}); ` +
            'register it first or pass allowUnregistered: true',
        );
      }
      if (registered && !input.allowUnregistered && !allowedIn(registered, context, install)) {
        throw new Error(`fake-discord: /${input.name} is not available in context ${context} with a ${install} install (contexts / integration_types)`);
      }
      if (input.focused !== undefined) type = InteractionType.Autocomplete;
      const options = commandType === 1 ? buildOptions(registered, input) : [];
      const given = withAttachments(options, input.resolved, factory.userAttachments, timing.attachmentSizeLimit);
      const resolved = input.targetMessage ? { ...given, messages: { [String(input.targetMessage.id)]: deepClone(input.targetMessage) } } : given;
      data = {
        id: registered?.id ?? world.ids.next(),
        name: input.name,
        type: commandType,
        ...(options.length ? { options } : {}),
        ...(registered?.guild_id ? { guild_id: registered.guild_id } : {}),
        ...(resolved ? { resolved: deepClone(resolved) } : {}),
        ...(input.targetMessage ? { target_id: String(input.targetMessage.id) } : {}),
      };
    }
    const permissions = String(input.memberPermissions ?? DEFAULT_MEMBER_PERMISSIONS);
    this.#owners = install === 'user' ? { '1': this.userId } : { '0': this.guildId ?? '' };
    this.payload = {
      id: this.id,
      application_id: world.applicationId,
      type,
      token: this.token,
      version: 1,
      data,
      ...(guild ? { guild_id: guild.id, guild: { id: guild.id, locale: 'en-US', features: [] }, guild_locale: 'en-US' } : {}),
      channel_id: this.channelId,
      channel: channelObject,
      // Outside servers there is no member, only the user.
      ...(guild ? { member: world.memberObject(user, guild.joinedAt, permissions) } : { user }),
      ...(component ? { message: deepClone(component.message) } : {}),
      app_permissions: String(command?.appPermissions ?? DEFAULT_APP_PERMISSIONS),
      locale: input.locale ?? 'en-US',
      // discord.js 14 reads these unconditionally; without them the event is lost.
      entitlements: [],
      authorizing_integration_owners: this.#owners,
      context,
      attachment_size_limit: timing.attachmentSizeLimit,
    };
    // A component's @original is the message the component is on.
    if (component) this.#original = deepClone(component.message);
  }

  get records(): readonly InteractionRecord[] {
    return this.#log.items;
  }
  get callbacks(): readonly CallbackRecord[] {
    return this.#log.items.filter((r): r is CallbackRecord => r.kind === 'callback' && !r.error);
  }
  get edits(): readonly WebhookRecord[] {
    return this.#log.items.filter((r): r is WebhookRecord => r.kind === 'edit' && !r.error);
  }
  get followUps(): readonly WebhookRecord[] {
    return this.#log.items.filter((r): r is WebhookRecord => r.kind === 'followup' && !r.error);
  }
  get original(): JsonObject | undefined {
    return this.#original && deepClone(this.#original);
  }
  get expired(): boolean {
    return this.#expired || Date.now() - this.dispatchedAt > this.timing.tokenTtlMs;
  }

  expire(): void {
    this.#expired = true;
  }

  waitForCallback(timeoutMs = this.timing.defaultWaitMs): Promise<CallbackRecord> {
    return this.#log.waitFor((r) => r.kind === 'callback' && !r.error, {
      timeoutMs,
      description: `the initial callback of /${this.name} (interaction ${this.id})`,
    }) as Promise<CallbackRecord>;
  }

  waitForEdit(predicate: (edit: WebhookRecord) => boolean = () => true, timeoutMs = this.timing.defaultWaitMs): Promise<WebhookRecord> {
    return this.#log.waitFor((r) => r.kind === 'edit' && !r.error && predicate(r), {
      timeoutMs,
      description: `an edit of /${this.name}'s response matching the predicate (interaction ${this.id})`,
    }) as Promise<WebhookRecord>;
  }

  waitForFollowUp(predicate: (followUp: WebhookRecord) => boolean = () => true, timeoutMs = this.timing.defaultWaitMs): Promise<WebhookRecord> {
    return this.#log.waitFor((r) => r.kind === 'followup' && !r.error && predicate(r), {
      timeoutMs,
      description: `a follow-up of /${this.name} matching the predicate (interaction ${this.id})`,
    }) as Promise<WebhookRecord>;
  }

  async waitForResponse(predicate: (message: JsonObject) => boolean = () => true, timeoutMs = this.timing.defaultWaitMs): Promise<JsonObject> {
    const isVisible = (r: InteractionRecord): boolean =>
      (r.kind === 'callback' || (r.kind === 'edit' && r.messageId === '@original')) &&
      !r.error &&
      r.message !== undefined &&
      (Number(r.message.flags ?? 0) & MessageFlag.Loading) === 0 &&
      predicate(r.message);
    const record = await this.#log.waitFor(isVisible, {
      timeoutMs,
      description: `a visible response to /${this.name} matching the predicate (interaction ${this.id})`,
    });
    return deepClone(record.message as JsonObject);
  }

  // ---- server side, called by the REST router ----

  /** POST /interactions/:id/:token/callback */
  handleCallback(body: JsonObject, files: ReceivedFile[], multipart: boolean, withResponse: boolean): JsonObject | undefined {
    const type = typeof body.type === 'number' ? body.type : -1;
    const data = isJsonObject(body.data) ? body.data : undefined;
    const base = { kind: 'callback' as const, type, data, body, files, multipart, withResponse };
    return this.#record(base, () => {
      const late = this.timing.ackTimeoutMs > 0 && Date.now() - this.dispatchedAt > this.timing.ackTimeoutMs;
      if (this.expired || late) throw Errors.unknownInteraction();
      if (this.#acknowledged) throw Errors.alreadyAcknowledged();
      const interactionType = Number(this.payload.type);
      if (!CALLBACKS[interactionType]?.includes(type)) {
        throw Errors.invalidFormBody(['type'], 'INTERACTION_RESPONSE_TYPE_INVALID', `Interaction response type ${type} is not valid for interaction type ${interactionType}`);
      }
      let message: JsonObject | undefined;
      const context = {
        channelId: this.channelId,
        guildId: this.guildId,
        type: MessageType.ChatInputCommand,
        webhook: true,
        interactionMetadata: this.#metadata(),
      };
      if (type === 4) {
        message = this.factory.create(data ?? {}, files, context);
      } else if (type === 5) {
        const ephemeral = Number(data?.flags ?? 0) & MessageFlag.Ephemeral;
        message = this.factory.create({}, [], { ...context, flags: MessageFlag.Loading | ephemeral }, true);
      } else if (type === 7) {
        // UPDATE_MESSAGE: the pressed message changes at once.
        message = this.factory.edit(this.#original!, data ?? {}, files);
      } else if (type === 8) {
        checkChoices(data);
      }
      this.#acknowledged = true;
      // 6 (DEFERRED_UPDATE_MESSAGE) keeps the pressed message as @original, unchanged.
      if (type !== 6) this.#original = message;
      const result = withResponse
        ? {
            interaction: {
              id: this.id,
              type: this.payload.type,
              ...(message
                ? {
                    response_message_id: message.id,
                    response_message_loading: type === 5,
                    response_message_ephemeral: (Number(message.flags) & MessageFlag.Ephemeral) !== 0,
                  }
                : {}),
            },
            resource: { type, ...(message ? { message } : {}) },
          }
        : undefined;
      return { message, result };
    });
  }

  /** GET / PATCH / DELETE /webhooks/:app/:token/messages/:messageId */
  handleMessage(method: 'GET' | 'PATCH' | 'DELETE', messageId: string, body: JsonObject, files: ReceivedFile[], multipart: boolean): JsonObject | undefined {
    const kind = method === 'GET' ? 'fetch' : method === 'PATCH' ? 'edit' : 'delete';
    return this.#record({ kind, messageId, body, files, multipart }, () => {
      this.#checkWebhook();
      const current = messageId === '@original' ? this.#original : this.#followUps.get(messageId);
      if (!current) throw Errors.unknownMessage();
      if (method === 'GET') return { message: current, result: current };
      if (method === 'DELETE') {
        if (messageId === '@original') this.#original = undefined;
        else this.#followUps.delete(messageId);
        return { message: undefined, result: undefined };
      }
      const next = this.factory.edit(current, body, files);
      if (messageId === '@original') this.#original = next;
      else this.#followUps.set(messageId, next);
      return { message: next, result: next };
    });
  }

  /** POST /webhooks/:app/:token (follow-up; Discord always waits for interactions). */
  handleFollowUp(body: JsonObject, files: ReceivedFile[], multipart: boolean): JsonObject | undefined {
    return this.#record({ kind: 'followup', messageId: '', body, files, multipart }, () => {
      this.#checkWebhook();
      const message = this.factory.create(body, files, {
        channelId: this.channelId,
        guildId: this.guildId,
        type: MessageType.ChatInputCommand,
        webhook: true,
        interactionMetadata: this.#metadata(),
      });
      this.#followUps.set(String(message.id), message);
      return { message, result: message, messageId: String(message.id) };
    });
  }

  #checkWebhook(): void {
    if (this.expired) throw Errors.invalidWebhookToken();
    if (!this.#acknowledged) throw Errors.unknownWebhook();
  }

  #metadata(): JsonObject {
    const user = (this.payload.member as JsonObject | undefined)?.user ?? this.payload.user;
    const data = this.payload.data as JsonObject;
    return {
      id: this.id,
      type: this.payload.type,
      user,
      authorizing_integration_owners: this.#owners,
      ...(this.payload.type === InteractionType.Component
        ? { interacted_message_id: (this.payload.message as JsonObject).id }
        : { name: this.name, command_type: data.type }),
      ...(data.target_id ? { target_message_id: data.target_id } : {}),
    };
  }

  /** Runs a request, logs it (accepted or rejected) with timing, returns the response body. */
  #record(
    base: Omit<CallbackRecord, 'at' | 'sinceDispatchMs'> | Omit<WebhookRecord, 'at' | 'sinceDispatchMs'>,
    run: () => { message: JsonObject | undefined; result: JsonObject | undefined; messageId?: string },
  ): JsonObject | undefined {
    const timing = { at: Date.now(), sinceDispatchMs: performance.now() - this.#dispatchedPerf };
    try {
      const { message, result, messageId } = run();
      this.#log.push({
        ...base,
        ...timing,
        ...(messageId ? { messageId } : {}),
        ...(message ? { message: deepClone(message) } : {}),
      } as InteractionRecord);
      return result;
    } catch (error) {
      if (error instanceof ApiError) {
        this.#log.push({ ...base, ...timing, error: { status: error.status, code: error.code, message: error.message } } as InteractionRecord);
      }
      throw error;
    }
  }

  close(reason: string): void {
    this.#log.close(reason);
  }
}

/** Whether a command's `contexts` and `integration_types` allow it here (Discord's defaults: everywhere, guild install). */
function allowedIn(command: StoredCommand, context: number, install: 'guild' | 'user'): boolean {
  const contexts = Array.isArray(command.contexts) ? command.contexts : [0, 1, 2];
  const installs = Array.isArray(command.integration_types) ? command.integration_types : [0];
  return contexts.includes(context) && installs.includes(install === 'user' ? 1 : 0);
}

/** An autocomplete answer: at most 25 choices, names of 1 to 100 characters, string values of at most 100. */
function checkChoices(data: JsonObject | undefined): void {
  const choices = data?.choices;
  if (!Array.isArray(choices)) throw Errors.invalidFormBody(['data', 'choices'], 'BASE_TYPE_REQUIRED', 'This field is required');
  if (choices.length > CHOICE_LIMIT) throw Errors.invalidFormBody(['data', 'choices'], 'BASE_TYPE_MAX_LENGTH', `Must be ${CHOICE_LIMIT} or fewer in length.`);
  choices.forEach((choice: unknown, index) => {
    const name = isJsonObject(choice) ? choice.name : undefined;
    const value = isJsonObject(choice) ? choice.value : undefined;
    if (typeof name !== 'string' || name.length < 1 || name.length > CHOICE_CHARS) {
      throw Errors.invalidFormBody(['data', 'choices', index, 'name'], 'BASE_TYPE_BAD_LENGTH', `Must be between 1 and ${CHOICE_CHARS} in length.`);
    }
    if (typeof value === 'string' ? value.length > CHOICE_CHARS : typeof value !== 'number') {
      throw Errors.invalidFormBody(['data', 'choices', index, 'value'], 'BASE_TYPE_BAD_LENGTH', `Must be between 1 and ${CHOICE_CHARS} in length.`);
    }
  });
}

type OptionDef = JsonObject & { name: string; type: number };

/**
 * `resolved` with `attachments` filled in for every attachment option (type
 * 11, whose value is an attachment id), as Discord always sends them.
 */
function withAttachments(options: JsonObject[], resolved: JsonObject | undefined, uploads: UserAttachments, sizeLimit: number): JsonObject | undefined {
  const given = isJsonObject(resolved?.attachments) ? resolved.attachments : {};
  const found: JsonObject = {};
  const visit = (list: JsonObject[]) => {
    for (const option of list) {
      if (Array.isArray(option.options)) visit(option.options as JsonObject[]);
      if (option.type !== 11 || option.focused === true) continue;
      const id = String(option.value);
      const attachment = given[id] ?? uploads.resolved(id);
      if (!attachment) throw new Error(`fake-discord: option "${String(option.name)}" names attachment ${id}, which was not added with fake.addAttachment()`);
      // The Discord client uploads nothing larger than the interaction's attachment_size_limit (maxUploadBytes: a boosted server has more).
      if (isJsonObject(attachment) && Number(attachment.size) > sizeLimit) {
        throw new Error(`fake-discord: attachment ${id} (${String(attachment.size)} bytes) is over attachment_size_limit ${sizeLimit}; raise maxUploadBytes`);
      }
      found[id] = attachment;
    }
  };
  visit(options);
  return Object.keys(found).length ? { ...resolved, attachments: { ...given, ...found } } : resolved;
}

/** Builds `data.options`, typing record values from the registered definition. */
function buildOptions(command: StoredCommand | undefined, input: InteractionInput): JsonObject[] {
  const label = `/${input.name}`;
  let defs: OptionDef[] | undefined = command ? ((command.options ?? []) as OptionDef[]) : undefined;
  const path: Array<{ name: string; type: number }> = [];
  for (const [name, type] of [
    [input.subcommandGroup, 2],
    [input.subcommand, 1],
  ] as const) {
    if (name === undefined) continue;
    const def = defs?.find((option) => option.name === name && option.type === type);
    if (defs && !def) throw new Error(`fake-discord: ${label} has no ${type === 2 ? 'subcommand group' : 'subcommand'} "${name}"`);
    path.push({ name, type });
    defs = def ? ((def.options ?? []) as OptionDef[]) : undefined;
  }
  if (defs?.some((def) => def.type === 1 || def.type === 2)) {
    throw new Error(`fake-discord: ${label} needs a subcommand${input.subcommand ? ' group' : ''} (pass subcommand / subcommandGroup)`);
  }
  let leaf: JsonObject[];
  if (Array.isArray(input.options)) {
    leaf = deepClone(input.options as JsonObject[]);
  } else {
    const values = (input.options ?? {}) as Readonly<Record<string, OptionValue>>;
    leaf = Object.entries(values).map(([name, value]) =>
      // What is being typed is sent as is: partial, unchecked, and always a string until it is chosen.
      name === input.focused ? { name, type: defs?.find((d) => d.name === name)?.type ?? 3, value: String(value), focused: true } : typedOption(label, name, value, defs),
    );
    if (input.focused === undefined) {
      for (const def of defs ?? []) {
        if (def.required === true && !(def.name in values)) throw new Error(`fake-discord: ${label} requires option "${def.name}"`);
      }
    }
  }
  return path.reduceRight<JsonObject[]>((options, level) => [{ ...level, options }], leaf);
}

function typedOption(label: string, name: string, value: OptionValue, defs: OptionDef[] | undefined): JsonObject {
  const def = defs?.find((option) => option.name === name);
  if (defs && !def) throw new Error(`fake-discord: ${label} has no option "${name}"`);
  const type = def?.type ?? (typeof value === 'boolean' ? 5 : typeof value === 'number' ? (Number.isInteger(value) ? 4 : 10) : 3);
  const fail = (why: string) => new Error(`fake-discord: option "${name}" of ${label}: ${why} (got ${JSON.stringify(value)})`);
  if (type === 5 && typeof value !== 'boolean') throw fail('must be a boolean');
  if (type === 4 && !Number.isSafeInteger(value)) throw fail('must be an integer');
  if (type === 10 && (typeof value !== 'number' || !Number.isFinite(value))) throw fail('must be a number');
  if ([3, 6, 7, 8, 9, 11].includes(type) && typeof value !== 'string') throw fail('must be a string');
  if (def) {
    if (Array.isArray(def.choices) && !def.choices.some((choice) => isJsonObject(choice) && choice.value === value)) {
      throw fail('is not one of the choices');
    }
    if (typeof value === 'number') {
      if (typeof def.min_value === 'number' && value < def.min_value) throw fail(`is below min_value ${def.min_value}`);
      if (typeof def.max_value === 'number' && value > def.max_value) throw fail(`is above max_value ${def.max_value}`);
    }
    if (typeof value === 'string' && type === 3) {
      if (typeof def.min_length === 'number' && value.length < def.min_length) throw fail(`is shorter than min_length ${def.min_length}`);
      if (typeof def.max_length === 'number' && value.length > def.max_length) throw fail(`is longer than max_length ${def.max_length}`);
    }
  }
  return { name, type, value };
}
