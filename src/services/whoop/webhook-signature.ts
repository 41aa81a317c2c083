// WHOOP's webhook signature: base64(HMAC-SHA256(key = client secret, message = timestamp string + raw
// body bytes)), no separator. Verified over the bytes as received: re-serialized JSON would not match.
// The simulator signs with the same function, so both ends read one definition.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signWebhook(
  secret: string,
  timestamp: string | number,
  rawBody: string | Uint8Array,
): string {
  return createHmac('sha256', secret).update(String(timestamp)).update(rawBody).digest('base64');
}

export function verifyWebhookSignature(input: {
  secret: string;
  timestamp: string;
  rawBody: string | Uint8Array;
  signature: string;
  /** when given with toleranceMs, stale or future timestamps fail */
  now?: number;
  toleranceMs?: number;
}): boolean {
  const expected = Buffer.from(signWebhook(input.secret, input.timestamp, input.rawBody));
  const actual = Buffer.from(input.signature);
  // Lengths are public (a base64 SHA-256 is always 44 characters); the bytes are compared in constant time.
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return false;
  if (input.now === undefined || input.toleranceMs === undefined) return true;
  return timestampFresh(input.timestamp, input.now, input.toleranceMs);
}

/** The header is milliseconds since the epoch; stale or ahead by more than the tolerance fails. */
export function timestampFresh(timestamp: string, now: number, toleranceMs: number): boolean {
  if (!/^\d{1,16}$/.test(timestamp)) return false;
  return Math.abs(now - Number(timestamp)) <= toleranceMs;
}
