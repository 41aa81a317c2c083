import type { DatabasePool } from './db/pool.ts';
import { sql } from './db/sql.ts';

export function createHealthService(deps: { pool: DatabasePool }) {
  return {
    async databaseReachable(): Promise<boolean> {
      try {
        await deps.pool.query(sql.typeAlias('void')`SELECT`);
        return true;
      } catch {
        return false;
      }
    },
  };
}
