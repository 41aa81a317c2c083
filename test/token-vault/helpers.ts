import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { KeyProvider, SealedSecret } from '../../src/services/token-vault/index.ts';

/** Random, so a match in the output can only be a leak. */
export function fakeToken(prefix = 'tok'): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

/** Every form a token could leak in: raw utf8, base64 (standard and url), hex. */
function forms(plaintext: string): string[] {
  const bytes = Buffer.from(plaintext, 'utf8');
  return [
    plaintext,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
  ];
}

export function assertNoPlaintext(t: Test, sealed: SealedSecret, plaintext: string): void {
  const buffers = [sealed.ciphertext, sealed.iv, sealed.authTag, sealed.wrappedKey];
  const renderings = [
    ...buffers.flatMap((b) => [b.toString('latin1'), b.toString('base64'), b.toString('hex')]),
    Buffer.concat(buffers).toString('latin1'),
    sealed.keyId,
    sealed.keyVersion,
    JSON.stringify(sealed),
  ];
  const leaks = forms(plaintext).filter((form) => renderings.some((r) => r.includes(form)));
  t.same(leaks, [], 'sealed output holds no form of the plaintext');
}

/** Wraps a provider to keep the data key buffers it hands out (and a copy taken before use). */
export function recordingProvider(inner: KeyProvider) {
  const issued: Array<{ buffer: Buffer; copy: Buffer }> = [];
  const unwrapped: Buffer[] = [];
  const provider: KeyProvider = {
    name: inner.name,
    current: () => inner.current(),
    async generateDataKey(context) {
      const dk = await inner.generateDataKey(context);
      issued.push({ buffer: dk.plaintextKey, copy: Buffer.from(dk.plaintextKey) });
      return dk;
    },
    async unwrapDataKey(input, context) {
      const key = await inner.unwrapDataKey(input, context);
      unwrapped.push(key);
      return key;
    },
  };
  return { provider, issued, unwrapped };
}
