import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config.js';
import { WorkerPool } from '../src/serving/pool.js';

afterEach(() => {
  vi.doUnmock('../src/app/command-loader.js');
  vi.restoreAllMocks();
});

describe('startApp', () => {
  it('closes the generation workers it started when the commands fail to load, and reports why', async () => {
    // A malformed command module is what makes loadCommands throw; the real commands/ has none, so the loader is replaced.
    vi.doMock('../src/app/command-loader.js', () => ({ loadCommands: () => Promise.reject(new Error('commands/broken.ts must export `data`')) }));
    const closed = vi.spyOn(WorkerPool.prototype, 'close');
    const { startApp } = await import('../src/app/wiring.js');
    const root = await mkdtemp(path.join(tmpdir(), 'bardbot-wiring-'));
    try {
      await expect(startApp(parseConfig({ MODELS_DIR: root, GEN_WORKERS: '1', MODEL_WATCH_SECONDS: '0' }))).rejects.toThrow('commands/broken.ts must export');
      expect(closed).toHaveBeenCalledTimes(1);
      await closed.mock.results[0].value;
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
