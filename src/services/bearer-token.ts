import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * A checker for `Authorization: Bearer <token>` headers. Both sides are hashed first so that
 * timingSafeEqual compares equal lengths and a length mismatch does not exit early.
 */
export function createBearerTokenCheck(
  expectedToken: string | undefined,
): (authorization?: string) => boolean {
  const expected = expectedToken ? digest(expectedToken) : undefined;
  return (authorization) => {
    const match = /^Bearer (\S+)$/.exec(authorization ?? '');
    const given = digest(match?.[1] ?? '');
    return expected !== undefined && match !== null && timingSafeEqual(given, expected);
  };
}
