// Console mode: a prompt where the bot's slash commands are typed and run by
// the same handlers as on Discord. Lines run one at a time, in order; the
// session ends at end of input (Ctrl-D, or the end of a pipe).
import { createInterface } from 'node:readline';
import { ApplicationCommandOptionType } from 'discord.js';
import type { Command } from '../app/command.js';
import type { Dispatcher } from '../app/dispatch.js';
import { UserError } from '../app/errors.js';
import { ConsoleInvocation, FileSink } from './invocation.js';
import { commandName, parseLine } from './parse.js';

export interface ConsoleOptions {
  dispatcher: Dispatcher;
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
}

function helpText(commands: ReadonlyMap<string, Command>): string {
  const lines = [...commands.values()].flatMap(({ data }) => {
    const json = data.toJSON();
    const subs = (json.options ?? []).filter((o) => o.type === ApplicationCommandOptionType.Subcommand);
    const usage = (prefix: string, opts: readonly { name: string }[] = []) => [prefix, ...opts.map((o) => `${o.name}:…`)].join(' ');
    if (subs.length === 0) return [`  ${usage(`/${json.name}`, json.options)}  — ${json.description}`];
    return subs.map((s) => `  ${usage(`/${json.name} ${s.name}`, 'options' in s ? s.options : [])}  — ${s.description}`);
  });
  return ['Commands (values may contain spaces; quote them as JSON for \\n):', ...lines, '  /help, /quit'].join('\n');
}

export async function runConsole({ dispatcher, input, output }: ConsoleOptions): Promise<void> {
  const { commands } = dispatcher;
  const tty = input.isTTY === true;
  const rl = createInterface({ input, output: tty ? output : undefined, terminal: tty, prompt: 'bardbot> ' });
  // Ctrl-C at the prompt ends the session like Ctrl-D (readline would only pause).
  rl.on('SIGINT', () => rl.close());
  // Piped input can end while a command runs; Node 24 throws on prompt() after close.
  let closed = false;
  rl.once('close', () => (closed = true));
  const files = new FileSink();
  const say = (text: string) => void output.write(text + '\n');

  async function handle(line: string): Promise<void> {
    if (!line) return;
    if (line === '/help' || line === 'help') return say(helpText(commands));
    const name = commandName(line);
    if (!name) return say('Commands start with /, e.g. /shakespeare seed:ROMEO: length:200 (try /help)');
    const command = commands.get(name);
    if (!command) return say(`error: unknown command /${name} (try /help)`);
    let parsed;
    try {
      parsed = parseLine(line, command.data.toJSON());
    } catch (err) {
      if (err instanceof UserError) return say(`error: ${err.message}`);
      throw err;
    }
    await dispatcher.run(new ConsoleInvocation(parsed, output, files));
  }

  say('Console mode (DISCORD_TOKEN is not set). Type /help for the commands; end of input quits.');
  rl.prompt();
  for await (const line of rl) {
    if (line.trim() === '/quit') break;
    await handle(line.trim());
    if (!closed) rl.prompt();
  }
  rl.close();
}
