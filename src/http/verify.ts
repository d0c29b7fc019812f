// Discord's request signing for HTTP interactions: Ed25519 over
// timestamp + raw body with the application's public key. Every request is
// checked; Discord probes endpoints with bad signatures and removes those
// that accept them.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** A signed request this much older or newer than our clock is refused (a replay, or a clock far off). */
export const MAX_SKEW_SECONDS = 300;

/** The 32-byte public key (hex, from the Developer Portal) as a node:crypto key: SPKI = fixed prefix + raw key. */
export function publicKeyFromHex(hex: string): KeyObject {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hex, 'hex')]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 400; reason: string };

export function verifyRequest(key: KeyObject, signature: string | undefined, timestamp: string | undefined, body: Buffer, nowMs = Date.now()): Verdict {
  if (!signature || !timestamp || !/^[0-9a-f]{128}$/i.test(signature)) return { ok: false, status: 401, reason: 'missing or malformed signature' };
  const signed = Buffer.concat([Buffer.from(timestamp), body]);
  if (!verify(null, signed, key, Buffer.from(signature, 'hex'))) return { ok: false, status: 401, reason: 'invalid request signature' };
  // Checked after the signature, so only a genuine but stale request gets this answer.
  const seconds = Number(timestamp);
  if (!Number.isFinite(seconds) || Math.abs(nowMs / 1000 - seconds) > MAX_SKEW_SECONDS) return { ok: false, status: 400, reason: 'stale or replayed timestamp' };
  return { ok: true };
}
