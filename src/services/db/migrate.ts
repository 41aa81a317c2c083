import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from 'postgres-migrations';

export const migrationsDir = fileURLToPath(new URL('../../../sql', import.meta.url));

// Must run before graphile-worker creates its schema: postgres-migrations looks for an unqualified
// `migrations` table and trips over graphile_worker.migrations otherwise (see STACK-NOTES).
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const applied = await migrate({ client }, migrationsDir, { logger: () => {} });
    return applied.map((migration) => migration.name);
  } finally {
    await client.end();
  }
}
