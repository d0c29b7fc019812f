// The ML command lines as a newcomer meets them: --help prints usage and
// exits 0; a bad flag or preset is one line on stderr and exit 1.
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// An empty registry: nothing here may train or load a model.
const models = await mkdtemp(path.join(tmpdir(), 'cli-'));
const cli = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], { encoding: 'utf8', env: { ...process.env, MODELS_DIR: models, MODEL_NAME: 'bard' }, timeout: 60_000 });

describe('ML command lines', () => {
  it('print their usage with --help, every flag with its help line, defaults from the environment', () => {
    for (const script of ['train', 'eval', 'generate']) {
      const r = cli(script, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: npm run ${script} -- \\[options\\]`));
      expect(r.stdout).toContain(`(default: MODELS_DIR=${models})`);
      expect(r.stdout).toContain('(default: MODEL_NAME=bard)');
    }
    const train = cli('train', '--help').stdout;
    for (const flag of ['--preset', '--layers', '--units', '--epochs', '--minutes', '--lr', '--workers', '--resume', '--no-publish']) expect(train).toContain(flag);
    expect(train).toMatch(/--units <n> +units per LSTM layer \(the size of its state\) \(default:\s+256\)/);
  }, 120_000);

  it('say what is wrong in one line, without a stack trace', () => {
    const cases: [string, string[], RegExp][] = [
      ['train', ['--no-such-flag'], /^error: unknown option '--no-such-flag'/],
      ['train', ['--layers', '0'], /^error: option '--layers <n>' argument '0' is invalid\. must be at least 1$/],
      ['train', ['--workers', '0'], /^error: option '--workers <n>' argument '0' is invalid\. must be at least 1$/],
      ['train', ['--preset', 'no-such-preset'], /^train: no preset configs\/no-such-preset\.json \(presets: .*shakespeare-v2.*\)$/],
      ['generate', ['--length', 'lots'], /^error: option '--length <n>' argument 'lots' is invalid\. must be a number$/],
      ['eval', [], /^eval: no valid version of model "bard" in /],
    ];
    for (const [script, args, message] of cases) {
      const r = cli(script, ...args);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.includes('tfjs backend'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
  }, 120_000);
});
