import { z } from 'zod';
import type { DatabasePool } from './db/pool.ts';
import { sql } from './db/sql.ts';

const sessionRow = z.object({ data: z.record(z.string(), z.unknown()) });

// Web sessions live in Postgres so that any number of web processes can serve a user.
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
      const expires = (expiresAt ?? new Date(Date.now() + ttlMs)).toISOString();
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
