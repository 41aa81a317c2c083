// One bad record never blocks a member's sync (issue 10, defect 7): records outside WHOOP's real
// ranges, or that PostgreSQL refuses, are set aside (kept raw with the reason, counted as rejected,
// shown in the sync history) while the rest of the page lands, and every page still renders.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { linkMember, loginAs, runSync, startSyncFixture, storedIds, truthIds } from './support/fixture.ts';

const rawRow = z.object({ resource_type: z.string(), external_id: z.string(), validation_error: z.string() });

t.test('hostile records are set aside with their reason and the rest of the sync lands', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 6, timezoneOffset: '+02:00' });
  const truth = fixture.sim.groundTruth(member.userId);
  const [badOffsetSleep, nulNoteSleep] = truth.sleeps.filter((sleep) => sleep.score_state === 'SCORED');
  const [nulWorkout, refusedWorkout] = truth.workouts;
  const hugeCycle = truth.cycles.find((cycle) => cycle.score_state === 'SCORED');
  if (!badOffsetSleep || !nulNoteSleep || !nulWorkout || !refusedWorkout || !hugeCycle?.score) {
    throw new Error('the member needs two scored sleeps, two workouts and a scored cycle');
  }
  // Outside what WHOOP sends: an impossible offset, a NUL in a name, an integer beyond int4.
  fixture.sim.corruptRecord(member.userId, 'sleep', badOffsetSleep.id, { timezone_offset: '+99:99' });
  fixture.sim.corruptRecord(member.userId, 'workout', nulWorkout.id, { sport_name: 'run\u0000ning' });
  fixture.sim.corruptRecord(member.userId, 'cycle', String(hugeCycle.id), {
    score: { ...hugeCycle.score, max_heart_rate: 2 ** 40 },
  });
  // Valid, but a NUL in a field we do not read: kept raw with the NUL replaced, and stored normally.
  fixture.sim.corruptRecord(member.userId, 'sleep', nulNoteSleep.id, { note: 'a\u0000b' });
  // A record the schema accepts and the database refuses (a constraint this test adds).
  await fixture.pool.query(sql.typeAlias('void')`
    ALTER TABLE integration_workout ADD CONSTRAINT test_refuses_fencing CHECK (sport_name <> 'fencing')
  `);
  fixture.sim.editRecord(member.userId, 'workout', refusedWorkout.id, { sport_name: 'fencing' });

  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'partial', 'the sync ends, partial, not failed');
  const expected = truthIds(fixture, member);
  const setAside = {
    sleeps: [badOffsetSleep.id],
    workouts: [nulWorkout.id, refusedWorkout.id],
    cycles: [String(hugeCycle.id)],
  };
  t.same(
    await storedIds(fixture, linked.connectionId),
    {
      cycles: expected.cycles.filter((id) => !setAside.cycles.includes(id)),
      sleeps: expected.sleeps.filter((id) => !setAside.sleeps.includes(id)),
      recoveries: expected.recoveries,
      workouts: expected.workouts.filter((id) => !setAside.workouts.includes(id)),
    },
    'everything else landed, the valid record with a NUL in an unread field included',
  );
  const kept = await fixture.pool.any(sql.type(rawRow)`
    SELECT resource_type, external_id, validation_error FROM integration_raw_event
    WHERE connection_id = ${linked.connectionId} AND validation_error IS NOT NULL ORDER BY resource_type, external_id
  `);
  t.same(
    kept.map((row) => `${row.resource_type}:${row.external_id}`).sort(),
    [
      `cycle:${hugeCycle.id}`,
      `sleep:${badOffsetSleep.id}`,
      `workout:${nulWorkout.id}`,
      `workout:${refusedWorkout.id}`,
    ].sort(),
    'each set-aside record is kept raw',
  );
  const reasons = Object.fromEntries(kept.map((row) => [row.external_id, row.validation_error]));
  t.match(reasons[badOffsetSleep.id], /timezone_offset/);
  t.match(reasons[nulWorkout.id], /sport_name: contains a NUL character/);
  t.match(reasons[String(hugeCycle.id)], /max_heart_rate/);
  t.match(reasons[refusedWorkout.id], /refused by the database/);

  const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
  const rejected = Object.values(run?.counts ?? {}).reduce((sum, counts) => sum + (counts?.rejected ?? 0), 0);
  t.equal(rejected, 4, 'counted as rejected');

  const browser = await loginAs(fixture, linked);
  const history = await browser.get('/integrations/whoop/history');
  t.equal(history.statusCode, 200);
  t.match(
    history.body,
    /4 records WHOOP sent could not be read and were kept aside/,
    'shown in sync history',
  );
  for (const page of ['/', '/sleep', '/exercises', '/progress', '/integrations']) {
    t.equal((await browser.get(page)).statusCode, 200, `${page} renders`);
  }

  // Syncing again changes nothing and fails nothing.
  const again = await fixture.services.whoopSync.request({ userId: linked.userId, trigger: 'manual' });
  t.equal(again.outcome, 'queued');
  if (again.outcome === 'queued') t.equal(await runSync(fixture, again.runId), 'partial');
});
