import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';

/**
 * Whether the pages show WHOOP data: a WHOOP connection that is not disconnected (a sync error or a
 * needed re-auth still shows the history already synced). With the feature off, never.
 */
export function createWhoopLink(deps: { pool: DatabasePool; whoopEnabled: boolean }) {
  const { pool, whoopEnabled } = deps;
  return {
    async isLinked(userId: number): Promise<boolean> {
      if (!whoopEnabled) return false;
      const row = await pool.one(sql.type(z.object({ linked: z.boolean() }))`
        SELECT EXISTS (
          SELECT 1 FROM integration_connection
          WHERE user_id = ${userId} AND provider = 'whoop' AND status <> 'disconnected'
        ) AS linked
      `);
      return row.linked;
    },
  };
}
