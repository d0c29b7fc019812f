// Finds the slash command modules in commands/ (one file per command, as in
// the discord.js guide: `data`, an optional `policy`, `buttons` and `complete`,
// and `execute` or `subcommands`).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from './command.js';

const COMMANDS_DIR = fileURLToPath(new URL('../../commands/', import.meta.url));

function isCommand(mod: Partial<Command>): mod is Command {
  const runs = typeof mod.execute === 'function' ? mod.subcommands === undefined : typeof mod.subcommands === 'object' && mod.subcommands !== null;
  return typeof mod.data?.name === 'string' && typeof mod.data.toJSON === 'function' && runs;
}

/** Imports every command module, keyed by command name; throws on a malformed or duplicate one. */
export async function loadCommands(): Promise<Map<string, Command>> {
  const files = (await readdir(COMMANDS_DIR)).filter((f) => /\.[cm]?[jt]s$/.test(f) && !/\.d\.[cm]?ts$/.test(f)).sort();
  const commands = new Map<string, Command>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(COMMANDS_DIR, file)).href)) as Partial<Command>;
    if (!isCommand(mod)) throw new Error(`commands/${file} must export \`data\` (a SlashCommandBuilder) and either \`execute\` or \`subcommands\``);
    if (commands.has(mod.data.name)) throw new Error(`commands/${file}: a command named /${mod.data.name} is already defined`);
    const { data, policy, execute, subcommands, buttons, complete } = mod;
    commands.set(data.name, (execute ? { data, policy, buttons, complete, execute } : { data, policy, buttons, complete, subcommands }) as Command);
  }
  return commands;
}
