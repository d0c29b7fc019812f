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
import { z } from 'zod';
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
    /** The learning-rate schedule the run used (a warm start has its own; see settings.ts). */
    schedule?: { start: 'warm' | 'scratch'; learningRate: number; minLearningRate: number; warmupSteps: number };
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

const VERSION_NAME = /^v(\d+)$/;
const versionNumber = (v: string): number => Number(VERSION_NAME.exec(v)?.[1] ?? NaN);

const pointerSchema = z.object({ version: z.string().regex(VERSION_NAME), previous: z.string().regex(VERSION_NAME).optional() });
export type Pointer = z.output<typeof pointerSchema>;

/** What a pointer switch did: with an expected version (compare-and-swap), it may find the pointer moved. */
export type SwitchResult = { switched: true } | { switched: false; found: string | undefined };

export type PublishedVersion = VersionRef & { current: SwitchResult };

/**
 * The problem last logged for each current.json, so a bad pointer read at
 * every watch tick is logged when it appears and when it is fixed, not at
 * every read.
 */
const pointerProblems = new Map<string, string>();

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

  /**
   * The `current` pointer; undefined when it is missing or unusable (not JSON,
   * or not {"version":"v<n>"}), which readers treat alike: serve the newest
   * good version. An unusable one is logged loudly, once until it changes.
   */
  async readPointer(name: string): Promise<Pointer | undefined> {
    return (await this.pointerState(name)).pointer;
  }

  private async pointerState(name: string): Promise<{ pointer?: Pointer; problem?: string }> {
    const file = path.join(this.root, name, CURRENT_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      return this.pointerProblem(file, `unreadable (${(err as Error).message})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.pointerProblem(file, `not JSON: ${JSON.stringify(text.slice(0, 80))}`);
    }
    const checked = pointerSchema.safeParse(json);
    if (!checked.success) return this.pointerProblem(file, `not {"version":"v<n>"}: ${JSON.stringify(text.trim().slice(0, 80))}`);
    if (pointerProblems.delete(file)) log.warn({ file, pointer: checked.data }, `${CURRENT_FILE} is usable again`);
    return { pointer: checked.data };
  }

  private pointerProblem(file: string, problem: string): { problem: string } {
    if (pointerProblems.get(file) !== problem) {
      pointerProblems.set(file, problem);
      log.error({ file, problem }, `${CURRENT_FILE} is ${problem}; it is ignored (treated as missing) until it is fixed or a version is made current`);
    }
    return { problem };
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
    const { pointer, problem } = await this.pointerState(name);
    const all = await this.versions(name);
    const candidates = pointer ? all.filter((v) => versionNumber(v) <= versionNumber(pointer.version)).reverse() : all.reverse();
    const skipped: CorruptVersionError[] = [];
    for (const v of candidates) {
      try {
        const ref = await this.verify(name, v);
        // A bad pointer may hide a rollback: say what is served instead, at every resolve.
        if (problem) log.error({ model: name, version: v, problem }, `serving ${name} ${v}, the newest good version, because ${CURRENT_FILE} is ${problem}`);
        return { ref, skipped };
      } catch (err) {
        if (!(err instanceof CorruptVersionError)) throw err;
        log.error({ dir: err.dir }, `skipping corrupt model version: ${err.message}`);
        skipped.push(err);
      }
    }
    throw new Error(`no valid version of model "${name}" in ${this.root}${skipped.length ? `: ${skipped.map((s) => s.message).join('; ')}` : ''}`);
  }

  /**
   * Points `current` at `version` (after verifying it), atomically. With
   * `expected` it is a compare-and-swap: the switch happens only if the
   * pointer still names `expected` (null: no usable pointer); otherwise
   * nothing changes and the result says what it found. The compare and the
   * rename are not one atomic step across processes: a switch landing
   * between them (a millisecond window) is overwritten.
   */
  async setCurrent(name: string, version: string, expected?: string | null): Promise<SwitchResult> {
    await this.verify(name, version);
    const before = await this.readPointer(name);
    if (expected !== undefined && (before?.version ?? null) !== expected) return { switched: false, found: before?.version };
    const modelDir = path.join(this.root, name);
    const previous = before && before.version !== version ? before.version : before?.previous;
    // Temp file, fsync, rename (write-file-atomic), then fsync the folder so the rename is durable.
    await writeFileAtomic(path.join(modelDir, CURRENT_FILE), JSON.stringify({ version, ...(previous ? { previous } : {}) }) + '\n');
    await syncDir(modelDir);
    return { switched: true };
  }

  /**
   * Publishes the files in `sourceDir` (model.json, weights.bin, metrics.jsonl)
   * as the next version: staged, checksummed, fsynced, then renamed into place,
   * then made current; with `expectCurrent`, only if the pointer still names
   * that version (setCurrent's compare-and-swap), else it is stored only.
   */
  async publish(name: string, sourceDir: string, meta: PublishMetadata, opts: { expectCurrent?: string | null } = {}): Promise<PublishedVersion> {
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
        const current = await this.setCurrent(name, version, opts.expectCurrent);
        return { name, version, dir: this.dir(name, version), metadata, current };
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

