import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import pg from 'pg';
import t from 'tap';
import { z } from 'zod';
import { startEmbeddedPostgres } from '../src/services/db/embedded.ts';
import { migrationsDir, runMigrations } from '../src/services/db/migrate.ts';
import { createDbPool } from '../src/services/db/pool.ts';
import { sql } from '../src/services/db/sql.ts';
import { createServices } from '../src/services/index.ts';
import { startWorker, WORKER_APPLICATION_NAME } from '../src/worker.ts';
import { captureLogs, testConfig } from './helper.ts';
import { withDatabase } from './support/database-urls.ts';
import { freePort } from './support/free-port.ts';

t.test('the embedded database recovers from a server left behind by a hard kill', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'health-embedded-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const child = spawn(process.execPath, ['test/support/embedded-child.ts', dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [firstOutput] = (await once(child.stdout, 'data')) as [Buffer];
  t.equal(firstOutput.toString().trim(), 'ready');
  child.kill('SIGKILL');
  await once(child, 'exit');

  const database = await startEmbeddedPostgres({ dataDir, port, database: 'health' });
  t.teardown(() => database.stop());
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const result = await client.query('SELECT current_database() AS name');
  await client.end();
  t.equal(result.rows[0].name, 'health', 'the restarted server answers');
});

t.test('a fresh database: app migrations, then the worker schema, then migrations again', async (t) => {
  const adminUrl = process.env.TEST_ADMIN_DATABASE_URL ?? '';
  const name = `fresh_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const url = withDatabase(adminUrl, name);
  const expected = readdirSync(migrationsDir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => file.replace(/^\d+_/, '').replace(/\.sql$/, ''));
  t.same(
    await runMigrations(url),
    ['create-migrations-table', ...expected],
    'every migration in sql/ applied',
  );

  const logs = captureLogs();
  const pool = await createDbPool(url);
  t.teardown(() => pool.end());
  const services = createServices({ config: testConfig({ DATABASE_URL: url }), pool, logger: logs.logger });
  const worker = await startWorker({ databaseUrl: url, services, logger: logs.logger });
  const workerConnections = () =>
    pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ${WORKER_APPLICATION_NAME}
    `);
  t.ok((await workerConnections()) > 0, 'the worker holds named connections while it runs');
  await worker.stop();
  // graphile-worker's own pool was ended without waiting, its error handler already gone: a database
  // stopping right after (npm start's embedded one) crashed the process on an idle connection's error.
  // The server lists a backend until its process exits, a moment after the client hung up: poll.
  const giveUpAt = Date.now() + 5000;
  while ((await workerConnections()) > 0 && Date.now() < giveUpAt) await setImmediatePromise();
  t.equal(await workerConnections(), 0, 'stopped, the worker has closed every connection');
  const schemas = await pool.anyFirst(sql.type(z.object({ nspname: z.string() }))`
    SELECT nspname FROM pg_namespace WHERE nspname IN ('graphile_worker', 'public') ORDER BY nspname
  `);
  t.same(schemas, ['graphile_worker', 'public'], 'the worker created its schema');
  t.same(await runMigrations(url), [], 'a restart re-runs migrations cleanly beside the worker schema');
});
