/**
 * HTTP interactions: Discord signs each interaction with the application's
 * Ed25519 key and POSTs it to the bot's endpoint; the HTTP response is the
 * initial callback. This side of the fake does the same, so a bot in HTTP
 * mode is tested against real signatures and the same webhook routes.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ApiError } from './http.js';
import type { FakeInteraction, InteractionHandle } from './interactions.js';
import { isJsonObject, type JsonObject } from './util.js';

export interface DeliveredInteraction {
  handle: InteractionHandle;
  /** The endpoint's HTTP status. */
  status: number;
  /** Milliseconds from sending the request to the complete response. */
  ackMs: number;
  /** The endpoint's JSON response (the initial callback), if it sent one. */
  response: JsonObject | undefined;
}

export class InteractionSigner {
  readonly publicKey: string;
  readonly #privateKey: KeyObject;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    // The raw 32-byte key is the tail of its SPKI encoding; Discord shows it as hex.
    this.publicKey = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
    this.#privateKey = privateKey;
  }

  /** The two headers Discord sends: signature over timestamp + body. */
  headers(body: string | Buffer, timestamp = String(Math.floor(Date.now() / 1000))): Record<string, string> {
    const signature = sign(null, Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), this.#privateKey).toString('hex');
    return { 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp };
  }
}

/** Tokens whose endpoint has not answered yet: webhook calls for them wait, as on Discord. */
export type PendingDeliveries = Map<string, Promise<unknown>>;

export async function deliver(
  url: string,
  interaction: FakeInteraction,
  signer: InteractionSigner,
  pending: PendingDeliveries,
  timeoutMs: number,
): Promise<DeliveredInteraction> {
  const body = JSON.stringify(interaction.payload);
  const started = performance.now();
  const request = (async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signer.headers(body) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ackMs = performance.now() - started;
    let response: JsonObject | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      response = isJsonObject(parsed) ? parsed : undefined;
    } catch {
      response = undefined;
    }
    if (res.status === 200 && response) {
      try {
        interaction.handleCallback(response, [], false, false);
      } catch (error) {
        // Late or invalid: recorded on the interaction, as Discord would reject it.
        if (!(error instanceof ApiError)) throw error;
      }
    }
    return { handle: interaction, status: res.status, ackMs, response };
  })();
  pending.set(interaction.token, request.catch(() => undefined));
  try {
    return await request;
  } finally {
    pending.delete(interaction.token);
  }
}
