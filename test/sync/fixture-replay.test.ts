// Every recorded WHOOP fixture (test/fixtures/whoop) replayed through the production path and the
// stored rows checked field by field against values computed here from the fixture itself.
//
// How a fixture reaches the app: the app's WHOOP base URLs point at a replay server (a real HTTP
// server, support/replay-server.ts) that passes everything through to the WHOOP simulator except the
// routes a case arms, which answer with the fixture's bytes verbatim. So the app's own HTTP clients
// (api-client.ts for the Data API, client.ts for the token endpoint) parse exactly what was recorded,
// and the sync engine stores it as it stores anything WHOOP sends: records by id through
// `refreshRecord` (storeFetched), listings, profile and body through `syncConnection`, webhooks
// through `webhooks.receive` and the whoop_webhook task's `processConnection`. The simulator alone
// could not serve them verbatim (it keeps its own next_token, drops explicit nulls such as
// `"end": null`, and makes its own body measurements and tokens). Two answers are not fixtures: a
// single record is wrapped in `{"records":[...]}` when only a listing can carry it (cycles), and a
// page with a next_token is followed by an empty page that ends the listing.
//
// No record fixture is one WHOOP's schema refuses (each is stored, validation_error null); the
// fixtures that are refusals (OAuth errors) must leave the reason on the connection or the error.
import { readdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { ReauthRequiredError } from '../../src/services/whoop/sync/errors.ts';
import { signWebhook } from '../../src/services/whoop/webhook-signature.ts';
import type { MemberSummary } from '../../src/whoop-sim/index.ts';
import {
  CLIENT_SECRET,
  engineOf,
  expireAccessTokens,
  type LinkedMember,
  linkMember,
  localDate,
  passContext,
  readRow,
  startSyncFixture,
  syncTarget,
} from './support/fixture.ts';
import { FIXTURE_DIR, fixtureText, startReplayServer } from './support/replay-server.ts';

type Json = Record<string, unknown>;
type Score = Record<string, number | boolean | null | undefined | Json>;

const replay = await startReplayServer(t);
const fixture = await startSyncFixture(t, { env: replay.env });
replay.passTo(fixture.sim.url);
const engine = engineOf(fixture.services);

// The recorded member: profile.json, the pages and the webhooks are all user 10129, the simulator's
// first member. Every other case links a member of its own, so records sharing an id stay apart.
const jane = fixture.sim.createMember({
  days: 1,
  email: 'jane.runner@example.com',
  firstName: 'Jane',
  lastName: 'Runner',
});
const janeLinked = await linkMember(fixture, jane);

/** Files some case replayed and checked; the last test compares it with the directory. */
const replayed = new Set<string>();
const load = (file: string) => JSON.parse(fixtureText(file)) as Json;

async function newConnection(): Promise<LinkedMember> {
  const member: MemberSummary = fixture.sim.createMember({ days: 1 });
  return linkMember(fixture, member);
}

/** '+05:30' -> 330, '-10:00' -> -600 (written again here, not the app's parser). */
function minutesOf(offset: string): number {
  if (offset === 'Z') return 0;
  const [hours, minutes] = offset.slice(1).split(':').map(Number) as [number, number];
  return (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

const at = (value: unknown) => (typeof value === 'string' ? new Date(value) : null);
const orNull = (value: unknown) => (value === undefined ? null : value);
const scoreOf = (record: Json): Score | undefined =>
  record.score_state === 'SCORED' ? (record.score as Score) : undefined;

const rawRow = z.object({
  payload: z.unknown(),
  validation_error: z.string().nullable(),
});

/** The raw archive keeps the fixture as sent, accepted (no validation error). */
async function assertArchived(
  t: Test,
  connectionId: number,
  type: string,
  externalId: string,
  record: unknown,
) {
  const rows = await fixture.pool.any(sql.type(rawRow)`
    SELECT payload, validation_error FROM integration_raw_event
    WHERE connection_id = ${connectionId} AND resource_type = ${type} AND external_id = ${externalId}
    ORDER BY id
  `);
  // jsonb keeps no key order: compared as values
  const match = rows.find((row) => isDeepStrictEqual(row.payload, record));
  t.ok(match, `${type} ${externalId}: the raw archive holds the payload as sent`);
  t.equal(match?.validation_error ?? null, null, `${type} ${externalId}: accepted, no validation error`);
}

async function assertRow(t: Test, table: string, connectionId: number, externalId: string, expected: Json) {
  const stored = await readRow(fixture, table, connectionId, externalId, Object.keys(expected));
  for (const [column, value] of Object.entries(expected)) {
    t.same(stored[column], value, `${table}.${column} of ${externalId}`);
  }
}

function expectedCycle(cycle: Json): Json {
  const offset = minutesOf(cycle.timezone_offset as string);
  const score = scoreOf(cycle);
  return {
    start_at: at(cycle.start),
    end_at: at(cycle.end),
    utc_offset_minutes: offset,
    // a cycle belongs to the day it starts on, on the member's own clock
    local_date: localDate(cycle.start as string, offset),
    score_state: cycle.score_state,
    strain: orNull(score?.strain),
    kilojoules: orNull(score?.kilojoule),
    average_heart_rate: orNull(score?.average_heart_rate),
    max_heart_rate: orNull(score?.max_heart_rate),
    provider_updated_at: at(cycle.updated_at),
    extras: { timezone_offset: cycle.timezone_offset, created_at: cycle.created_at },
    deleted_at: null,
  };
}

function total(values: Record<string, number>, keys: readonly string[]): number {
  return keys.reduce((sum, key) => {
    const value = values[key];
    if (value === undefined) throw new Error(`the fixture has no ${key}`);
    return sum + value;
  }, 0);
}

function expectedSleep(sleep: Json): Json {
  const offset = minutesOf(sleep.timezone_offset as string);
  const score = scoreOf(sleep);
  const stages = score?.stage_summary as Record<string, number> | undefined;
  const need = score?.sleep_needed as Record<string, number> | undefined;
  return {
    cycle_external_id: String(sleep.cycle_id),
    start_at: at(sleep.start),
    end_at: at(sleep.end),
    utc_offset_minutes: offset,
    // a night belongs to the morning it ends
    local_date: localDate(sleep.end as string, offset),
    is_nap: sleep.nap,
    // the only sleep of its date: primary unless a nap
    is_primary: !sleep.nap,
    score_state: sleep.score_state,
    in_bed_ms: stages?.total_in_bed_time_milli ?? null,
    awake_ms: stages?.total_awake_time_milli ?? null,
    no_data_ms: stages?.total_no_data_time_milli ?? null,
    light_ms: stages?.total_light_sleep_time_milli ?? null,
    deep_ms: stages?.total_slow_wave_sleep_time_milli ?? null,
    rem_ms: stages?.total_rem_sleep_time_milli ?? null,
    // asleep = light + deep (slow wave) + REM
    asleep_ms: stages
      ? total(stages, [
          'total_light_sleep_time_milli',
          'total_slow_wave_sleep_time_milli',
          'total_rem_sleep_time_milli',
        ])
      : null,
    sleep_cycle_count: stages?.sleep_cycle_count ?? null,
    disturbance_count: stages?.disturbance_count ?? null,
    sleep_need_ms: need
      ? total(need, [
          'baseline_milli',
          'need_from_sleep_debt_milli',
          'need_from_recent_strain_milli',
          'need_from_recent_nap_milli',
        ])
      : null,
    performance_pct: orNull(score?.sleep_performance_percentage),
    consistency_pct: orNull(score?.sleep_consistency_percentage),
    efficiency_pct: orNull(score?.sleep_efficiency_percentage),
    respiratory_rate: orNull(score?.respiratory_rate),
    provider_updated_at: at(sleep.updated_at),
    extras: {
      timezone_offset: sleep.timezone_offset,
      created_at: sleep.created_at,
      v1_id: orNull(sleep.v1_id),
      sleep_needed: need ?? null,
    },
    deleted_at: null,
  };
}

/** A recovery takes its sleep's instants, offset and local date; null while that sleep is unknown. */
function expectedRecovery(recovery: Json, sleep: Json | undefined): Json {
  const score = scoreOf(recovery);
  const offset = sleep ? minutesOf(sleep.timezone_offset as string) : null;
  return {
    sleep_external_id: recovery.sleep_id,
    start_at: sleep ? at(sleep.start) : null,
    end_at: sleep ? at(sleep.end) : null,
    utc_offset_minutes: offset,
    local_date: sleep && offset !== null ? localDate(sleep.end as string, offset) : null,
    score_state: recovery.score_state,
    recovery_score: orNull(score?.recovery_score),
    resting_heart_rate: orNull(score?.resting_heart_rate),
    hrv_rmssd_ms: orNull(score?.hrv_rmssd_milli),
    spo2_pct: orNull(score?.spo2_percentage),
    skin_temp_celsius: orNull(score?.skin_temp_celsius),
    user_calibrating: orNull(score?.user_calibrating),
    provider_updated_at: at(recovery.updated_at),
    extras: { created_at: recovery.created_at },
    deleted_at: null,
  };
}

// percent_recorded is documented 0-100 and observed 0-1: the stored value is a percentage.
const PERCENT_RECORDED: Record<string, number | null> = {
  'workout-scored.json': 100,
  'workout-percent-recorded-1.json': 100,
  'workout-negative-offset.json': 100,
  'workout-nulls.json': 93,
  'workout-pending.json': null,
  'workout-unscorable.json': null,
  'workout-page.json': null,
};

function expectedWorkout(workout: Json, percentRecorded: number | null): Json {
  const offset = minutesOf(workout.timezone_offset as string);
  const score = scoreOf(workout);
  return {
    start_at: at(workout.start),
    end_at: at(workout.end),
    utc_offset_minutes: offset,
    // a workout belongs to the day it starts on
    local_date: localDate(workout.start as string, offset),
    sport_name: workout.sport_name,
    score_state: workout.score_state,
    strain: orNull(score?.strain),
    kilojoules: orNull(score?.kilojoule),
    average_heart_rate: orNull(score?.average_heart_rate),
    max_heart_rate: orNull(score?.max_heart_rate),
    percent_recorded: percentRecorded,
    distance_meters: orNull(score?.distance_meter),
    altitude_gain_meters: orNull(score?.altitude_gain_meter),
    altitude_change_meters: orNull(score?.altitude_change_meter),
    provider_updated_at: at(workout.updated_at),
    extras: {
      timezone_offset: workout.timezone_offset,
      created_at: workout.created_at,
      v1_id: orNull(workout.v1_id),
      sport_id: orNull(workout.sport_id),
      zone_durations: score?.zone_durations ?? null,
    },
    deleted_at: null,
  };
}

const END_OF_LISTING = '{"records":[]}';

t.test('a listing replays the profile, the body measurement and a page of each collection', async (t) => {
  const target = await syncTarget(fixture, janeLinked);
  replay.arm('GET /developer/v2/user/profile/basic', fixtureText('profile.json'));
  replay.arm('GET /developer/v2/user/measurement/body', fixtureText('body-measurement.json'));
  replay.arm('GET /developer/v2/cycle', fixtureText('cycle-page.json'));
  const cyclePage = load('cycle-page.json');
  replay.arm('GET /developer/v2/cycle', END_OF_LISTING, { nextToken: cyclePage.next_token as string });
  replay.arm('GET /developer/v2/activity/sleep', fixtureText('sleep-page.json'));
  replay.arm('GET /developer/v2/recovery', fixtureText('recovery-page.json'));
  replay.arm('GET /developer/v2/activity/workout', fixtureText('workout-page.json'));
  t.teardown(() => replay.disarm());

  const context = passContext(fixture);
  const result = await engine.syncConnection(target, context);
  t.same(result, { domainErrors: {}, rejected: 0 }, 'nothing refused');
  t.same(
    replay.seen().map((seen) => `${seen.path}${seen.query.includes('nextToken') ? ' (next page)' : ''}`),
    [
      '/developer/v2/user/profile/basic',
      '/developer/v2/user/measurement/body',
      '/developer/v2/cycle',
      '/developer/v2/cycle (next page)',
      '/developer/v2/activity/sleep',
      '/developer/v2/recovery',
      '/developer/v2/activity/workout',
    ],
    'every fixture was served, and the cycle page was followed by its next_token',
  );
  const nextPage = replay.seen()[3];
  t.match(nextPage?.query, `nextToken=${cyclePage.next_token}`, 'next_token sent back as nextToken');

  const profile = load('profile.json');
  const connection = await fixture.pool.one(sql.type(
    z.object({ provider_account_id: z.string(), provider_account_name: z.string(), read: z.boolean() }),
  )`
    SELECT provider_account_id, provider_account_name, profile_read_at IS NOT NULL AS read
    FROM integration_connection WHERE id = ${janeLinked.connectionId}
  `);
  t.same(
    connection,
    {
      provider_account_id: String(profile.user_id),
      provider_account_name: `${profile.first_name} ${profile.last_name}`,
      read: true,
    },
    'profile: the connection names the member',
  );
  await assertArchived(t, janeLinked.connectionId, 'profile', String(profile.user_id), profile);
  replayed.add('profile.json');

  const body = load('body-measurement.json');
  await assertRow(t, 'integration_body_measurement', janeLinked.connectionId, String(profile.user_id), {
    height_meters: body.height_meter,
    weight_kilograms: body.weight_kilogram,
    max_heart_rate: body.max_heart_rate,
    extras: {},
    deleted_at: null,
  });
  await assertArchived(t, janeLinked.connectionId, 'body_measurement', String(profile.user_id), body);
  replayed.add('body-measurement.json');

  for (const cycle of cyclePage.records as Json[]) {
    await assertRow(t, 'integration_cycle', janeLinked.connectionId, String(cycle.id), expectedCycle(cycle));
    await assertArchived(t, janeLinked.connectionId, 'cycle', String(cycle.id), cycle);
  }
  replayed.add('cycle-page.json');

  const [sleep] = load('sleep-page.json').records as [Json];
  await assertRow(t, 'integration_sleep', janeLinked.connectionId, sleep.id as string, expectedSleep(sleep));
  await assertArchived(t, janeLinked.connectionId, 'sleep', sleep.id as string, sleep);
  replayed.add('sleep-page.json');

  // Its sleep (ecfc6a15) is not on the sleep page: the times stay null until it arrives (see webhooks).
  const [recovery] = load('recovery-page.json').records as [Json];
  const recoveryId = String(recovery.cycle_id);
  await assertRow(
    t,
    'integration_recovery',
    janeLinked.connectionId,
    recoveryId,
    expectedRecovery(recovery, undefined),
  );
  await assertArchived(t, janeLinked.connectionId, 'recovery', recoveryId, recovery);
  replayed.add('recovery-page.json');

  const [workout] = load('workout-page.json').records as [Json];
  await assertRow(
    t,
    'integration_workout',
    janeLinked.connectionId,
    workout.id as string,
    expectedWorkout(workout, PERCENT_RECORDED['workout-page.json'] ?? null),
  );
  await assertArchived(t, janeLinked.connectionId, 'workout', workout.id as string, workout);
  replayed.add('workout-page.json');

  const watermarks = await syncTarget(fixture, janeLinked);
  t.equal(
    watermarks.watermarks.cycle,
    (cyclePage.records as Json[])[0]?.start,
    'the cycle watermark is the newest start listed',
  );
});

t.test('single cycles arrive through a cycle listing', async (t) => {
  for (const file of [
    'cycle-scored.json',
    'cycle-pending.json',
    'cycle-in-progress.json',
    'cycle-in-progress-end-null.json',
  ]) {
    const linked = await newConnection();
    replay.arm('GET /developer/v2/cycle', `{"records":[${fixtureText(file)}]}`);
    const result = await engine.syncConnection(
      { ...(await syncTarget(fixture, linked)), plan: { profile: false, covered: 'skip' } },
      passContext(fixture),
    );
    replay.disarm();
    t.same(result, { domainErrors: {}, rejected: 0 }, `${file}: nothing refused`);
    const cycle = load(file);
    await assertRow(t, 'integration_cycle', linked.connectionId, String(cycle.id), expectedCycle(cycle));
    await assertArchived(t, linked.connectionId, 'cycle', String(cycle.id), cycle);
    replayed.add(file);
  }
});

/** Arms a record WHOOP sends by id and lets the engine read it, as a webhook's job would. */
async function readById(linked: LinkedMember, domain: 'sleep' | 'workout', file: string) {
  const record = load(file);
  replay.arm(`GET /developer/v2/activity/${domain}/${record.id}`, fixtureText(file));
  try {
    return await engine.refreshRecord(
      await syncTarget(fixture, linked),
      { domain, id: record.id as string },
      passContext(fixture),
    );
  } finally {
    replay.disarm();
  }
}

/** Each file served as the record read by id, then its stored row and raw archive asserted. */
async function replayReadById(
  t: Test,
  domain: 'sleep' | 'workout',
  files: readonly string[],
  expected: (record: Json, file: string) => Json,
) {
  for (const file of files) {
    const linked = await newConnection();
    t.equal(await readById(linked, domain, file), 'stored', `${file}: stored`);
    const record = load(file);
    const id = record.id as string;
    await assertRow(t, `integration_${domain}`, linked.connectionId, id, expected(record, file));
    await assertArchived(t, linked.connectionId, domain, id, record);
    replayed.add(file);
  }
}

t.test('single sleeps arrive read by id', async (t) => {
  await replayReadById(
    t,
    'sleep',
    [
      'sleep-scored.json',
      'sleep-pending.json',
      'sleep-in-progress.json',
      'sleep-nap.json',
      'sleep-nulls.json',
      'sleep-unscorable.json',
      'sleep-half-hour-offset.json',
    ],
    (sleep) => expectedSleep(sleep),
  );
});

t.test('single workouts arrive read by id', async (t) => {
  await replayReadById(
    t,
    'workout',
    [
      'workout-scored.json',
      'workout-pending.json',
      'workout-nulls.json',
      'workout-unscorable.json',
      'workout-negative-offset.json',
      'workout-percent-recorded-1.json',
    ],
    (workout, file) => expectedWorkout(workout, PERCENT_RECORDED[file] ?? null),
  );
});

t.test('recoveries arrive with their sleep and take its times and date', async (t) => {
  for (const [file, sleepFile] of [
    ['recovery-pending.json', 'sleep-pending.json'],
    ['recovery-nulls.json', 'sleep-nulls.json'],
  ] as const) {
    const linked = await newConnection();
    const recovery = load(file);
    const sleep = load(sleepFile);
    t.equal(recovery.sleep_id, sleep.id, `${file} is the recovery of ${sleepFile}`);
    replay.arm(`GET /developer/v2/activity/sleep/${sleep.id}`, fixtureText(sleepFile));
    replay.arm(`GET /developer/v2/cycle/${recovery.cycle_id}/recovery`, fixtureText(file));
    const outcome = await engine.refreshRecord(
      await syncTarget(fixture, linked),
      { domain: 'sleep', id: sleep.id as string, withRecovery: true },
      passContext(fixture),
    );
    replay.disarm();
    t.equal(outcome, 'stored', `${file}: stored`);
    const recoveryId = String(recovery.cycle_id);
    await assertRow(
      t,
      'integration_recovery',
      linked.connectionId,
      recoveryId,
      expectedRecovery(recovery, sleep),
    );
    await assertArchived(t, linked.connectionId, 'recovery', recoveryId, recovery);
    replayed.add(file);
  }
});

const webhookRow = z.object({
  trace_id: z.string(),
  event_type: z.string(),
  record_id: z.string(),
  connection_id: z.number(),
  outcome: z.string().nullable(),
  processed: z.boolean(),
});

t.test('signed webhooks are kept, and their job reads the sleep and recovery they name', async (t) => {
  const files = ['webhook-sleep-updated.json', 'webhook-recovery-updated.json'];
  for (const file of files) {
    const timestamp = String(Date.now());
    const rawBody = Buffer.from(fixtureText(file));
    const result = await fixture.services.whoopSync.webhooks.receive({
      rawBody,
      timestamp,
      signature: signWebhook(CLIENT_SECRET, timestamp, rawBody),
      log: fixture.logs.logger,
    });
    t.same(result, { status: 204, outcome: 'accepted' }, `${file}: accepted`);
  }
  const events = () =>
    fixture.pool.any(sql.type(webhookRow)`
      SELECT trace_id, event_type, record_id, connection_id, outcome, processed_at IS NOT NULL AS processed
      FROM integration_webhook_event ORDER BY id
    `);
  const expectedEvents = (outcome: string | null) =>
    files.map((file) => {
      const event = load(file);
      return {
        trace_id: event.trace_id,
        event_type: event.type,
        record_id: event.id,
        connection_id: janeLinked.connectionId,
        outcome,
        processed: outcome !== null,
      };
    });
  t.same(await events(), expectedEvents(null), 'each event is kept for the member it names, pending');

  // Both name sleep ecfc6a15: its job reads the sleep, then the recovery of the sleep's cycle.
  const sleep = load('sleep-scored.json');
  const recovery = load('recovery-scored.json');
  t.equal(recovery.sleep_id, sleep.id, 'recovery-scored is the recovery of sleep-scored');
  replay.arm(`GET /developer/v2/activity/sleep/${sleep.id}`, fixtureText('sleep-scored.json'));
  replay.arm(`GET /developer/v2/cycle/${recovery.cycle_id}/recovery`, fixtureText('recovery-scored.json'));
  t.teardown(() => replay.disarm());
  const processed = await fixture.services.whoopSync.webhooks.processConnection(janeLinked.connectionId);
  t.equal(processed.processed, 2);
  t.same(await events(), expectedEvents('stored'), 'both events processed: stored');
  t.same(
    replay.seen().map((seen) => seen.path),
    [`/developer/v2/activity/sleep/${sleep.id}`, `/developer/v2/cycle/${recovery.cycle_id}/recovery`],
    'one read of the sleep and one of its recovery for the two events',
  );
  await assertRow(t, 'integration_sleep', janeLinked.connectionId, sleep.id as string, expectedSleep(sleep));
  // The recovery the listing stored without times now has its sleep's.
  await assertRow(
    t,
    'integration_recovery',
    janeLinked.connectionId,
    String(recovery.cycle_id),
    expectedRecovery(recovery, sleep),
  );
  await assertArchived(t, janeLinked.connectionId, 'recovery', String(recovery.cycle_id), recovery);
  for (const file of [...files, 'recovery-scored.json']) replayed.add(file);
});

const tokenRow = z.object({ kind: z.string(), expires_in_s: z.number().nullable() });

async function tokenRows(connectionId: number) {
  return fixture.pool.any(sql.type(tokenRow)`
    SELECT kind, round(extract(epoch FROM expires_at - now()))::int AS expires_in_s
    FROM integration_token WHERE connection_id = ${connectionId} ORDER BY kind
  `);
}

/** A linked member whose access token has expired: its next read refreshes first. */
async function expiredConnection(): Promise<LinkedMember> {
  const linked = await newConnection();
  await expireAccessTokens(fixture, linked.connectionId);
  return linked;
}

/** A read by id after arming the token endpoint with `file`: the refresh gets the fixture. */
async function readAfterRefreshWith(linked: LinkedMember, file: string, status = 200) {
  const sleep = load('sleep-pending.json');
  replay.arm('POST /oauth/oauth2/token', fixtureText(file), { status });
  replay.arm(`GET /developer/v2/activity/sleep/${sleep.id}`, fixtureText('sleep-pending.json'));
  return engine.refreshRecord(
    await syncTarget(fixture, linked),
    { domain: 'sleep', id: sleep.id as string },
    passContext(fixture),
  );
}

t.test('token responses are parsed and stored: the new access token is the one used', async (t) => {
  for (const file of ['token-response.json', 'token-response-no-refresh.json']) {
    const tokens = load(file);
    const linked = await expiredConnection();
    t.equal(await readAfterRefreshWith(linked, file), 'stored', `${file}: the read went through`);
    const dataCall = replay.seen().find((seen) => seen.path.startsWith('/developer/'));
    replay.disarm();
    t.equal(
      dataCall?.authorization,
      `Bearer ${tokens.access_token}`,
      `${file}: the new access token is used`,
    );
    const rows = await tokenRows(linked.connectionId);
    const access = rows.find((row) => row.kind === 'access');
    t.ok(
      access?.expires_in_s !== null &&
        access?.expires_in_s !== undefined &&
        Math.abs(access.expires_in_s - (tokens.expires_in as number)) <= 60,
      `${file}: the access token expires in expires_in (${access?.expires_in_s} s)`,
    );
    t.same(
      rows.map((row) => row.kind),
      'refresh_token' in tokens ? ['access', 'refresh'] : ['access'],
      `${file}: ${'refresh_token' in tokens ? 'the new refresh token is kept' : 'no refresh token is left to reuse'}`,
    );
    replayed.add(file);
  }
});

const connectionStatus = z.object({ status: z.string(), last_sync_error: z.string().nullable() });

t.test('OAuth errors are refusals, with their reason kept', async (t) => {
  {
    const linked = await expiredConnection();
    await t.rejects(
      readAfterRefreshWith(linked, 'oauth-error-invalid-grant.json', 400),
      ReauthRequiredError,
      'invalid_grant: the grant is dead',
    );
    replay.disarm();
    const state = await fixture.pool.one(sql.type(connectionStatus)`
      SELECT status, last_sync_error FROM integration_connection WHERE id = ${linked.connectionId}
    `);
    t.equal(state.status, 'reauth_required', 'invalid_grant: the link needs reconnecting');
    t.match(state.last_sync_error, /reconnect/i, 'invalid_grant: the reason is kept on the connection');
    replayed.add('oauth-error-invalid-grant.json');
  }
  {
    const linked = await expiredConnection();
    const before = await tokenRows(linked.connectionId);
    await t.rejects(
      readAfterRefreshWith(linked, 'oauth-error-invalid-client.json', 401),
      { name: 'WhoopUnavailableError', message: /refused with invalid_client/ },
      'invalid_client: refused, named in the error',
    );
    replay.disarm();
    const state = await fixture.pool.one(sql.type(connectionStatus)`
      SELECT status, last_sync_error FROM integration_connection WHERE id = ${linked.connectionId}
    `);
    t.equal(state.status, 'connected', "invalid_client is our configuration: the person's link stays");
    t.same(await tokenRows(linked.connectionId), before, 'invalid_client: the stored tokens are untouched');
    replayed.add('oauth-error-invalid-client.json');
  }
});

t.test('every recorded fixture has a replay case', async (t) => {
  const files = readdirSync(FIXTURE_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort();
  t.ok(files.length >= 31, `${files.length} fixtures`);
  t.same(
    files.filter((file) => !replayed.has(file)),
    [],
    'fixtures without a replay case (add one to test/sync/fixture-replay.test.ts)',
  );
  t.same(
    [...replayed].filter((file) => !files.includes(file)),
    [],
    'no case for a fixture that is gone',
  );
});
