// WHOOP quota and freshness over a simulated week, with webhooks on and off (issue 12).
//
// A fleet (default 10 members, 30 days of history with naps and workouts) is linked through the real
// OAuth code exchange and first-synced; then the simulator's clock moves a week in steps (default
// 1 h). Each mode gets a fresh database and simulator with the same seeds, so both see the same data.
// ON: the simulator's client posts signed webhooks to the app listening on 127.0.0.1.
//
// The time-warp, and what it models. The app's clocks (Date.now and PostgreSQL's now()) follow the
// wall, so each step (1) makes the app's stored instants a step older (token expiry, next_sync_at,
// last_webhook_at, profile_read_at, covered_listed_at, rate-budget windows: bench/support/time-warp.ts),
// (2) advances the simulator by the step (new records; ON: webhooks delivered for real, then the
// connection's whoop_webhook work run here through services.whoopSync.webhooks.processConnection,
// as the job would), (3) runs the schedule: tick(now) and every scheduled run it enqueued, executed
// here. After a run the bench re-anchors next_sync_at to the next 06:00/18:00 UTC of the SIMULATED day
// (the app computes it from the wall clock, which did not move). So the app sees hours pass for
// everything it stores. What it does NOT model: instants the app computes from its own clock against
// WHOOP's timestamps. The webhook-era "short" listing starts at wall-now - 26 h, which on the
// simulator's timeline reaches back the 26 h plus however far the week has advanced: it lists more
// records than it would (one page of 25 still holds them here, so the request count is the same).
// Neither does it model a worker's delays: the webhook job's 1 s coalescing wait and its polling, and
// the spacing of scheduled runs (they run at once). The simulator announces a record each time it
// changed in a step, including sleeps and workouts in progress, so the number of webhook events,
// hence ON's fetches, depends on the step (--step-minutes). Freshness is counted per change at
// WHOOP: the step it appeared in, to the step after which the app's row held it (or a newer version),
// plus the real time spent in that step.
//
// Counts every request the simulator received after the warm-up day (link, first sync and day 1),
// token refreshes included, and prints per mode: requests per connection per day (and per endpoint),
// the members one default app quota sustains, freshness, and whether the target holds.
// Usage: npm run bench:quota [-- --members 10 --days 30 --step-minutes 60]

import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { startEmbeddedPostgres } from '../src/services/db/embedded.ts';
import { runMigrations } from '../src/services/db/migrate.ts';
import { createDbPool, type DatabasePool } from '../src/services/db/pool.ts';
import { sql } from '../src/services/db/sql.ts';
import { createServices, type Services } from '../src/services/index.ts';
import { createLogger } from '../src/services/logger.ts';
import { generateKeyringKey } from '../src/services/token-vault/index.ts';
import { spacingMs } from '../src/services/whoop/sync/schedule.ts';
import { startWhoopSimulator, type WhoopSimulator } from '../src/whoop-sim/index.ts';
import { freePort } from '../test/support/free-port.ts';
import { createFreshnessTracker, KINDS, type Landed, percentile } from './support/freshness.ts';
import { linkSimulatorMember } from './support/link-member.ts';
import { ageAppState, scheduleFromSimulatedNow } from './support/time-warp.ts';

const { values: flags } = parseArgs({
  options: {
    members: { type: 'string', default: '10' },
    days: { type: 'string', default: '30' },
    'step-minutes': { type: 'string', default: '60' },
  },
});
const MEMBERS = Number(flags.members);
const HISTORY_DAYS = Number(flags.days);
const STEP_MS = Number(flags['step-minutes']) * 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_DAYS = 7;
const WARM_UP_DAYS = 1;
const STEADY_DAYS = WEEK_DAYS - WARM_UP_DAYS;
// WHOOP's default app limits, and the target of issue 12.
const QUOTA_PER_DAY = 10_000;
const QUOTA_PER_MINUTE = 100;
const TARGET = 11;
const BEFORE = 14;
const CONCURRENCY = 4;
const SEED = 12;
const CLIENT_ID = 'bench-quota-client';
const CLIENT_SECRET = 'bench-quota-secret-0123456789abcdef';
const REDIRECT_URI = 'http://127.0.0.1:9/integrations/whoop/callback';
const OFFSETS = ['Z', '-05:00', '+01:00', '+05:30', '-08:00', '+09:00'];

if (![MEMBERS, HISTORY_DAYS, STEP_MS].every((n) => Number.isInteger(n) && n > 0) || DAY_MS % STEP_MS !== 0) {
  process.stderr.write(
    'usage: npm run bench:quota [-- --members N --days D --step-minutes M (divides 1440)]\n',
  );
  process.exit(2);
}

type Mode = 'on' | 'off';

interface Linked {
  connectionId: number;
  userId: number;
  memberId: number;
  runId: number;
}

interface WeekResult {
  mode: Mode;
  byEndpoint: Record<string, number>;
  total: number;
  scheduledRuns: number;
  /** requests made while processing webhooks, and while running scheduled syncs (steady days) */
  webhookRequests: number;
  scheduledRequests: number;
  /** connection-steps with webhook events to process (each a burst of the job) */
  webhookBursts: number;
  webhookEvents: number;
  webhookGaveUp: number;
  deliveryToStoredSeconds: number[];
  landed: Landed[];
  notShown: number;
  realSeconds: number;
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/** A person signs up and links a fresh simulator member through the real code exchange. */
async function link(
  services: Services,
  pool: DatabasePool,
  sim: WhoopSimulator,
  index: number,
): Promise<Linked> {
  const member = sim.createMember({
    days: HISTORY_DAYS,
    withNaps: true,
    timezoneOffset: OFFSETS[index % OFFSETS.length],
  });
  const linked = await linkSimulatorMember(services, sim, {
    memberId: member.userId,
    email: `quota${index}@example.test`,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
  });
  const runId = await pool.oneFirst(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM integration_sync_run WHERE connection_id = ${linked.connectionId} ORDER BY id DESC LIMIT 1
  `);
  return { connectionId: linked.connectionId, userId: linked.userId, memberId: member.userId, runId };
}

function requestTotal(sim: WhoopSimulator): number {
  let total = 0;
  for (const byClient of Object.values(sim.requestCounts()))
    for (const count of Object.values(byClient)) total += count;
  return total;
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await runMigrations(url.toString());
  return url.toString();
}

async function simulateWeek(mode: Mode, adminUrl: string): Promise<WeekResult> {
  const started = performance.now();
  const databaseUrl = await createDatabase(adminUrl, `bench_quota_${mode}`);
  // On the hour, so that the 1 h steps land on the schedule's 06:00 and 18:00.
  const simStart = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const sim = await startWhoopSimulator({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    rateLimit: { enabled: false, perMinute: 1_000_000_000, perDay: 1_000_000_000 },
    seed: SEED,
    now: () => simStart,
    webhooks: { retryDelaysMs: [50, 100, 200] },
    nodeEnv: 'development',
  });
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    WHOOP_CLIENT_ID: CLIENT_ID,
    WHOOP_CLIENT_SECRET: CLIENT_SECRET,
    WHOOP_REDIRECT_URI: REDIRECT_URI,
    WHOOP_OAUTH_BASE_URL: sim.oauthBaseUrl,
    WHOOP_API_BASE_URL: sim.apiBaseUrl,
    // The bench counts requests; the app's budget must not defer any of them.
    WHOOP_RATE_LIMIT_PER_MINUTE: '1000000000',
    WHOOP_RATE_LIMIT_PER_DAY: '1000000000',
    TOKEN_ENCRYPTION_KEYS: generateKeyringKey('quota'),
  });
  const logger = createLogger({ level: 'silent', pretty: false });
  const pool = await createDbPool(databaseUrl, { maximumPoolSize: 12 });
  const services = createServices({ config, pool, logger });
  const app = await buildApp({
    config,
    services,
    logger,
    sessionSecret: 'bench-quota-session-secret-0123456789abcdef',
  });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    if (mode === 'on') {
      const { port } = app.server.address() as AddressInfo;
      sim.updateClient(CLIENT_ID, { webhookUrl: `http://127.0.0.1:${port}/webhooks/whoop` });
    }
    const fleet: Linked[] = [];
    for (let i = 0; i < MEMBERS; i++) fleet.push(await link(services, pool, sim, i));
    await inParallel(fleet, (member) => services.whoopSync.execute(member.runId));
    const connectionIds = fleet.map((member) => member.connectionId);
    await scheduleFromSimulatedNow(pool, connectionIds, sim.now(), services.whoopSync.nextSyncAfter);

    const tracker = createFreshnessTracker(STEP_MS);
    const histories = () =>
      fleet.map((member) => ({ connectionId: member.connectionId, truth: sim.groundTruth(member.memberId) }));
    tracker.observe(0, histories(), false);
    const warmUpSteps = (WARM_UP_DAYS * DAY_MS) / STEP_MS;
    const steps = (WEEK_DAYS * DAY_MS) / STEP_MS;
    let steadySince = new Date();
    let scheduledRuns = 0;
    let webhookRequests = 0;
    let scheduledRequests = 0;
    let webhookBursts = 0;
    for (let step = 1; step <= steps; step++) {
      const measured = step > warmUpSteps;
      if (step === warmUpSteps + 1) {
        await sim.webhooksIdle();
        sim.resetRequestCounts();
        steadySince = new Date();
      }
      const stepStarted = performance.now();
      await ageAppState(pool, STEP_MS);
      sim.advanceTime(STEP_MS);
      tracker.observe(step, histories(), measured);

      const beforeWebhooks = requestTotal(sim);
      if (mode === 'on') {
        await sim.webhooksIdle();
        const waiting = await pool.anyFirst(sql.type(z.object({ connection_id: z.number() }))`
          SELECT DISTINCT connection_id FROM integration_webhook_event WHERE processed_at IS NULL
        `);
        await inParallel(waiting, (connectionId) =>
          services.whoopSync.webhooks.processConnection(connectionId),
        );
        if (measured) webhookBursts += waiting.length;
      }
      const beforeSchedule = requestTotal(sim);

      const tick = await services.whoopSync.tick(new Date());
      if (tick.enqueued.length > 0) {
        const runIds = await pool.anyFirst(sql.type(z.object({ id: z.number() }))`
          SELECT id FROM integration_sync_run
          WHERE connection_id = ANY(${sql.array(tick.enqueued, 'int8')}) AND status = 'queued' AND trigger = 'scheduled'
        `);
        await inParallel(runIds, (runId) => services.whoopSync.execute(runId));
        await scheduleFromSimulatedNow(pool, tick.enqueued, sim.now(), services.whoopSync.nextSyncAfter);
        if (measured) scheduledRuns += runIds.length;
      }
      if (measured) {
        webhookRequests += beforeSchedule - beforeWebhooks;
        scheduledRequests += requestTotal(sim) - beforeSchedule;
      }
      await tracker.check(pool, step, performance.now() - stepStarted);
    }
    await sim.webhooksIdle();

    const byEndpoint: Record<string, number> = {};
    let total = 0;
    for (const [endpoint, byClient] of Object.entries(sim.requestCounts())) {
      const count = Object.values(byClient).reduce((sum, n) => sum + n, 0);
      byEndpoint[endpoint] = count;
      total += count;
    }
    const events = await pool.any(sql.type(
      z.object({ seconds: z.number().nullable(), outcome: z.string().nullable() }),
    )`
      SELECT extract(epoch FROM processed_at - received_at)::float8 AS seconds, outcome
      FROM integration_webhook_event WHERE received_at >= ${sql.timestamp(steadySince)}
    `);
    return {
      mode,
      byEndpoint,
      total,
      scheduledRuns,
      webhookRequests,
      scheduledRequests,
      webhookBursts,
      webhookEvents: events.length,
      webhookGaveUp: sim.webhookDeliveries().filter((d) => d.outcome === 'gave_up').length,
      deliveryToStoredSeconds: events
        .filter((event) => event.outcome === 'stored' && event.seconds !== null)
        .map((event) => event.seconds ?? 0),
      landed: tracker.landed(),
      notShown: tracker.notShown(),
      realSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await app.close();
    services.close();
    await pool.end();
    await sim.close();
  }
}

const f = (value: number, digits = 0) =>
  Number.isNaN(value)
    ? '-'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function report(result: WeekResult): string[] {
  const perConnectionDay = (n: number) => n / MEMBERS / STEADY_DAYS;
  const daily = perConnectionDay(result.total);
  const sustained = Math.floor(QUOTA_PER_DAY / daily);
  const gapSeconds = spacingMs(QUOTA_PER_MINUTE) / 1000;
  const perSlot = Math.floor((12 * HOUR_MS) / spacingMs(QUOTA_PER_MINUTE));
  const minutes = (items: readonly Landed[]) => items.map((item) => item.minutes);
  const line = (label: string, items: readonly Landed[]) =>
    `    ${label.padEnd(10)} median ${f(percentile(minutes(items), 50), 1).padStart(7)}  p95 ${f(percentile(minutes(items), 95), 1).padStart(7)}  (${f(items.length)} changes, ${f((100 * items.filter((i) => i.sameStep).length) / Math.max(1, items.length))}% within their step)`;
  const met = daily <= TARGET;
  const scheduled = perConnectionDay(result.scheduledRequests);
  const scheduledMet = scheduled <= TARGET;
  return [
    `Webhooks ${result.mode.toUpperCase()}${result.mode === 'on' ? ' (the simulator posts signed events to the app on 127.0.0.1)' : ' (no webhook URL: schedule only)'}`,
    `  WHOOP requests per connection per day   ${f(daily, 2)}`,
    ...Object.entries(result.byEndpoint)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([endpoint, count]) => `    ${endpoint.padEnd(44)} ${f(perConnectionDay(count), 2)}`),
    `    of which scheduled syncs ${f(perConnectionDay(result.scheduledRequests), 2)} (${f(perConnectionDay(result.scheduledRuns), 2)} syncs), webhook processing ${f(perConnectionDay(result.webhookRequests), 2)}`,
    `  webhook events per connection per day   ${f(perConnectionDay(result.webhookEvents), 2)} in ${f(perConnectionDay(result.webhookBursts), 2)} bursts (steps with events)${result.webhookGaveUp > 0 ? `; ${result.webhookGaveUp} deliveries given up` : ''}`,
    `  members one default app quota sustains  ${f(sustained)} (${f(QUOTA_PER_DAY)}/day / ${f(daily, 2)}); ` +
      `${QUOTA_PER_MINUTE}/min: the tick spaces scheduled syncs ${f(gapSeconds, 1)} s apart, ${f(perSlot)} per 12 h slot, ${perSlot >= sustained ? 'not the binding limit' : 'the binding limit'}`,
    `  freshness, change at WHOOP -> row stored (minutes):`,
    line('all', result.landed),
    ...KINDS.map((kind) =>
      line(
        kind,
        result.landed.filter((item) => item.kind === kind),
      ),
    ),
    `    ${f(result.notShown)} changes of the last steps were not shown yet when the week ended (not counted)`,
    ...(result.mode === 'on'
      ? [
          `  webhook received -> row stored (real seconds, processed here at once, no 1 s job wait): median ${f(percentile(result.deliveryToStoredSeconds, 50), 3)}, p95 ${f(percentile(result.deliveryToStoredSeconds, 95), 3)} (${f(result.deliveryToStoredSeconds.length)} events)`,
        ]
      : []),
    `  target: <= ${TARGET} WHOOP requests per connection per day with the schedule's two syncs (before this issue: ${BEFORE}):`,
    `    the schedule's two syncs: ${scheduledMet ? 'met' : 'MISSED'} (${f(scheduled, 2)})`,
    `    every WHOOP request, webhook processing included: ${met ? 'met' : 'MISSED'} (${f(daily, 2)})`,
    `  (simulated week in ${f(result.realSeconds, 1)} s)`,
    '',
  ];
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-quota-pg-'));
  const database = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
  try {
    const results: WeekResult[] = [];
    for (const mode of ['on', 'off'] as const) results.push(await simulateWeek(mode, database.adminUrl));
    process.stdout.write(
      [
        `WHOOP quota bench: ${MEMBERS} members x ${HISTORY_DAYS} days of history (naps, workouts), a simulated week in ${f(STEP_MS / 60_000)} min steps,`,
        `schedule '0 6,18 * * *' UTC; steady state = days ${WARM_UP_DAYS + 1}-${WEEK_DAYS} (link, first sync and day 1 not counted); same seeds in both modes`,
        '',
        ...results.flatMap(report),
      ].join('\n'),
    );
  } finally {
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
