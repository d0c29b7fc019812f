/**
 * HTTP plumbing for the fake REST API: Discord-shaped errors, bounded body
 * reading, JSON / multipart parsing, rate-limit headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { isJsonObject, type JsonObject } from './util.js';

/** An error response in Discord's JSON error format. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: JsonObject,
  ) {
    super(message);
  }

  toBody(): JsonObject {
    return this.errors ? { message: this.message, code: this.code, errors: this.errors } : { message: this.message, code: this.code };
  }
}

export const Errors = {
  unauthorized: () => new ApiError(401, 0, '401: Unauthorized'),
  notFound: () => new ApiError(404, 0, '404: Not Found'),
  methodNotAllowed: () => new ApiError(405, 0, '405: Method Not Allowed'),
  unknownChannel: () => new ApiError(404, 10003, 'Unknown Channel'),
  unknownMessage: () => new ApiError(404, 10008, 'Unknown Message'),
  unknownWebhook: () => new ApiError(404, 10015, 'Unknown Webhook'),
  unknownGuild: () => new ApiError(404, 10004, 'Unknown Guild'),
  unknownApplication: () => new ApiError(404, 10002, 'Unknown Application'),
  unknownCommand: () => new ApiError(404, 10063, 'Unknown application command'),
  unknownInteraction: () => new ApiError(404, 10062, 'Unknown interaction'),
  alreadyAcknowledged: () => new ApiError(400, 40060, 'Interaction has already been acknowledged.'),
  invalidWebhookToken: () => new ApiError(401, 50027, 'Invalid Webhook Token'),
  emptyMessage: () => new ApiError(400, 50006, 'Cannot send an empty message'),
  invalidJson: () => new ApiError(400, 50109, 'The request body contains invalid JSON.'),
  tooLarge: () => new ApiError(413, 40005, 'Request entity too large'),
  /** 50035 "Invalid Form Body" with Discord's nested `_errors` layout at `path`. */
  invalidFormBody: (path: ReadonlyArray<string | number>, code: string, message: string) =>
    new ApiError(400, 50035, 'Invalid Form Body', nestError(path, code, message)),
};

function nestError(path: ReadonlyArray<string | number>, code: string, message: string): JsonObject {
  let node: JsonObject = { _errors: [{ code, message }] };
  for (let i = path.length - 1; i >= 0; i--) node = { [String(path[i])]: node };
  return node;
}

/** A file part of a multipart request. */
export interface ReceivedFile {
  /** Multipart field name, e.g. `files[0]`. */
  field: string;
  /** Index n parsed from `files[n]` (-1 if the field has another name). */
  index: number;
  /** File name given by the client. */
  name: string;
  /** Content type of the part (discord.js sniffs it from the bytes, e.g. image/png). */
  contentType: string;
  bytes: Buffer;
  size: number;
}

export interface ParsedBody {
  /** JSON body, or `payload_json` of a multipart body; undefined when empty. */
  json: unknown;
  files: ReceivedFile[];
  multipart: boolean;
}

/** Reads a request body, refusing more than maxBytes (413). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > maxBytes) throw Errors.tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses JSON or multipart/form-data (payload_json + files[n]) bodies. */
export async function parseBody(contentType: string | undefined, raw: Buffer): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [], multipart: false };
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    // Node's WHATWG Request implements a multipart parser; no dependency needed.
    let form: FormData;
    try {
      form = await new Request('http://127.0.0.1/', { method: 'POST', headers: { 'content-type': contentType ?? '' }, body: Uint8Array.from(raw) }).formData();
    } catch {
      throw new ApiError(400, 50109, 'The request body contains an invalid multipart payload.');
    }
    const files: ReceivedFile[] = [];
    let json: unknown;
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') json = parseJson(value);
        continue;
      }
      const bytes = Buffer.from(await value.arrayBuffer());
      const match = /^files\[(\d+)\]$/.exec(field);
      files.push({
        field,
        index: match ? Number(match[1]) : -1,
        name: value.name,
        contentType: value.type || 'application/octet-stream',
        bytes,
        size: bytes.length,
      });
    }
    return { json, files, multipart: true };
  }
  return { json: parseJson(raw.toString('utf8')), files: [], multipart: false };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw Errors.invalidJson();
  }
}

/** The parsed body as an object, or a 400 if it is not one. */
export function requireObject(body: unknown): JsonObject {
  if (body === undefined) return {};
  if (!isJsonObject(body)) throw Errors.invalidFormBody([], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
  return body;
}

/**
 * Generous per-bucket rate-limit headers: discord.js reads these on every
 * response; with a large `remaining` it never queues requests.
 */
export function rateLimitHeaders(bucketKey: string): Record<string, string> {
  const resetAfter = 60;
  return {
    'x-ratelimit-limit': '10000',
    'x-ratelimit-remaining': '9999',
    'x-ratelimit-reset': ((Date.now() + resetAfter * 1000) / 1000).toFixed(3),
    'x-ratelimit-reset-after': resetAfter.toFixed(3),
    'x-ratelimit-bucket': createHash('sha1').update(bucketKey).digest('hex').slice(0, 16),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status === 200 ? 204 : status, headers);
    res.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) });
  res.end(payload);
}
