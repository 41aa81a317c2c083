// A member with a year of synced WHOOP data: every page shows the stored normalized values.
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { addDays } from '../../src/services/local-time.ts';
import { build } from '../helper.ts';
import {
  assertNightRow,
  minutesIn,
  minutesOfMs,
  numberIn,
  page,
  roundTo,
  signUpMember,
  storedSleeps,
  textOf,
} from '../support/health-pages.ts';
import { seedWhoopMember } from '../support/wearable-fixtures.ts';

async function setup(t: Test) {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, {
    email: 'whoop@example.com',
    timeZone: 'America/Los_Angeles',
  });
  const seed = await seedWhoopMember(pool, {
    userId: member.id,
    timeZone: member.timeZone,
    lastDate: member.today,
  });
  const sleeps = (from: string, to: string, which: 'primary' | 'nap') =>
    storedSleeps(pool, member.id, from, to, which);
  return { app, pool, member, seed, sleeps };
}

t.test('Dashboard: last night, its recovery and today strain from WHOOP, and today workouts', async (t) => {
  const { pool, member, sleeps } = await setup(t);
  const [night] = await sleeps(member.today, member.today, 'primary');
  const cycle = await pool.one(sql.type(z.object({ strain: z.number() }))`
    SELECT strain FROM integration_cycle WHERE user_id = ${member.id} AND local_date = ${member.today}
  `);
  const workouts = await pool.any(sql.type(z.object({ id: z.number(), sport_name: z.string() }))`
    SELECT id, sport_name FROM integration_workout
    WHERE user_id = ${member.id} AND local_date = ${member.today} AND deleted_at IS NULL ORDER BY start_at
  `);
  if (!night) throw new Error('the fixture has a night for today');

  const { status, html } = await page(member, '/');
  t.equal(status, 200);
  const card = html.querySelector('#today-sleep');
  t.equal(textOf(card, 'h2 .badge'), 'WHOOP', 'the sleep card carries the WHOOP badge');
  t.equal(minutesIn(textOf(card, '.metric-asleep dd')), minutesOfMs(night.asleep_ms ?? 0), 'time asleep');
  t.equal(minutesIn(textOf(card, '.metric-in-bed dd')), minutesOfMs(night.in_bed_ms ?? 0), 'in bed');
  t.equal(numberIn(textOf(card, '.metric-performance dd')), night.performance_pct, 'sleep performance');
  t.equal(numberIn(textOf(card, '.metric-recovery dd')), night.recovery_score, 'recovery score');
  t.equal(numberIn(textOf(card, '.metric-hrv dd')), roundTo(night.hrv_rmssd_ms ?? -1, 1), 'HRV');
  t.equal(numberIn(textOf(card, '.metric-rhr dd')), night.resting_heart_rate, 'resting heart rate');
  t.equal(numberIn(textOf(html, '#today-strain .metric-strain')), roundTo(cycle.strain, 1), 'today strain');
  t.equal(textOf(html, '#today-strain h2 .badge'), 'WHOOP');

  const rows = html.querySelectorAll('#today-workouts tbody tr');
  t.same(
    rows.map((row) => row.getAttribute('data-id')),
    workouts.map((workout) => String(workout.id)),
    'today WHOOP workouts, in start order (the deleted one is not shown)',
  );
  t.same(
    rows.map((row) => textOf(row, '.col-activity')),
    workouts.map((workout) => workout.sport_name),
  );
  t.notOk(html.querySelector('#whoop-prompt'), 'no prompt to link WHOOP when it is linked');
});

t.test(
  'Sleep: the primary sleep per night with stages and recovery, naps apart, pending as pending',
  async (t) => {
    const { member, seed, sleeps } = await setup(t);
    // Three pages of 14 nights reach the -10:00 night (20 days back) and the +05:30 one (12 days back).
    let until = member.today;
    let sawPending = false;
    let sawNap = false;
    for (let pageNumber = 0; pageNumber < 3; pageNumber += 1) {
      const from = addDays(until, -13);
      const { status, html } = await page(member, `/sleep?until=${until}`);
      t.equal(status, 200);
      t.equal(textOf(html, '#nights-heading .badge'), 'WHOOP', 'WHOOP badge on WHOOP nights');
      const nights = await sleeps(from, until, 'primary');
      const rows = html.querySelectorAll('#wearable-nights tbody tr');
      t.same(
        rows.map((row) => row.getAttribute('data-date')),
        nights.map((night) => night.local_date),
        `one row per night from ${from} to ${until}, newest first`,
      );
      for (const night of nights) {
        assertNightRow(t, html.querySelector(`#wearable-nights tr[data-date="${night.local_date}"]`), night);
        sawPending ||= night.score_state === 'PENDING_SCORE';
      }
      const naps = await sleeps(from, until, 'nap');
      const napRows = html.querySelectorAll('#wearable-naps tbody tr');
      t.same(
        napRows.map((row) => row.getAttribute('data-id')),
        naps.map((nap) => String(nap.id)),
        'naps listed apart',
      );
      for (const nap of naps) {
        const row = html.querySelector(`#wearable-naps tr[data-id="${nap.id}"]`);
        if (nap.score_state === 'SCORED') {
          t.equal(minutesIn(textOf(row, '.col-asleep')), minutesOfMs(nap.asleep_ms ?? 0), 'nap time asleep');
        } else t.equal(textOf(row, '.col-sleep-score'), 'Score pending');
        sawNap = true;
      }
      t.notOk(html.querySelector('#manual-sleep'), 'no manual log while WHOOP is linked');
      until = addDays(from, -1);
    }
    t.ok(sawPending && sawNap, 'the fixture nights include a pending night and naps');
    t.ok(seed.connectionId > 0);
  },
);

t.test('Sleep: a night recorded at another offset keeps its own local date and clock', async (t) => {
  const { pool, member } = await setup(t);
  const travelled = await pool.any(
    sql.type(z.object({ id: z.number(), local_date: z.string(), utc_offset_minutes: z.number() }))`
      SELECT id, local_date, utc_offset_minutes FROM integration_sleep
      WHERE user_id = ${member.id} AND is_primary AND utc_offset_minutes IN (-600, 330)
      ORDER BY local_date
    `,
  );
  t.equal(travelled.length, 2, 'the fixture has a -10:00 night and a +05:30 night');
  for (const night of travelled) {
    const { html } = await page(member, `/sleep?until=${night.local_date}`);
    const row = html.querySelector(`#wearable-nights tr[data-date="${night.local_date}"]`);
    t.equal(
      row?.getAttribute('data-id'),
      String(night.id),
      `listed under its own local date ${night.local_date}`,
    );
    const label = night.utc_offset_minutes === 330 ? 'UTC+05:30' : 'UTC-10:00';
    t.match(
      textOf(row, '.col-times'),
      `at ${label}`,
      'its bed and wake times are shown at its own offset, labelled',
    );
  }
});

t.test('Progress: one SVG point per day with data for each WHOOP series, in every range', async (t) => {
  const { pool, member } = await setup(t);
  for (const range of [7, 30, 90]) {
    const from = addDays(member.today, -(range - 1));
    const { status, html } = await page(member, `/progress?range=${range}`);
    t.equal(status, 200);
    t.equal(html.querySelector('.range-switch a[aria-current="page"]')?.text, `Last ${range} days`);
    const expected = await pool.one(
      sql.type(
        z.object({ sleep: z.number(), performance: z.number(), recovery: z.number(), strain: z.number() }),
      )`
        SELECT
          (SELECT count(*) FROM integration_sleep WHERE user_id = ${member.id} AND is_primary AND deleted_at IS NULL
             AND score_state = 'SCORED' AND local_date BETWEEN ${from} AND ${member.today})::int AS sleep,
          (SELECT count(*) FROM integration_sleep WHERE user_id = ${member.id} AND is_primary AND deleted_at IS NULL
             AND performance_pct IS NOT NULL AND local_date BETWEEN ${from} AND ${member.today})::int AS performance,
          (SELECT count(*) FROM integration_recovery WHERE user_id = ${member.id} AND score_state = 'SCORED'
             AND deleted_at IS NULL AND local_date BETWEEN ${from} AND ${member.today})::int AS recovery,
          (SELECT count(*) FROM integration_cycle WHERE user_id = ${member.id} AND score_state = 'SCORED'
             AND deleted_at IS NULL AND local_date BETWEEN ${from} AND ${member.today})::int AS strain
      `,
    );
    const counts: Record<string, number> = {
      'chart-sleep-duration': expected.sleep,
      'chart-sleep-performance': expected.performance,
      'chart-recovery': expected.recovery,
      'chart-hrv': expected.recovery,
      'chart-resting-heart-rate': expected.recovery,
      'chart-strain': expected.strain,
    };
    for (const [id, count] of Object.entries(counts)) {
      const chart = html.querySelector(`#${id}`);
      const svg = chart?.querySelector('svg[role="img"]');
      t.ok(svg, `${id}: an SVG image`);
      t.ok(
        svg?.querySelector('title')?.text && svg?.querySelector('desc')?.text,
        `${id}: titled and described`,
      );
      t.equal(chart?.querySelectorAll('.chart-mark').length, count, `${id} (${range} days): ${count} points`);
      t.equal(textOf(chart, 'h3 .badge'), 'WHOOP', `${id}: WHOOP badge`);
    }
  }
  t.notOk(
    (await page(member, '/progress')).html.querySelector('script:not([src])'),
    'no inline chart script',
  );
});

t.test('Progress: each point carries the stored value of its day', async (t) => {
  const { pool, member, sleeps } = await setup(t);
  const { html } = await page(member, '/progress?range=30');
  const nights = await sleeps(addDays(member.today, -29), member.today, 'primary');
  const marks = (id: string) =>
    new Map(
      html
        .querySelectorAll(`#${id} .chart-mark`)
        .map((mark) => [mark.getAttribute('data-date'), Number(mark.getAttribute('data-value'))]),
    );
  const duration = marks('chart-sleep-duration');
  const recovery = marks('chart-recovery');
  const hrv = marks('chart-hrv');
  const rhr = marks('chart-resting-heart-rate');
  for (const night of nights.filter((n) => n.score_state === 'SCORED')) {
    t.equal(
      duration.get(night.local_date),
      (night.asleep_ms ?? 0) / 3_600_000,
      `${night.local_date} hours asleep`,
    );
    t.equal(recovery.get(night.local_date), night.recovery_score, `${night.local_date} recovery`);
    t.equal(hrv.get(night.local_date), night.hrv_rmssd_ms, `${night.local_date} HRV`);
    t.equal(rhr.get(night.local_date), night.resting_heart_rate, `${night.local_date} resting HR`);
  }
  const strain = marks('chart-strain');
  const cycles = await pool.any(sql.type(z.object({ local_date: z.string(), strain: z.number() }))`
    SELECT local_date, strain FROM integration_cycle
    WHERE user_id = ${member.id} AND local_date BETWEEN ${addDays(member.today, -29)} AND ${member.today}
  `);
  for (const cycle of cycles)
    t.equal(strain.get(cycle.local_date), cycle.strain, `${cycle.local_date} strain`);
  const pendingNight = nights.find((night) => night.score_state === 'PENDING_SCORE');
  t.ok(pendingNight && !duration.has(pendingNight.local_date), 'a pending night has no point');
});

t.test(
  'Progress: switching the range swaps only the charts (htmx) and still works as a plain link',
  async (t) => {
    const { member } = await setup(t);
    const full = await page(member, '/progress');
    const link = full.html.querySelector('.range-switch a[href="/progress?range=7"]');
    t.equal(link?.getAttribute('hx-get'), '/progress/charts?range=7');
    t.equal(link?.getAttribute('hx-target'), '#progress-charts', 'the target is the stable id of the charts');
    t.ok(full.html.querySelector('#progress-charts'), 'the full page contains the swappable region');

    const partial = await member.browser.get('/progress/charts?range=7', { 'hx-request': 'true' });
    t.equal(partial.statusCode, 200);
    const { parse } = await import('node-html-parser');
    const root = parse(partial.body.trim());
    t.equal(root.childNodes.filter((node) => node.nodeType === 1).length, 1, 'one root element');
    t.equal(root.querySelector('section')?.id, 'progress-charts', 'with the stable id');
    t.notOk(root.querySelector('header'), 'no page shell in the fragment');
    t.equal(root.querySelector('a[aria-current="page"]')?.text, 'Last 7 days');

    const plain = await member.browser.get('/progress/charts?range=7');
    t.equal(plain.statusCode, 303, 'without htmx the fragment URL sends to the full page');
    t.equal(plain.headers.location, '/progress?range=7');
    const odd = await page(member, '/progress?range=12');
    t.equal(odd.status, 200);
    t.equal(
      odd.html.querySelector('.range-switch a[aria-current="page"]')?.text,
      'Last 30 days',
      'unknown range: 30',
    );
  },
);

t.test(
  'Exercises: the WHOOP workouts of a day with their stored values; the day follows each record',
  async (t) => {
    const { pool, member } = await setup(t);
    const workoutRow = z.object({
      id: z.number(),
      local_date: z.string(),
      sport_name: z.string(),
      score_state: z.string(),
      duration_ms: z.number(),
      strain: z.number().nullable(),
      average_heart_rate: z.number().nullable(),
      max_heart_rate: z.number().nullable(),
      distance_meters: z.number().nullable(),
    });
    const days = await pool.any(sql.type(z.object({ local_date: z.string() }))`
    SELECT DISTINCT local_date FROM integration_workout
    WHERE user_id = ${member.id} AND (utc_offset_minutes IN (-600, 330) OR local_date = ${member.today})
  `);
    t.ok(days.length >= 2, 'a travel day and today');
    for (const { local_date: date } of days) {
      const stored = await pool.any(sql.type(workoutRow)`
      SELECT id, local_date, sport_name, score_state, (extract(epoch FROM end_at - start_at) * 1000)::bigint AS duration_ms,
             strain, average_heart_rate, max_heart_rate, distance_meters
      FROM integration_workout WHERE user_id = ${member.id} AND local_date = ${date} AND deleted_at IS NULL
      ORDER BY start_at
    `);
      const { status, html } = await page(member, `/exercises?date=${date}`);
      t.equal(status, 200);
      const rows = html.querySelectorAll('#day-workouts tbody tr');
      t.same(
        rows.map((row) => row.getAttribute('data-id')),
        stored.map((row) => String(row.id)),
        `${date}: the day's WHOOP workouts in start order`,
      );
      for (const workout of stored) {
        const row = html.querySelector(`#day-workouts tr[data-id="${workout.id}"]`);
        t.equal(textOf(row, '.col-source .badge'), 'WHOOP');
        t.equal(textOf(row, '.col-activity'), workout.sport_name);
        t.equal(minutesIn(textOf(row, '.col-duration')), minutesOfMs(workout.duration_ms));
        if (workout.score_state !== 'SCORED') {
          t.equal(textOf(row, '.col-strain'), 'Score pending', 'a pending workout says so');
          continue;
        }
        t.equal(numberIn(textOf(row, '.col-strain')), roundTo(workout.strain ?? -1, 1), 'strain');
        t.equal(numberIn(textOf(row, '.col-avg-hr')), workout.average_heart_rate, 'average heart rate');
        t.equal(numberIn(textOf(row, '.col-max-hr')), workout.max_heart_rate, 'max heart rate');
        if (workout.distance_meters === null) t.match(textOf(row, '.col-distance'), /not recorded/);
        else
          t.equal(numberIn(textOf(row, '.col-distance')), roundTo(workout.distance_meters / 1000, 2), 'km');
      }
    }
  },
);
