// The Invocation adapter for console mode: answers are printed, attachments
// are written to a temporary folder and their paths printed. The person at the
// terminal runs the bot, so they count as an admin.
import { statSync } from 'node:fs';
import { mkdtemp, open, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type { APIEmbed } from 'discord.js';
import {
  AttachmentTooLargeError,
  AttachmentUnavailableError,
  parseButtonId,
  type Attachment,
  type ButtonPress,
  type Invocation,
  type OptionReader,
  type Reply,
  type ReplyButton,
} from '../app/command.js';
import type { OptionValue, ParsedLine } from './parse.js';

/** Where console mode puts attachments: one temporary folder per run, names numbered. */
export class FileSink {
  private dir: Promise<string> | undefined;
  private count = 0;

  async write(name: string, data: Buffer): Promise<string> {
    this.dir ??= mkdtemp(path.join(tmpdir(), 'bardbot-'));
    const file = path.join(await this.dir, `${++this.count}-${path.basename(name)}`);
    await writeFile(file, data);
    return file;
  }
}

function embedText(e: APIEmbed): string {
  const lines = [e.title && `== ${e.title} ==`, e.description, ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)];
  return lines.filter(Boolean).join('\n');
}

function optionReader(values: ReadonlyMap<string, OptionValue>): OptionReader {
  const typed = <T>(name: string, check: (v: OptionValue) => v is OptionValue & T): T | null => {
    const v = values.get(name);
    return v !== undefined && check(v) ? v : null;
  };
  return {
    getString: (name) => typed(name, (v): v is string => typeof v === 'string'),
    getInteger: (name) => typed(name, (v): v is number => Number.isInteger(v)),
    getNumber: (name) => typed(name, (v): v is number => typeof v === 'number'),
    getBoolean: (name) => typed(name, (v): v is boolean => typeof v === 'boolean'),
    // In a terminal a file option is a path on this machine.
    getAttachment: (name) => {
      const file = typed(name, (v): v is string => typeof v === 'string');
      return file === null ? null : localAttachment(file);
    },
  };
}

/** A local file as an attachment, read under the same size cap as an upload. */
export function localAttachment(file: string): Attachment {
  return {
    name: path.basename(file),
    size: statSync(file, { throwIfNoEntry: false })?.size ?? 0,
    contentType: null,
    async read({ maxBytes }) {
      let handle;
      try {
        handle = await open(file);
      } catch (err) {
        throw new AttachmentUnavailableError((err as Error).message);
      }
      try {
        // One byte past the cap tells "too large" without reading the rest.
        const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(maxBytes + 1), position: 0 });
        if (bytesRead > maxBytes) throw new AttachmentTooLargeError(maxBytes);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}

/**
 * The buttons of the last message that had some, which the next line can
 * "press" by typing the action (/again, /continue).
 */
export class ButtonBoard {
  private last: { content: string; buttons: ReplyButton[] } | undefined;

  show(reply: Reply): string | undefined {
    if (!reply.buttons?.length) return undefined;
    this.last = { content: reply.content ?? '', buttons: reply.buttons };
    return `(${reply.buttons.map((b) => `/${parseButtonId(b.id).action}`).join(', ')})`;
  }

  /** The command and press for typing `/action`, if the last buttons have it. */
  press(action: string): { command: string; press: ButtonPress } | undefined {
    const button = this.last?.buttons.find((b) => parseButtonId(b.id).action === action);
    if (!button || !this.last) return undefined;
    const { command, args } = parseButtonId(button.id);
    return { command, press: { action, args, message: { id: 'console', content: this.last.content } } };
  }
}

export class ConsoleInvocation implements Invocation {
  readonly isAdmin = true;
  readonly context = 'console';
  readonly locale = 'en-US';
  readonly live = false;
  readonly user = { id: 'console', name: userInfo().username };
  readonly target = null;
  readonly commandName: string;
  readonly subcommand: string | null;
  readonly options: OptionReader;
  readonly press: ButtonPress | null;

  /** A typed command line, or a typed button press. */
  constructor(
    what: ParsedLine | { command: string; press: ButtonPress },
    private readonly out: NodeJS.WritableStream,
    private readonly files: FileSink,
    private readonly board: ButtonBoard,
  ) {
    if ('press' in what) {
      this.commandName = what.command;
      this.subcommand = null;
      this.options = optionReader(new Map());
      this.press = what.press;
    } else {
      this.commandName = what.name;
      this.subcommand = what.subcommand;
      this.options = optionReader(what.options);
      this.press = null;
    }
  }

  mention(userId: string): string {
    return userId === this.user.id ? this.user.name : `user ${userId}`;
  }

  async defer(): Promise<void> {}
  async deferUpdate(): Promise<void> {}

  reply(reply: Reply): Promise<void> {
    return this.print(reply);
  }
  edit(reply: Reply): Promise<void> {
    return this.print(reply);
  }
  followUp(reply: Reply): Promise<void> {
    return this.print(reply);
  }
  tellLater(reply: Reply): Promise<void> {
    return this.print(reply);
  }

  async fail(message: string): Promise<void> {
    this.out.write(`error: ${message}\n`);
  }

  private async print(reply: Reply): Promise<void> {
    const parts = [reply.content, ...(reply.embeds ?? []).map(embedText), this.board.show(reply)];
    for (const f of reply.files ?? []) parts.push(`[attachment ${f.name}: ${await this.files.write(f.name, f.data)}]`);
    this.out.write(parts.filter(Boolean).join('\n') + '\n');
  }
}
