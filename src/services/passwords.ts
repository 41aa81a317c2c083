import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keyLength: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

// OWASP's minimum for scrypt (Password Storage Cheat Sheet): N = 2^17, r = 8, p = 1 (128 MiB, about
// 0.4 s here). Hashes made with weaker parameters are replaced at the next successful login.
export const OWASP_SCRYPT_COST = 2 ** 17;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_LENGTH = 32;
const MAX_MEMORY = 256 * 1024 * 1024;

/**
 * `cost` is scrypt's N. Production always uses OWASP_SCRYPT_COST (no setting lowers it); the test
 * helper passes a smaller one so that a thousand sign-ups do not take minutes.
 */
export function createPasswordHasher(options: { cost?: number } = {}) {
  const cost = options.cost ?? OWASP_SCRYPT_COST;

  // Format: scrypt$N$r$p$salt(base64)$hash(base64): parameters travel with the hash so they can be raised later.
  async function hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const derived = await scryptAsync(password, salt, KEY_LENGTH, {
      N: cost,
      r: BLOCK_SIZE,
      p: PARALLELISM,
      maxmem: MAX_MEMORY,
    });
    return [
      'scrypt',
      cost,
      BLOCK_SIZE,
      PARALLELISM,
      salt.toString('base64'),
      derived.toString('base64'),
    ].join('$');
  }

  // Hashing a throwaway password keeps "unknown email" as slow as "wrong password".
  let dummyHash: Promise<string> | undefined;

  return {
    hash,

    async verify(password: string, stored: string): Promise<boolean> {
      const [scheme, n, r, p, salt, expectedText] = stored.split('$');
      if (scheme !== 'scrypt' || !n || !r || !p || !salt || !expectedText) return false;
      const expected = Buffer.from(expectedText, 'base64');
      const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
        N: Number(n),
        r: Number(r),
        p: Number(p),
        maxmem: MAX_MEMORY,
      });
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },

    /** True when `stored` was made with weaker parameters than new hashes get. */
    needsRehash(stored: string): boolean {
      const [scheme, n, r, p] = stored.split('$');
      return scheme !== 'scrypt' || Number(n) < cost || Number(r) < BLOCK_SIZE || Number(p) < PARALLELISM;
    },

    dummyHash(): Promise<string> {
      dummyHash ??= hash(randomBytes(16).toString('hex'));
      return dummyHash;
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
