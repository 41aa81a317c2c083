import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import type {
  WhoopCycle,
  WhoopRecovery,
  WhoopSleep,
  WhoopWorkout,
} from '../../src/services/whoop/schemas.ts';
import {
  linkMember,
  localDate,
  readRow,
  runSync,
  startSyncFixture,
  storedIds,
  syncNow,
  tableCounts,
  truthIds,
} from './support/fixture.ts';

type Scored<T> = Extract<T, { score_state: 'SCORED' }>;
const OFFSET = 120; // the member's +02:00
const ts = (value: string | null | undefined) => (value ? new Date(value) : null);

t.test(
  'the first sync backfills every domain of the window; a second adds nothing; changes update in place',
  async (t) => {
    const fixture = await startSyncFixture(t, { env: { WHOOP_BACKFILL_DAYS: '12' } });
    const member = fixture.sim.createMember({ days: 25, timezoneOffset: '+02:00', inProgress: true });
    const linked = await linkMember(fixture, member);

    // Linking enqueued the first sync in the same transaction: a run and its graphile-worker job.
    const job = await fixture.pool.one(sql.type(
      z.object({ key: z.string(), queue_name: z.string(), task_identifier: z.string() }),
    )`
    SELECT key, queue_name, task_identifier FROM graphile_worker.jobs WHERE key = ${`whoop_sync:${linked.connectionId}`}
  `);
    t.same(job, {
      key: `whoop_sync:${linked.connectionId}`,
      queue_name: `whoop_sync:${linked.connectionId}`,
      task_identifier: 'whoop_sync',
    });
    const queued = await fixture.services.whoopSync.findRun(linked.initialRunId);
    t.equal(queued?.trigger, 'initial');
    t.equal(queued?.status, 'queued');

    t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
    const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
    if (!run) throw new Error('run vanished');
    t.equal(run.status, 'succeeded');
    t.ok(run.started_at && run.finished_at, 'the run is timed');

    await t.test('counts equal the ground truth of the backfill window, domain by domain', async (t) => {
      const stored = await storedIds(fixture, linked.connectionId);
      const sinceOf = (domain: string) => new Date(run.counts[domain]?.since ?? 0);
      t.ok(
        Date.parse(run.counts.cycle?.since ?? '') < Date.now() - 11.9 * 86_400_000,
        'the window reaches back 12 days',
      );
      t.same(stored.cycles, truthIds(fixture, member, sinceOf('cycle')).cycles);
      t.same(stored.sleeps, truthIds(fixture, member, sinceOf('sleep')).sleeps);
      t.same(stored.recoveries, truthIds(fixture, member, sinceOf('recovery')).recoveries);
      t.same(stored.workouts, truthIds(fixture, member, sinceOf('workout')).workouts);
      const all = truthIds(fixture, member);
      t.ok(all.cycles.length > stored.cycles.length, 'older history outside the window was not fetched');
      t.ok(stored.sleeps.length >= 10 && stored.workouts.length > 0, 'the window holds real data');
      for (const domain of ['cycle', 'sleep', 'recovery', 'workout'] as const) {
        const counts = run.counts[domain];
        t.equal(counts?.inserted, counts?.fetched, `${domain}: every fetched record inserted`);
      }
    });

    await t.test('a sampled record of each type matches field by field', async (t) => {
      const truth = fixture.sim.groundTruth(member.userId);
      const connection = { user_id: linked.userId, provider: 'whoop' };

      const cycle = truth.cycles.find(
        (c): c is Scored<WhoopCycle> => c.score_state === 'SCORED' && Boolean(c.end),
      ) as Scored<WhoopCycle>;
      t.same(
        await readRow(fixture, 'integration_cycle', linked.connectionId, String(cycle.id), [
          'user_id',
          'provider',
          'start_at',
          'end_at',
          'utc_offset_minutes',
          'local_date',
          'score_state',
          'strain',
          'kilojoules',
          'average_heart_rate',
          'max_heart_rate',
          'provider_updated_at',
          'deleted_at',
        ]),
        {
          ...connection,
          start_at: ts(cycle.start),
          end_at: ts(cycle.end),
          utc_offset_minutes: OFFSET,
          local_date: localDate(cycle.start, OFFSET),
          score_state: 'SCORED',
          strain: cycle.score.strain,
          kilojoules: cycle.score.kilojoule,
          average_heart_rate: cycle.score.average_heart_rate,
          max_heart_rate: cycle.score.max_heart_rate,
          provider_updated_at: ts(cycle.updated_at),
          deleted_at: null,
        },
        'cycle',
      );

      const sleep = truth.sleeps.find(
        (s): s is Scored<WhoopSleep> => s.score_state === 'SCORED' && !s.nap,
      ) as Scored<WhoopSleep>;
      const stages = sleep.score.stage_summary;
      const need = sleep.score.sleep_needed;
      t.same(
        await readRow(fixture, 'integration_sleep', linked.connectionId, sleep.id, [
          'user_id',
          'provider',
          'cycle_external_id',
          'start_at',
          'end_at',
          'utc_offset_minutes',
          'local_date',
          'is_nap',
          'is_primary',
          'score_state',
          'in_bed_ms',
          'awake_ms',
          'no_data_ms',
          'light_ms',
          'deep_ms',
          'rem_ms',
          'asleep_ms',
          'sleep_cycle_count',
          'disturbance_count',
          'sleep_need_ms',
          'performance_pct',
          'consistency_pct',
          'efficiency_pct',
          'respiratory_rate',
          'extras',
          'provider_updated_at',
        ]),
        {
          ...connection,
          cycle_external_id: String(sleep.cycle_id),
          start_at: ts(sleep.start),
          end_at: ts(sleep.end),
          utc_offset_minutes: OFFSET,
          local_date: localDate(sleep.end, OFFSET),
          is_nap: false,
          is_primary: true,
          score_state: 'SCORED',
          in_bed_ms: stages.total_in_bed_time_milli,
          awake_ms: stages.total_awake_time_milli,
          no_data_ms: stages.total_no_data_time_milli,
          light_ms: stages.total_light_sleep_time_milli,
          deep_ms: stages.total_slow_wave_sleep_time_milli,
          rem_ms: stages.total_rem_sleep_time_milli,
          asleep_ms:
            stages.total_light_sleep_time_milli +
            stages.total_slow_wave_sleep_time_milli +
            stages.total_rem_sleep_time_milli,
          sleep_cycle_count: stages.sleep_cycle_count,
          disturbance_count: stages.disturbance_count,
          sleep_need_ms:
            need.baseline_milli +
            need.need_from_sleep_debt_milli +
            need.need_from_recent_strain_milli +
            need.need_from_recent_nap_milli,
          performance_pct: sleep.score.sleep_performance_percentage ?? null,
          consistency_pct: sleep.score.sleep_consistency_percentage ?? null,
          efficiency_pct: sleep.score.sleep_efficiency_percentage ?? null,
          respiratory_rate: sleep.score.respiratory_rate ?? null,
          extras: {
            timezone_offset: '+02:00',
            created_at: sleep.created_at,
            v1_id: null,
            sleep_needed: need,
          },
          provider_updated_at: ts(sleep.updated_at),
        },
        'sleep',
      );

      const recovery = truth.recoveries.find(
        (r): r is Scored<WhoopRecovery> => r.score_state === 'SCORED',
      ) as Scored<WhoopRecovery>;
      const itsSleep = truth.sleeps.find((s) => s.id === recovery.sleep_id) as WhoopSleep;
      t.same(
        await readRow(fixture, 'integration_recovery', linked.connectionId, String(recovery.cycle_id), [
          'user_id',
          'provider',
          'sleep_external_id',
          'start_at',
          'end_at',
          'utc_offset_minutes',
          'local_date',
          'score_state',
          'recovery_score',
          'resting_heart_rate',
          'hrv_rmssd_ms',
          'spo2_pct',
          'skin_temp_celsius',
          'user_calibrating',
          'provider_updated_at',
        ]),
        {
          ...connection,
          sleep_external_id: recovery.sleep_id,
          start_at: ts(itsSleep.start),
          end_at: ts(itsSleep.end),
          utc_offset_minutes: OFFSET,
          local_date: localDate(itsSleep.end, OFFSET),
          score_state: 'SCORED',
          recovery_score: recovery.score.recovery_score,
          resting_heart_rate: recovery.score.resting_heart_rate,
          hrv_rmssd_ms: recovery.score.hrv_rmssd_milli,
          spo2_pct: recovery.score.spo2_percentage ?? null,
          skin_temp_celsius: recovery.score.skin_temp_celsius ?? null,
          user_calibrating: recovery.score.user_calibrating,
          provider_updated_at: ts(recovery.updated_at),
        },
        'recovery',
      );

      const workout = truth.workouts.find(
        (w): w is Scored<WhoopWorkout> => w.score_state === 'SCORED' && w.id !== member.inProgressWorkoutId,
      ) as Scored<WhoopWorkout>;
      const percent = workout.score.percent_recorded;
      t.same(
        await readRow(fixture, 'integration_workout', linked.connectionId, workout.id, [
          'user_id',
          'provider',
          'start_at',
          'end_at',
          'utc_offset_minutes',
          'local_date',
          'sport_name',
          'score_state',
          'strain',
          'kilojoules',
          'average_heart_rate',
          'max_heart_rate',
          'percent_recorded',
          'distance_meters',
          'altitude_gain_meters',
          'altitude_change_meters',
          'extras',
          'provider_updated_at',
        ]),
        {
          ...connection,
          start_at: ts(workout.start),
          end_at: ts(workout.end),
          utc_offset_minutes: OFFSET,
          local_date: localDate(workout.start, OFFSET),
          sport_name: workout.sport_name,
          score_state: 'SCORED',
          strain: workout.score.strain,
          kilojoules: workout.score.kilojoule,
          average_heart_rate: workout.score.average_heart_rate,
          max_heart_rate: workout.score.max_heart_rate,
          percent_recorded: percent <= 1 ? percent * 100 : percent,
          distance_meters: workout.score.distance_meter ?? null,
          altitude_gain_meters: workout.score.altitude_gain_meter ?? null,
          altitude_change_meters: workout.score.altitude_change_meter ?? null,
          extras: {
            timezone_offset: '+02:00',
            created_at: workout.created_at,
            v1_id: null,
            sport_id: workout.sport_id ?? null,
            zone_durations: workout.score.zone_durations,
          },
          provider_updated_at: ts(workout.updated_at),
        },
        'workout',
      );

      const body = truth.body_measurement;
      t.ok(body, 'the member has a body measurement');
      t.same(
        await readRow(fixture, 'integration_body_measurement', linked.connectionId, String(member.userId), [
          'user_id',
          'provider',
          'height_meters',
          'weight_kilograms',
          'max_heart_rate',
        ]),
        {
          ...connection,
          height_meters: body?.height_meter,
          weight_kilograms: body?.weight_kilogram,
          max_heart_rate: body?.max_heart_rate,
        },
        'body measurement',
      );

      const raw = await fixture.pool.one(sql.type(z.object({ payload: z.unknown() }))`
      SELECT payload FROM integration_raw_event
      WHERE connection_id = ${linked.connectionId} AND resource_type = 'sleep' AND external_id = ${sleep.id}
    `);
      t.same(raw.payload, sleep, 'the raw payload is stored as WHOOP sent it');
      const profile = await fixture.services.whoop.card(linked.userId);
      t.equal(profile.memberName, `${member.firstName} ${member.lastName}`, 'profile');
      t.equal(profile.status, 'connected');
      t.equal(profile.lastSyncStatus, 'succeeded');
      t.ok(profile.nextSyncAt && profile.nextSyncAt.getTime() > Date.now(), 'the next sync is scheduled');
    });

    await t.test('running sync again adds no rows anywhere', async (t) => {
      const before = await tableCounts(fixture, linked.connectionId);
      const again = await syncNow(fixture, linked);
      t.equal(again.outcome, 'succeeded');
      t.same(await tableCounts(fixture, linked.connectionId), before, 'raw and normalized tables unchanged');
      const second = await fixture.services.whoopSync.findRun(again.runId);
      for (const domain of ['cycle', 'sleep', 'recovery', 'workout', 'body_measurement'] as const) {
        const counts = second?.counts[domain];
        t.match(counts, { inserted: 0, updated: 0, rejected: 0 }, `${domain}: nothing new`);
        t.equal(counts?.unchanged, counts?.fetched, `${domain}: everything fetched was unchanged`);
      }
      t.ok(
        (second?.counts.cycle?.fetched ?? 0) < (run.counts.cycle?.fetched ?? 0),
        'an incremental sync reads less',
      );
    });

    await t.test('a rescored sleep and a grown workout are updated in place', async (t) => {
      const truth = fixture.sim.groundTruth(member.userId);
      const latest = truth.sleeps.find((s) => !s.nap && s.score_state === 'SCORED') as Scored<WhoopSleep>;
      const workoutId = member.inProgressWorkoutId as string;
      const rowIds = z.object({ id: z.number(), external_id: z.string() });
      const idsBefore = await fixture.pool.any(sql.type(rowIds)`
      SELECT id, external_id FROM integration_sleep WHERE connection_id = ${linked.connectionId}
      UNION ALL SELECT id, external_id FROM integration_workout WHERE connection_id = ${linked.connectionId}
      ORDER BY 1
    `);
      const before = await tableCounts(fixture, linked.connectionId);
      const workoutBefore = await readRow(fixture, 'integration_workout', linked.connectionId, workoutId, [
        'end_at',
        'kilojoules',
      ]);

      fixture.sim.rescore(member.userId, 'sleep', latest.id);
      fixture.sim.grow(member.userId, 'workout', workoutId, 20 * 60_000);
      const changed = fixture.sim.groundTruth(member.userId);
      const rescored = changed.sleeps.find((s) => s.id === latest.id) as Scored<WhoopSleep>;
      const grown = changed.workouts.find((w) => w.id === workoutId) as Scored<WhoopWorkout>;
      t.not(
        rescored.score.stage_summary.total_awake_time_milli,
        latest.score.stage_summary.total_awake_time_milli,
      );

      const third = await syncNow(fixture, linked);
      t.equal(third.outcome, 'succeeded');
      const after = await tableCounts(fixture, linked.connectionId);
      t.same({ ...after, raw: 0 }, { ...before, raw: 0 }, 'no normalized row added');
      t.equal(
        after.raw,
        before.raw + 3,
        'one new raw version each of the sleep, its recovery and the workout',
      );
      t.same(
        await fixture.pool.any(sql.type(rowIds)`
        SELECT id, external_id FROM integration_sleep WHERE connection_id = ${linked.connectionId}
        UNION ALL SELECT id, external_id FROM integration_workout WHERE connection_id = ${linked.connectionId}
        ORDER BY 1
      `),
        idsBefore,
        'the same rows',
      );
      t.same(
        await readRow(fixture, 'integration_sleep', linked.connectionId, latest.id, [
          'awake_ms',
          'provider_updated_at',
        ]),
        {
          awake_ms: rescored.score.stage_summary.total_awake_time_milli,
          provider_updated_at: ts(rescored.updated_at),
        },
      );
      const workoutAfter = await readRow(fixture, 'integration_workout', linked.connectionId, workoutId, [
        'end_at',
        'kilojoules',
      ]);
      t.same(workoutAfter, { end_at: ts(grown.end), kilojoules: grown.score.kilojoule });
      t.ok(
        (workoutAfter.end_at as Date).getTime() > (workoutBefore.end_at as Date).getTime(),
        'the workout grew',
      );
      const run3 = await fixture.services.whoopSync.findRun(third.runId);
      t.match(run3?.counts.sleep, { inserted: 0, updated: 1 });
      t.match(run3?.counts.workout, { inserted: 0, updated: 1 });
      t.match(run3?.counts.recovery, { inserted: 0, updated: 1 });
    });
  },
);
