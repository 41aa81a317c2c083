// Sync throughput against the WHOOP simulator (rate limits off): a backfill of MEMBERS x DAYS, its
// records per second and the ratio to a plain INSERT ... SELECT unnest of the same rows measured in
// the same run; then a steady-state day (two scheduled syncs) and the WHOOP requests it costs per
// connection. Prints figures; asserts nothing. Usage: npm run bench:sync [-- MEMBERS DAYS]

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { loadConfig } from '../src/config.ts';
import { startEmbeddedPostgres } from '../src/services/db/embedded.ts';
import { runMigrations } from '../src/services/db/migrate.ts';
import { createDbPool, type DatabasePool } from '../src/services/db/pool.ts';
import { sql } from '../src/services/db/sql.ts';
import { createServices, type Services } from '../src/services/index.ts';
import { createLogger } from '../src/services/logger.ts';
import { generateKeyringKey } from '../src/services/token-vault/index.ts';
import {
  bodyRow,
  cycleRow,
  recoveryRow,
  sleepRow,
  workoutRow,
} from '../src/services/whoop/sync/normalize.ts';
import { type NormalizedType, specFor } from '../src/services/whoop/sync/record-store.ts';
import { startWhoopSimulator, type WhoopSimulator } from '../src/whoop-sim/index.ts';
import { freePort } from '../test/support/free-port.ts';
import { linkSimulatorMember } from './support/link-member.ts';

const MEMBERS = Number(process.argv[2] ?? 8);
const DAYS = Number(process.argv[3] ?? 365);
// As many syncs at once as one worker process runs (src/worker.ts).
const CONCURRENCY = 4;
const PAGE = 25;
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret-0123456789abcdef';
const REDIRECT_URI = 'http://127.0.0.1:9/integrations/whoop/callback';
const OFFSETS = ['Z', '-10:00', '+05:30', '+01:00', '-05:00', '+09:00'];

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

interface Linked {
  connectionId: number;
  userId: number;
  memberId: number;
  runId: number;
}

async function link(services: Services, sim: WhoopSimulator, index: number): Promise<Linked> {
  const member = sim.createMember({ days: DAYS, timezoneOffset: OFFSETS[index % OFFSETS.length] });
  const linked = await linkSimulatorMember(services, sim, {
    memberId: member.userId,
    email: `bench${index}@example.test`,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
  });
  const run = await services.whoopSync.request({ userId: linked.userId, trigger: 'manual' });
  if (run.outcome === 'refused' || run.outcome === 'cooldown') throw new Error(`sync ${run.outcome}`);
  return {
    connectionId: linked.connectionId,
    userId: linked.userId,
    memberId: member.userId,
    runId: run.runId,
  };
}

async function storedRecords(pool: DatabasePool): Promise<number> {
  return pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT ((SELECT count(*) FROM integration_cycle) + (SELECT count(*) FROM integration_sleep)
      + (SELECT count(*) FROM integration_recovery) + (SELECT count(*) FROM integration_workout)
      + (SELECT count(*) FROM integration_body_measurement))::int AS n
  `);
}

/** The same normalized rows, inserted page by page with a plain INSERT ... SELECT unnest (no indexes). */
async function plainInsert(
  pool: DatabasePool,
  sim: WhoopSimulator,
  linked: readonly Linked[],
): Promise<number> {
  const types: NormalizedType[] = ['cycle', 'sleep', 'recovery', 'workout', 'body_measurement'];
  for (const type of types) {
    const table = specFor(type, 0).table;
    await pool.query(sql.typeAlias('void')`
      CREATE TABLE ${sql.identifier([`bench_${table}`])} (LIKE ${sql.identifier([table])} INCLUDING DEFAULTS INCLUDING IDENTITY)
    `);
  }
  // The sync dates a body measurement in SQL (now()); the plain insert lets a default do it.
  await pool.query(sql.typeAlias('void')`
    ALTER TABLE bench_integration_body_measurement ALTER COLUMN measured_at SET DEFAULT now()
  `);
  const batches: Array<{ type: NormalizedType; owner: Linked; rows: Array<Record<string, unknown>> }> = [];
  for (const owner of linked) {
    const truth = sim.groundTruth(owner.memberId);
    const rowsOf: Record<NormalizedType, Array<Record<string, unknown>>> = {
      cycle: truth.cycles.map((r) => ({ ...cycleRow(r) })),
      sleep: truth.sleeps.map((r) => ({ ...sleepRow(r) })),
      recovery: truth.recoveries.map((r) => ({ ...recoveryRow(r) })),
      workout: truth.workouts.map((r) => ({ ...workoutRow(r) })),
      body_measurement: truth.body_measurement
        ? [{ ...bodyRow(String(owner.memberId), truth.body_measurement) }]
        : [],
    };
    for (const type of types) {
      const rows = rowsOf[type];
      for (let i = 0; i < rows.length; i += PAGE)
        batches.push({ type, owner, rows: rows.slice(i, i + PAGE) });
    }
  }
  const started = performance.now();
  await inParallel(batches, async ({ type, owner, rows }) => {
    const spec = specFor(type, owner.connectionId);
    const names = spec.columns.map((column) => sql.identifier([column.name]));
    const tuples = rows.map((row) =>
      spec.columns.map((column) => {
        const value = row[column.name];
        if (value === undefined || value === null) return null;
        return column.type === 'jsonb' ? JSON.stringify(value) : (value as string | number | boolean);
      }),
    );
    await pool.query(sql.typeAlias('void')`
      INSERT INTO ${sql.identifier([`bench_${spec.table}`])} (connection_id, user_id, provider, ${sql.join(names, sql.fragment`, `)})
      SELECT ${owner.connectionId}, ${owner.userId}, 'whoop', ${sql.join(names, sql.fragment`, `)}
      FROM ${sql.unnest(
        tuples,
        spec.columns.map((column) => column.type),
      )} AS u(${sql.join(names, sql.fragment`, `)})
    `);
  });
  return performance.now() - started;
}

function totalRequests(sim: WhoopSimulator): { total: number; byEndpoint: Record<string, number> } {
  const byEndpoint: Record<string, number> = {};
  let total = 0;
  for (const [endpoint, byClient] of Object.entries(sim.requestCounts())) {
    const count = Object.values(byClient).reduce((sum, n) => sum + n, 0);
    byEndpoint[endpoint] = count;
    total += count;
  }
  return { total, byEndpoint };
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-sync-pg-'));
  const database = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
  const frozenAt = Date.now();
  const sim = await startWhoopSimulator({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    rateLimit: { enabled: false, perMinute: 1_000_000_000, perDay: 1_000_000_000 },
    now: () => frozenAt,
    nodeEnv: 'development',
  });
  try {
    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_sync');
    await admin.end();
    const url = new URL(database.adminUrl);
    url.pathname = '/bench_sync';
    await runMigrations(url.toString());

    const config = loadConfig({
      NODE_ENV: 'development',
      LOG_LEVEL: 'silent',
      DATABASE_URL: url.toString(),
      WHOOP_CLIENT_ID: CLIENT_ID,
      WHOOP_CLIENT_SECRET: CLIENT_SECRET,
      WHOOP_REDIRECT_URI: REDIRECT_URI,
      WHOOP_OAUTH_BASE_URL: sim.oauthBaseUrl,
      WHOOP_API_BASE_URL: sim.apiBaseUrl,
      WHOOP_RATE_LIMIT_PER_MINUTE: '1000000000',
      WHOOP_RATE_LIMIT_PER_DAY: '1000000000',
      TOKEN_ENCRYPTION_KEYS: generateKeyringKey('bench'),
    });
    const pool = await createDbPool(url.toString(), { maximumPoolSize: 12 });
    const services = createServices({
      config,
      pool,
      logger: createLogger({ level: 'silent', pretty: false }),
    });

    const linked: Linked[] = [];
    for (let i = 0; i < MEMBERS; i++) linked.push(await link(services, sim, i));
    sim.resetRequestCounts();

    const backfillStarted = performance.now();
    await inParallel(linked, (item) => services.whoopSync.execute(item.runId));
    const backfillMs = performance.now() - backfillStarted;
    const records = await storedRecords(pool);
    const backfillRequests = totalRequests(sim).total;
    const plainMs = await plainInsert(pool, sim, linked);
    const syncRate = records / (backfillMs / 1000);
    const plainRate = records / (plainMs / 1000);

    // Steady state: the clock moves 12 hours twice, each time every connection has its scheduled sync.
    sim.resetRequestCounts();
    for (let slot = 0; slot < 2; slot++) {
      sim.advanceTime(12 * 3_600_000);
      // Our clock did not move: age the stored expiry as twelve real hours would have.
      await pool.query(
        sql.typeAlias('void')`UPDATE integration_token SET expires_at = expires_at - interval '12 hours'`,
      );
      const runs: number[] = [];
      for (const item of linked) {
        await pool.query(sql.typeAlias('void')`
          UPDATE integration_connection SET next_sync_at = now() - interval '1 second' WHERE id = ${item.connectionId}
        `);
      }
      const tick = await services.whoopSync.tick();
      for (const connectionId of tick.enqueued) {
        const run = await pool.oneFirst(sql.type(z.object({ id: z.number() }))`
          SELECT id FROM integration_sync_run WHERE connection_id = ${connectionId} AND status = 'queued'
        `);
        runs.push(run);
      }
      await inParallel(runs, (runId) => services.whoopSync.execute(runId));
    }
    const steady = totalRequests(sim);

    const f = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits });
    process.stdout.write(
      [
        `WHOOP sync benchmark: ${MEMBERS} members x ${DAYS} days, ${CONCURRENCY} syncs at a time, simulator rate limits off`,
        '',
        'Backfill (first sync of every member)',
        `  records stored          ${f(records)} (normalized rows; raw payloads stored besides)`,
        `  WHOOP requests          ${f(backfillRequests)}`,
        `  time                    ${f(backfillMs / 1000, 2)} s`,
        `  sync                    ${f(syncRate)} records/s`,
        `  plain INSERT ... SELECT unnest, same rows, ${PAGE} per statement: ${f(plainRate)} records/s (${f(plainMs / 1000, 2)} s)`,
        `  ratio sync / plain      ${f(syncRate / plainRate, 3)}`,
        '',
        'Steady state (one day: two scheduled syncs per connection, 12 h apart)',
        `  WHOOP requests          ${f(steady.total)} for ${MEMBERS} connections`,
        `  per connection per day  ${f(steady.total / MEMBERS, 1)}`,
        ...Object.entries(steady.byEndpoint)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([endpoint, count]) => `    ${endpoint.padEnd(44)} ${f(count / MEMBERS, 1)}`),
        '',
      ].join('\n'),
    );
    services.close();
    await pool.end();
  } finally {
    await sim.close();
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
