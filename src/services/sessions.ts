import { z } from 'zod';
import type { DatabasePool } from './db/pool.ts';
import { sql } from './db/sql.ts';

const sessionRow = z.object({ data: z.record(z.string(), z.unknown()) });

/** A visitor's session (only a CSRF secret for the login or sign-up form) lives an hour, not a month. */
export const ANONYMOUS_SESSION_TTL_MS = 60 * 60 * 1000;

// Web sessions live in Postgres so that any number of web processes can serve a user. Anyone can make
// anonymous ones by loading /login without a cookie, so those expire soon and are purged hourly.
export function createSessionRepository(deps: { pool: DatabasePool; ttlMs: number }) {
  const { pool, ttlMs } = deps;
  return {
    async get(id: string): Promise<Record<string, unknown> | null> {
      const row = await pool.maybeOne(sql.type(sessionRow)`
        SELECT data FROM session WHERE id = ${id} AND expires_at > now()
      `);
      return row?.data ?? null;
    },

    async set(id: string, data: Record<string, unknown>, expiresAt: Date | null): Promise<void> {
      const userId = typeof data.userId === 'number' ? data.userId : null;
      const requested = expiresAt?.getTime() ?? Date.now() + ttlMs;
      const expires = new Date(
        userId === null ? Math.min(requested, Date.now() + ANONYMOUS_SESSION_TTL_MS) : requested,
      ).toISOString();
      await pool.query(sql.typeAlias('void')`
        INSERT INTO session (id, user_id, data, expires_at)
        VALUES (${id}, ${userId}, ${JSON.stringify(data)}::jsonb, ${expires})
        ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at
      `);
    },

    async destroy(id: string): Promise<void> {
      await pool.query(sql.typeAlias('void')`DELETE FROM session WHERE id = ${id}`);
    },

    async purgeExpired(): Promise<number> {
      const result = await pool.query(sql.typeAlias('void')`DELETE FROM session WHERE expires_at <= now()`);
      return result.rowCount;
    },
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
