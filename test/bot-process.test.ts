// The real entry points as separate processes (`tsx src/main.ts`, as
// `npm start` runs it, and `tsx src/cli/deploy-commands.ts`): config errors,
// console mode, a rejected token, command deployment, and SIGTERM while a
// command is running. Every wait is bounded.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from '../tools/fake-discord/server.js';
import { publishTinyModel } from './helpers/tiny-model.js';

const TSX = path.resolve('node_modules/.bin/tsx');
const TOKEN = 'bardbot-process-test-token';
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Exit {
  code: number | null;
  output: string;
}

/** Starts `script` with tsx; `exit` rejects if it has not ended within timeoutMs (and kills it). */
function run(script: string, env: Record<string, string>, input?: string, timeoutMs = 60_000) {
  const child = spawn(TSX, [script], {
    // Empty values win over a developer's .env (dotenv never overrides); no
    // schedule, so a developer's runs/ cannot trigger a catch-up retrain.
    env: { ...process.env, DISCORD_TOKEN: '', DISCORD_GUILD_ID: '', RETRAIN_ENABLED: 'false', LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(input ?? '');
  const exit = new Promise<Exit>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms; output:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  return { child, exit, output: () => output };
}

let models: string;
let fake: FakeDiscord | undefined;

beforeAll(async () => {
  models = await mkdtemp(path.join(tmpdir(), 'bardbot-models-'));
  await publishTinyModel(models, { epochs: 1 });
}, 60_000);

afterAll(async () => {
  if (models) await rm(models, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('npm start (tsx src/main.ts)', () => {
  it('stops at once with a clear message when the config is invalid', async () => {
    const { exit } = run('src/main.ts', { GEN_WORKERS: 'lots', DISCORD_API_URL: 'not a url' });
    const { code, output } = await exit;
    expect(code).toBe(1);
    expect(output).toContain('GEN_WORKERS: must be a number (got "lots")');
    expect(output).toContain('DISCORD_API_URL: must be an http(s) URL');
  });

  it('runs typed commands in console mode without a token and exits 0 at end of input', async () => {
    const input = '/shakespeare seed:To be or not length:50\n/again\n/continue\n/model info\n/shakespeare length:0\n';
    const { code, output } = await run('src/main.ts', { MODELS_DIR: models }, input).exit;
    expect(code).toBe(0);
    expect(output).toContain('Console mode (DISCORD_TOKEN is not set)');
    expect(output).toMatch(/```\nTo be or not[\s\S]*\n```\n— shakespeare v1\n\(\/again, \/continue\)/);
    // Again and Continue are typed commands: a new passage from the seed, then that one carried on.
    const passages = [...output.matchAll(/```\n(To be or not[\s\S]*?)\n```\n/g)].map((m) => m[1]);
    expect(passages).toHaveLength(3);
    // About 50 each (a natural ending finishes the line), the third grows the second.
    for (const [p, before] of [[passages[0], 12], [passages[1], 12], [passages[2], passages[1].length]] as const) {
      expect(p.length - before).toBeGreaterThanOrEqual(20);
      expect(p.length - before).toBeLessThanOrEqual(58);
    }
    expect(passages[2].startsWith(passages[1])).toBe(true);
    expect(output).toContain('== shakespeare v1 ==');
    expect(output).toContain('error: Invalid request: length must be a whole number from 1 to 2000.');
    const png = /\[attachment loss\.png: (\S+\.png)\]/.exec(output)?.[1];
    expect(png).toBeDefined();
    expect((await readFile(png!)).subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
    await rm(path.dirname(png!), { recursive: true, force: true });
  });

  it('exits non-zero with a clear error when Discord rejects the token, without printing it', async () => {
    fake = await startFakeDiscord({ token: TOKEN });
    const wrong = 'this-is-not-the-token';
    const { code, output } = await run('src/main.ts', { DISCORD_TOKEN: wrong, DISCORD_API_URL: fake.apiUrl, MODELS_DIR: models }).exit;
    expect(code).toBe(1);
    expect(output).toContain('Discord rejected DISCORD_TOKEN');
    expect(output).not.toContain(wrong);
  });

  it('finishes the command in flight on SIGTERM, then exits 0', async () => {
    fake = await startFakeDiscord({ token: TOKEN, heartbeatIntervalMs: 1000 });
    const bot = run('src/main.ts', { DISCORD_TOKEN: TOKEN, DISCORD_API_URL: fake.apiUrl, MODELS_DIR: models, COOLDOWN_SECONDS: '0' });
    await fake.waitForGatewayEvent((e) => e.kind === 'ready', 60_000);
    // Registration follows READY; the command must exist before it can be used.
    await expect.poll(() => fake!.commands().length, { timeout: 10_000 }).toBe(5);
    const handles = ['ROMEO:', 'JULIET:', 'HAMLET:'].map((seed, i) =>
      fake!.sendInteraction({ name: 'shakespeare', userId: `10000000000000000${i}`, options: { seed, length: 2000 } }),
    );
    await Promise.all(handles.map((h) => h.waitForCallback(10_000)));
    bot.child.kill('SIGTERM');
    const messages = await Promise.all(handles.map((h) => h.waitForResponse(undefined, 30_000)));
    for (const m of messages) expect(String(m.content)).toContain('— shakespeare v1');
    const { code, output } = await bot.exit;
    expect(code).toBe(0);
    expect(output).toContain('"reason":"SIGTERM"');
    expect(output).toMatch(/tfjs backend: (wasm|tensorflow|cpu)(, tensorflow for 2\+ rows)?; serving shakespeare v1/);
  });
});

describe('secrets in logs', () => {
  it('logs failed Discord requests without any interaction token, webhook token or bot token', async () => {
    fake = await startFakeDiscord({ token: TOKEN, heartbeatIntervalMs: 1000 });
    const bot = run('src/main.ts', { DISCORD_TOKEN: TOKEN, DISCORD_API_URL: fake.apiUrl, MODELS_DIR: models, COOLDOWN_SECONDS: '0' });
    try {
      await fake.waitForGatewayEvent((e) => e.kind === 'ready', 60_000);
      await expect.poll(() => fake!.commands().length, { timeout: 10_000 }).toBe(5);
      // An interaction that expired before the acknowledgement: the callback fails with 10062.
      const expired = fake.sendInteraction({ name: 'shakespeare', userId: '100000000000000010', options: { length: 5 } });
      expired.expire();
      await expect.poll(() => expired.records.length, { timeout: 20_000 }).toBeGreaterThan(0);
      // A webhook edit that fails: logged as a failed command, with the request's URL and body.
      fake.failNext({ method: 'PATCH', path: /^\/webhooks\//, status: 400, body: { message: 'Invalid Form Body', code: 50035 } });
      const failed = fake.sendInteraction({ name: 'shakespeare', userId: '100000000000000011', options: { length: 5 } });
      await failed.waitForFollowUp(undefined, 30_000);
      await expect.poll(bot.output, { timeout: 10_000 }).toMatch(/command failed/);
      const output = bot.output();
      expect(output).toMatch(/interactions\/\d+\/\[redacted\]\/callback/);
      expect(output).toMatch(/webhooks\/\d+\/\[redacted\]\/messages/);
      for (const secret of [expired.token, failed.token, TOKEN]) expect(output).not.toContain(secret);
    } finally {
      bot.child.kill('SIGTERM');
      await bot.exit;
    }
  });
});

describe('npm run deploy-commands', () => {
  it('registers the commands, and writes nothing the second time', async () => {
    fake = await startFakeDiscord({ token: TOKEN });
    const env = { DISCORD_TOKEN: TOKEN, DISCORD_API_URL: fake.apiUrl, DISCORD_GUILD_ID: fake.guildId };
    const first = await run('src/cli/deploy-commands.ts', env).exit;
    expect(first.code).toBe(0);
    expect(fake.commands(fake.guildId).map((c) => c.name).sort()).toEqual(['Continue as Shakespeare', 'corpus', 'model', 'retrain', 'shakespeare']);
    const second = await run('src/cli/deploy-commands.ts', env).exit;
    expect(second.code).toBe(0);
    expect(second.output).toContain('nothing written');
    expect(fake.commandWrites).toBe(1);
  });
});
