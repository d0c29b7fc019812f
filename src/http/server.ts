// The bot's HTTP server (node:http): health and readiness for orchestrators
// and balancers, Prometheus metrics, and, in HTTP interactions mode, the
// endpoint Discord POSTs interactions to. Bodies are read raw (the signature
// covers the exact bytes) and bounded.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { log } from '../log.js';
import type { Metrics } from './metrics.js';

/** Discord's payloads are a few KB; anything near this is not from Discord. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  /** Why the process should not take traffic yet; undefined when ready. */
  notReady(): string | undefined;
  /** What serving runs without (e.g. the shared state in Redis); undefined when nothing. */
  degraded?(): string | undefined;
  /** POST /interactions (HTTP interactions mode only). */
  interactions?: (body: Buffer, headers: IncomingMessage['headers']) => Promise<{ status: number; json: unknown }>;
}

export class BodyTooLargeError extends Error {}

/** Past this the connection is cut instead of drained. */
const DRAIN_LIMIT_BYTES = 16 * MAX_BODY_BYTES;

/**
 * The raw body, or BodyTooLargeError once it has been read to its end: a
 * response sent before the body is consumed resets the connection, which a
 * balancer counts as the replica failing.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > DRAIN_LIMIT_BYTES) req.destroy();
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
    req.on('close', () => reject(new BodyTooLargeError()));
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export class HttpServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(opts: HttpServerOptions): Promise<HttpServer> {
    const server = createServer((req, res) => {
      handle(opts, req, res).catch((err: unknown) => {
        log.error({ err, path: req.url }, 'HTTP request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    // Behind a balancer: idle keep-alive sockets must outlive the balancer's, or it hits closed ones.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    log.info({ host: opts.host, port, interactions: opts.interactions !== undefined }, 'HTTP server listening');
    return new HttpServer(server, port);
  }

  /** Stops accepting connections and closes idle ones (requests in flight finish). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }
}

async function handle(opts: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
  switch (route) {
    case 'GET /healthz':
      return sendJson(res, 200, { status: 'ok' });
    case 'GET /readyz': {
      const reason = opts.notReady();
      if (reason) return sendJson(res, 503, { status: 'not ready', reason });
      // Degraded is still 200: this replica serves (with its own cooldowns), and every replica shares the
      // same Redis, so a 503 here would make the balancer pull all of them at once.
      const degraded = opts.degraded?.();
      return sendJson(res, 200, degraded ? { status: 'ready', degraded } : { status: 'ready' });
    }
    case 'GET /metrics': {
      const text = await opts.metrics.scrape();
      res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
      return void res.end(text);
    }
    case 'POST /interactions': {
      if (!opts.interactions) break;
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (err) {
        if (err instanceof BodyTooLargeError) return sendJson(res, 400, { error: `body over ${MAX_BODY_BYTES} bytes` });
        throw err;
      }
      const { status, json } = await opts.interactions(body, req.headers);
      return sendJson(res, status, json);
    }
  }
  sendJson(res, 404, { error: 'not found' });
}
