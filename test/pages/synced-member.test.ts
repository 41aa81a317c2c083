// End to end with the real sync: a simulator member linked and synced, then the pages show what the
// sync stored (the other page tests write normalized rows directly, for exact fixtures).
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { addDays, localDateOf } from '../../src/services/local-time.ts';
import { BrowserSession } from '../support/browser-session.ts';
import { assertNightRow, page, storedSleeps } from '../support/health-pages.ts';
import { linkMember, runSync, startSyncFixture } from '../sync/support/fixture.ts';

const TIME_ZONE = 'Africa/Johannesburg'; // +02:00 all year, as the simulator member

t.test('a synced simulator member: Sleep, Progress and Exercises show the stored rows', async (t) => {
  const fixture = await startSyncFixture(t, { env: { WHOOP_BACKFILL_DAYS: '20' } });
  const simMember = fixture.sim.createMember({ days: 20, timezoneOffset: '+02:00' });
  const linked = await linkMember(fixture, simMember, { timeZone: TIME_ZONE });
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const email = await fixture.pool.oneFirst(sql.type(z.object({ email: z.string() }))`
    SELECT email::text FROM app_user WHERE id = ${linked.userId}
  `);
  const browser = new BrowserSession(fixture.app);
  t.equal(
    (await browser.submit('/login', '/login', { email, password: 'correct horse battery' })).statusCode,
    303,
  );
  const member = {
    browser,
    id: linked.userId,
    timeZone: TIME_ZONE,
    today: localDateOf(new Date(), TIME_ZONE),
  };

  const from = addDays(member.today, -13);
  const nights = await storedSleeps(fixture.pool, member.id, from, member.today, 'primary');
  t.ok(nights.length >= 10, `the sync stored nights (${nights.length})`);
  const sleep = await page(member, '/sleep');
  t.same(
    sleep.html.querySelectorAll('#wearable-nights tbody tr').map((row) => row.getAttribute('data-date')),
    nights.map((night) => night.local_date),
  );
  for (const night of nights) {
    assertNightRow(
      t,
      sleep.html.querySelector(`#wearable-nights tr[data-date="${night.local_date}"]`),
      night,
    );
  }

  const scoredNights = await fixture.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM integration_sleep
    WHERE user_id = ${member.id} AND is_primary AND score_state = 'SCORED' AND asleep_ms IS NOT NULL
      AND deleted_at IS NULL AND local_date BETWEEN ${addDays(member.today, -29)} AND ${member.today}
  `);
  const progress = await page(member, '/progress?range=30');
  t.equal(progress.html.querySelectorAll('#chart-sleep-duration .chart-mark').length, scoredNights);

  const day = await fixture.pool.maybeOneFirst(sql.type(z.object({ local_date: z.string() }))`
    SELECT local_date FROM integration_workout WHERE user_id = ${member.id} AND deleted_at IS NULL
    ORDER BY local_date DESC LIMIT 1
  `);
  if (day) {
    const ids = await fixture.pool.anyFirst(sql.type(z.object({ id: z.number() }))`
      SELECT id FROM integration_workout WHERE user_id = ${member.id} AND local_date = ${day} AND deleted_at IS NULL
      ORDER BY start_at
    `);
    const exercises = await page(member, `/exercises?date=${day}`);
    t.same(
      exercises.html.querySelectorAll('#day-workouts tbody tr').map((row) => row.getAttribute('data-id')),
      ids.map(String),
      `the synced workouts of ${day}`,
    );
  }
});
