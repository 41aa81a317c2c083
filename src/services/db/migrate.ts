import { fileURLToPath } from 'node:url';
import { Logger, runMigrations as runWorkerMigrations } from 'graphile-worker';
import pg from 'pg';
import { migrate } from 'postgres-migrations';

export const migrationsDir = fileURLToPath(new URL('../../../sql', import.meta.url));

// Must run before graphile-worker creates its schema: postgres-migrations looks for an unqualified
// `migrations` table and trips over graphile_worker.migrations otherwise (see STACK-NOTES).
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let applied: string[];
  try {
    const migrations = await migrate({ client }, migrationsDir, { logger: () => {} });
    applied = migrations.map((migration) => migration.name);
  } finally {
    await client.end();
  }
  // Then graphile-worker's schema, in this order: web processes enqueue jobs (graphile_worker.add_job)
  // in their own transactions, even before any worker process has started.
  await runWorkerMigrations({ connectionString: databaseUrl, logger: new Logger(() => () => {}) });
  return applied;
}
