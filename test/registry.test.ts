import { spawn } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { log } from '../src/log.js';
import { CorruptVersionError, ModelRegistry } from '../src/registry/registry.js';
import { publishBytes } from './helpers/fake-version.js';

const tempRegistry = async () => new ModelRegistry(await mkdtemp(path.join(tmpdir(), 'registry-')));

describe('model registry', () => {
  it('publishes numbered versions and moves the current pointer', async () => {
    const r = await tempRegistry();
    const v1 = await publishBytes(r, 'm', 100);
    const v2 = await publishBytes(r, 'm', 100);
    expect([v1.version, v2.version]).toEqual(['v1', 'v2']);
    expect(await r.versions('m')).toEqual(['v1', 'v2']);
    expect((await r.current('m')).version).toBe('v2');
    expect(await r.readPointer('m')).toEqual({ version: 'v2', previous: 'v1' });
    expect(v2.metadata.checksums['weights.bin']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rolls back and forward', async () => {
    const r = await tempRegistry();
    await publishBytes(r, 'm', 10);
    await publishBytes(r, 'm', 10);
    await r.setCurrent('m', 'v1');
    expect((await r.current('m')).version).toBe('v1');
    expect(await r.readPointer('m')).toEqual({ version: 'v1', previous: 'v2' });
  });

  it('detects a corrupt version and serves the newest good one', async () => {
    const r = await tempRegistry();
    await publishBytes(r, 'm', 100);
    const v2 = await publishBytes(r, 'm', 100);
    const weights = path.join(v2.dir, 'weights.bin');
    const bytes = await readFile(weights);
    bytes[3] ^= 0xff;
    await writeFile(weights, bytes);
    await expect(r.current('m')).rejects.toThrow(CorruptVersionError);
    await expect(r.current('m')).rejects.toThrow(/weights.bin does not match its checksum/);
    const logged = vi.spyOn(log, 'error').mockImplementation(() => undefined);
    const { ref, skipped } = await r.resolveServable('m');
    expect(ref.version).toBe('v1');
    expect(skipped.map((s) => s.dir)).toEqual([v2.dir]);
    // Logged by the registry, so no caller has to.
    expect(logged).toHaveBeenCalledWith({ dir: v2.dir }, expect.stringMatching(/^skipping corrupt model version: .*weights.bin does not match/));
    logged.mockRestore();
    await expect(r.setCurrent('m', 'v2')).rejects.toThrow(CorruptVersionError);
    await rm(path.join(v2.dir, 'metadata.json'));
    await expect(r.verify('m', 'v2')).rejects.toThrow(/unreadable metadata.json/);
  });

  it('a failed publish leaves no version and the old current intact', async () => {
    const r = await tempRegistry();
    await publishBytes(r, 'm', 10);
    const empty = await mkdtemp(path.join(tmpdir(), 'empty-'));
    await expect(r.publish('m', empty, (await r.current('m')).metadata)).rejects.toThrow(/model.json missing/);
    expect(await r.versions('m')).toEqual(['v1']);
    expect((await r.current('m')).version).toBe('v1');
    expect((await readdir(path.join(r.root, 'm'))).filter((e) => e.startsWith('.'))).toEqual([]);
  });

  it('keeps the last N versions, never the current one or the one before it', async () => {
    const r = await tempRegistry();
    for (let i = 0; i < 5; i++) await publishBytes(r, 'm', 10);
    await r.setCurrent('m', 'v2'); // current v2, previous v5
    expect(await r.prune('m', 2)).toEqual(['v1', 'v3', 'v4']);
    expect(await r.versions('m')).toEqual(['v2', 'v5']);
  });

  it('SIGKILL at any moment of a publish never exposes a half-written version', async () => {
    const r = await tempRegistry();
    await publishBytes(r, 'm', 10);
    const modelDir = path.join(r.root, 'm');
    let killedMidPublish = 0;
    // Event-driven, not tuned to an idle machine: each kill is aimed at a publish
    // in progress (a staging folder has appeared), at staggered delays after it
    // appeared, so kills land in the copy, the checksums, the fsyncs or the renames.
    for (let attempt = 0; attempt < 8 && killedMidPublish < 2; attempt++) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/publish-loop.ts', r.root], { stdio: 'ignore' });
      // Watching from the same tick as the spawn: the child takes far longer to start publishing.
      const prefix = `.staging-${child.pid}-`;
      const staging = stagingAppears(modelDir, prefix);
      const exited = new Promise((res) => child.once('exit', res));
      try {
        await staging.appeared;
        await new Promise((res) => setTimeout(res, (attempt % 4) * 5));
      } finally {
        staging.close();
        child.kill('SIGKILL');
        await exited;
      }
      if ((await readdir(modelDir)).some((e) => e.startsWith(prefix))) killedMidPublish++;
      // Every visible version verifies, and current points at one of them.
      for (const v of await r.versions('m')) await r.verify('m', v);
      expect(await r.versions('m')).toContain((await r.current('m')).version);
    }
    expect(killedMidPublish).toBeGreaterThan(0);
    // The dead publishers' staging folders are cleaned by the next publish.
    await publishBytes(r, 'm', 10);
    expect((await readdir(modelDir)).filter((e) => e.startsWith('.staging'))).toEqual([]);
  }, 300_000);
});

/** Resolves when a staging folder named `prefix`… appears in `dir` (fs.watch; the bound is only a backstop for a child that never starts). */
function stagingAppears(dir: string, prefix: string, ms = 120_000): { appeared: Promise<void>; close(): void } {
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  const appeared = new Promise<void>((resolve, reject) => {
    watcher = watch(dir, (_event, file) => {
      if (file?.startsWith(prefix)) resolve();
    });
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for a publish to start in ${dir}`)), ms);
  });
  return {
    appeared,
    close: () => {
      watcher?.close();
      clearTimeout(timer);
    },
  };
}
