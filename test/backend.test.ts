// The backend chosen per job, the variables that pin it, and TensorFlow's
// C++ logging kept out of our output. Each choice runs in a fresh process, as
// a worker or the trainer does (a process keeps the first backend it chose).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { quietTensorFlow } from '../src/log.js';
import { pinnedBackend } from '../src/ml/backend-names.js';

const run = promisify(execFile);

/** initBackend(job) in a fresh process: its log line (JSON) and its stderr otherwise. */
async function chooseIn(job: 'generate' | 'train', env: Record<string, string> = {}) {
  const code = `import { initBackend } from './src/ml/backend.ts'; await initBackend('${job}');`;
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, BARDBOT_BACKEND: '', BARDBOT_GENERATE_BACKEND: '', BARDBOT_TRAIN_BACKEND: '', LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
  });
  const lines = stderr.trim().split('\n');
  const line = lines.find((l) => l.includes('"job"'));
  if (!line) throw new Error(`no backend log line in:\n${stderr}`);
  return { log: JSON.parse(line) as { job: string; backend: string; reason: string }, other: lines.filter((l) => l !== line) };
}

async function tfjsNodeLoads(): Promise<boolean> {
  try {
    await run(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"]);
    return true;
  } catch {
    return false;
  }
}

describe('pinned backends', () => {
  it('a per-job variable wins over BARDBOT_BACKEND, which pins both jobs', () => {
    const env = { BARDBOT_BACKEND: 'cpu', BARDBOT_TRAIN_BACKEND: 'tensorflow' };
    expect(pinnedBackend('train', env)).toEqual({ name: 'tensorflow', by: 'BARDBOT_TRAIN_BACKEND' });
    expect(pinnedBackend('generate', env)).toEqual({ name: 'cpu', by: 'BARDBOT_BACKEND' });
    expect(pinnedBackend('generate', { BARDBOT_GENERATE_BACKEND: '' })).toBeUndefined();
  });

  it('a bad value is refused with the variable named, by initBackend and at start', () => {
    expect(() => pinnedBackend('generate', { BARDBOT_GENERATE_BACKEND: 'gpu' })).toThrow(/BARDBOT_GENERATE_BACKEND must be one of tensorflow, wasm, cpu \(got "gpu"\)/);
    expect(() => parseConfig({ BARDBOT_TRAIN_BACKEND: 'webgl' })).toThrow(ConfigError);
    expect(() => parseConfig({ BARDBOT_TRAIN_BACKEND: 'webgl' })).toThrow(/BARDBOT_TRAIN_BACKEND: must be one of tensorflow, wasm, cpu/);
    expect(parseConfig({ BARDBOT_BACKEND: 'wasm' }).BARDBOT_BACKEND).toBe('wasm');
  });
});

describe('the backend per job, said at start', () => {
  it('generation prefers wasm, which decodes one-char steps faster, and says so', async () => {
    const { log } = await chooseIn('generate');
    expect(log).toMatchObject({ job: 'generate', backend: 'wasm' });
    expect(log.reason).toContain('decodes one-char steps faster');
  });

  it('training prefers tfjs-node when it loads, wasm otherwise, and says why', async () => {
    const { log } = await chooseIn('train');
    if (await tfjsNodeLoads()) {
      expect(log).toMatchObject({ job: 'train', backend: 'tensorflow' });
      expect(log.reason).toContain('trains faster');
    } else {
      expect(log).toMatchObject({ job: 'train', backend: 'wasm' });
      expect(log.reason).toMatch(/^tfjs-node unavailable \(.+\); wasm/);
    }
  });

  it('a pin is followed and named as the reason', async () => {
    const { log } = await chooseIn('train', { BARDBOT_BACKEND: 'cpu' });
    expect(log).toMatchObject({ job: 'train', backend: 'cpu', reason: 'pinned by BARDBOT_BACKEND' });
  });
});

describe('quietTensorFlow', () => {
  it('turns the C++ logs and the oneDNN notice off by default, keeps what is set, and stays out of the way at debug', () => {
    const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'info' };
    quietTensorFlow(env);
    expect(env).toMatchObject({ TF_CPP_MIN_LOG_LEVEL: '2', TF_ENABLE_ONEDNN_OPTS: '0' });
    const mine: NodeJS.ProcessEnv = { TF_ENABLE_ONEDNN_OPTS: '1' };
    quietTensorFlow(mine);
    expect(mine.TF_ENABLE_ONEDNN_OPTS).toBe('1');
    const debug: NodeJS.ProcessEnv = { LOG_LEVEL: 'debug' };
    quietTensorFlow(debug);
    expect(debug).toEqual({ LOG_LEVEL: 'debug' });
  });
});
