// Finds the slash command modules in commands/ (one file per command, each
// exporting `data` and `execute`, as in the discord.js guide).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from './command.js';

const COMMANDS_DIR = fileURLToPath(new URL('../../commands/', import.meta.url));

function isCommand(mod: Partial<Command>): mod is Command {
  return typeof mod.data?.name === 'string' && typeof mod.data.toJSON === 'function' && typeof mod.execute === 'function';
}

/** Imports every command module, keyed by command name; throws on a malformed or duplicate one. */
export async function loadCommands(): Promise<Map<string, Command>> {
  const files = (await readdir(COMMANDS_DIR)).filter((f) => /\.[cm]?[jt]s$/.test(f) && !/\.d\.[cm]?ts$/.test(f)).sort();
  const commands = new Map<string, Command>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(COMMANDS_DIR, file)).href)) as Partial<Command>;
    if (!isCommand(mod)) throw new Error(`commands/${file} must export \`data\` (a SlashCommandBuilder) and \`execute\``);
    if (commands.has(mod.data.name)) throw new Error(`commands/${file}: a command named /${mod.data.name} is already defined`);
    commands.set(mod.data.name, { data: mod.data, execute: mod.execute });
  }
  return commands;
}
