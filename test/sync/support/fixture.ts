// A real WHOOP simulator and the real app on its own database, wired together through the config
// (WHOOP_* pointing at the simulator), plus helpers to link members and read what a sync stored.
import { z } from 'zod';
import { createDbPool } from '../../../src/services/db/pool.ts';
import { sql } from '../../../src/services/db/sql.ts';
import { createServices, type Services } from '../../../src/services/index.ts';
import { generateKeyringKey } from '../../../src/services/token-vault/index.ts';
import { emptyHttpStats } from '../../../src/services/whoop/api-client.ts';
import type { PassContext, SyncTarget } from '../../../src/services/whoop/sync/engine.ts';
import type { MemberSummary, WhoopSimulator, WhoopSimulatorOptions } from '../../../src/whoop-sim/index.ts';
import { startWorker } from '../../../src/worker.ts';
import { build, type TestApp } from '../../helper.ts';
import { BrowserSession } from '../../support/browser-session.ts';
import {
  type SimClient,
  simulatorEnv,
  startTestSimulator,
  type Teardown,
  UNLIMITED_RATE,
} from '../../support/whoop-sim.ts';

export const CLIENT_ID = 'sync-test-client';
export const CLIENT_SECRET = 'sync-test-secret-0123456789';
export const REDIRECT_URI = 'http://127.0.0.1:9/integrations/whoop/callback';
export const INTERNAL_TOKEN = 'internal-token-for-sync-tests-0123456789';
export const PASSWORD = 'correct horse battery';
const SCOPES = 'offline read:recovery read:cycles read:workout read:sleep read:profile read:body_measurement';

const CLIENT: SimClient = {
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUri: REDIRECT_URI,
  name: 'Sync tests',
};

export interface SyncFixture extends TestApp {
  sim: WhoopSimulator;
  /** the environment the app was configured from (for child processes) */
  env: Record<string, string>;
}

export interface FixtureOptions {
  sim?: Partial<WhoopSimulatorOptions>;
  env?: Record<string, string>;
  /** false: the simulator follows the wall clock (rate-limit windows move); default: frozen at start */
  frozenClock?: boolean;
}

export async function startSyncFixture(t: Teardown, options: FixtureOptions = {}): Promise<SyncFixture> {
  const sim = await startTestSimulator(t, {
    client: CLIENT,
    seed: 11,
    clock: options.frozenClock === false ? 'wall' : 'frozen',
    rateLimit: UNLIMITED_RATE,
    simulator: options.sim,
  });
  const env: Record<string, string> = {
    ...simulatorEnv(sim, CLIENT),
    WHOOP_REDIRECT_URI: REDIRECT_URI,
    INTERNAL_API_TOKEN: INTERNAL_TOKEN,
    // One keyring for every process of the test: each can open what another sealed.
    TOKEN_ENCRYPTION_KEYS: generateKeyringKey('synctest'),
    WHOOP_RATE_LIMIT_PER_MINUTE: '1000000',
    WHOOP_RATE_LIMIT_PER_DAY: '100000000',
    WHOOP_REQUEST_TIMEOUT_MS: '3000',
    ...options.env,
  };
  const testApp = await build(t, { env });
  return {
    ...testApp,
    sim,
    env: {
      ...env,
      NODE_ENV: 'test',
      PUBLIC_BASE_URL: 'http://localhost:3000',
      DATABASE_URL: testApp.databaseUrl,
    },
  };
}

export interface LinkedMember {
  userId: number;
  email: string;
  connectionId: number;
  /** the initial sync the link enqueued */
  initialRunId: number;
  member: MemberSummary;
}

let emailCounter = 0;

/** A person signs up and links `member` through the real code exchange (which enqueues the first sync). */
export async function linkMember(
  fixture: SyncFixture,
  member: MemberSummary,
  options: { timeZone?: string } = {},
): Promise<LinkedMember> {
  emailCounter += 1;
  const email = `person${emailCounter}-${member.userId}@example.test`;
  const user = await fixture.services.users.signUp({
    email,
    password: PASSWORD,
    displayName: `Person ${emailCounter}`,
    timeZone: options.timeZone ?? 'UTC',
  });
  fixture.sim.setConsent({ autoApprove: 'grant', defaultUserId: member.userId });
  const authorize = new URL(`${fixture.sim.oauthBaseUrl}/auth`);
  for (const [key, value] of Object.entries({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: SCOPES,
    state: `sync-test-state-${emailCounter}`,
  })) {
    authorize.searchParams.set(key, value);
  }
  const consent = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location') ?? 'http://invalid').searchParams.get('code');
  if (!code) throw new Error(`no code from the simulator: ${consent.status}`);
  const linked = await fixture.services.whoop.exchangeCode({ userId: user.id, code });
  const run = await fixture.pool.one(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM integration_sync_run WHERE connection_id = ${linked.connectionId} ORDER BY id DESC LIMIT 1
  `);
  return { userId: user.id, email, connectionId: linked.connectionId, initialRunId: run.id, member };
}

/** Rows per normalized table (and raw events) of a connection. */
export async function tableCounts(fixture: SyncFixture, connectionId: number) {
  return fixture.pool.one(sql.type(
    z.object({
      cycles: z.number(),
      sleeps: z.number(),
      recoveries: z.number(),
      workouts: z.number(),
      bodies: z.number(),
      raw: z.number(),
    }),
  )`
    SELECT
      (SELECT count(*) FROM integration_cycle WHERE connection_id = ${connectionId})::int AS cycles,
      (SELECT count(*) FROM integration_sleep WHERE connection_id = ${connectionId})::int AS sleeps,
      (SELECT count(*) FROM integration_recovery WHERE connection_id = ${connectionId})::int AS recoveries,
      (SELECT count(*) FROM integration_workout WHERE connection_id = ${connectionId})::int AS workouts,
      (SELECT count(*) FROM integration_body_measurement WHERE connection_id = ${connectionId})::int AS bodies,
      (SELECT count(*) FROM integration_raw_event WHERE connection_id = ${connectionId})::int AS raw
  `);
}

/** Ids stored per normalized table, sorted. */
export async function storedIds(fixture: SyncFixture, connectionId: number) {
  const ids = async (table: string) => {
    const rows = await fixture.pool.anyFirst(sql.type(z.object({ external_id: z.string() }))`
      SELECT external_id FROM ${sql.identifier([table])} WHERE connection_id = ${connectionId} ORDER BY external_id
    `);
    return [...rows];
  };
  return {
    cycles: await ids('integration_cycle'),
    sleeps: await ids('integration_sleep'),
    recoveries: await ids('integration_recovery'),
    workouts: await ids('integration_workout'),
  };
}

const overlaps = (since: number, end: string | null | undefined) => !end || Date.parse(end) > since;

/** The simulator's records a listing from `since` returns (interval overlap, as WHOOP filters). */
export function truthIds(fixture: SyncFixture, member: MemberSummary, since: Date = new Date(0)) {
  const truth = fixture.sim.groundTruth(member.userId);
  const from = since.getTime();
  const sleepById = new Map(truth.sleeps.map((sleep) => [sleep.id, sleep]));
  const sorted = (values: string[]) => [...values].sort();
  return {
    cycles: sorted(truth.cycles.filter((c) => overlaps(from, c.end)).map((c) => String(c.id))),
    sleeps: sorted(truth.sleeps.filter((s) => overlaps(from, s.end)).map((s) => s.id)),
    recoveries: sorted(
      truth.recoveries
        .filter((r) => overlaps(from, sleepById.get(r.sleep_id)?.end))
        .map((r) => String(r.cycle_id)),
    ),
    workouts: sorted(truth.workouts.filter((w) => overlaps(from, w.end)).map((w) => w.id)),
  };
}

export const runStatusRow = z.object({ status: z.string(), error: z.string().nullable() });

/** Runs the queued run in this process, as the whoop_sync task would. */
export async function runSync(fixture: SyncFixture, runId: number) {
  return fixture.services.whoopSync.execute(runId);
}

/** Enqueues a manual sync of the user and runs it here. */
export async function syncNow(fixture: SyncFixture, linked: LinkedMember) {
  const request = await fixture.services.whoopSync.request({ userId: linked.userId, trigger: 'manual' });
  if (request.outcome === 'refused' || request.outcome === 'cooldown')
    throw new Error(`sync not queued: ${request.outcome}`);
  const outcome = await runSync(fixture, request.runId);
  return { runId: request.runId, outcome };
}

/** One stored row, the listed columns only, as the pool parses them (Date, number, 'YYYY-MM-DD'). */
export async function readRow(
  fixture: SyncFixture,
  table: string,
  connectionId: number,
  externalId: string,
  columns: readonly string[],
): Promise<Record<string, unknown>> {
  return fixture.pool.one(sql.type(z.record(z.string(), z.unknown()))`
    SELECT ${sql.join(
      columns.map((name) => sql.identifier([name])),
      sql.fragment`, `,
    )}
    FROM ${sql.identifier([table])} WHERE connection_id = ${connectionId} AND external_id = ${externalId}
  `);
}

/** The local calendar date of an instant on a clock `offsetMinutes` from UTC, computed independently. */
export function localDate(instant: string, offsetMinutes: number): string {
  const shifted = new Date(Date.parse(instant) + offsetMinutes * 60_000);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${shifted.getUTCFullYear()}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}`;
}

/** Another app process on the same database: its own pool and services, the same config and keys. */
export async function anotherProcess(t: Teardown, fixture: SyncFixture): Promise<Services> {
  const pool = await createDbPool(fixture.databaseUrl, { maximumPoolSize: 5 });
  t.teardown(() => pool.end());
  const services = createServices({ config: fixture.config, pool, logger: fixture.logs.logger });
  t.teardown(() => services.close());
  return services;
}

/** Requests the simulator received on an endpoint ("POST /oauth/oauth2/token"), all clients together. */
export function requestsTo(fixture: SyncFixture, endpoint: RegExp): number {
  let total = 0;
  for (const [key, byClient] of Object.entries(fixture.sim.requestCounts())) {
    if (endpoint.test(key)) total += Object.values(byClient).reduce((sum, count) => sum + count, 0);
  }
  return total;
}

/** A sync pass outside any run row (the engine alone), as benchmarks and race tests drive it. */
export function passContext(fixture: SyncFixture): PassContext {
  return {
    priority: 'interactive',
    stats: emptyHttpStats(),
    log: fixture.logs.logger,
    counts: {},
    progress: async () => {},
  };
}

export async function syncTarget(fixture: SyncFixture, linked: LinkedMember): Promise<SyncTarget> {
  const row = await fixture.pool.one(sql.type(z.object({ watermarks: z.record(z.string(), z.string()) }))`
    SELECT watermarks FROM integration_connection WHERE id = ${linked.connectionId}
  `);
  return {
    connectionId: linked.connectionId,
    userId: linked.userId,
    memberId: String(linked.member.userId),
    watermarks: row.watermarks,
  };
}

export const connectionRow = z.object({
  status: z.string(),
  last_sync_status: z.string().nullable(),
  last_sync_error: z.string().nullable(),
  next_sync_at: z.date().nullable(),
});

export async function connectionState(fixture: SyncFixture, connectionId: number) {
  return fixture.pool.one(sql.type(connectionRow)`
    SELECT status, last_sync_status, last_sync_error, next_sync_at FROM integration_connection WHERE id = ${connectionId}
  `);
}

/** Polls the database until `check` holds (a DB condition, never a fixed sleep); fails after `limitMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  limitMs = 60_000,
): Promise<T> {
  const giveUpAt = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Our copy of the access token(s) says expired (of one connection, or all): the next use refreshes. */
export async function expireAccessTokens(fixture: SyncFixture, connectionId?: number) {
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_token SET expires_at = now() - interval '1 minute'
    WHERE kind = 'access' AND (${connectionId ?? null}::bigint IS NULL OR connection_id = ${connectionId ?? null}::bigint)
  `);
}

/** Waits until a run has ended (whatever the outcome) and returns it. */
export async function waitForRunEnd(fixture: SyncFixture, runId: number, limitMs?: number) {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const run = await fixture.services.whoopSync.findRun(runId);
      return run && !['queued', 'running', 'deferred'].includes(run.status) ? run : undefined;
    },
    limitMs,
  );
}

/** A graphile-worker in this process, stopped when the test ends. */
export async function startTestWorker(t: Teardown, fixture: SyncFixture) {
  const worker = await startWorker({
    databaseUrl: fixture.databaseUrl,
    services: fixture.services,
    logger: fixture.logs.logger,
  });
  t.teardown(() => worker.stop());
  return worker;
}

/** A cookie-keeping client logged in as the linked person. */
export async function loginAs(fixture: SyncFixture, linked: LinkedMember): Promise<BrowserSession> {
  const browser = new BrowserSession(fixture.app);
  const response = await browser.submit('/login', '/login', { email: linked.email, password: PASSWORD });
  if (response.statusCode !== 303) throw new Error(`login failed: ${response.statusCode}`);
  return browser;
}

/** The sync engine of a process (present whenever WHOOP is configured, as it is in these tests). */
export function engineOf(services: Services) {
  const engine = services.whoopSync.engine;
  if (!engine) throw new Error('WHOOP is not configured: no sync engine');
  return engine;
}
