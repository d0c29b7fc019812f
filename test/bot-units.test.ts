// The bot's pure parts: config validation, console-line parsing, reply
// formatting, command-definition comparison, cooldowns.
import type { APIApplicationCommand } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { data as modelCommand } from '../commands/model.js';
import { data as shakespeareCommand } from '../commands/shakespeare.js';
import { ConfigError, parseConfig } from '../src/config.js';
import { parseLine } from '../src/console/parse.js';
import { Cooldowns } from '../src/app/cooldowns.js';
import { fitMessage, MESSAGE_LIMIT } from '../src/app/replies/limits.js';
import { passageReply, passageText } from '../src/app/replies/passage.js';
import { buttonId, parseButtonId, type Command, type Completer, type Policy } from '../src/app/command.js';
import { Dispatcher, type Completion } from '../src/app/dispatch.js';
import type { Services } from '../src/app/services.js';
import { speakerHeadings } from '../src/app/speakers.js';
import { normalizeSeed } from '../src/ml/normalize.js';
import { changedCommands } from '../src/discord/registration.js';

describe('parseConfig', () => {
  it('fills defaults and treats empty variables as unset', () => {
    const c = parseConfig({ DISCORD_TOKEN: '', DISCORD_GUILD_ID: '', ADMIN_USER_IDS: '123456789012345678, 223456789012345678' });
    expect(c.DISCORD_TOKEN).toBeUndefined();
    expect(c.DISCORD_GUILD_ID).toBeUndefined();
    expect(c).toMatchObject({ DISCORD_API_URL: 'https://discord.com/api', MODELS_DIR: 'models', MODEL_NAME: 'shakespeare' });
    // Unset: the pool sizes itself to the cores.
    expect(c.GEN_WORKERS).toBeUndefined();
    expect(c.ADMIN_USER_IDS).toEqual(['123456789012345678', '223456789012345678']);
  });

  it('names every bad variable and never shows the token', () => {
    const bad = () => parseConfig({ DISCORD_TOKEN: 'secret value', GEN_MAX_QUEUE: '1.5', COOLDOWN_SECONDS: '-1', LOG_LEVEL: 'loud' });
    expect(bad).toThrow(ConfigError);
    const message = (() => {
      try {
        bad();
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toContain('DISCORD_TOKEN: must not contain spaces');
    expect(message).not.toContain('secret');
    expect(message).toContain('GEN_MAX_QUEUE: must be a whole number (got "1.5")');
    expect(message).toContain('COOLDOWN_SECONDS');
    expect(message).toContain('LOG_LEVEL');
  });

  it('checks the retrain schedule at start, not at 3 a.m.', () => {
    const c = parseConfig({ RETRAIN_ENABLED: 'false', RETRAIN_CRON: '*/5 * * * *', RETRAIN_TIMEZONE: 'Europe/Paris' });
    expect(c).toMatchObject({ RETRAIN_ENABLED: false, RETRAIN_MAX_MINUTES: 60, RETRAIN_TOLERANCE: 0, RETRAIN_KEEP_VERSIONS: 5, DATA_DIR: 'data' });
    expect(parseConfig({}).RETRAIN_CRON).toBe('0 3 * * *');
    expect(() => parseConfig({ RETRAIN_CRON: 'at midnight' })).toThrow(/RETRAIN_CRON: "at midnight" is not a cron expression/);
    expect(() => parseConfig({ RETRAIN_TIMEZONE: 'Mars/Olympus' })).toThrow(/RETRAIN_TIMEZONE: "Mars\/Olympus" is not a time zone/);
    expect(() => parseConfig({ RETRAIN_ENABLED: 'maybe' })).toThrow(/RETRAIN_ENABLED: must be true or false/);
    expect(() => parseConfig({ RETRAIN_KEEP_VERSIONS: '1' })).toThrow(/RETRAIN_KEEP_VERSIONS/);
  });
  it('refuses durations past Node\'s timer limit or absurdly small, naming the variable', () => {
    expect(() => parseConfig({ RETRAIN_MAX_MINUTES: '40000' })).toThrow(/RETRAIN_MAX_MINUTES: must be from 0.5 to 20160 minutes \(got "40000"\)/);
    expect(() => parseConfig({ RETRAIN_MAX_MINUTES: '0.001' })).toThrow(/RETRAIN_MAX_MINUTES: must be from 0.5/);
    expect(() => parseConfig({ SHUTDOWN_GRACE_SECONDS: String(2 ** 31) })).toThrow(/SHUTDOWN_GRACE_SECONDS: must be from 0 to 3600 seconds/);
    expect(() => parseConfig({ MODEL_WATCH_SECONDS: '0.001' })).toThrow(/MODEL_WATCH_SECONDS: must be from 0.5 to 3600 seconds \(0: never\)/);
    expect(() => parseConfig({ COOLDOWN_SECONDS: '1e9' })).toThrow(/COOLDOWN_SECONDS: must be from 0 to 86400 seconds/);
    expect(parseConfig({ MODEL_WATCH_SECONDS: '0', COOLDOWN_SECONDS: '0', SHUTDOWN_GRACE_SECONDS: '0' })).toMatchObject({ MODEL_WATCH_SECONDS: 0, COOLDOWN_SECONDS: 0 });
  });
});

describe('parseLine (console mode)', () => {
  const shakespeare = shakespeareCommand.toJSON();
  const model = modelCommand.toJSON();

  it('reads values with spaces and colons up to the next known option', () => {
    const p = parseLine('/shakespeare seed:To be or not length:100 temperature:0.5', shakespeare);
    expect(p.subcommand).toBeNull();
    expect(Object.fromEntries(p.options)).toEqual({ seed: 'To be or not', length: 100, temperature: 0.5 });
    expect(parseLine('/shakespeare seed:ROMEO: Is she:dead? length:5', shakespeare).options.get('seed')).toBe('ROMEO: Is she:dead?');
    expect(parseLine('/shakespeare seed:" two\\nlines "', shakespeare).options.get('seed')).toBe(' two\nlines ');
  });

  it('reads subcommands and required options', () => {
    expect(parseLine('/model info', model)).toMatchObject({ name: 'model', subcommand: 'info' });
    expect(parseLine('/model rollback version:v2', model).options.get('version')).toBe('v2');
    expect(() => parseLine('/model rollback', model)).toThrow('version is required');
    expect(() => parseLine('/model', model)).toThrow('needs one of: info, versions, rollback');
  });

  it('refuses what it cannot type', () => {
    expect(() => parseLine('/shakespeare length:abc', shakespeare)).toThrow('length must be a whole number');
    expect(() => parseLine('/shakespeare temperature:warm', shakespeare)).toThrow('temperature must be a number');
    expect(() => parseLine('/shakespeare hello length:3', shakespeare)).toThrow('expected name:value options');
    expect(() => parseLine('/model info extra', model)).toThrow('takes no options');
  });
});

describe('passageReply', () => {
  it('puts short text in a code block with the signature', () => {
    expect(passageReply('ROMEO: hi', '— shakespeare v3', 'x.txt', [], 'en-US')).toEqual({ content: '```\nROMEO: hi\n```\n— shakespeare v3', whole: true });
    expect(passageReply('hi', '— s v1', 'x.txt', ['a note'], 'en-US').content).toBe('```\nhi\n```\n*a note*\n— s v1');
  });

  it('gives back the text of its own messages, fences unbroken; nothing for other messages', () => {
    for (const text of ['', '\nROMEO: a ``` b', 'x'.repeat(1900)]) expect(passageText(passageReply(text, '— s v1', 'x.txt', ['n'], 'en-US').content!)).toBe(text);
    expect(passageText('hello')).toBeUndefined();
  });

  it('breaks backtick runs so the text cannot close its block', () => {
    const { content } = passageReply('a ``` b `` c ` d', '— s v1', 'x.txt', [], 'en-US');
    expect(content!.match(/```/g)).toHaveLength(2);
    expect(content!.replace(/\u200b/g, '')).toContain('a ``` b `` c ` d');
  });

  it('cuts what does not fit in 2,000 characters at a line or word end and attaches the whole text', () => {
    const text = ('Now is the winter of our discontent\n' + '`'.repeat(30)).repeat(120);
    const reply = passageReply(text, '— shakespeare v3', 'shakespeare-v3.txt', [], 'en-US');
    expect(reply.content!.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(reply.content!.length).toBeGreaterThan(MESSAGE_LIMIT - 250);
    expect(reply.content!.match(/```/g)).toHaveLength(2);
    expect(reply.content).toMatch(/…\n```\n\*Cut short here; all 7920 characters are in shakespeare-v3\.txt\.\*\n— shakespeare v3$/);
    expect(reply.files).toEqual([{ name: 'shakespeare-v3.txt', data: Buffer.from(text) }]);
  });
});

describe('normalizeSeed (forgiving seeds)', () => {
  const ascii = (c: string) => c >= ' ' && c <= '~' && c !== '"' || c === '\n';
  it('maps typographic forms and accents to ASCII, drops the rest by code point, and merges the space a drop leaves', () => {
    const n = normalizeSeed('Hello 😀 world — ’tis café…\r\nＲＯＭＥＯ:\t“x”', ascii);
    expect(n.text).toBe("Hello world - 'tis cafe...\nROMEO: x");
    expect(n.replaced).toEqual([{ from: '—', to: '-' }, { from: '’', to: "'" }, { from: 'é', to: 'e' }, { from: '…', to: '...' }, { from: 'Ｒ', to: 'R' }, { from: 'Ｏ', to: 'O' }, { from: 'Ｍ', to: 'M' }, { from: 'Ｅ', to: 'E' }]);
    expect(n.dropped).toEqual(['😀', '“', '”']);
  });

  it('keeps what the vocabulary has as typed', () => {
    expect(normalizeSeed('“x” é', () => true)).toEqual({ text: '“x” é', replaced: [], dropped: [] });
  });
});

describe('speakerHeadings and button ids', () => {
  it('lists heading lines, most frequent first', () => {
    expect(speakerHeadings('ROMEO:\nhi\nJULIET:\nyo\nROMEO:\nKING RICHARD III:\nnot: a heading\n')).toEqual(['ROMEO:', 'JULIET:', 'KING RICHARD III:']);
  });

  it('routes by command and action, and refuses ids Discord would refuse', () => {
    expect(parseButtonId(buttonId('shakespeare', 'again', 'v2', '6', '300'))).toEqual({ command: 'shakespeare', action: 'again', args: ['v2', '6', '300'] });
    expect(() => buttonId('shakespeare', 'again', 'x'.repeat(100))).toThrow(/bad button id/);
    expect(() => buttonId('shakespeare', 'again', 'a:b')).toThrow(/bad button id/);
  });
});

describe('Dispatcher.complete', () => {
  const suggest = (n: number, len: number) => Array.from({ length: n }, (_, i) => `${i}`.padEnd(len, 'x'));
  const dispatcher = (suggestions: string[], policy?: Policy) => {
    const complete: Completer = async ({ value }) => [value, ...suggestions];
    const commands = new Map<string, Command>([['c', { data: { name: 'c', toJSON: () => ({ name: 'c', description: 'd' }) }, policy, complete, execute: async () => {} }]]);
    return new Dispatcher(commands, {} as Services, new Cooldowns(0));
  };
  const ask = (d: Dispatcher, value: string, who: Partial<Completion> = {}) =>
    d.complete({ commandName: 'c', subcommand: null, user: { id: '1', name: 'u' }, isAdmin: false, context: 'guild', locale: 'en-US', query: { option: 'o', value }, ...who });

  it('keeps at most 25 distinct choices of 1 to 100 characters, whatever was typed', async () => {
    const choices = await ask(dispatcher(suggest(40, 300)), 'y'.repeat(6000));
    expect(choices).toHaveLength(25);
    expect(choices[0].name).toBe('y'.repeat(100));
    for (const c of choices) {
      expect(c.name.length).toBeGreaterThan(0);
      expect(c.name.length).toBeLessThanOrEqual(100);
      expect(c.value).toBe(c.name);
    }
    expect(await ask(dispatcher(['a', 'a', '']), '')).toEqual([{ name: 'a', value: 'a' }]);
  });

  it('suggests nothing where the policies would refuse the command', async () => {
    expect(await ask(dispatcher(['a'], { admin: true }), '')).toEqual([]);
    expect(await ask(dispatcher(['a'], { admin: true }), '', { isAdmin: true })).toHaveLength(1);
    expect(await ask(dispatcher(['a'], { guildOnly: true }), '', { context: 'private' })).toEqual([]);
  });
});

describe('fitMessage', () => {
  it('leaves a message that fits alone and cuts a longer one to the limit with an ellipsis', () => {
    expect(fitMessage('short')).toBe('short');
    const long = 'word '.repeat(1000);
    const fitted = fitMessage(long);
    expect(fitted.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(fitted.endsWith('…')).toBe(true);
    expect(long.startsWith(fitted.slice(0, -1))).toBe(true);
  });
});

describe('changedCommands', () => {
  const local = [shakespeareCommand.toJSON(), modelCommand.toJSON()];
  /** What Discord returns: our definition plus ids, versions and defaults it fills in. */
  const stored = (): APIApplicationCommand[] =>
    local.map(
      (c, i) =>
        ({
          ...structuredClone(c),
          id: `10${i}`,
          application_id: '1',
          version: `20${i}`,
          default_member_permissions: null,
          dm_permission: true,
          nsfw: false,
          description_localizations: c.description_localizations ?? null,
          options: c.options?.map((o) => ({ ...o, required: undefined })),
        }) as unknown as APIApplicationCommand,
    );

  it('sees no change when Discord only added ids and defaults', () => {
    expect(changedCommands(local, stored())).toEqual([]);
  });

  it('names created, changed and deleted commands', () => {
    expect(changedCommands(local, stored().slice(1))).toEqual(['shakespeare']);
    const edited = stored();
    edited[0].description = 'old text';
    expect(changedCommands(local, edited)).toEqual(['shakespeare']);
    const reordered = stored();
    reordered[0].options!.reverse();
    expect(changedCommands(local, reordered)).toEqual(['shakespeare']);
    expect(changedCommands([local[1]], stored())).toEqual(['shakespeare']);
  });
});

describe('Cooldowns', () => {
  it('makes a user wait, counts down, and forgets released users', () => {
    let now = 0;
    const c = new Cooldowns(5, () => now);
    expect(c.take('a')).toBe(0);
    expect(c.take('b')).toBe(0);
    now = 1500;
    expect(c.take('a')).toBe(4);
    c.release('a');
    expect(c.take('a')).toBe(0);
    now = 5000;
    expect(c.take('b')).toBe(0);
  });
});
