// Runs a tap suite against one PostgreSQL for the whole run: the server from DATABASE_URL when given,
// otherwise a throwaway embedded one. A template database is migrated once; each test file clones it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runMigrations as runWorkerMigrations } from 'graphile-worker';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/services/db/embedded.ts';
import { runMigrations } from '../../src/services/db/migrate.ts';
import { TEMPLATE_DATABASE, withDatabase } from './database-urls.ts';
import { freePort } from './free-port.ts';

async function prepareTemplate(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const templateUrl = withDatabase(adminUrl, TEMPLATE_DATABASE);
  // Same order as production: the app's migrations, then graphile-worker's schema.
  await runMigrations(templateUrl);
  await runWorkerMigrations({ connectionString: templateUrl, logger: undefined });
}

async function main(): Promise<number> {
  const [suite = 'unit', ...tapArgs] = process.argv.slice(2);
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  let dataDir: string | undefined;
  if (!adminUrl) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'health-test-pg-'));
    const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
    adminUrl = embedded.adminUrl;
    stop = embedded.stop;
  }
  try {
    await prepareTemplate(adminUrl);
    const args =
      suite === 'e2e'
        ? ['--disable-coverage', '--jobs=1', '--include=e2e/**/*.test.ts', ...tapArgs]
        : suite === 'reliability'
          ? ['--disable-coverage', '--timeout=900', '--include=reliability/**/*.test.ts', ...tapArgs]
          : tapArgs;
    const code = await new Promise<number>((resolve) => {
      const child = spawn('tap', args, {
        stdio: 'inherit',
        env: { ...process.env, TEST_ADMIN_DATABASE_URL: adminUrl },
      });
      child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
    });
    return code;
  } finally {
    await stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `test suite setup failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);
