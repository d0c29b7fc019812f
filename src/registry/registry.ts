// The model registry: versioned folders under models/<name>/, each complete
// before it is visible (staged in a dot-folder, then renamed), checksummed, and
// a `current.json` pointer per name switched atomically (temp, fsync, rename).
//
//   models/<name>/v3/{model.json, weights.bin, metadata.json, metrics.jsonl}
//   models/<name>/current.json   {"version":"v3","previous":"v2"}
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import path from 'node:path';
import { log } from '../log.js';
import type { Architecture } from '../ml/model.js';
import { MODEL_FILE, WEIGHTS_FILE } from '../ml/io.js';

export const METADATA_FILE = 'metadata.json';
export const METRICS_FILE = 'metrics.jsonl';
const CURRENT_FILE = 'current.json';
const CHECKSUMMED = [MODEL_FILE, WEIGHTS_FILE, METRICS_FILE];

export interface ModelMetadata {
  name: string;
  version: string;
  createdAt: string;
  vocab: string[];
  architecture: Architecture;
  corpus: { sha256: string; chars: number; files: string[]; valFraction: number; boundary: number };
  valLoss: { nats: number; bitsPerChar: number; chars: number };
  training: {
    seconds: number;
    epochs: number;
    bestEpoch: number;
    stopReason: string;
    backend: string;
    command: string;
    /** The configs/*.json preset the settings started from. */
    preset?: string;
    config: Record<string, unknown>;
    warmStartFrom?: string;
  };
  checksums: Record<string, string>;
}

export type PublishMetadata = Omit<ModelMetadata, 'name' | 'version' | 'createdAt' | 'checksums'>;

export interface VersionRef {
  name: string;
  version: string;
  dir: string;
  metadata: ModelMetadata;
}

export class CorruptVersionError extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`model version ${path.relative(process.cwd(), dir) || dir} is corrupt: ${reason}`);
    this.name = 'CorruptVersionError';
  }
}

const versionNumber = (v: string): number => Number(/^v(\d+)$/.exec(v)?.[1] ?? NaN);

async function fileSha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Reads the metadata of a version folder and checks every checksum; throws CorruptVersionError. */
export async function verifyVersionDir(dir: string): Promise<ModelMetadata> {
  let metadata: ModelMetadata;
  try {
    metadata = JSON.parse(await readFile(path.join(dir, METADATA_FILE), 'utf8')) as ModelMetadata;
  } catch (err) {
    throw new CorruptVersionError(dir, `unreadable ${METADATA_FILE} (${(err as Error).message})`);
  }
  if (!metadata.checksums?.[MODEL_FILE] || !metadata.checksums?.[WEIGHTS_FILE]) {
    throw new CorruptVersionError(dir, 'metadata lists no checksums for the model files');
  }
  for (const [file, expected] of Object.entries(metadata.checksums)) {
    let actual: string;
    try {
      actual = await fileSha256(path.join(dir, file));
    } catch {
      throw new CorruptVersionError(dir, `${file} is missing`);
    }
    if (actual !== expected) throw new CorruptVersionError(dir, `${file} does not match its checksum`);
  }
  return metadata;
}

export class ModelRegistry {
  constructor(readonly root: string) {}

  dir(name: string, version: string): string {
    return path.join(this.root, name, version);
  }

  /** Version names, oldest first. Staging folders and strays are not versions. */
  async versions(name: string): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(path.join(this.root, name));
    } catch {
      return [];
    }
    return entries.filter((e) => Number.isFinite(versionNumber(e))).sort((a, b) => versionNumber(a) - versionNumber(b));
  }

  /** Reads a version's metadata and checks every checksum; throws CorruptVersionError. */
  async verify(name: string, version: string): Promise<VersionRef> {
    const dir = this.dir(name, version);
    return { name, version, dir, metadata: await verifyVersionDir(dir) };
  }

  async readPointer(name: string): Promise<{ version: string; previous?: string } | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.root, name, CURRENT_FILE), 'utf8')) as { version: string; previous?: string };
    } catch {
      return undefined;
    }
  }

  /** The current version, verified. */
  async current(name: string): Promise<VersionRef> {
    const pointer = await this.readPointer(name);
    if (!pointer) throw new Error(`no current version of model "${name}" in ${this.root}`);
    return this.verify(name, pointer.version);
  }

  /**
   * The version to serve: the current one if it verifies, otherwise the newest
   * older version that does. Each corrupt version passed over is logged here
   * (not by each caller) and listed in `skipped`.
   */
  async resolveServable(name: string): Promise<{ ref: VersionRef; skipped: CorruptVersionError[] }> {
    const pointer = await this.readPointer(name);
    const all = await this.versions(name);
    const candidates = pointer ? all.filter((v) => versionNumber(v) <= versionNumber(pointer.version)).reverse() : all.reverse();
    const skipped: CorruptVersionError[] = [];
    for (const v of candidates) {
      try {
        return { ref: await this.verify(name, v), skipped };
      } catch (err) {
        if (!(err instanceof CorruptVersionError)) throw err;
        log.error({ dir: err.dir }, `skipping corrupt model version: ${err.message}`);
        skipped.push(err);
      }
    }
    throw new Error(`no valid version of model "${name}" in ${this.root}${skipped.length ? `: ${skipped.map((s) => s.message).join('; ')}` : ''}`);
  }

  /** Points `current` at `version` (after verifying it), atomically. */
  async setCurrent(name: string, version: string): Promise<void> {
    await this.verify(name, version);
    const before = await this.readPointer(name);
    const modelDir = path.join(this.root, name);
    const previous = before && before.version !== version ? before.version : before?.previous;
    // Temp file, fsync, rename (write-file-atomic), then fsync the folder so the rename is durable.
    await writeFileAtomic(path.join(modelDir, CURRENT_FILE), JSON.stringify({ version, ...(previous ? { previous } : {}) }) + '\n');
    await syncDir(modelDir);
  }

  /**
   * Publishes the files in `sourceDir` (model.json, weights.bin, metrics.jsonl)
   * as the next version: staged, checksummed, fsynced, then renamed into place.
   */
  async publish(name: string, sourceDir: string, meta: PublishMetadata, opts: { makeCurrent?: boolean } = {}): Promise<VersionRef> {
    const modelDir = path.join(this.root, name);
    await mkdir(modelDir, { recursive: true });
    await this.removeStaleStaging(modelDir);
    const staging = path.join(modelDir, `.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await cp(sourceDir, staging, { recursive: true });
      const checksums: Record<string, string> = {};
      for (const file of CHECKSUMMED) {
        try {
          checksums[file] = await fileSha256(path.join(staging, file));
        } catch {
          if (file !== METRICS_FILE) throw new Error(`cannot publish: ${file} missing in ${sourceDir}`);
        }
      }
      for (let attempt = 0; attempt < 100; attempt++) {
        const existing = await this.versions(name);
        const version = `v${(existing.length ? versionNumber(existing[existing.length - 1]) : 0) + 1}`;
        const metadata: ModelMetadata = { name, version, createdAt: new Date().toISOString(), ...meta, checksums };
        await writeFileAtomic(path.join(staging, METADATA_FILE), JSON.stringify(metadata, null, 2) + '\n');
        for (const file of Object.keys(checksums)) {
          const fh = await open(path.join(staging, file), 'r+');
          await fh.sync();
          await fh.close();
        }
        try {
          // rename() of a folder onto an existing non-empty one fails: another publisher won.
          await rename(staging, this.dir(name, version));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') continue;
          throw err;
        }
        await syncDir(modelDir);
        if (opts.makeCurrent !== false) await this.setCurrent(name, version);
        return { name, version, dir: this.dir(name, version), metadata };
      }
      throw new Error('could not allocate a version number');
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Staging folders left by a publisher that died (its pid is gone). */
  private async removeStaleStaging(modelDir: string): Promise<void> {
    for (const entry of await readdir(modelDir)) {
      const pid = Number(/^\.staging-(\d+)-/.exec(entry)?.[1]);
      if (!pid || pid === process.pid) continue;
      try {
        process.kill(pid, 0);
      } catch {
        await rm(path.join(modelDir, entry), { recursive: true, force: true });
      }
    }
  }

  /** Deletes the oldest versions beyond `keep`, never the current one or the one before it. */
  async prune(name: string, keep: number): Promise<string[]> {
    const pointer = await this.readPointer(name);
    const protectedVersions = new Set([pointer?.version, pointer?.previous].filter(Boolean));
    const all = await this.versions(name);
    const removable = all.filter((v) => !protectedVersions.has(v));
    const excess = all.length - Math.max(keep, protectedVersions.size);
    const doomed = removable.slice(0, Math.max(0, excess));
    for (const v of doomed) await rm(this.dir(name, v), { recursive: true, force: true });
    return doomed;
  }

  /** Reads a version's per-epoch metrics log. */
  async metrics(ref: VersionRef): Promise<Record<string, number>[]> {
    try {
      const text = await readFile(path.join(ref.dir, METRICS_FILE), 'utf8');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>);
    } catch {
      return [];
    }
  }
}

