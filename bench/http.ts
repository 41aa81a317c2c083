// Throughput, latency and memory of the app over HTTP, against baselines measured in the same run.
// Starts PostgreSQL, the WHOOP simulator and `node src/main.ts all` in production mode (web and
// worker in one process, as `npm start`), links a member with a year of WHOOP data and lets the
// first sync finish. Then, with autocannon at 20 connections, loads a bare Fastify "hello", and per
// app route that route and its floor: plain Fastify plus `pg` making the same round trips (recorded
// from the app's own pool for one request) and answering a fixed string.
// Prints figures and whether the targets of issue 11 hold; asserts nothing about time.
//   npm run bench:http [-- --duration 5 --connections 20]
//   npm run bench:http -- --soak     10,000 warm-up then 50,000 mixed requests, RSS after each 10,000
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import type { Interceptor } from 'slonik';
import { buildApp } from '../src/app.ts';
import { loadConfig, WHOOP_CALLBACK_PATH } from '../src/config.ts';
import { openTokenKeys } from '../src/runtime.ts';
import { startEmbeddedPostgres } from '../src/services/db/embedded.ts';
import { createDbPool } from '../src/services/db/pool.ts';
import { createServices } from '../src/services/index.ts';
import { createLogger } from '../src/services/logger.ts';
import { generateKeyringKey } from '../src/services/token-vault/index.ts';
import { startWhoopSimulator } from '../src/whoop-sim/index.ts';
import { Jar } from '../test/support/fetch-jar.ts';
import { freePort } from '../test/support/free-port.ts';
import type { RoundTrip, RoundTripsByRoute } from './support/floor-server.ts';

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '20' },
    soak: { type: 'boolean', default: false },
    /** write a CPU profile of the app (node --cpu-prof) into this folder */
    profile: { type: 'string' },
    /** measure only the routes whose name contains this text */
    only: { type: 'string' },
  },
});
const DURATION = Number(options.duration);
const CONNECTIONS = Number(options.connections);
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-client-secret-0123456789';
const PASSWORD = 'correct horse battery staple';

interface Route {
  name: string;
  path: string;
  htmx?: boolean;
  /** the target ratio to this route's floor */
  floorTarget: number;
}
const allRoutes: Route[] = [
  { name: 'healthz', path: '/healthz', floorTarget: 0.5 },
  { name: 'sync-status partial', path: '/integrations/whoop/sync/status', htmx: true, floorTarget: 0.5 },
  { name: 'integrations card', path: '/integrations/whoop/card', htmx: true, floorTarget: 0.5 },
  { name: 'Dashboard', path: '/', floorTarget: 0.35 },
  { name: 'Sleep', path: '/sleep', floorTarget: 0.35 },
  { name: 'Exercises', path: '/exercises', floorTarget: 0.35 },
  { name: 'Progress 30 days', path: '/progress?range=30', floorTarget: 0.35 },
  { name: 'Progress 90 days', path: '/progress?range=90', floorTarget: 0.35 },
];
const routes = allRoutes.filter((route) => !options.only || route.name.includes(options.only));

/**
 * The Node.js options `npm start` runs the app with (package.json), minus the .env file: the bench
 * gives the whole environment itself.
 */
function startOptions(): string[] {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  const words = (scripts.start ?? '').split(/\s+/);
  return words.slice(1, words.indexOf('src/main.ts')).filter((word) => !word.startsWith('--env-file'));
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 300_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

function startChild(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    // The app logs at info as in production; /dev/null takes the lines as a log shipper would.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`${args.join(' ')} exited with ${code}\n`);
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await Promise.race([exited, delay(10_000).then(() => child.kill('SIGKILL'))]);
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>, seconds: number): Promise<Load> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/** Warm (JIT, caches, pools) for a second, then measure. */
async function measure(url: string, headers: Record<string, string> = {}): Promise<Load> {
  await load(url, headers, 1);
  return load(url, headers, DURATION);
}

/**
 * The statements the app sends for one request of each route, grouped by round trip: a statement
 * that starts before the ones in flight have all ended runs concurrently with them.
 */
async function recordRoundTrips(
  env: Record<string, string>,
  cookie: string,
  sessionSecret: string,
): Promise<RoundTripsByRoute> {
  type Timed = RoundTrip & { start: number; end: number };
  let recording: Timed[] | undefined;
  const inFlight = new Map<string, Timed>();
  const recorder: Interceptor = {
    name: 'bench-round-trips',
    beforeQueryExecution: (context, query) => {
      if (recording) {
        const trip: Timed = { sql: query.sql, values: [...query.values], start: performance.now(), end: 0 };
        recording.push(trip);
        inFlight.set(context.queryId, trip);
      }
      return null;
    },
    afterQueryExecution: (context) => {
      const trip = inFlight.get(context.queryId);
      if (trip) trip.end = performance.now();
      inFlight.delete(context.queryId);
      return null;
    },
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: 'silent', pretty: false });
  const pool = await createDbPool(env.DATABASE_URL ?? '', { interceptors: [recorder] });
  const services = createServices({ config, pool, logger, tokenKeys: openTokenKeys(config, logger) });
  const app = await buildApp({
    config,
    services,
    logger,
    sessionSecret,
    internalApiToken: env.INTERNAL_API_TOKEN,
  });
  await app.ready();
  const byRoute: RoundTripsByRoute = {};
  for (const route of routes) {
    recording = [];
    const response = await app.inject({ method: 'GET', url: route.path, headers: headersOf(route, cookie) });
    if (response.statusCode !== 200) throw new Error(`${route.path} answered ${response.statusCode}`);
    const groups: RoundTrip[][] = [];
    let groupEnd = -1;
    for (const trip of recording.sort((a, b) => a.start - b.start)) {
      const plain = { sql: trip.sql, values: trip.values };
      const current = groups.at(-1);
      if (current && trip.start < groupEnd) current.push(plain);
      else groups.push([plain]);
      groupEnd = Math.max(groupEnd, trip.end);
    }
    byRoute[route.name] = groups;
  }
  recording = undefined;
  await app.close();
  services.close();
  await pool.end();
  return byRoute;
}

function headersOf(route: Route, cookie: string): Record<string, string> {
  const headers: Record<string, string> = route.name === 'healthz' ? {} : { cookie };
  if (route.htmx) headers['hx-request'] = 'true';
  return headers;
}

async function main() {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'bench-http-'));
  const children: ChildProcess[] = [];
  const database = await startEmbeddedPostgres({
    dataDir: path.join(workDir, 'pg'),
    port: await freePort(),
    database: 'postgres',
  });
  try {
    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_http');
    await admin.end();
    const url = new URL(database.adminUrl);
    url.pathname = '/bench_http';
    const databaseUrl = url.toString();

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const redirectUri = `${base}${WHOOP_CALLBACK_PATH}`;
    const simulator = await startWhoopSimulator({
      nodeEnv: 'development',
      clients: [
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri], name: 'Bench' },
      ],
    });
    const member = simulator.createMember({ firstName: 'Bench', lastName: 'Member', days: 365 });
    simulator.setConsent({ autoApprove: 'grant', defaultUserId: member.userId });

    const sessionSecret = randomBytes(32).toString('hex');
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      FEATURE_WHOOP_INTEGRATION: 'true',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_BASE_URL: base,
      INSECURE_ALLOW_PLAIN_HTTP: 'true',
      DATABASE_URL: databaseUrl,
      DATA_DIR: workDir,
      SESSION_SECRET: sessionSecret,
      INTERNAL_API_TOKEN: randomBytes(32).toString('hex'),
      METRICS_TOKEN: randomBytes(16).toString('hex'),
      TOKEN_ENCRYPTION_KEYS: generateKeyringKey('v1'),
      WHOOP_CLIENT_ID: CLIENT_ID,
      WHOOP_CLIENT_SECRET: CLIENT_SECRET,
      WHOOP_REDIRECT_URI: redirectUri,
      WHOOP_OAUTH_BASE_URL: simulator.oauthBaseUrl,
      WHOOP_API_BASE_URL: simulator.apiBaseUrl,
      WORKER_METRICS_PORT: String(await freePort()),
    };
    const profiling = options.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profile)}`]
      : [];
    const app = startChild([...startOptions(), ...profiling, 'src/main.ts', 'all'], env);
    children.push(app);
    const started = await waitFor('the app', async () => {
      if (app.exitCode !== null) return 'exited';
      return (await fetch(`${base}/readyz`)).ok ? 'ready' : undefined;
    });
    if (started === 'exited') throw new Error(`the app exited with code ${app.exitCode}`);
    const pid = app.pid ?? 0;

    // A person signs up and links WHOOP through the real OAuth round trip; the first sync runs in the worker.
    const jar = new Jar();
    const signup = await jar.post(`${base}/signup`, {
      _csrf: await jar.csrf(`${base}/signup`),
      email: 'bench@example.com',
      password: PASSWORD,
      displayName: 'Bench',
      timeZone: 'America/New_York',
    });
    if (signup.status !== 303) throw new Error(`sign-up answered ${signup.status}`);
    const connect = await jar.post(`${base}/integrations/whoop/connect`, {
      _csrf: await jar.csrf(`${base}/integrations`),
    });
    if (connect.status !== 303)
      throw new Error(`Connect answered ${connect.status}: ${(await connect.text()).slice(0, 500)}`);
    const granted = await fetch(String(connect.headers.get('location')), { redirect: 'manual' });
    const callback = await jar.fetch(String(granted.headers.get('location')));
    if (callback.status !== 303) throw new Error(`the OAuth callback answered ${callback.status}`);
    const syncStarted = Date.now();
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const finished = await waitFor('the first sync', async () => {
      const { rows } = await db.query<{ status: string }>(
        `SELECT status FROM integration_sync_run ORDER BY id DESC LIMIT 1`,
      );
      const status = rows[0]?.status;
      return status && !['queued', 'running', 'deferred'].includes(status) ? status : undefined;
    });
    const { rows: counts } = await db.query<{ sleeps: number; workouts: number; cycles: number }>(`
      SELECT (SELECT count(*) FROM integration_sleep)::int AS sleeps,
             (SELECT count(*) FROM integration_workout)::int AS workouts,
             (SELECT count(*) FROM integration_cycle)::int AS cycles`);
    await db.query('ANALYZE');
    await db.end();
    const afterSync = memoryOf(pid);
    process.stdout.write(
      `First sync ${finished} in ${((Date.now() - syncStarted) / 1000).toFixed(1)} s: ` +
        `${counts[0]?.cycles} cycles, ${counts[0]?.sleeps} sleeps, ${counts[0]?.workouts} workouts. ` +
        `App RSS ${afterSync.rss.toFixed(0)} MB (peak ${afterSync.peak.toFixed(0)} MB; ${await heapOf(base, env.METRICS_TOKEN ?? '')}).\n`,
    );
    const cookie = jar.cookieHeader();

    if (options.soak) {
      await soak(base, cookie, pid);
      return;
    }

    const roundTrips = await recordRoundTrips(env, cookie, sessionSecret);
    const tripsFile = path.join(workDir, 'round-trips.json');
    writeFileSync(tripsFile, JSON.stringify(roundTrips));
    const floorPort = await freePort();
    const floor = spawn(
      process.execPath,
      ['bench/support/floor-server.ts', String(floorPort), databaseUrl, tripsFile],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(floor);
    for await (const line of createInterface({ input: floor.stdout })) if (line === 'ready') break;
    const floorBase = `http://127.0.0.1:${floorPort}`;

    const hello = await measure(`${floorBase}/hello`);
    const rows: Array<Record<string, string | number>> = [
      {
        route: 'bare Fastify hello',
        'req/s': Math.round(hello.rps),
        'p50 ms': hello.p50,
        'p99 ms': hello.p99,
        'round trips': 0,
        'floor req/s': '',
        'x floor': '',
        'x hello': '1.000',
      },
    ];
    const verdicts: string[] = [];
    for (const route of routes) {
      const floorLoad = await measure(`${floorBase}/floor/${encodeURIComponent(route.name)}`);
      const appLoad = await measure(`${base}${route.path}`, headersOf(route, cookie));
      if (appLoad.errors > 0) throw new Error(`${route.path}: ${appLoad.errors} errors or non-2xx answers`);
      const toFloor = appLoad.rps / floorLoad.rps;
      const toHello = appLoad.rps / hello.rps;
      rows.push({
        route: route.name,
        'req/s': Math.round(appLoad.rps),
        'p50 ms': appLoad.p50,
        'p99 ms': appLoad.p99,
        'round trips': roundTrips[route.name]?.length ?? 0,
        'floor req/s': Math.round(floorLoad.rps),
        'x floor': toFloor.toFixed(2),
        'x hello': toHello.toFixed(3),
      });
      verdicts.push(
        verdict(
          `${route.name}: ratio to its floor ${toFloor.toFixed(2)}`,
          toFloor >= route.floorTarget,
          `>= ${route.floorTarget}`,
        ),
      );
      if (route.name === 'healthz') {
        verdicts.push(
          verdict(`healthz: ratio to the bare hello ${toHello.toFixed(2)}`, toHello >= 0.5, '>= 0.5'),
        );
      }
      if (route.name === 'sync-status partial') {
        verdicts.push(verdict(`sync-status partial: p99 ${appLoad.p99} ms`, appLoad.p99 <= 25, '<= 25 ms'));
      }
    }
    const memory = memoryOf(pid);
    verdicts.push(
      verdict(
        `peak RSS of the app (web and worker) ${memory.peak.toFixed(0)} MB`,
        memory.peak <= 250,
        '<= 250 MB',
      ),
    );
    process.stdout.write(
      `\nautocannon, ${CONNECTIONS} connections, ${DURATION} s per route after 1 s warm-up; app in production mode ` +
        `(node ${[...startOptions(), 'src/main.ts all'].join(' ')}, logs at info to /dev/null); ${os.cpus().length} CPUs; node ${process.version}.\n`,
    );
    console.table(rows);
    process.stdout.write(
      `App RSS now ${memory.rss.toFixed(0)} MB, peak ${memory.peak.toFixed(0)} MB; ${await heapOf(base, env.METRICS_TOKEN ?? '')}.\n\n`,
    );
    process.stdout.write(`${verdicts.join('\n')}\n`);
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    await database.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The V8 heap as the app's own /metrics reports it, in MB: where the RSS goes. */
async function heapOf(base: string, token: string): Promise<string> {
  const text = await (
    await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  const mb = (name: string) =>
    (Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20).toFixed(0);
  return `heap used ${mb('nodejs_heap_size_used_bytes')} MB of ${mb('nodejs_heap_size_total_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB`;
}

function verdict(what: string, met: boolean, target: string): string {
  return `${met ? 'met   ' : 'MISSED'} ${what} (target ${target})`;
}

/** 10,000 warm-up requests, then 50,000 over every route in turn, with the app's RSS after each 10,000. */
async function soak(base: string, cookie: string, pid: number) {
  const requests = routes.map((route) => ({
    method: 'GET' as const,
    path: route.path,
    headers: headersOf(route, cookie),
  }));
  const run = async () => {
    const result = await autocannon({ url: base, connections: CONNECTIONS, amount: 10_000, requests });
    if (result.non2xx + result.errors > 0)
      throw new Error(`${result.non2xx + result.errors} failed requests`);
    return result.requests.average;
  };
  const rows: Array<Record<string, string | number>> = [];
  for (let chunk = 1; chunk <= 6; chunk += 1) {
    const rps = await run();
    const memory = memoryOf(pid);
    rows.push({
      requests: chunk * 10_000,
      'req/s': Math.round(rps),
      'RSS MB': memory.rss.toFixed(1),
      'peak MB': memory.peak.toFixed(1),
    });
  }
  process.stdout.write(
    `\nSoak: ${CONNECTIONS} connections, requests cycling over ${routes.length} routes ` +
      `(${routes.map((r) => r.path).join(', ')}); node ${process.version}.\n`,
  );
  console.table(rows);
  const growth = Number(rows.at(-1)?.['RSS MB']) - Number(rows[0]?.['RSS MB']);
  const peak = Number(rows.at(-1)?.['peak MB']);
  process.stdout.write(
    `${verdict(`RSS growth from the 10,000th to the 60,000th request ${growth.toFixed(1)} MB`, growth < 20, '< 20 MB')}\n` +
      `${verdict(`peak RSS ${peak.toFixed(0)} MB`, peak <= 250, '<= 250 MB')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
