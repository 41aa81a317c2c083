// DESIGN "Time": a sleep belongs to the local date of its END, a workout or cycle to the local date of
// its START, each by the record's own offset (never UTC, never the server's zone); a recovery takes
// its sleep's date; the primary sleep is the longest non-nap sleep of each local date.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import {
  linkMember,
  localDate,
  runSync,
  type SyncFixture,
  startSyncFixture,
  syncNow,
} from './support/fixture.ts';

const sleepRow = z.object({
  external_id: z.string(),
  local_date: z.string(),
  utc_offset_minutes: z.number(),
  is_nap: z.boolean(),
  is_primary: z.boolean(),
  start_at: z.date(),
  end_at: z.date(),
});

async function sleeps(fixture: SyncFixture, connectionId: number) {
  return fixture.pool.any(sql.type(sleepRow)`
    SELECT external_id, local_date, utc_offset_minutes, is_nap, is_primary, start_at, end_at
    FROM integration_sleep WHERE connection_id = ${connectionId}
  `);
}

/** Longest non-nap sleep per local date, computed here from the stored instants. */
function expectedPrimaries(rows: ReadonlyArray<z.infer<typeof sleepRow>>): string[] {
  const best = new Map<string, z.infer<typeof sleepRow>>();
  for (const row of rows) {
    if (row.is_nap) continue;
    const current = best.get(row.local_date);
    const length = (r: z.infer<typeof sleepRow>) => r.end_at.getTime() - r.start_at.getTime();
    if (!current || length(row) > length(current)) best.set(row.local_date, row);
  }
  return [...best.values()].map((row) => row.external_id).sort();
}

const utcDate = (instant: string) => instant.slice(0, 10);

// Seed 17 goes to bed late: some of its cycles start after local midnight, on another UTC date.
for (const [offset, minutes, seed] of [
  ['-10:00', -600, 404],
  ['+05:30', 330, 17],
] as const) {
  t.test(
    `a member at ${offset}: local dates by the record's own offset, primary sleep per local date`,
    async (t) => {
      // The app's users and the server zone are UTC: only the records' own offsets may matter.
      const fixture = await startSyncFixture(t);
      const member = fixture.sim.createMember({ days: 21, timezoneOffset: offset, withNaps: true, seed });
      const linked = await linkMember(fixture, member);
      t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
      const truth = fixture.sim.groundTruth(member.userId);
      const rows = await sleeps(fixture, linked.connectionId);
      const byId = new Map(rows.map((row) => [row.external_id, row]));
      t.equal(rows.length, truth.sleeps.length, 'every sleep stored');

      let differsFromUtc = 0;
      let crossesMidnight = 0;
      for (const sleep of truth.sleeps) {
        const row = byId.get(sleep.id);
        const expected = localDate(sleep.end, minutes);
        t.equal(row?.local_date, expected, `sleep ${sleep.id} dated by its local end`);
        t.equal(row?.utc_offset_minutes, minutes);
        t.equal(row?.is_nap, sleep.nap);
        if (expected !== utcDate(sleep.end)) differsFromUtc += 1;
        if (!sleep.nap && localDate(sleep.start, minutes) !== expected) crossesMidnight += 1;
      }
      t.ok(crossesMidnight > 0, 'nights that cross local midnight belong to the morning they end');
      const naps = rows.filter((row) => row.is_nap);
      t.ok(naps.length > 0, 'the member naps');
      t.notOk(
        naps.some((row) => row.is_primary),
        'a nap is never the primary sleep',
      );
      t.same(
        rows
          .filter((row) => row.is_primary)
          .map((row) => row.external_id)
          .sort(),
        expectedPrimaries(rows),
        'exactly the longest non-nap sleep of each local date is primary',
      );

      const workouts = await fixture.pool.any(sql.type(
        z.object({ external_id: z.string(), local_date: z.string() }),
      )`
      SELECT external_id, local_date FROM integration_workout WHERE connection_id = ${linked.connectionId}
    `);
      const workoutDates = new Map(workouts.map((row) => [row.external_id, row.local_date]));
      for (const workout of truth.workouts) {
        const expected = localDate(workout.start, minutes);
        t.equal(workoutDates.get(workout.id), expected, `workout ${workout.id} dated by its local start`);
        if (expected !== utcDate(workout.start)) differsFromUtc += 1;
      }
      const cycles = await fixture.pool.any(sql.type(
        z.object({ external_id: z.string(), local_date: z.string() }),
      )`
      SELECT external_id, local_date FROM integration_cycle WHERE connection_id = ${linked.connectionId}
    `);
      const cycleDates = new Map(cycles.map((row) => [row.external_id, row.local_date]));
      for (const cycle of truth.cycles) {
        const expected = localDate(cycle.start, minutes);
        t.equal(cycleDates.get(String(cycle.id)), expected, `cycle ${cycle.id} dated by its local start`);
        if (expected !== utcDate(cycle.start)) differsFromUtc += 1;
      }
      t.ok(differsFromUtc > 0, `at ${offset} some records fall on another date in UTC: the test can tell`);

      const recoveries = await fixture.pool.any(
        sql.type(
          z.object({ external_id: z.string(), local_date: z.string().nullable(), sleep_date: z.string() }),
        )`
        SELECT r.external_id, r.local_date, s.local_date AS sleep_date
        FROM integration_recovery r JOIN integration_sleep s
          ON s.connection_id = r.connection_id AND s.external_id = r.sleep_external_id
        WHERE r.connection_id = ${linked.connectionId}
      `,
      );
      t.equal(recoveries.length, truth.recoveries.length, 'every recovery stored with its sleep');
      t.ok(
        recoveries.every((row) => row.local_date === row.sleep_date),
        "each recovery takes its sleep's local date",
      );
    },
  );
}

t.test('a nap longer than the night never wins; a sleep that grows past midnight moves day', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 10, timezoneOffset: '+05:30', withNaps: true, seed: 7 });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const truth = fixture.sim.groundTruth(member.userId);
  const rows = await sleeps(fixture, linked.connectionId);
  const nap = rows.find((row) => row.is_nap);
  if (!nap) throw new Error('seed 7 has no nap');
  const night = rows.find((row) => !row.is_nap && row.local_date === nap.local_date);
  t.ok(night?.is_primary, "the night is primary on the nap's date");

  // The nap becomes longer than the night (an edit WHOOP could send): the night stays primary.
  const napEnd = new Date(nap.start_at.getTime() + 11 * 3_600_000);
  fixture.sim.editRecord(member.userId, 'sleep', nap.external_id, { end: napEnd.toISOString() });
  // The night's sleep grows by 20 hours: its end, and so its local date, moves to the next day.
  const recent = rows
    .filter((row) => !row.is_nap)
    .sort((a, b) => b.end_at.getTime() - a.end_at.getTime())
    .find(
      (row) =>
        row.external_id !== night?.external_id &&
        Date.now() - row.end_at.getTime() < 3 * 86_400_000 &&
        // Grown, it must not land on the night's own date (a longer sleep there would rightly win).
        localDate(new Date(row.end_at.getTime() + 20 * 3_600_000).toISOString(), 330) !== night?.local_date,
    );
  if (!recent) throw new Error('no recent night to grow');
  fixture.sim.grow(member.userId, 'sleep', recent.external_id, 20 * 3_600_000);
  const grownTruth = fixture.sim.groundTruth(member.userId).sleeps.find((s) => s.id === recent.external_id);

  t.equal((await syncNow(fixture, linked)).outcome, 'succeeded');
  const after = await sleeps(fixture, linked.connectionId);
  const byId = new Map(after.map((row) => [row.external_id, row]));
  t.equal(byId.get(nap.external_id)?.is_primary, false, 'the long nap is still a nap');
  t.equal(byId.get(night?.external_id ?? '')?.is_primary, true, 'the night keeps its day');
  const moved = byId.get(recent.external_id);
  t.equal(
    moved?.local_date,
    localDate(grownTruth?.end ?? '', 330),
    'the grown sleep moved to the date of its new end',
  );
  t.not(moved?.local_date, recent.local_date);
  t.same(
    after
      .filter((row) => row.is_primary)
      .map((row) => row.external_id)
      .sort(),
    expectedPrimaries(after),
    'primary sleep recomputed for the old and the new date',
  );
  const recovery = await fixture.pool.maybeOne(sql.type(z.object({ local_date: z.string().nullable() }))`
    SELECT local_date FROM integration_recovery WHERE connection_id = ${linked.connectionId} AND sleep_external_id = ${recent.external_id}
  `);
  if (recovery) t.equal(recovery.local_date, moved?.local_date, 'its recovery moved with it');
  t.equal(truth.sleeps.length, after.length, 'no sleep added or lost');
});
