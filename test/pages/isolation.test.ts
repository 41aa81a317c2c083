// A second person never sees, edits or deletes the first person's entries or WHOOP data.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { addDays } from '../../src/services/local-time.ts';
import { build } from '../helper.ts';
import { page, postForm, signUpMember } from '../support/health-pages.ts';
import { seedWhoopMember } from '../support/wearable-fixtures.ts';

t.test('every page and every entry route, tried by a second user', async (t) => {
  const { app, pool } = await build(t);
  const owner = await signUpMember(app, pool, { email: 'owner@example.com', timeZone: 'UTC' });
  await seedWhoopMember(pool, {
    userId: owner.id,
    timeZone: owner.timeZone,
    lastDate: owner.today,
    days: 120,
  });
  const yesterday = addDays(owner.today, -1);
  await postForm(owner, '/sleep', {
    date: yesterday,
    bedTime: '22:00',
    wakeTime: '06:00',
    quality: '3',
    note: 'OWNER-SLEEP-NOTE',
  });
  await postForm(owner, '/exercises', {
    date: yesterday,
    startTime: '12:00',
    activity: 'OWNER-ACTIVITY',
    durationMinutes: '30',
    intensity: '',
    note: 'OWNER-WORKOUT-NOTE',
  });
  const ids = await pool.one(
    sql.type(
      z.object({ sleep: z.number(), workout: z.number(), whoopWorkout: z.number(), whoopDate: z.string() }),
    )`
      SELECT (SELECT id FROM sleep_entry) AS sleep, (SELECT id FROM workout_session) AS workout,
             w.id AS "whoopWorkout", w.local_date AS "whoopDate"
      FROM integration_workout w WHERE w.user_id = ${owner.id} AND w.deleted_at IS NULL
      ORDER BY w.local_date DESC LIMIT 1
    `,
  );
  const snapshot = () =>
    pool.one(sql.type(z.object({ rows: z.string() }))`
      SELECT (SELECT json_agg(s ORDER BY id) FROM sleep_entry s)::text || (SELECT json_agg(w ORDER BY id) FROM workout_session w)::text AS rows
    `);
  const before = await snapshot();

  // The second person: once with no WHOOP link, once linked to a WHOOP account of their own with no data yet.
  const other = await signUpMember(app, pool, { email: 'other@example.com', timeZone: 'UTC' });
  for (const linked of [false, true]) {
    if (linked)
      await seedWhoopMember(pool, {
        userId: other.id,
        timeZone: 'UTC',
        lastDate: other.today,
        days: 0,
        memberId: 'other-member',
      });
    const pages = [
      '/',
      '/sleep',
      `/sleep?until=${yesterday}`,
      '/exercises',
      `/exercises?date=${yesterday}`,
      `/exercises?date=${ids.whoopDate}`,
      '/progress?range=7',
      '/progress?range=90',
    ];
    for (const url of pages) {
      const { status, html, body } = await page(other, url);
      t.equal(status, 200, `${url} (${linked ? 'linked' : 'not linked'})`);
      t.notMatch(body, /OWNER-/, `${url}: none of the owner's entries`);
      t.equal(html.querySelectorAll('.chart-mark').length, 0, `${url}: no chart points`);
      t.equal(
        html.querySelectorAll('tr.night, tr.nap, tr.manual-night, tr.workout').length,
        0,
        `${url}: no rows`,
      );
      t.equal(html.querySelectorAll('.metric').length, 0, `${url}: no metrics`);
    }
    const partial = await other.browser.get('/progress/charts?range=90', { 'hx-request': 'true' });
    t.notMatch(partial.body, /chart-mark/, 'the htmx fragment has no points either');
  }

  const attempts: Array<[string, string, Record<string, string>?]> = [
    ['GET', `/sleep/${ids.sleep}/edit`],
    [
      'POST',
      `/sleep/${ids.sleep}`,
      { date: yesterday, bedTime: '21:00', wakeTime: '05:00', quality: '', note: 'taken over' },
    ],
    ['POST', `/sleep/${ids.sleep}/delete`, {}],
    ['GET', `/exercises/${ids.workout}/edit`],
    [
      'POST',
      `/exercises/${ids.workout}`,
      { date: yesterday, startTime: '10:00', activity: 'X', durationMinutes: '5', intensity: '', note: '' },
    ],
    ['POST', `/exercises/${ids.workout}/delete`, {}],
    ['GET', `/exercises/whoop/${ids.whoopWorkout}/edit`],
    ['POST', `/exercises/whoop/${ids.whoopWorkout}`, {}],
    ['POST', `/exercises/whoop/${ids.whoopWorkout}/delete`, {}],
  ];
  for (const [method, url, form] of attempts) {
    const response = method === 'GET' ? await other.browser.get(url) : await postForm(other, url, form ?? {});
    t.equal(response.statusCode, 404, `${method} ${url}: not found for someone else`);
    t.notMatch(response.body, /OWNER-|taken over/, `${method} ${url}: nothing of the entry shown`);
  }
  // Invalid input on someone else's entry is still a 404, not a form with their values.
  const invalid = await postForm(other, `/sleep/${ids.sleep}`, { date: '', bedTime: '', wakeTime: '' });
  t.equal(invalid.statusCode, 404);
  t.equal((await snapshot()).rows, before.rows, "the owner's entries are unchanged");
});
