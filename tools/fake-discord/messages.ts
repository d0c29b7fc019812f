/**
 * Message objects: built from create/edit payloads (JSON or multipart), checked
 * against Discord's main limits, with uploaded attachments kept for download.
 */
import type { APIUser } from 'discord.js';
import { UserAttachments } from './attachments.js';
import { Errors, type ReceivedFile } from './http.js';
import { makeUser, type World } from './state.js';
import { deepClone, isJsonObject, type JsonObject } from './util.js';

export const MessageFlag = { SuppressEmbeds: 1 << 2, Ephemeral: 1 << 6, Loading: 1 << 7 } as const;
export const MessageType = { Default: 0, ChatInputCommand: 20 } as const;

const MAX_CONTENT = 2000;
const MAX_EMBEDS = 10;
const MAX_EMBED_TOTAL = 6000;
const MAX_FILES = 10;

export interface StoredAttachment {
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface MessageContext {
  channelId: string;
  guildId?: string;
  type: number;
  /** Set for interaction responses: marks the message as sent through the app's webhook. */
  webhook?: boolean;
  interactionMetadata?: JsonObject;
  flags?: number;
}

export class MessageFactory {
  /** Uploaded attachment bytes by attachment id, served under /attachments/. */
  readonly attachments = new Map<string, StoredAttachment>();
  /** Files users attach to commands (option type 11), served under /ephemeral-attachments/. */
  readonly userAttachments: UserAttachments;

  constructor(
    private readonly world: World,
    private readonly cdnBase: string,
    private readonly maxUploadBytes: number,
  ) {
    this.userAttachments = new UserAttachments(world, cdnBase);
  }

  /** Builds a new message; throws ApiError like Discord for invalid payloads. */
  create(body: JsonObject, files: ReceivedFile[], context: MessageContext, allowEmpty = false): JsonObject {
    checkPayload(body, files, this.maxUploadBytes);
    const attachments = this.#resolveAttachments(body, files, [], context.channelId);
    const message: JsonObject = {
      id: this.world.ids.next(),
      type: context.type,
      channel_id: context.channelId,
      ...(context.guildId ? { guild_id: context.guildId } : {}),
      author: this.world.botUser,
      content: typeof body.content === 'string' ? body.content : '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: body.tts === true,
      pinned: false,
      embeds: Array.isArray(body.embeds) ? deepClone(body.embeds) : [],
      components: Array.isArray(body.components) ? deepClone(body.components) : [],
      attachments,
      flags: (context.flags ?? 0) | (typeof body.flags === 'number' ? body.flags & (MessageFlag.SuppressEmbeds | MessageFlag.Ephemeral) : 0),
      ...(context.webhook ? { webhook_id: this.world.applicationId, application_id: this.world.applicationId } : {}),
      ...(context.interactionMetadata ? { interaction_metadata: context.interactionMetadata } : {}),
      ...mentionsFor(body),
    };
    if (!allowEmpty && isEmpty(message)) throw Errors.emptyMessage();
    return message;
  }

  /** Applies a PATCH payload to a message and returns the new version. */
  edit(previous: JsonObject, body: JsonObject, files: ReceivedFile[]): JsonObject {
    checkPayload(body, files, this.maxUploadBytes);
    const existing = Array.isArray(previous.attachments) ? (previous.attachments as JsonObject[]) : [];
    const next: JsonObject = { ...deepClone(previous), edited_timestamp: new Date().toISOString() };
    for (const key of ['content', 'embeds', 'components'] as const) {
      if (key in body) next[key] = body[key] === null ? (key === 'content' ? '' : []) : deepClone(body[key]);
    }
    next.attachments = this.#resolveAttachments(body, files, existing, String(previous.channel_id));
    // The first edit of a deferred response replaces the "thinking..." state.
    next.flags = (typeof previous.flags === 'number' ? previous.flags : 0) & ~MessageFlag.Loading;
    if ('content' in body || 'allowed_mentions' in body) Object.assign(next, mentionsFor({ ...next, ...body }));
    if (isEmpty(next)) throw Errors.emptyMessage();
    return next;
  }

  /**
   * Discord semantics: with an `attachments` array, it lists the attachments to
   * keep (existing ids) and describes new uploads (`id` = n of `files[n]`).
   * Without it, new uploads are appended to the existing attachments.
   */
  #resolveAttachments(body: JsonObject, files: ReceivedFile[], existing: JsonObject[], channelId: string): JsonObject[] {
    const pending = new Map(files.map((file, position) => [String(file.index >= 0 ? file.index : position), file]));
    const result: JsonObject[] = [];
    if (Array.isArray(body.attachments)) {
      body.attachments.forEach((entry: unknown, index) => {
        const id = isJsonObject(entry) ? String(entry.id) : '';
        const kept = existing.find((attachment) => attachment.id === id);
        const file = pending.get(id);
        if (kept) result.push(kept);
        else if (file) {
          result.push(this.#storeFile(file, channelId, isJsonObject(entry) ? entry : {}));
          pending.delete(id);
        } else throw Errors.invalidFormBody(['attachments', index, 'id'], 'ATTACHMENT_NOT_FOUND', 'Attachment data not found');
      });
    } else {
      result.push(...existing);
    }
    for (const file of pending.values()) result.push(this.#storeFile(file, channelId, {}));
    if (result.length > MAX_FILES) throw Errors.invalidFormBody(['attachments'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_FILES} or fewer in length.`);
    return result;
  }

  #storeFile(file: ReceivedFile, channelId: string, entry: JsonObject): JsonObject {
    const id = this.world.ids.next();
    const filename = typeof entry.filename === 'string' ? entry.filename : file.name;
    this.attachments.set(id, { filename, contentType: file.contentType, bytes: file.bytes });
    const url = `${this.cdnBase}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    return {
      id,
      filename,
      size: file.size,
      url,
      proxy_url: url,
      content_type: file.contentType,
      ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
      ...(file.contentType === 'image/png' ? pngSize(file.bytes) : {}),
    };
  }
}

/** Message components: at most 5 action rows (type 1) of at most 5 buttons (type 2), custom_id ≤ 100, label ≤ 80. */
function checkComponents(components: unknown): void {
  if (!Array.isArray(components)) return;
  if (components.length > 5) throw Errors.invalidFormBody(['components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  components.forEach((row: unknown, r) => {
    const inner = isJsonObject(row) ? row.components : undefined;
    if (!isJsonObject(row) || row.type !== 1 || !Array.isArray(inner) || inner.length < 1 || inner.length > 5) {
      throw Errors.invalidFormBody(['components', r], 'BASE_TYPE_BAD_LENGTH', 'An action row holds 1 to 5 components.');
    }
    inner.forEach((button: unknown, b) => {
      const at = ['components', r, 'components', b];
      if (!isJsonObject(button) || button.type !== 2) throw Errors.invalidFormBody(at, 'COMPONENT_TYPE_INVALID', 'Only buttons are supported by this fake.');
      const link = button.style === 5;
      if (!link && (typeof button.custom_id !== 'string' || button.custom_id.length < 1 || button.custom_id.length > 100)) {
        throw Errors.invalidFormBody([...at, 'custom_id'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
      }
      checkLength(button.label, 80, [...at, 'label']);
    });
  });
}

function checkPayload(body: JsonObject, files: ReceivedFile[], maxUploadBytes: number): void {
  checkComponents(body.components);
  if ('content' in body && body.content !== null) {
    if (typeof body.content !== 'string') throw Errors.invalidFormBody(['content'], 'BASE_TYPE_STRING', 'Must be a string.');
    if ([...body.content].length > MAX_CONTENT) {
      throw Errors.invalidFormBody(['content'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_CONTENT} or fewer in length.`);
    }
  }
  if (Array.isArray(body.embeds)) {
    if (body.embeds.length > MAX_EMBEDS) throw Errors.invalidFormBody(['embeds'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_EMBEDS} or fewer in length.`);
    let total = 0;
    body.embeds.forEach((embed: unknown, index) => {
      if (!isJsonObject(embed)) throw Errors.invalidFormBody(['embeds', index], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
      total += checkLength(embed.title, 256, ['embeds', index, 'title']);
      total += checkLength(embed.description, 4096, ['embeds', index, 'description']);
      if (Array.isArray(embed.fields)) {
        if (embed.fields.length > 25) throw Errors.invalidFormBody(['embeds', index, 'fields'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
        embed.fields.forEach((field: unknown, fieldIndex) => {
          if (!isJsonObject(field)) return;
          total += checkLength(field.name, 256, ['embeds', index, 'fields', fieldIndex, 'name']);
          total += checkLength(field.value, 1024, ['embeds', index, 'fields', fieldIndex, 'value']);
        });
      }
      if (isJsonObject(embed.footer)) total += checkLength(embed.footer.text, 2048, ['embeds', index, 'footer', 'text']);
      if (isJsonObject(embed.author)) total += checkLength(embed.author.name, 256, ['embeds', index, 'author', 'name']);
    });
    if (total > MAX_EMBED_TOTAL) throw Errors.invalidFormBody(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
  }
  if (files.length > MAX_FILES) throw Errors.invalidFormBody(['files'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_FILES} or fewer in length.`);
  if (files.some((file) => file.size > maxUploadBytes)) throw Errors.tooLarge();
}

function checkLength(value: unknown, max: number, path: Array<string | number>): number {
  if (typeof value !== 'string') return 0;
  const length = [...value].length;
  if (length > max) throw Errors.invalidFormBody(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
  return length;
}

function isEmpty(message: JsonObject): boolean {
  const content = typeof message.content === 'string' ? message.content.trim() : '';
  const nonEmpty = (key: string) => Array.isArray(message[key]) && (message[key] as unknown[]).length > 0;
  return content === '' && !nonEmpty('embeds') && !nonEmpty('attachments') && !nonEmpty('components') && !nonEmpty('sticker_ids') && !message.poll;
}

/**
 * Which mentions in `content` would ping, given `allowed_mentions`
 * (absent means Discord's default: everything parses).
 */
function mentionsFor(body: JsonObject): JsonObject {
  const content = typeof body.content === 'string' ? body.content : '';
  const allowed = isJsonObject(body.allowed_mentions) ? body.allowed_mentions : undefined;
  const parse = allowed ? (Array.isArray(allowed.parse) ? (allowed.parse as unknown[]) : []) : ['users', 'roles', 'everyone'];
  const listed = (key: string) => (allowed && Array.isArray(allowed[key]) ? (allowed[key] as unknown[]).map(String) : []);
  const userIds = [...content.matchAll(/<@!?(\d+)>/g)].map((match) => match[1] as string);
  const roleIds = [...content.matchAll(/<@&(\d+)>/g)].map((match) => match[1] as string);
  const users: APIUser[] = [...new Set(userIds)]
    .filter((id) => parse.includes('users') || listed('users').includes(id))
    .map((id) => makeUser(id, `user-${id}`));
  return {
    mention_everyone: /@(everyone|here)\b/.test(content) && parse.includes('everyone'),
    mentions: users,
    mention_roles: [...new Set(roleIds)].filter((id) => parse.includes('roles') || listed('roles').includes(id)),
  };
}

/** Width/height from a PNG IHDR chunk, as Discord reports for images. */
function pngSize(bytes: Buffer): JsonObject {
  if (bytes.length < 24 || bytes.readUInt32BE(12) !== 0x49484452) return {};
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
