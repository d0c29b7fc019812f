// The production start: `npm run build` compiles src/ and commands/ to dist/,
// `npm start` runs `node dist/src/main.js` with no TypeScript loader (its
// generation worker, trainer process and command modules are the compiled .js
// files), and a SIGTERM sent to `npm start` reaches the bot, which shuts down
// cleanly.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleUrl } from '../src/runtime/entry.js';
import { publishTinyModel } from './helpers/tiny-model.js';

const ROOT = path.resolve(import.meta.dirname, '..');
let models: string;

/** `npm start` in console mode over the tiny model; resolves with its output once it exits. */
function npmStart(input: string | undefined, timeoutMs = 60_000) {
  // npm start's own malloc settings are under test: none inherited.
  const { MALLOC_MMAP_THRESHOLD_: _mmap, MALLOC_TRIM_THRESHOLD_: _trim, ...env } = process.env;
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    // tsx's loader, if anything asked for it, would show in NODE_OPTIONS; make sure nothing inherits one.
    env: { ...env, NODE_OPTIONS: '', DISCORD_TOKEN: '', RETRAIN_ENABLED: 'false', MODELS_DIR: models, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  if (input !== undefined) child.stdin.end(input);
  const exit = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm start did not exit within ${timeoutMs} ms; output:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  return { child, exit, output: () => output };
}

beforeAll(async () => {
  await promisify(execFile)('npm', ['run', '--silent', 'build'], { cwd: ROOT });
  models = await mkdtemp(path.join(tmpdir(), 'bardbot-prod-'));
  await publishTinyModel(models, { epochs: 1 });
}, 120_000);

afterAll(async () => {
  if (models) await rm(models, { recursive: true, force: true });
});

describe('the production build', () => {
  it('has every module and command compiled, and entry points name the .js files', async () => {
    const sources = (await readdir(path.join(ROOT, 'commands'))).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '.js'));
    expect(sources.length).toBeGreaterThan(0);
    expect((await readdir(path.join(ROOT, 'dist/commands'))).filter((f) => f.endsWith('.js')).sort()).toEqual(sources.sort());
    const built = 'file:///app/dist/src/serving/pool.js';
    expect(moduleUrl('./worker.js', built).href).toBe('file:///app/dist/src/serving/worker.js');
    expect(moduleUrl('./worker.js', 'file:///app/src/serving/pool.ts').href).toBe('file:///app/src/serving/worker.ts');
  });

  it('npm start runs the compiled bot: console mode generates and exits 0 at end of input', async () => {
    const { exit } = npmStart('/shakespeare seed:ROMEO: length:40 temperature:0.8\n');
    const { code, output } = await exit;
    expect(code).toBe(0);
    expect(output).toMatch(/```\nROMEO:[\s\S]+```\n— shakespeare v1/);
    expect(output).toContain('"job":"generate"');
    // scripts/launch.sh fixed glibc's thresholds before node started (the soak's RSS).
    expect(output).toContain('"malloc":{"mmapThreshold":"4194304","trimThreshold":"16777216"}');
    expect(output).not.toContain('is not set: glibc keeps freed model buffers');
  });

  it('a retrain from the compiled controller runs the compiled trainer process and publishes', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['test/fixtures/dist-retrain.mjs'], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' },
    });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { outcome: string; version: string; trainedOn: string };
    expect(r).toMatchObject({ outcome: 'published', version: 'v1' });
    expect(['tensorflow', 'wasm']).toContain(r.trainedOn);
  });

  it('a SIGTERM sent to npm start reaches the bot, which shuts down and exits 0', async () => {
    const run = npmStart(undefined);
    const t0 = Date.now();
    while (!run.output().includes('running in console mode') && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
    expect(run.output()).toContain('running in console mode');
    run.child.kill('SIGTERM');
    const { code, output } = await run.exit;
    expect(output).toMatch(/"reason":"SIGTERM","msg":"shutting down"/);
    expect(code).toBe(0);
  });
});
