/**
 * Application command storage with Discord-like validation and write counting,
 * so tests can assert that a bot only (re)registers when definitions change.
 */
import { Errors } from './http.js';
import { RecordLog, deepClone, isJsonObject, jsonEqual, type JsonObject, type SnowflakeGenerator } from './util.js';

/** A stored command as Discord returns it (definition plus id/version/defaults). */
export interface StoredCommand extends JsonObject {
  id: string;
  application_id: string;
  version: string;
  type: number;
  name: string;
  description: string;
  guild_id?: string;
  options?: JsonObject[];
}

export interface CommandWriteRecord {
  method: 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** undefined for global commands. */
  guildId: string | undefined;
  /** Names of commands whose definition actually changed (created, edited, deleted). */
  changed: string[];
  at: number;
}

/** Option types that may contain nested options. */
const SUB_COMMAND = 1;
const SUB_COMMAND_GROUP = 2;
const CHAT_INPUT = 1;
const NAME_RE = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
/** Fields Discord adds itself; ignored when deciding whether a definition changed. */
const SERVER_FIELDS = new Set(['id', 'application_id', 'version', 'guild_id']);
/** The locales Discord accepts as keys of name_localizations and description_localizations. */
const LOCALES = new Set('id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el bg ru uk hi th zh-CN ja zh-TW ko'.split(' '));
const LOCALIZATION_FIELDS = ['name_localizations', 'description_localizations'];

/**
 * A stored command as a list GET answers it without ?with_localizations=true:
 * Discord leaves out the localization maps (of the command, its options and choices).
 */
export function withoutLocalizations<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutLocalizations) as T;
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !LOCALIZATION_FIELDS.includes(k)).map(([k, v]) => [k, withoutLocalizations(v)])) as T;
}

export class CommandStore {
  readonly writes = new RecordLog<CommandWriteRecord>('command writes');
  readonly #global: StoredCommand[] = [];
  readonly #guild = new Map<string, StoredCommand[]>();

  constructor(
    private readonly applicationId: string,
    private readonly ids: SnowflakeGenerator,
  ) {}

  list(guildId?: string): StoredCommand[] {
    return deepClone(this.#bucket(guildId));
  }

  /** Finds a command by name: guild commands first, then global ones. */
  lookup(name: string, guildId: string | undefined, type = CHAT_INPUT): StoredCommand | undefined {
    const match = (command: StoredCommand) => command.name === name && command.type === type;
    return (guildId ? this.#guild.get(guildId)?.find(match) : undefined) ?? this.#global.find(match);
  }

  /** Bulk overwrite (PUT). Keeps ids of commands that keep their name and type. */
  overwrite(guildId: string | undefined, body: unknown, count = true): StoredCommand[] {
    if (!Array.isArray(body)) throw Errors.invalidFormBody([], 'LIST_TYPE_CONVERT', 'Must be an array.');
    if (body.length > 100) throw Errors.invalidFormBody([], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
    const definitions = body.map((definition, index) => validateCommand(definition, [index]));
    const seen = new Set<string>();
    definitions.forEach((definition, index) => {
      const key = `${definition.type}:${definition.name}`;
      if (seen.has(key)) throw Errors.invalidFormBody([index, 'name'], 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Application command names must be unique`);
      seen.add(key);
    });
    const previous = this.#bucket(guildId);
    const changed: string[] = [];
    const next = definitions.map((definition) => {
      const existing = previous.find((command) => command.name === definition.name && command.type === definition.type);
      const stored = this.#store(definition, guildId, existing);
      if (stored !== existing) changed.push(definition.name);
      return stored;
    });
    for (const command of previous) if (!next.some((stored) => stored.id === command.id)) changed.push(command.name);
    this.#setBucket(guildId, next);
    if (count) this.writes.push({ method: 'PUT', guildId, changed, at: Date.now() });
    return deepClone(next);
  }

  /** Create (POST): upserts by name like Discord does. Returns [command, created]. */
  create(guildId: string | undefined, body: unknown): [StoredCommand, boolean] {
    const definition = validateCommand(body, []);
    const bucket = this.#bucket(guildId);
    const index = bucket.findIndex((command) => command.name === definition.name && command.type === definition.type);
    const existing = index >= 0 ? bucket[index] : undefined;
    const stored = this.#store(definition, guildId, existing);
    if (index >= 0) bucket[index] = stored;
    else bucket.push(stored);
    this.#setBucket(guildId, bucket);
    this.writes.push({ method: 'POST', guildId, changed: stored !== existing ? [stored.name] : [], at: Date.now() });
    return [deepClone(stored), existing === undefined];
  }

  edit(guildId: string | undefined, commandId: string, body: unknown): StoredCommand {
    const bucket = this.#bucket(guildId);
    const index = bucket.findIndex((command) => command.id === commandId);
    const existing = bucket[index];
    if (!existing) throw Errors.unknownCommand();
    if (!isJsonObject(body)) throw Errors.invalidFormBody([], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    const merged = validateCommand({ ...definitionOf(existing), ...body }, []);
    const stored = this.#store(merged, guildId, existing);
    bucket[index] = stored;
    this.writes.push({ method: 'PATCH', guildId, changed: stored !== existing ? [stored.name] : [], at: Date.now() });
    return deepClone(stored);
  }

  delete(guildId: string | undefined, commandId: string): void {
    const bucket = this.#bucket(guildId);
    const index = bucket.findIndex((command) => command.id === commandId);
    const existing = bucket[index];
    if (!existing) throw Errors.unknownCommand();
    bucket.splice(index, 1);
    this.writes.push({ method: 'DELETE', guildId, changed: [existing.name], at: Date.now() });
  }

  get(guildId: string | undefined, commandId: string): StoredCommand {
    const command = this.#bucket(guildId).find((candidate) => candidate.id === commandId);
    if (!command) throw Errors.unknownCommand();
    return deepClone(command);
  }

  /** Returns `existing` unchanged when the definition is equal (so ids and versions stay). */
  #store(definition: JsonObject & { name: string; type: number }, guildId: string | undefined, existing?: StoredCommand): StoredCommand {
    if (existing && jsonEqual(definitionOf(existing), definition)) return existing;
    return {
      ...definition,
      id: existing?.id ?? this.ids.next(),
      application_id: this.applicationId,
      version: this.ids.next(),
      ...(guildId ? { guild_id: guildId } : {}),
    } as StoredCommand;
  }

  #bucket(guildId: string | undefined): StoredCommand[] {
    return guildId ? (this.#guild.get(guildId) ?? []) : this.#global;
  }

  #setBucket(guildId: string | undefined, commands: StoredCommand[]): void {
    if (guildId) this.#guild.set(guildId, commands);
    else this.#global.splice(0, this.#global.length, ...commands);
  }
}

/** The user-controlled part of a stored command, normalised with Discord's defaults. */
function definitionOf(command: StoredCommand): JsonObject {
  const definition: JsonObject = {};
  for (const [key, value] of Object.entries(command)) if (!SERVER_FIELDS.has(key)) definition[key] = value;
  return definition;
}

/** Validates a command definition roughly like Discord and fills defaults. */
function validateCommand(raw: unknown, path: Array<string | number>): JsonObject & { name: string; type: number } {
  if (!isJsonObject(raw)) throw Errors.invalidFormBody(path, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
  const type = raw.type === undefined ? CHAT_INPUT : raw.type;
  if (typeof type !== 'number' || ![1, 2, 3, 4].includes(type)) throw Errors.invalidFormBody([...path, 'type'], 'BASE_TYPE_CHOICES', 'Value must be one of (1, 2, 3, 4).');
  const name = checkName(raw.name, [...path, 'name'], type === CHAT_INPUT);
  if (type === CHAT_INPUT) checkDescription(raw.description, [...path, 'description']);
  checkLocalizations(raw, path, type === CHAT_INPUT);
  const definition: JsonObject & { name: string; type: number } = {
    ...deepClone(raw),
    name,
    type,
    description: typeof raw.description === 'string' ? raw.description : '',
    default_member_permissions: raw.default_member_permissions ?? null,
    nsfw: raw.nsfw ?? false,
  };
  for (const key of Object.keys(definition)) if (definition[key] === undefined) delete definition[key];
  if (raw.options !== undefined) checkOptions(raw.options, [...path, 'options'], 0);
  return definition;
}

/** Chat-input names (and option names) follow NAME_RE in lower case; user and message command names may be any 1 to 32 characters, spaces and capitals included. */
function checkName(name: unknown, path: Array<string | number>, chatInput: boolean): string {
  const valid = typeof name === 'string' && (chatInput ? NAME_RE.test(name) && name === name.toLowerCase() : [...name].length >= 1 && [...name].length <= 32);
  if (!valid) {
    throw Errors.invalidFormBody(path, 'APPLICATION_COMMAND_INVALID_NAME', `Command name is invalid`);
  }
  return name;
}

function checkDescription(description: unknown, path: Array<string | number>): void {
  if (typeof description !== 'string' || description.length < 1 || description.length > 100) {
    throw Errors.invalidFormBody(path, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  }
}

/** name_localizations and description_localizations: known locales, each value valid as the name or description it translates. */
function checkLocalizations(item: JsonObject, path: Array<string | number>, chatInput: boolean): void {
  for (const field of LOCALIZATION_FIELDS) {
    const map = item[field];
    if (map === undefined || map === null) continue;
    if (!isJsonObject(map)) throw Errors.invalidFormBody([...path, field], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    for (const [locale, value] of Object.entries(map)) {
      const at = [...path, field, locale];
      if (!LOCALES.has(locale)) throw Errors.invalidFormBody(at, 'INVALID_LOCALE', `Invalid locale ${locale}`);
      if (field === 'name_localizations') checkName(value, at, chatInput);
      else checkDescription(value, at);
    }
  }
}

function checkOptions(options: unknown, path: Array<string | number>, depth: number): void {
  if (!Array.isArray(options)) throw Errors.invalidFormBody(path, 'LIST_TYPE_CONVERT', 'Must be an array.');
  if (options.length > 25) throw Errors.invalidFormBody(path, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  const names = new Set<string>();
  let sawOptional = false;
  options.forEach((option: unknown, index) => {
    const at = [...path, index];
    if (!isJsonObject(option)) throw Errors.invalidFormBody(at, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    const name = checkName(option.name, [...at, 'name'], true);
    if (names.has(name)) throw Errors.invalidFormBody([...at, 'name'], 'APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME', 'Option names must be unique');
    names.add(name);
    checkDescription(option.description, [...at, 'description']);
    checkLocalizations(option, at, true);
    if (typeof option.type !== 'number' || option.type < 1 || option.type > 11) {
      throw Errors.invalidFormBody([...at, 'type'], 'BASE_TYPE_CHOICES', 'Value must be one of (1 .. 11).');
    }
    if (option.type === SUB_COMMAND || option.type === SUB_COMMAND_GROUP) {
      if (depth >= (option.type === SUB_COMMAND_GROUP ? 1 : 2)) {
        throw Errors.invalidFormBody([...at, 'type'], 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Sub-command nesting is too deep');
      }
      if (option.options !== undefined) checkOptions(option.options, [...at, 'options'], depth + 1);
      return;
    }
    if (option.required === true && sawOptional) {
      throw Errors.invalidFormBody([...at, 'required'], 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', 'Required options must be placed before non-required options');
    }
    if (option.required !== true) sawOptional = true;
    if (Array.isArray(option.choices) && option.choices.length > 25) {
      throw Errors.invalidFormBody([...at, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    }
  });
}
