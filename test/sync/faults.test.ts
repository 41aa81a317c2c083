// WHOOP misbehaving: 5xx, requests that never answer, a record that breaks the schema, a page token
// that repeats. The sync retries what is transient and isolates what is broken.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import {
  connectionState,
  linkMember,
  requestsTo,
  runSync,
  startSyncFixture,
  storedIds,
  tableCounts,
  truthIds,
} from './support/fixture.ts';

const sleepFacts = z.object({
  external_id: z.string(),
  end_at: z.date(),
  score_state: z.string(),
  in_bed_ms: z.number().nullable(),
});

t.test(
  '20% injected 5xx and some hung requests: the sync still ends equal to the ground truth',
  async (t) => {
    const fixture = await startSyncFixture(t, { env: { WHOOP_REQUEST_TIMEOUT_MS: '400' } });
    const member = fixture.sim.createMember({ days: 60, timezoneOffset: '-03:00' });
    const linked = await linkMember(fixture, member);
    // Seeded: the same requests fail on every run of this test.
    fixture.sim.setFaults({
      errorRate: 0.2,
      errorOn: ['data', 'token'],
      errorStatuses: [500, 502, 503],
      hangNext: 3,
    });

    t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
    const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
    t.comment(`run took ${(run?.finished_at?.getTime() ?? 0) - (run?.started_at?.getTime() ?? 0)} ms`);
    t.ok(
      (run?.http_retries ?? 0) >= 5,
      `retried (${run?.http_retries} retries of ${run?.http_requests} requests)`,
    );
    t.equal(fixture.sim.faults().hangNext, 0, 'the hung requests happened and timed out');
    t.same(await storedIds(fixture, linked.connectionId), truthIds(fixture, member));

    const truth = fixture.sim.groundTruth(member.userId);
    const stored = await fixture.pool.any(sql.type(sleepFacts)`
    SELECT external_id, end_at, score_state, in_bed_ms FROM integration_sleep
    WHERE connection_id = ${linked.connectionId} ORDER BY external_id
  `);
    t.same(
      stored,
      truth.sleeps
        .map((s) => ({
          external_id: s.id,
          end_at: new Date(s.end),
          score_state: s.score_state,
          in_bed_ms: s.score_state === 'SCORED' ? s.score.stage_summary.total_in_bed_time_milli : null,
        }))
        .sort((a, b) => (a.external_id < b.external_id ? -1 : 1)),
      'sleeps equal the ground truth',
    );
    t.match(await connectionState(fixture, linked.connectionId), {
      status: 'connected',
      last_sync_status: 'succeeded',
    });
  },
);

t.test('a malformed record is kept raw with its validation error and the sync goes on', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 40 });
  const linked = await linkMember(fixture, member);
  fixture.sim.setFaults({ malformedRecord: 'workout' });

  t.equal(await runSync(fixture, linked.initialRunId), 'partial');
  const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
  const rejected = run?.counts.workout?.rejected ?? 0;
  t.ok(rejected >= 1, 'one record per workout page rejected');
  const kept = await fixture.pool.any(sql.type(
    z.object({ external_id: z.string(), validation_error: z.string() }),
  )`
    SELECT external_id, validation_error FROM integration_raw_event
    WHERE connection_id = ${linked.connectionId} AND validation_error IS NOT NULL
  `);
  t.equal(kept.length, rejected, 'each rejected record kept raw');
  t.match(kept[0]?.validation_error, /score_state/, 'with what was wrong');
  const truth = truthIds(fixture, member);
  const stored = await storedIds(fixture, linked.connectionId);
  t.same(stored.sleeps, truth.sleeps, 'the other domains are complete');
  t.same(stored.cycles, truth.cycles);
  t.equal(stored.workouts.length, truth.workouts.length - rejected, 'every readable workout stored');
  t.notOk(
    stored.workouts.some((id) => kept.some((row) => row.external_id === id)),
    'no half-read workout normalized',
  );
  const state = await connectionState(fixture, linked.connectionId);
  t.match(state, { status: 'connected', last_sync_status: 'partial' });
  t.match(state.last_sync_error, /could not be read/);
});

t.test('a page token that repeats stops that listing instead of looping', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 60 });
  const linked = await linkMember(fixture, member);
  fixture.sim.setFaults({ repeatNextToken: true });
  fixture.sim.resetRequestCounts();

  t.equal(await runSync(fixture, linked.initialRunId), 'partial');
  const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
  for (const domain of ['cycle', 'sleep', 'recovery', 'workout'] as const) {
    t.match(run?.counts[domain]?.error, /repeated a page token/, `${domain} stopped`);
    t.equal(run?.counts[domain]?.fetched, 50, `${domain}: the two pages before the repeat were kept`);
  }
  t.equal(
    requestsTo(fixture, /^GET \/developer\/v2\/(cycle|recovery|activity\/(sleep|workout))$/),
    8,
    'two pages per listing',
  );
  const counts = await tableCounts(fixture, linked.connectionId);
  t.equal(counts.sleeps, 50);
  const watermarks = await fixture.pool.oneFirst(sql.type(
    z.object({ watermarks: z.record(z.string(), z.string()) }),
  )`
    SELECT watermarks FROM integration_connection WHERE id = ${linked.connectionId}
  `);
  t.same(Object.keys(watermarks), [], 'no watermark moved for an unfinished listing');
});
