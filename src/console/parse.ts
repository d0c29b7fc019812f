// Parses a typed command line like `/shakespeare seed:To be or not length:100`
// against a command's definition. A value runs until the next ` name:` of a
// known option, so values may contain spaces (and colons, as in `ROMEO:`);
// a value in double quotes is read as a JSON string (for "\n" or edge spaces).
import { ApplicationCommandOptionType as T, type APIApplicationCommandOption, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import { UserError } from '../app/errors.js';

export type OptionValue = string | number | boolean;

export interface ParsedLine {
  name: string;
  subcommand: string | null;
  options: Map<string, OptionValue>;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function convert(def: APIApplicationCommandOption, raw: string): OptionValue {
  let text = raw.trim();
  if (/^".*"$/s.test(text)) {
    try {
      text = JSON.parse(text) as string;
    } catch {
      throw new UserError(`${def.name}: bad quoted value ${raw.trim()}`);
    }
  }
  switch (def.type) {
    case T.Integer:
      if (!/^[-+]?\d+$/.test(text)) throw new UserError(`${def.name} must be a whole number, not "${text}"`);
      return Number(text);
    case T.Number:
      if (text === '' || !Number.isFinite(Number(text))) throw new UserError(`${def.name} must be a number, not "${text}"`);
      return Number(text);
    case T.Boolean:
      if (text !== 'true' && text !== 'false') throw new UserError(`${def.name} must be true or false`);
      return text === 'true';
    default:
      return text;
  }
}

/** The name of the command a line asks for (`/model info` → model), or undefined if it is not a command. */
export function commandName(line: string): string | undefined {
  return /^\/([\w-]+)/.exec(line.trim())?.[1];
}

/** Parses `line` for `definition`; throws UserError with a message for the user. */
export function parseLine(line: string, definition: RESTPostAPIChatInputApplicationCommandsJSONBody): ParsedLine {
  let rest = line.trim().replace(/^\/[\w-]+/, '');
  let defs = definition.options ?? [];
  let subcommand: string | null = null;
  const subcommands = defs.filter((d) => d.type === T.Subcommand);
  if (subcommands.length > 0) {
    const word = /^\s*([\w-]+)/.exec(rest)?.[1];
    const sub = subcommands.find((d) => d.name === word);
    if (!sub) throw new UserError(`/${definition.name} needs one of: ${subcommands.map((d) => d.name).join(', ')}`);
    subcommand = sub.name;
    rest = rest.replace(/^\s*[\w-]+/, '');
    defs = sub.options ?? [];
  }
  const options = new Map<string, OptionValue>();
  const known = defs.filter((d) => d.type !== T.Subcommand && d.type !== T.SubcommandGroup);
  if (known.length > 0) {
    const marker = new RegExp(`(?:^|\\s)(${known.map((d) => escapeRegExp(d.name)).join('|')}):`, 'g');
    const matches = [...rest.matchAll(marker)];
    const before = (matches[0]?.index ?? rest.length);
    if (rest.slice(0, before).trim()) throw new UserError(`expected name:value options (${known.map((d) => d.name).join(', ')}), got "${rest.slice(0, before).trim()}"`);
    matches.forEach((m, i) => {
      const def = known.find((d) => d.name === m[1])!;
      const end = matches[i + 1]?.index ?? rest.length;
      options.set(def.name, convert(def, rest.slice(m.index + m[0].length, end)));
    });
  } else if (rest.trim()) {
    throw new UserError(`/${definition.name}${subcommand ? ` ${subcommand}` : ''} takes no options`);
  }
  for (const d of known) {
    if ('required' in d && d.required && !options.has(d.name)) throw new UserError(`${d.name} is required`);
  }
  return { name: definition.name, subcommand, options };
}
