// Throttles password guessing (and Connect WHOOP) across every web process (counters in PostgreSQL):
// - per client address: at most ADDRESS_LIMIT logins, and as many sign-ups, per window;
// - per account: from ACCOUNT_FREE_FAILURES consecutive failed logins on, each failure blocks the
//   account's logins for twice as long as the last (30 s, 1 min, ... up to 15 min): the fifth failure
//   blocks for 30 s. The key is a hash
//   of the email, so unknown emails behave exactly like known ones. A successful login resets it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DatabasePool } from './db/pool.ts';
import { sql } from './db/sql.ts';

export const ADDRESS_LIMIT = 10;
const ADDRESS_WINDOW_MS = 60_000;
/** Connect (each ends in a code exchange and a profile read at WHOOP) per person */
export const CONNECT_LIMIT = 5;
const CONNECT_WINDOW_MS = 10 * 60_000;
export const ACCOUNT_FREE_FAILURES = 5;
const ACCOUNT_BASE_BLOCK_MS = 30_000;
const ACCOUNT_MAX_BLOCK_MS = 15 * 60_000;

export interface ThrottleDecision {
  allowed: boolean;
  /** when refused: seconds until another attempt is accepted */
  retryAfterSeconds: number;
}

const hitRow = z.object({ hits: z.number(), reset_ms: z.number() });
const blockRow = z.object({ blocked_ms: z.number() });

const addressKey = (address: string) => `address:${address}`;
const accountKey = (email: string) =>
  `account:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;

export function createAuthThrottle(deps: { pool: DatabasePool }) {
  const { pool } = deps;

  /** Counts one attempt under `key` in a fixed window; refused past `limit`. */
  async function hit(key: string, limit: number, windowMs: number): Promise<ThrottleDecision> {
    const row = await pool.one(sql.type(hitRow)`
      INSERT INTO auth_throttle AS t (key, hits, window_started_at)
      VALUES (${key}, 1, now())
      ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN t.window_started_at + ${windowMs}::float8 * interval '1 millisecond' <= now()
                    THEN 1 ELSE t.hits + 1 END,
        window_started_at = CASE
          WHEN t.window_started_at + ${windowMs}::float8 * interval '1 millisecond' <= now()
          THEN now() ELSE t.window_started_at END,
        updated_at = now()
      RETURNING hits, greatest(0, extract(epoch FROM (
        window_started_at + ${windowMs}::float8 * interval '1 millisecond' - now())) * 1000)::float8 AS reset_ms
    `);
    const allowed = row.hits <= limit;
    return { allowed, retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(row.reset_ms / 1000)) };
  }

  return {
    /** Counts one login (or sign-up: a budget of its own) from `address`; refused past the window's limit. */
    attemptFrom: (address: string, action: 'login' | 'signup') =>
      hit(addressKey(`${action}:${address}`), ADDRESS_LIMIT, ADDRESS_WINDOW_MS),

    /** Counts one press of Connect WHOOP by `userId`; refused past the window's limit. */
    connectAttempt: (userId: number) => hit(`connect:${userId}`, CONNECT_LIMIT, CONNECT_WINDOW_MS),

    /** Whether the account's logins are blocked after repeated failures. */
    async accountBlocked(email: string): Promise<ThrottleDecision> {
      const row = await pool.maybeOne(sql.type(blockRow)`
        SELECT greatest(0, extract(epoch FROM (blocked_until - now())) * 1000)::float8 AS blocked_ms
        FROM auth_throttle WHERE key = ${accountKey(email)} AND blocked_until > now()
      `);
      return row
        ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(row.blocked_ms / 1000)) }
        : { allowed: true, retryAfterSeconds: 0 };
    },

    async accountFailed(email: string): Promise<void> {
      // failures counts this one; from the last free one on, each failure blocks twice as long.
      await pool.query(sql.typeAlias('void')`
        INSERT INTO auth_throttle AS t (key, failures) VALUES (${accountKey(email)}, 1)
        ON CONFLICT (key) DO UPDATE SET failures = t.failures + 1, updated_at = now()
      `);
      await pool.query(sql.typeAlias('void')`
        UPDATE auth_throttle SET blocked_until = now() + least(
          ${ACCOUNT_MAX_BLOCK_MS}::float8,
          ${ACCOUNT_BASE_BLOCK_MS}::float8 * power(2, failures - ${ACCOUNT_FREE_FAILURES})
        ) * interval '1 millisecond'
        WHERE key = ${accountKey(email)} AND failures >= ${ACCOUNT_FREE_FAILURES}
      `);
    },

    async accountSucceeded(email: string): Promise<void> {
      await pool.query(sql.typeAlias('void')`DELETE FROM auth_throttle WHERE key = ${accountKey(email)}`);
    },

    /** Rows whose window and block are over and that carry no failure streak from the last day. */
    async purgeExpired(): Promise<number> {
      const result = await pool.query(sql.typeAlias('void')`
        DELETE FROM auth_throttle
        WHERE window_started_at < now() - interval '1 hour'
          AND (blocked_until IS NULL OR blocked_until < now())
          AND updated_at < now() - interval '1 day'
      `);
      return result.rowCount;
    },
  };
}

export type AuthThrottle = ReturnType<typeof createAuthThrottle>;
