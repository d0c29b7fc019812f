// A current.json that is missing, not JSON, or the wrong shape is treated
// alike: the newest good version is served, the problem is logged loudly
// (which version is served and why), and the registry recovers as soon as the
// pointer is fixed or a version is made current.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { log } from '../src/log.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { PointerSource } from '../src/serving/source.js';
import { publishBytes } from './helpers/fake-version.js';

afterEach(() => vi.restoreAllMocks());

async function registryWithRollback() {
  const r = new ModelRegistry(await mkdtemp(path.join(tmpdir(), 'pointer-')));
  for (let i = 0; i < 3; i++) await publishBytes(r, 'm', 10);
  await r.setCurrent('m', 'v2');
  return r;
}

const BAD: [string, string, RegExp][] = [
  ['an empty object', '{}', /^not \{"version":"v<n>"\}: "\{\}"$/],
  ['a bare string', '"v3"', /^not \{"version":"v<n>"\}/],
  ['a version with a space', '{"version":"v3 "}', /^not \{"version":"v<n>"\}/],
  ['a number for a version', '{"version":3}', /^not \{"version":"v<n>"\}/],
  ['half a file', '{"version":"v', /^not JSON: /],
];

describe('a bad current.json', () => {
  it.each(BAD)('(%s) is treated like a missing one: the newest good version is served, and it says which and why', async (_what, content, problem) => {
    const r = await registryWithRollback();
    const file = path.join(r.root, 'm', 'current.json');
    await writeFile(file, content);
    const errors = vi.spyOn(log, 'error').mockImplementation(() => undefined);
    expect(await r.readPointer('m')).toBeUndefined();
    expect((await r.resolveServable('m')).ref.version).toBe('v3');
    expect((await new PointerSource(r, 'm').aspired()).version).toBe('v3');
    // Logged when found, and at every resolve the version served and why (it may undo a rollback).
    expect(errors).toHaveBeenCalledWith({ file, problem: expect.stringMatching(problem) }, expect.stringMatching(/^current.json is .*; it is ignored/));
    expect(errors).toHaveBeenCalledWith(
      { model: 'm', version: 'v3', problem: expect.stringMatching(problem) },
      expect.stringMatching(/^serving m v3, the newest good version, because current.json is /),
    );
    // A rollback (or a publish) writes a good pointer again, and the registry serves it.
    await r.setCurrent('m', 'v1');
    expect(await r.readPointer('m')).toEqual({ version: 'v1' });
    expect((await r.resolveServable('m')).ref.version).toBe('v1');
  });

  it('is logged once while it stays the same, not at every read of a watch', async () => {
    const r = await registryWithRollback();
    await writeFile(path.join(r.root, 'm', 'current.json'), '{}');
    const errors = vi.spyOn(log, 'error').mockImplementation(() => undefined);
    for (let i = 0; i < 5; i++) await r.readPointer('m');
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it('is picked up by the serving watch once fixed: recovery is retried at every tick', async () => {
    const r = await registryWithRollback();
    const file = path.join(r.root, 'm', 'current.json');
    await writeFile(file, '"v2"');
    vi.spyOn(log, 'error').mockImplementation(() => undefined);
    const source = new PointerSource(r, 'm');
    const served: string[] = [];
    try {
      const fixed = new Promise<void>((resolve) =>
        source.watch(20, async (ref) => {
          served.push(ref.version);
          resolve();
        }),
      );
      await new Promise((res) => setTimeout(res, 100));
      await writeFile(file, '{"version":"v2","previous":"v3"}');
      await fixed;
      expect(served).toEqual(['v2']);
    } finally {
      source.stop();
    }
  });
});
