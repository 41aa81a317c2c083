// Progress over the year the backfill covers: one point per ISO week (the mean of its days), and the
// body measurements WHOOP keeps (weight, height, max heart rate) with their units and date.
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { addDays } from '../../src/services/local-time.ts';
import { build } from '../helper.ts';
import { page, signUpMember, textOf } from '../support/health-pages.ts';
import { seedWhoopMember, setWhoopStatus } from '../support/wearable-fixtures.ts';

async function setup(t: Test, email = 'year@example.com') {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email, timeZone: 'Europe/Berlin' });
  const seed = await seedWhoopMember(pool, {
    userId: member.id,
    timeZone: member.timeZone,
    lastDate: member.today,
  });
  return { app, pool, member, seed };
}

const weekRow = z.object({ monday: z.string(), mean: z.number(), days: z.number() });

t.test('Progress 365 days: one point per Monday-to-Sunday week, the mean of its days', async (t) => {
  const { pool, member } = await setup(t);
  const from = addDays(member.today, -364);
  const { status, html } = await page(member, '/progress?range=365');
  t.equal(status, 200);
  t.equal(html.querySelector('.range-switch a[aria-current="page"]')?.text, 'Last 365 days');
  t.equal(
    html.querySelector('.range-switch a[aria-current="page"]')?.getAttribute('href'),
    '/progress?range=365',
  );

  // Read back independently: PostgreSQL's date_trunc('week') is the ISO (Monday) week.
  const weeks = (query: ReturnType<typeof sql.fragment>) =>
    pool.any(sql.type(weekRow)`
      SELECT to_char(date_trunc('week', local_date), 'YYYY-MM-DD') AS monday, avg(value)::float8 AS mean,
             count(*)::int AS days
      FROM (${query}) daily
      GROUP BY 1 ORDER BY 1
    `);
  const expected = {
    'chart-sleep-duration': await weeks(sql.fragment`
      SELECT local_date, asleep_ms / 3600000.0 AS value FROM integration_sleep
      WHERE user_id = ${member.id} AND is_primary AND deleted_at IS NULL AND score_state = 'SCORED'
        AND local_date BETWEEN ${from} AND ${member.today}`),
    'chart-recovery': await weeks(sql.fragment`
      SELECT local_date, recovery_score AS value FROM integration_recovery
      WHERE user_id = ${member.id} AND score_state = 'SCORED' AND deleted_at IS NULL
        AND local_date BETWEEN ${from} AND ${member.today}`),
    'chart-strain': await weeks(sql.fragment`
      SELECT local_date, strain AS value FROM integration_cycle
      WHERE user_id = ${member.id} AND score_state = 'SCORED' AND deleted_at IS NULL
        AND local_date BETWEEN ${from} AND ${member.today}`),
  };
  for (const [id, rows] of Object.entries(expected)) {
    const chart = html.querySelector(`#${id}`);
    const marks = chart?.querySelectorAll('.chart-mark') ?? [];
    t.ok(rows.length >= 53 && rows.length <= 54, `${id}: a year spans 53 or 54 weeks (${rows.length})`);
    t.equal(marks.length, rows.length, `${id}: one point per week, not 365`);
    t.match(
      textOf(chart, '.chart-caption'),
      /weekly averages, Monday to Sunday/,
      `${id}: the caption says so`,
    );
    t.match(
      chart?.querySelector('desc')?.text,
      /weeks with data \(weekly averages/,
      `${id}: so does the description`,
    );
    for (const [index, row] of rows.entries()) {
      const mark = marks[index];
      const first = index === 0;
      t.equal(
        mark?.getAttribute('data-date'),
        first && row.monday < from ? from : row.monday,
        `${id} week ${row.monday} starts`,
      );
      const sunday = addDays(row.monday, 6);
      // A week of one day (the range ends on a Monday) is a point like any day's.
      t.equal(
        mark?.getAttribute('data-through') ?? mark?.getAttribute('data-date'),
        [sunday, member.today].sort()[0],
        `${id} week ${row.monday} ends on its Sunday (or today)`,
      );
      t.ok(
        Math.abs(Number(mark?.getAttribute('data-value')) - row.mean) < 1e-9,
        `${id} week ${row.monday}: the mean of its ${row.days} days`,
      );
    }
    const tableRows = chart?.querySelectorAll('.chart-data tbody tr') ?? [];
    t.equal(tableRows.length, rows.length, `${id}: the table lists the same weeks`);
    t.match(textOf(tableRows[1], 'th'), / to /, `${id}: a table row names its week's first and last day`);
  }
  // The axis names the year: a year-long range starts and ends on the same day of the month.
  const axis = html.querySelectorAll('#chart-recovery .chart-grid text').map((text) => text.text);
  t.ok(
    axis.some((label) => /\d{4}/.test(label)),
    'the date axis shows years',
  );

  const ninety = await page(member, '/progress?range=90');
  t.notOk(ninety.html.querySelector('.chart-caption'), '90 days: daily points, no weekly caption');
  t.notOk(ninety.html.querySelector('.chart-mark[data-through]'), '90 days: every point is one day');

  const partial = await member.browser.get('/progress/charts?range=365', { 'hx-request': 'true' });
  t.equal(partial.statusCode, 200, 'the htmx range switch serves 365 days too');
  t.match(partial.body, /Last 365 days/);
});

t.test('Progress: a range it does not offer still shows the default 30 days, never an error', async (t) => {
  const { member } = await setup(t, 'odd-range@example.com');
  for (const range of ['12', '364', '366', '-365', 'year', '365abc', '']) {
    const { status, html } = await page(member, `/progress?range=${encodeURIComponent(range)}`);
    t.equal(status, 200, `range=${range}: answered`);
    t.equal(
      html.querySelector('.range-switch a[aria-current="page"]')?.text,
      'Last 30 days',
      `range=${range}: the default range`,
    );
  }
  const plain = await member.browser.get('/progress/charts?range=366');
  t.equal(plain.statusCode, 303);
  t.equal(plain.headers.location, '/progress?range=30', 'the fragment URL sends an odd range to the default');
});

const insertBody = (
  pool: Awaited<ReturnType<typeof setup>>['pool'],
  member: { id: number },
  connectionId: number,
  values: { height: number | null; weight: number | null; maxHeartRate: number | null; measuredAt: string },
) =>
  pool.query(sql.typeAlias('void')`
    INSERT INTO integration_body_measurement
      (connection_id, user_id, provider, external_id, height_meters, weight_kilograms, max_heart_rate, measured_at)
    VALUES (${connectionId}, ${member.id}, 'whoop', ${`member-${member.id}`}, ${values.height}, ${values.weight},
            ${values.maxHeartRate}, ${values.measuredAt})
  `);

t.test('Progress: body measurements with their units and date; nothing when WHOOP has none', async (t) => {
  const { pool, member, seed } = await setup(t, 'body@example.com');
  const before = await page(member, '/progress');
  t.notOk(before.html.querySelector('#body-measurements'), 'WHOOP had none (404): no Body section');

  // 23:30 UTC on Jan 14 is already Jan 15 in Berlin: the date is the member's.
  await insertBody(pool, member, seed.connectionId, {
    height: 1.8288,
    weight: 90.7185,
    maxHeartRate: 200,
    measuredAt: '2026-01-14T23:30:00Z',
  });
  const { html } = await page(member, '/progress');
  const body = html.querySelector('#body-measurements');
  t.ok(body, 'a Body section');
  t.equal(textOf(body, 'h2 .badge'), 'WHOOP', 'marked as WHOOP data');
  t.equal(textOf(body, '.body-weight'), '90.7 kg');
  t.equal(textOf(body, '.body-height'), '1.83 m');
  t.equal(textOf(body, '.body-max-heart-rate'), '200 bpm');
  t.equal(body?.querySelector('time')?.getAttribute('datetime'), '2026-01-15', 'as of the date in Berlin');
  t.match(textOf(body, 'p.muted'), /^As of Jan 15, 2026/);
  t.notOk(body?.querySelector('.earlier-link'), 'linked: not labelled as an earlier link');
  const other = await page(member, '/progress?range=7');
  t.ok(other.html.querySelector('#body-measurements'), 'every range shows it');

  await t.test('a value WHOOP left empty is left out, not shown as zero', async (t) => {
    await pool.query(sql.typeAlias('void')`
      UPDATE integration_body_measurement SET max_heart_rate = NULL WHERE user_id = ${member.id}
    `);
    const { html } = await page(member, '/progress');
    t.ok(html.querySelector('#body-measurements .body-weight'));
    t.notOk(html.querySelector('#body-measurements .body-max-heart-rate'));
  });

  await t.test('after a Disconnect: still shown, labelled as the earlier link, read-only', async (t) => {
    await setWhoopStatus(pool, member.id, 'disconnected');
    const { html } = await page(member, '/progress');
    const body = html.querySelector('#body-measurements');
    t.equal(textOf(body, '.body-weight'), '90.7 kg');
    t.match(textOf(body, '.earlier-link'), /From your earlier WHOOP link\. Read-only/);
    t.notOk(body?.querySelector('form, a[href*="edit"]'), 'nothing to edit');
  });

  await t.test('a measurement marked deleted is not shown', async (t) => {
    await pool.query(sql.typeAlias('void')`
      UPDATE integration_body_measurement SET deleted_at = now() WHERE user_id = ${member.id}
    `);
    t.notOk((await page(member, '/progress')).html.querySelector('#body-measurements'));
  });
});

t.test('Progress: no Body section for a member who never linked WHOOP', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'manual@example.com' });
  const { status, html } = await page(member, '/progress?range=365');
  t.equal(status, 200);
  t.notOk(html.querySelector('#body-measurements'));
  t.match(textOf(html, '#chart-sleep-duration .empty'), /No sleep logged/);
});

t.test("Progress: another member's body measurement is never shown", async (t) => {
  const { app, pool, member, seed } = await setup(t, 'owner@example.com');
  await insertBody(pool, member, seed.connectionId, {
    height: 1.7,
    weight: 60,
    maxHeartRate: 190,
    measuredAt: '2026-01-01T12:00:00Z',
  });
  const stranger = await signUpMember(app, pool, { email: 'stranger@example.com' });
  await seedWhoopMember(pool, { userId: stranger.id, timeZone: 'UTC', lastDate: stranger.today, days: 7 });
  t.notOk((await page(stranger, '/progress')).html.querySelector('#body-measurements'));
});
