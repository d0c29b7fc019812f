// Console mode: a prompt where the bot's slash commands are typed and run by
// the same handlers as on Discord. Lines run one at a time, in order; the
// session ends at end of input (Ctrl-D, or the end of a pipe).
import { createInterface } from 'node:readline';
import { ApplicationCommandOptionType, ApplicationCommandType, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { Command } from '../app/command.js';
import type { Dispatcher } from '../app/dispatch.js';
import { UserError } from '../app/errors.js';
import { ButtonBoard, ConsoleInvocation, FileSink } from './invocation.js';
import { commandName, parseLine } from './parse.js';

export interface ConsoleOptions {
  dispatcher: Dispatcher;
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
}

/** The slash commands' definitions (context-menu commands have no typed form). */
function slashDefinition(command: Command): RESTPostAPIChatInputApplicationCommandsJSONBody | undefined {
  const json = command.data.toJSON();
  return json.type === undefined || json.type === ApplicationCommandType.ChatInput ? (json as RESTPostAPIChatInputApplicationCommandsJSONBody) : undefined;
}

function helpText(commands: ReadonlyMap<string, Command>): string {
  const lines = [...commands.values()].flatMap((command) => {
    const json = slashDefinition(command);
    if (!json) return [];
    const subs = (json.options ?? []).filter((o) => o.type === ApplicationCommandOptionType.Subcommand);
    const usage = (prefix: string, opts: readonly { name: string }[] = []) => [prefix, ...opts.map((o) => `${o.name}:…`)].join(' ');
    if (subs.length === 0) return [`  ${usage(`/${json.name}`, json.options)}  — ${json.description}`];
    return subs.map((s) => `  ${usage(`/${json.name} ${s.name}`, 'options' in s ? s.options : [])}  — ${s.description}`);
  });
  return ['Commands (values may contain spaces; quote them as JSON for \\n):', ...lines, '  /again, /continue  — after a passage: a new one from the same seed, or carry it on', '  /help, /quit'].join('\n');
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
  const board = new ButtonBoard();
  const say = (text: string) => void output.write(text + '\n');

  async function handle(line: string): Promise<void> {
    if (!line) return;
    if (line === '/help' || line === 'help') return say(helpText(commands));
    const name = commandName(line);
    const pressed = name && board.press(name);
    if (pressed) return dispatcher.run(new ConsoleInvocation(pressed, output, files, board));
    if (!name) return say('Commands start with /, e.g. /shakespeare seed:ROMEO: length:200 (try /help)');
    const command = commands.get(name);
    const definition = command && slashDefinition(command);
    if (!definition) return say(`error: unknown command /${name} (try /help)`);
    let parsed;
    try {
      parsed = parseLine(line, definition);
    } catch (err) {
      if (err instanceof UserError) return say(`error: ${err.message}`);
      throw err;
    }
    await dispatcher.run(new ConsoleInvocation(parsed, output, files, board));
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
