// Server time of each health page for members with a year of data, against baselines measured in the
// same run. Prints figures; asserts nothing about time. Usage: npm run bench:pages [-- ITERATIONS]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { startEmbeddedPostgres } from '../src/services/db/embedded.ts';
import { runMigrations } from '../src/services/db/migrate.ts';
import { createDbPool, type DatabasePool } from '../src/services/db/pool.ts';
import { sql } from '../src/services/db/sql.ts';
import { createServices } from '../src/services/index.ts';
import { addDays, localDateOf } from '../src/services/local-time.ts';
import { createLogger } from '../src/services/logger.ts';
import { generateKeyringKey } from '../src/services/token-vault/index.ts';
import { BrowserSession, signUp } from '../test/support/browser-session.ts';
import { freePort } from '../test/support/free-port.ts';
import { seedWhoopMember } from '../test/support/wearable-fixtures.ts';

const ITERATIONS = Number(process.argv[2] ?? 200);
const WARMUP = 20;

/** A year of hand-logged nights and evening workouts, written in one statement each. */
async function seedManualYear(pool: DatabasePool, userId: number, timeZone: string, today: string) {
  const first = addDays(today, -364);
  await pool.query(sql.typeAlias('void')`
    INSERT INTO sleep_entry (user_id, local_date, bed_at, wake_at, quality, note)
    SELECT ${userId}, d::date, ((d - interval '1 day') + time '23:00') AT TIME ZONE ${timeZone},
           (d + time '06:45') AT TIME ZONE ${timeZone}, 1 + (extract(doy FROM d)::int % 5), 'Logged by hand'
    FROM generate_series(${first}::date, ${today}::date, interval '1 day') AS d
  `);
  await pool.query(sql.typeAlias('void')`
    INSERT INTO workout_session (user_id, local_date, start_at, activity, duration_minutes, intensity)
    SELECT ${userId}, d::date, (d + time '18:00') AT TIME ZONE ${timeZone}, 'Evening run', 45, 3
    FROM generate_series(${first}::date, ${today}::date, interval '1 day') AS d
  `);
}

async function member(
  app: Parameters<typeof signUp>[0]['app'],
  pool: DatabasePool,
  email: string,
  timeZone: string,
) {
  const browser = new BrowserSession(app);
  await signUp(browser, { email, timeZone });
  const id = await pool.oneFirst(
    sql.type(z.object({ id: z.number() }))`SELECT id FROM app_user WHERE email = ${email}`,
  );
  return { browser, id, today: localDateOf(new Date(), timeZone), timeZone };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0;

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-pages-pg-'));
  const database = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
  try {
    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_pages');
    await admin.end();
    const url = new URL(database.adminUrl);
    url.pathname = '/bench_pages';
    await runMigrations(url.toString());

    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: url.toString(),
      PUBLIC_BASE_URL: 'http://localhost:3000',
    });
    const logger = createLogger({ level: 'silent', pretty: false });
    const pool = await createDbPool(url.toString(), { maximumPoolSize: 10 });
    const services = createServices({ config, pool, logger, devKeyringSpec: generateKeyringKey('bench') });
    // Templates compiled once and cached, as in production (the test config recompiles them per request).
    const appConfig = Object.freeze({ ...config, isProduction: true });
    const app = await buildApp({
      config: appConfig,
      services,
      logger,
      sessionSecret: randomBytes(32).toString('hex'),
    });
    // Server time: from the request arriving to the response written, as Fastify measures it.
    const timings = new Map<string, number[]>();
    let recording: string | undefined;
    app.addHook('onResponse', async (_request, reply) => {
      if (recording) timings.get(recording)?.push(reply.elapsedTime);
    });
    await app.ready();

    const whoop = await member(app, pool, 'whoop-bench@example.com', 'America/New_York');
    await seedWhoopMember(pool, {
      userId: whoop.id,
      timeZone: whoop.timeZone,
      lastDate: whoop.today,
      days: 365,
    });
    await seedManualYear(pool, whoop.id, whoop.timeZone, whoop.today);
    const manual = await member(app, pool, 'manual-bench@example.com', 'Europe/Berlin');
    await seedManualYear(pool, manual.id, manual.timeZone, manual.today);
    await pool.query(sql.typeAlias('void')`ANALYZE`);

    const htmx = { 'hx-request': 'true' };
    const cases: Array<{ name: string; who: typeof whoop; url: string; headers?: Record<string, string> }> = [
      { name: 'baseline GET /healthz', who: whoop, url: '/healthz' },
      { name: 'baseline GET /account (trivial page)', who: whoop, url: '/account' },
      { name: 'WHOOP  Dashboard /', who: whoop, url: '/' },
      { name: 'WHOOP  Sleep /sleep', who: whoop, url: '/sleep' },
      { name: 'WHOOP  Exercises /exercises', who: whoop, url: `/exercises?date=${addDays(whoop.today, -1)}` },
      { name: 'WHOOP  Progress 7 days', who: whoop, url: '/progress?range=7' },
      { name: 'WHOOP  Progress 30 days', who: whoop, url: '/progress?range=30' },
      { name: 'WHOOP  Progress 90 days', who: whoop, url: '/progress?range=90' },
      { name: 'WHOOP  Progress 365 days (weekly)', who: whoop, url: '/progress?range=365' },
      {
        name: 'WHOOP  Progress charts (htmx) 90',
        who: whoop,
        url: '/progress/charts?range=90',
        headers: htmx,
      },
      { name: 'manual Dashboard /', who: manual, url: '/' },
      { name: 'manual Sleep /sleep', who: manual, url: '/sleep' },
      { name: 'manual Exercises /exercises', who: manual, url: '/exercises' },
      { name: 'manual Progress 90 days', who: manual, url: '/progress?range=90' },
      { name: 'manual Progress 365 days (weekly)', who: manual, url: '/progress?range=365' },
    ];
    const sizes = new Map<string, number>();
    for (const item of cases) {
      timings.set(item.name, []);
      for (let i = 0; i < WARMUP; i += 1) {
        const response = await item.who.browser.get(item.url, item.headers);
        if (response.statusCode !== 200) throw new Error(`${item.url}: ${response.statusCode}`);
        sizes.set(item.name, response.body.length);
      }
    }
    // Round robin, so that drift (GC, caches, the machine) touches every page alike.
    for (let i = 0; i < ITERATIONS; i += 1) {
      for (const item of cases) {
        recording = item.name;
        await item.who.browser.get(item.url, item.headers);
        recording = undefined;
      }
    }

    const healthz = median(timings.get(cases[0]?.name ?? '') ?? []);
    const trivial = median(timings.get(cases[1]?.name ?? '') ?? []);
    const rows = cases.map((item) => {
      const values = timings.get(item.name) ?? [];
      const m = median(values);
      return {
        page: item.name,
        'median ms': m.toFixed(2),
        'p95 ms': percentile(values, 0.95).toFixed(2),
        'x /healthz': (m / healthz).toFixed(1),
        'x /account': (m / trivial).toFixed(2),
        'HTML kB': ((sizes.get(item.name) ?? 0) / 1024).toFixed(1),
      };
    });
    process.stdout.write(
      `Health pages, ${ITERATIONS} requests each after ${WARMUP} warm-up; members with 365 days of WHOOP data ` +
        `and manual logs (app.inject, server time = Fastify reply.elapsedTime, templates cached as in production; ` +
        `node ${process.version}).\n`,
    );
    console.table(rows);
    await app.close();
    await services.close();
    await pool.end();
  } finally {
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
