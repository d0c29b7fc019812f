/**
 * Files a user attaches to a slash command (option type 11). On Discord the
 * client uploads the file first; the interaction then carries the attachment
 * id as the option's value and the attachment object in
 * `data.resolved.attachments`, with an ephemeral CDN URL
 * (`/ephemeral-attachments/<application>/<id>/<filename>?ex=…&is=…&hm=…`).
 * The fake serves that URL on its loopback server, in chunks with
 * backpressure, and records every download: how many bytes went out and
 * whether the client read it to the end, so a test can tell a bot that
 * stopped early from one that downloaded everything.
 */
import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { World } from './state.js';
import { RecordLog, deepClone, type JsonObject } from './util.js';

/** What a test passes to `fake.addAttachment()`. */
export interface AttachmentInput {
  filename: string;
  bytes: Buffer;
  /** `content_type` (Discord sniffs it; absent when unknown). Default: none. */
  contentType?: string;
  /** The `size` the interaction declares; default the real size. A different value is a client that lies. */
  declaredSize?: number;
  /** Serve the body without Content-Length (chunked), so only counting the bytes reveals the size. */
  chunked?: boolean;
  /** Wait this long after the headers before the body (a slow CDN). */
  stallMs?: number;
}

export interface AttachmentDownload {
  id: string;
  filename: string;
  /** Bytes written to the socket (some may not have reached the client). */
  bytesSent: number;
  /** Whether the whole body was sent and the response ended normally. */
  complete: boolean;
  at: number;
}

const CHUNK = 64 * 1024;
/** Discord's ephemeral attachment URLs expire; the fake's last a day. */
const URL_TTL_S = 24 * 3600;

export class UserAttachments {
  readonly downloads = new RecordLog<AttachmentDownload>('attachment downloads');
  readonly #files = new Map<string, { input: AttachmentInput; object: JsonObject }>();

  constructor(
    private readonly world: World,
    private readonly cdnBase: string,
  ) {}

  /** Registers an upload; returns its attachment object, as `data.resolved.attachments[id]` carries it. */
  add(input: AttachmentInput): JsonObject {
    const id = this.world.ids.next();
    const now = Math.floor(Date.now() / 1000);
    const [ex, is] = [now + URL_TTL_S, now].map((t) => t.toString(16));
    const hm = createHash('sha256').update(`${id}:${ex}:${is}`).digest('hex');
    const url = `${this.cdnBase}/ephemeral-attachments/${this.world.applicationId}/${id}/${encodeURIComponent(input.filename)}?ex=${ex}&is=${is}&hm=${hm}&`;
    const object: JsonObject = {
      id,
      filename: input.filename,
      size: input.declaredSize ?? input.bytes.length,
      url,
      proxy_url: url,
      ...(input.contentType ? { content_type: input.contentType } : {}),
      ephemeral: true,
    };
    this.#files.set(id, { input, object });
    return deepClone(object);
  }

  /** The attachment object for `id`, for `data.resolved`. */
  resolved(id: string): JsonObject | undefined {
    const file = this.#files.get(id);
    return file && deepClone(file.object);
  }

  /** GET /ephemeral-attachments/:app/:id/:name; false when there is no such attachment. */
  serve(id: string, res: ServerResponse): boolean {
    const file = this.#files.get(id);
    if (!file) return false;
    const { bytes, contentType, chunked, stallMs, filename } = file.input;
    res.writeHead(200, { 'content-type': contentType ?? 'application/octet-stream', ...(chunked ? {} : { 'content-length': String(bytes.length) }) });
    let sent = 0;
    res.once('close', () => this.downloads.push({ id, filename, bytesSent: sent, complete: res.writableFinished, at: Date.now() }));
    const write = () => {
      while (!res.destroyed && sent < bytes.length) {
        const chunk = bytes.subarray(sent, sent + CHUNK);
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', write);
      }
      if (!res.destroyed) res.end();
    };
    if (stallMs) setTimeout(write, stallMs).unref();
    else write();
    return true;
  }

  close(reason: string): void {
    this.downloads.close(reason);
  }
}
