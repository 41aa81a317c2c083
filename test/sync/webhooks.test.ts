// WHOOP's signed webhooks end to end: the simulator's sender POSTs to the app listening on a real
// port, the receiver keeps verified events, and the whoop_webhook job (a real graphile-worker, or the
// task's service call) reads the records through the sync engine.
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { z } from 'zod';
import { syncView } from '../../src/presenters/sync-status.ts';
import { sql } from '../../src/services/db/sql.ts';
import type { WhoopRecovery, WhoopSleep, WhoopWorkout } from '../../src/services/whoop/schemas.ts';
import { signWebhook } from '../../src/services/whoop/webhook-signature.ts';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type LinkedMember,
  linkMember,
  localDate,
  readRow,
  runSync,
  type SyncFixture,
  startSyncFixture,
  startTestWorker,
  syncNow,
  waitFor,
} from './support/fixture.ts';

interface Teardown {
  teardown(fn: () => unknown): void;
}

interface Hooked {
  fixture: SyncFixture;
  linked: LinkedMember;
  url: string;
}

async function hooked(t: Teardown, memberOptions: { withNaps?: boolean } = {}): Promise<Hooked> {
  const fixture = await startSyncFixture(t, { sim: { webhooks: { retryDelaysMs: [20, 40] } } });
  await fixture.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = fixture.app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/webhooks/whoop`;
  fixture.sim.updateClient(CLIENT_ID, { webhookUrl: url });
  const member = fixture.sim.createMember({ days: 10, withNaps: memberOptions.withNaps ?? false });
  const linked = await linkMember(fixture, member);
  await runSync(fixture, linked.initialRunId);
  return { fixture, linked, url };
}

const countRow = z.object({ count: z.number() });

async function storedEvents(fixture: SyncFixture) {
  return fixture.pool.any(
    sql.type(
      z.object({ trace_id: z.string(), event_type: z.string(), outcome: z.string().nullable() }),
    )`SELECT trace_id, event_type, outcome FROM integration_webhook_event ORDER BY id`,
  );
}

async function webhookJobs(fixture: SyncFixture) {
  return fixture.pool.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS count FROM graphile_worker.jobs WHERE task_identifier = 'whoop_webhook'
  `);
}

/** What WHOOP would send: the raw body and its headers, signed now unless told otherwise. */
function signed(body: string, options: { secret?: string; timestamp?: number } = {}) {
  const timestamp = String(options.timestamp ?? Date.now());
  return {
    'content-type': 'application/json',
    'x-whoop-signature-timestamp': timestamp,
    'x-whoop-signature': signWebhook(options.secret ?? CLIENT_SECRET, timestamp, body),
  };
}

function eventBody(linked: LinkedMember, type: string, id: string, traceId = crypto.randomUUID()) {
  return JSON.stringify({ user_id: linked.member.userId, id, type, trace_id: traceId });
}

function newestWorkout(fixture: SyncFixture, linked: LinkedMember): WhoopWorkout {
  const workouts = fixture.sim.groundTruth(linked.member.userId).workouts;
  const newest = [...workouts].sort((a, b) => Date.parse(b.start) - Date.parse(a.start))[0];
  if (!newest) throw new Error('the member has no workout');
  return newest;
}

async function ownerOf(fixture: SyncFixture, linked: Pick<LinkedMember, 'userId'>) {
  const owner = await fixture.services.users.findById(linked.userId);
  if (!owner) throw new Error('no user');
  return owner;
}

const processPending = (fixture: SyncFixture, linked: LinkedMember) =>
  fixture.services.whoopSync.webhooks.processConnection(linked.connectionId);

t.test('a valid event is processed in one job, by a worker', async (t) => {
  const { fixture, linked } = await hooked(t);
  const workout = newestWorkout(fixture, linked);
  fixture.sim.editRecord(linked.member.userId, 'workout', workout.id, { sport_name: 'rowing' });
  await fixture.sim.webhooksIdle();

  const events = await storedEvents(fixture);
  t.same(
    events.map((event) => event.event_type),
    ['workout.updated'],
    'the event is kept once',
  );
  t.equal(await webhookJobs(fixture), 1, 'one job waits for it');
  const before = await readRow(fixture, 'integration_workout', linked.connectionId, workout.id, [
    'sport_name',
  ]);
  t.not(before.sport_name, 'rowing', 'the answer did not wait for WHOOP');
  const heard = await fixture.pool.oneFirst(sql.type(z.object({ at: z.date().nullable() }))`
    SELECT last_webhook_at AS at FROM integration_connection WHERE id = ${linked.connectionId}
  `);
  t.ok(heard, 'the connection records when its last webhook arrived');

  await startTestWorker(t, fixture);
  await waitFor('the workout to change', async () => {
    const row = await readRow(fixture, 'integration_workout', linked.connectionId, workout.id, [
      'sport_name',
    ]);
    return row.sport_name === 'rowing';
  });
  await waitFor('the job to finish', async () => (await webhookJobs(fixture)) === 0);
  t.same(
    (await storedEvents(fixture)).map((event) => event.outcome),
    ['stored'],
  );
});

t.test(
  'refused: bad signature, stale or future timestamp, re-serialized or oversized body; nothing stored',
  async (t) => {
    const { fixture, linked, url } = await hooked(t);
    const workout = newestWorkout(fixture, linked);
    const body = eventBody(linked, 'workout.updated', workout.id);
    const post = (payload: string, headers: Record<string, string>) =>
      fetch(url, { method: 'POST', body: payload, headers });

    const cases: Array<[string, Promise<Response>, number]> = [
      ['no signature', post(body, { 'content-type': 'application/json' }), 401],
      ['another secret', post(body, signed(body, { secret: 'not-the-client-secret' })), 401],
      ['six minutes old', post(body, signed(body, { timestamp: Date.now() - 6 * 60_000 })), 401],
      ['six minutes ahead', post(body, signed(body, { timestamp: Date.now() + 6 * 60_000 })), 401],
      ['re-serialized JSON', post(JSON.stringify(JSON.parse(body), null, 2), signed(body)), 401],
      ['a body signed for another event', post(body.replace('updated', 'deleted'), signed(body)), 401],
    ];
    const longTrace = JSON.stringify({ ...JSON.parse(body), trace_id: 't'.repeat(300) });
    cases.push([
      'a signed body that is no WHOOP event (300-character trace id)',
      post(longTrace, signed(longTrace)),
      400,
    ]);
    const big = JSON.stringify({ ...JSON.parse(body), padding: 'x'.repeat(64 * 1024) });
    cases.push(['64 KB body', post(big, signed(big)), 413]);
    for (const [what, response, status] of cases) {
      t.equal((await response).status, status, what);
    }
    t.same(await storedEvents(fixture), [], 'no event is stored');
    t.equal(await webhookJobs(fixture), 0, 'no job is queued');
    const heard = await fixture.pool.oneFirst(sql.type(z.object({ at: z.date().nullable() }))`
    SELECT last_webhook_at AS at FROM integration_connection WHERE id = ${linked.connectionId}
  `);
    t.equal(heard, null, 'a refused request does not count as a webhook');

    const exposition = await fixture.services.metrics.registry.metrics();
    // Every refusal but the oversized body, which Fastify answers (413) before the receiver runs.
    t.match(exposition, /whoop_webhooks_received_total\{outcome="refused"\} 7/, 'operators see the refusals');
    const accepted = await post(body, signed(body));
    t.equal(accepted.status, 204, 'the same event, signed properly, is accepted');
    t.equal((await storedEvents(fixture)).length, 1);
  },
);

t.test('unknown members and disconnected connections: 2xx, nothing fetched or stored', async (t) => {
  const { fixture, linked, url } = await hooked(t);
  const stranger = JSON.stringify({
    user_id: 999_999,
    id: crypto.randomUUID(),
    type: 'sleep.updated',
    trace_id: crypto.randomUUID(),
  });
  t.equal((await fetch(url, { method: 'POST', body: stranger, headers: signed(stranger) })).status, 204);
  await fixture.services.whoop.disconnect({ userId: linked.userId });
  fixture.sim.resetRequestCounts();
  const workout = newestWorkout(fixture, linked);
  const late = eventBody(linked, 'workout.updated', workout.id);
  t.equal((await fetch(url, { method: 'POST', body: late, headers: signed(late) })).status, 204);
  t.same(await storedEvents(fixture), [], 'nothing is stored');
  t.equal(await webhookJobs(fixture), 0, 'no job is queued');
  t.same(fixture.sim.requestCounts(), {}, 'nothing is fetched from WHOOP');
});

t.test('a duplicate trace_id is processed once', async (t) => {
  const { fixture, linked } = await hooked(t);
  fixture.sim.setFaults({ webhookDuplicate: true });
  const workout = newestWorkout(fixture, linked);
  fixture.sim.editRecord(linked.member.userId, 'workout', workout.id, { sport_name: 'rowing' });
  await fixture.sim.webhooksIdle();
  const delivered = fixture.sim.webhookDeliveries().filter((d) => d.outcome === 'delivered');
  t.equal(delivered.length, 2, 'WHOOP delivered the event twice');
  t.equal(new Set(delivered.map((d) => d.traceId)).size, 1, 'with one trace id');
  t.equal((await storedEvents(fixture)).length, 1, 'it is kept once');

  fixture.sim.resetRequestCounts();
  t.same(await processPending(fixture, linked), { processed: 1 });
  t.same(await processPending(fixture, linked), { processed: 0 }, 'nothing is left to do');
  t.same(
    Object.keys(fixture.sim.requestCounts()).filter((key) => key.startsWith('GET')),
    ['GET /developer/v2/activity/workout/:workoutId'],
  );
  const byId = fixture.sim.requestCounts()['GET /developer/v2/activity/workout/:workoutId'] ?? {};
  t.equal(
    Object.values(byId).reduce((a, b) => a + b, 0),
    1,
    'WHOOP was asked once',
  );
});

t.test('a delete delivered before its update ends deleted, and hidden from the pages', async (t) => {
  const { fixture, linked, url } = await hooked(t);
  const workout = newestWorkout(fixture, linked);
  // The update is lost on its first delivery and arrives (as WHOOP's retry would) after the delete.
  fixture.sim.setFaults({ webhookDropNext: 1 });
  fixture.sim.editRecord(linked.member.userId, 'workout', workout.id, { sport_name: 'rowing' });
  fixture.sim.deleteRecord(linked.member.userId, 'workout', workout.id);
  await fixture.sim.webhooksIdle();
  t.same(
    (await storedEvents(fixture)).map((event) => event.event_type),
    ['workout.deleted'],
  );
  await processPending(fixture, linked);
  const late = eventBody(linked, 'workout.updated', workout.id);
  t.equal((await fetch(url, { method: 'POST', body: late, headers: signed(late) })).status, 204);
  await processPending(fixture, linked);

  const row = await readRow(fixture, 'integration_workout', linked.connectionId, workout.id, [
    'deleted_at',
    'sport_name',
  ]);
  t.ok(row.deleted_at, 'the workout is marked deleted');
  t.not(row.sport_name, 'rowing', 'the late update did not bring it back');
  const owner = await ownerOf(fixture, linked);
  const day = localDate(workout.start, 0);
  const page = await fixture.services.healthPages.exercises(owner, day);
  t.notOk(
    page.workouts.some(
      (entry) => entry.source === 'wearable' && entry.startAt.getTime() === Date.parse(workout.start),
    ),
    'the Exercises page no longer shows it',
  );
  t.equal((await storedEvents(fixture)).map((event) => event.outcome).join(), 'deleted,gone');
});

t.test('a dropped webhook is caught by the next reconciliation', async (t) => {
  const { fixture, linked } = await hooked(t);
  const workout = newestWorkout(fixture, linked);
  fixture.sim.setFaults({ webhookDropNext: 1 });
  fixture.sim.deleteRecord(linked.member.userId, 'workout', workout.id);
  await fixture.sim.webhooksIdle();
  t.same(await storedEvents(fixture), [], 'the delete never arrived');
  const before = await readRow(fixture, 'integration_workout', linked.connectionId, workout.id, [
    'deleted_at',
  ]);
  t.equal(before.deleted_at, null);

  const { runId } = await syncNow(fixture, linked);
  const after = await readRow(fixture, 'integration_workout', linked.connectionId, workout.id, [
    'deleted_at',
  ]);
  t.ok(after.deleted_at, 'the sync that listed the window marked it deleted');
  const run = await fixture.services.whoopSync.findRun(runId);
  t.equal(run?.counts.workout?.deleted, 1, 'the run counts it');
  if (!run) throw new Error('no run');
  t.match(syncView(run, 'UTC').result?.text, /1 deleted at WHOOP/, 'and the card says so');
  const live = await fixture.pool.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS count FROM integration_workout
    WHERE connection_id = ${linked.connectionId} AND deleted_at IS NULL
  `);
  t.equal(live, fixture.sim.groundTruth(linked.member.userId).workouts.length, 'nothing else was touched');
});

t.test('recovery.updated (which names the sleep) updates the right recovery', async (t) => {
  const { fixture, linked } = await hooked(t);
  const truth = fixture.sim.groundTruth(linked.member.userId);
  const recovery = truth.recoveries.find((r) => r.score_state === 'SCORED') as WhoopRecovery;
  const score = recovery.score as NonNullable<WhoopRecovery['score']>;
  fixture.sim.editRecord(linked.member.userId, 'recovery', String(recovery.cycle_id), {
    score: { ...score, recovery_score: 7 },
  });
  await fixture.sim.webhooksIdle();
  const events = await storedEvents(fixture);
  t.same(
    events.map((event) => event.event_type),
    ['recovery.updated'],
  );
  await processPending(fixture, linked);
  const rows = await fixture.pool.any(sql.type(
    z.object({ external_id: z.string(), recovery_score: z.number() }),
  )`
    SELECT external_id, recovery_score FROM integration_recovery
    WHERE connection_id = ${linked.connectionId} AND recovery_score = 7
  `);
  t.same(
    rows.map((row) => row.external_id),
    [String(recovery.cycle_id)],
    'the recovery of that sleep’s cycle, and no other, took the new score',
  );
});

t.test(
  'deleting a sleep hides it and its recovery, and the next longest sleep becomes primary',
  async (t) => {
    const { fixture, linked } = await hooked(t, { withNaps: true });
    const truth = fixture.sim.groundTruth(linked.member.userId);
    const dateOf = (sleep: WhoopSleep) => localDate(sleep.end, 0);
    const nap = truth.sleeps.find(
      (s) => s.nap && truth.sleeps.some((main) => !main.nap && dateOf(main) === dateOf(s)),
    );
    if (!nap) throw new Error('the member has no nap on a day with a night');
    const night = truth.sleeps.find((s) => !s.nap && dateOf(s) === dateOf(nap)) as WhoopSleep;
    // The nap becomes a second, shorter sleep of that date.
    fixture.sim.editRecord(linked.member.userId, 'sleep', nap.id, { nap: false });
    fixture.sim.deleteRecord(linked.member.userId, 'sleep', night.id);
    await fixture.sim.webhooksIdle();
    t.same(
      (await storedEvents(fixture)).map((event) => event.event_type),
      ['sleep.updated', 'sleep.deleted', 'recovery.deleted'],
    );
    await processPending(fixture, linked);

    const primary = await fixture.pool.any(sql.type(z.object({ external_id: z.string() }))`
    SELECT external_id FROM integration_sleep
    WHERE connection_id = ${linked.connectionId} AND local_date = ${dateOf(nap)} AND is_primary
  `);
    t.same(
      primary.map((row) => row.external_id),
      [nap.id],
      'the remaining sleep is the primary one',
    );
    const deleted = await readRow(fixture, 'integration_sleep', linked.connectionId, night.id, [
      'deleted_at',
      'is_primary',
    ]);
    t.ok(deleted.deleted_at);
    t.equal(deleted.is_primary, false);
    const recoveryGone = await fixture.pool.oneFirst(sql.type(z.object({ gone: z.boolean() }))`
    SELECT deleted_at IS NOT NULL AS gone FROM integration_recovery
    WHERE connection_id = ${linked.connectionId} AND sleep_external_id = ${night.id}
  `);
    t.ok(recoveryGone, 'its recovery went with it');
    const owner = await ownerOf(fixture, linked);
    const page = await fixture.services.healthPages.sleep(owner, dateOf(nap));
    const shown = page.nights.find((n) => n.local_date === dateOf(nap));
    t.equal(shown?.start_at.getTime(), Date.parse(nap.start), 'the Sleep page shows the remaining sleep');
    t.notOk(
      [...page.nights, ...page.naps].some((n) => n.start_at.getTime() === Date.parse(night.start)),
      'and never the deleted one',
    );
  },
);

t.test('a record deleted at WHOOP without webhooks is hidden after the next scheduled sync', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 10 });
  const linked = await linkMember(fixture, member);
  await runSync(fixture, linked.initialRunId);
  const sleep = fixture.sim
    .groundTruth(member.userId)
    .sleeps.filter((s) => !s.nap)
    .sort((a, b) => Date.parse(b.start) - Date.parse(a.start))[0] as WhoopSleep;
  fixture.sim.deleteRecord(member.userId, 'sleep', sleep.id);

  const tick = await fixture.services.whoopSync.tick(new Date(Date.now() + 13 * 3_600_000));
  t.same(tick.enqueued, [linked.connectionId], 'the schedule enqueued the connection');
  const run = await fixture.services.whoopSync.latestRun(linked.userId);
  if (!run) throw new Error('no run');
  t.equal(run.trigger, 'scheduled');
  await runSync(fixture, run.id);
  const row = await readRow(fixture, 'integration_sleep', linked.connectionId, sleep.id, ['deleted_at']);
  t.ok(row.deleted_at, 'the sleep is marked deleted');
  const recovery = await fixture.pool.oneFirst(sql.type(z.object({ gone: z.boolean() }))`
    SELECT deleted_at IS NOT NULL AS gone FROM integration_recovery
    WHERE connection_id = ${linked.connectionId} AND sleep_external_id = ${sleep.id}
  `);
  t.ok(recovery, 'and so is its recovery');
  const owner = await ownerOf(fixture, linked);
  const page = await fixture.services.healthPages.sleep(owner, localDate(sleep.end, 0));
  t.notOk(
    page.nights.some((n) => n.start_at.getTime() === Date.parse(sleep.start)),
    'the Sleep page no longer shows it',
  );
});
