// Registers the command definitions (slash and context-menu) with Discord only when they differ
// from what Discord already stores: creates are limited per day, and an
// unchanged bulk overwrite still counts.
import { Routes, type APIApplicationCommand, type REST, type RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { log } from '../log.js';

type Definition = RESTPostAPIApplicationCommandsJSONBody;

/** Fields Discord adds itself (or that are deprecated); never part of our definition. */
const SERVER_FIELDS = new Set(['id', 'application_id', 'version', 'guild_id', 'dm_permission', 'name_localized', 'description_localized']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Discord leaves out, nulls or empties a field that has its default value (a context-menu command's description is ""). */
function isUnset(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
}

/** Structural equality of a definition and a stored command, treating default values as absent. */
export function sameDefinition(a: unknown, b: unknown): boolean {
  if (isUnset(a) && isUnset(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameDefinition(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => SERVER_FIELDS.has(k) || sameDefinition(a[k], b[k]));
  }
  return a === b;
}

/** Names of commands to create, change or delete so that `remote` matches `local`. */
export function changedCommands(local: readonly Definition[], remote: readonly APIApplicationCommand[]): string[] {
  const names = new Set([...local.map((c) => c.name), ...remote.map((c) => c.name)]);
  return [...names].filter((name) => {
    const want = local.find((c) => c.name === name);
    const have = remote.find((c) => c.name === name);
    return !want || !have || !sameDefinition(want, have);
  });
}

export interface SyncOptions {
  rest: REST;
  applicationId: string;
  /** Guild to register in; global when undefined. */
  guildId?: string;
  definitions: readonly Definition[];
  /** Write even when nothing changed. */
  force?: boolean;
}

/** Makes Discord's commands match `definitions`; returns the names that changed ([] when nothing was written). */
export async function syncCommands({ rest, applicationId, guildId, definitions, force = false }: SyncOptions): Promise<string[]> {
  const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  const scope = guildId ? `guild ${guildId}` : 'global';
  // Without with_localizations Discord leaves out name_localizations and
  // description_localizations, and every start would see a change.
  const remote = (await rest.get(route, { query: new URLSearchParams({ with_localizations: 'true' }) })) as APIApplicationCommand[];
  const changed = changedCommands(definitions, remote);
  if (changed.length === 0 && !force) {
    log.info({ scope, commands: definitions.length }, 'slash commands already up to date; nothing written');
    return [];
  }
  await rest.put(route, { body: definitions });
  log.info({ scope, changed }, `registered ${definitions.length} slash commands (${scope})`);
  return changed;
}
