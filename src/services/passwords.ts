import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keyLength: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

// One of OWASP's equivalent minimums for scrypt (Password Storage Cheat Sheet): N = 2^15, r = 8, p = 3.
// The same work as N = 2^17, p = 1 at a quarter of the memory: 32 MiB per hash instead of 128, so
// four logins at once (libuv's four threads) hold 128 MiB, not 512, on a small server (issue 11).
// Hashes made with less work are replaced at the next successful login.
export const OWASP_SCRYPT_COST = 2 ** 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 3;
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

    /** True when `stored` was made with less work (N * r * p) than new hashes get. */
    needsRehash(stored: string): boolean {
      const [scheme, n, r, p] = stored.split('$');
      const work = Number(n) * Number(r) * Number(p);
      return scheme !== 'scrypt' || !(work >= cost * BLOCK_SIZE * PARALLELISM);
    },

    dummyHash(): Promise<string> {
      dummyHash ??= hash(randomBytes(16).toString('hex'));
      return dummyHash;
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
