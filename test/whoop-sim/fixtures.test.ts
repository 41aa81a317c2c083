// The recorded fixtures and the simulator's own output must both parse with the schemas the
// production WHOOP client uses.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import type { z } from 'zod';
import {
  bodyMeasurementSchema,
  cyclePageSchema,
  cycleSchema,
  normalizePercentRecorded,
  oauthErrorSchema,
  profileSchema,
  recoveryPageSchema,
  recoverySchema,
  sleepPageSchema,
  sleepSchema,
  tokenResponseSchema,
  webhookEventSchema,
  workoutPageSchema,
  workoutSchema,
} from '../../src/services/whoop/schemas.ts';
import { api, connect, fetchAllPages, startSim, token } from './helpers.ts';

const DIR = new URL('../fixtures/whoop/', import.meta.url);

// longest prefix first: "cycle-page" before "cycle-"
const SCHEMAS: Array<[string, z.ZodType]> = [
  ['profile', profileSchema],
  ['body-measurement', bodyMeasurementSchema],
  ['cycle-page', cyclePageSchema],
  ['cycle-', cycleSchema],
  ['sleep-page', sleepPageSchema],
  ['sleep-', sleepSchema],
  ['recovery-page', recoveryPageSchema],
  ['recovery-', recoverySchema],
  ['workout-page', workoutPageSchema],
  ['workout-', workoutSchema],
  ['token-response', tokenResponseSchema],
  ['oauth-error', oauthErrorSchema],
  ['webhook-', webhookEventSchema],
];

const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const raw = (name: string) => readFileSync(new URL(name, DIR), 'utf8');
const load = (name: string) => JSON.parse(raw(name)) as Record<string, unknown>;

t.test('every recorded fixture validates against its schema', async (t) => {
  t.ok(files.length >= 25, `${files.length} fixtures`);
  for (const file of files) {
    const entry = SCHEMAS.find(([prefix]) => file.startsWith(prefix));
    t.ok(entry, `${file} has a schema`);
    if (!entry) continue;
    const result = entry[1].safeParse(load(file));
    t.ok(result.success, `${file}${result.success ? '' : `: ${result.error.message}`}`);
  }
});

t.test('the fixtures cover the documented and observed shapes', async (t) => {
  t.notOk('end' in load('cycle-in-progress.json'), 'in-progress cycle without end');
  t.equal(load('cycle-in-progress-end-null.json').end, null, 'or with end: null');
  t.match(raw('workout-percent-recorded-1.json'), /"percent_recorded": 1\.0/, 'percent_recorded as 1.0');
  const w = workoutSchema.parse(load('workout-percent-recorded-1.json'));
  t.equal(w.score_state === 'SCORED' && normalizePercentRecorded(w.score.percent_recorded), 100);
  const documented = workoutSchema.parse(load('workout-scored.json'));
  t.equal(
    documented.score_state === 'SCORED' && normalizePercentRecorded(documented.score.percent_recorded),
    100,
  );
  t.equal(load('sleep-nap.json').nap, true);
  t.equal(load('sleep-half-hour-offset.json').timezone_offset, '+05:30');
  t.equal(load('workout-negative-offset.json').timezone_offset, '-10:00');
  for (const state of ['PENDING_SCORE', 'UNSCORABLE']) {
    t.ok(
      files.some((f) => load(f).score_state === state && !('score' in load(f) && load(f).score)),
      `${state} without a score`,
    );
  }
  const recovery = load('recovery-scored.json');
  t.notOk('id' in recovery || 'timezone_offset' in recovery, 'recovery has no id or timezone_offset');
  t.equal((load('recovery-nulls.json').score as Record<string, unknown>).spo2_percentage, null);
  t.notOk('skin_temp_celsius' in (load('recovery-nulls.json').score as object), 'absent optional metric');
  t.notOk('refresh_token' in load('token-response-no-refresh.json'));
  for (const file of files.filter((f) => f.startsWith('sleep-') && !f.includes('page'))) {
    const sleep = sleepSchema.parse(load(file));
    if (sleep.score_state !== 'SCORED') continue;
    const s = sleep.score.stage_summary;
    const sum =
      s.total_awake_time_milli +
      s.total_no_data_time_milli +
      s.total_light_sleep_time_milli +
      s.total_slow_wave_sleep_time_milli +
      s.total_rem_sleep_time_milli;
    t.equal(sum, s.total_in_bed_time_milli, `${file}: stages add up`);
    t.equal(
      s.total_in_bed_time_milli,
      Date.parse(sleep.end) - Date.parse(sleep.start),
      `${file}: in bed = end - start`,
    );
  }
});

t.test('the schemas are strict about what matters and lenient about the rest', async (t) => {
  const cycle = load('cycle-scored.json');
  t.ok(cycleSchema.safeParse({ ...cycle, some_new_field: { nested: true } }).success, 'unknown keys pass');
  t.equal(
    (cycleSchema.parse({ ...cycle, some_new_field: 1 }) as Record<string, unknown>).some_new_field,
    1,
    'and are kept',
  );
  t.notOk(cycleSchema.safeParse({ ...cycle, user_id: '10129' }).success, 'a string user_id is rejected');
  t.notOk(cycleSchema.safeParse({ ...cycle, id: 'abc' }).success, 'a non-integer cycle id is rejected');
  t.notOk(cycleSchema.safeParse({ ...cycle, score_state: 'DONE' }).success, 'unknown score_state');
  t.notOk(cycleSchema.safeParse({ ...cycle, score: undefined }).success, 'SCORED needs a score');
  t.notOk(cycleSchema.safeParse({ ...cycle, start: '2025-05-25 22:25' }).success, 'timestamps are ISO-8601');
  t.notOk(sleepSchema.safeParse({ ...load('sleep-scored.json'), id: 'not-a-uuid' }).success);
  t.notOk(sleepSchema.safeParse({ ...load('sleep-scored.json'), timezone_offset: '+5' }).success);
  const workout = load('workout-scored.json');
  const score = workout.score as Record<string, unknown>;
  t.notOk(workoutSchema.safeParse({ ...workout, score: { ...score, percent_recorded: 150 } }).success);
  t.ok(
    workoutSchema.safeParse({ ...workout, score: { ...score, distance_meter: undefined } }).success,
    'optional',
  );
  t.notOk(tokenResponseSchema.safeParse({ ...load('token-response.json'), access_token: '' }).success);
  t.notOk(
    webhookEventSchema.safeParse({ ...load('webhook-sleep-updated.json'), type: 'cycle.updated' }).success,
  );
});

t.test("the simulator's own output validates against the same schemas", async (t) => {
  const sim = await startSim(t, { rateLimit: { perMinute: 1000 } });
  const member = sim.createMember({ days: 30, timezoneOffset: '+05:30', inProgress: true });
  const other = sim.createMember({ days: 20, timezoneOffset: '-10:00', withBody: false });
  const tokens = await connect(sim, member.userId);
  t.ok(tokenResponseSchema.safeParse(tokens).success, 'token response');
  const bad = await token(sim, { grant_type: 'refresh_token', refresh_token: 'nope', scope: 'offline' });
  t.ok(oauthErrorSchema.safeParse(await bad.json()).success, 'OAuth error body');

  t.ok(
    profileSchema.safeParse(await (await api(sim, '/v2/user/profile/basic', tokens.access_token)).json())
      .success,
  );
  const body = await (await api(sim, '/v2/user/measurement/body', tokens.access_token)).json();
  t.ok(bodyMeasurementSchema.safeParse(body).success);

  const collections: Array<[string, z.ZodType, z.ZodType]> = [
    ['/v2/cycle', cycleSchema, cyclePageSchema],
    ['/v2/activity/sleep', sleepSchema, sleepPageSchema],
    ['/v2/recovery', recoverySchema, recoveryPageSchema],
    ['/v2/activity/workout', workoutSchema, workoutPageSchema],
  ];
  for (const [path, schema, pageSchema] of collections) {
    const firstPage = await (await api(sim, `${path}?limit=25`, tokens.access_token)).json();
    t.ok(pageSchema.safeParse(firstPage).success, `${path} page`);
    const { records } = await fetchAllPages<unknown>(sim, path, tokens.access_token, { limit: '25' });
    const failures = records.map((r) => schema.safeParse(r)).filter((r) => !r.success);
    t.equal(failures.length, 0, `${path}: ${records.length} records valid`);
  }

  // every state the clock produces (in progress, pending, scored) and every member shape
  for (let step = 0; step < 12; step++) {
    sim.advanceTime(2 * 3_600_000);
    for (const userId of [member.userId, other.userId]) {
      const truth = sim.groundTruth(userId);
      const parsed = [
        profileSchema.safeParse(truth.profile),
        ...truth.cycles.map((r) => cycleSchema.safeParse(r)),
        ...truth.sleeps.map((r) => sleepSchema.safeParse(r)),
        ...truth.recoveries.map((r) => recoverySchema.safeParse(r)),
        ...truth.workouts.map((r) => workoutSchema.safeParse(r)),
      ];
      if (parsed.some((p) => !p.success)) t.fail(`invalid record for ${userId} after ${step + 1} steps`);
    }
  }
  t.pass('ground truth stayed valid over a simulated day');
});
