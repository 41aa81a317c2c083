// WHOOP workouts are shown beside manual ones but can never be changed here.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { build } from '../helper.ts';
import { page, postForm, signUpMember, textOf } from '../support/health-pages.ts';
import { seedWhoopMember } from '../support/wearable-fixtures.ts';

t.test('a day with both sources: one list by start time, badges, controls only on manual rows', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'both@example.com', timeZone: 'Europe/London' });
  await seedWhoopMember(pool, {
    userId: member.id,
    timeZone: member.timeZone,
    lastDate: member.today,
    days: 30,
  });
  // A past day with a WHOOP morning and evening workout, recorded at home (not on a trip).
  const day = await pool.oneFirst(sql.type(z.object({ local_date: z.string() }))`
    SELECT local_date FROM integration_workout
    WHERE user_id = ${member.id} AND deleted_at IS NULL AND local_date < ${member.today}
    GROUP BY local_date HAVING count(*) = 2 AND bool_and(utc_offset_minutes IN (0, 60))
    ORDER BY local_date DESC LIMIT 1
  `);
  const whoop = await pool.any(sql.type(z.object({ id: z.number(), start_at: z.date() }))`
    SELECT id, start_at FROM integration_workout WHERE user_id = ${member.id} AND local_date = ${day} AND deleted_at IS NULL
  `);
  t.ok(whoop.length >= 2, 'WHOOP has a morning and an evening workout that day');
  // A manual session logged at noon, plus one at the same minute as WHOOP's first: both are kept.
  const form = { date: day, activity: 'Lunch walk', durationMinutes: '25', intensity: '2', note: '' };
  await postForm(member, '/exercises', { ...form, startTime: '12:00' });
  const { html } = await page(member, `/exercises?date=${day}`);
  const rows = html.querySelectorAll('#day-workouts tbody tr');
  t.same(
    rows.map((row) => row.getAttribute('data-source')),
    ['whoop', 'manual', 'whoop'],
    'morning WHOOP, noon manual, evening WHOOP',
  );
  t.same(
    rows.map((row) => textOf(row, '.col-source .badge')),
    ['WHOOP', 'Manual', 'WHOOP'],
    'each with its source badge',
  );
  for (const row of rows) {
    const controls = row.querySelectorAll('a[href*="/edit"], form[action*="/delete"], button');
    if (row.getAttribute('data-source') === 'manual')
      t.equal(controls.length, 3, 'manual: edit link and delete button');
    else {
      t.equal(controls.length, 0, 'WHOOP: no edit or delete controls');
      t.match(textOf(row, '.col-actions'), /Read-only/);
    }
  }
  const headers = html.querySelectorAll('#day-workouts thead th').map((th) => th.text);
  t.same(headers.slice(0, 8), [
    'Activity',
    'Source',
    'Start',
    'Duration',
    'Strain',
    'Avg heart rate',
    'Max heart rate',
    'Distance',
  ]);
  t.ok(html.querySelector('nav[aria-label="Day"] a[rel="prev"]'), 'previous day link');
  t.ok(html.querySelector('nav[aria-label="Day"] a[rel="next"]'), 'next day link (the day is in the past)');
  t.equal(html.querySelector('label[for="date"]')?.text, 'Day', 'a labelled date input');
  const today = await page(member, '/exercises');
  t.notOk(today.html.querySelector('nav[aria-label="Day"] a[rel="next"]'), 'no next day after today');
});

t.test('a WHOOP workout cannot be edited or deleted, by form or by a direct POST', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'ro@example.com' });
  await seedWhoopMember(pool, { userId: member.id, timeZone: 'UTC', lastDate: member.today, days: 10 });
  const workout = await pool.one(sql.type(z.object({ id: z.number(), rows: z.string() }))`
    SELECT id, row_to_json(w)::text AS rows FROM integration_workout w
    WHERE user_id = ${member.id} AND deleted_at IS NULL ORDER BY id LIMIT 1
  `);
  const edit = await member.browser.get(`/exercises/whoop/${workout.id}/edit`);
  t.equal(edit.statusCode, 403, 'no edit form');
  t.match(edit.body, /cannot be edited or deleted/);
  const form = {
    date: member.today,
    startTime: '10:00',
    activity: 'Hacked',
    durationMinutes: '1',
    intensity: '',
    note: '',
  };
  t.equal(
    (await postForm(member, `/exercises/whoop/${workout.id}`, form)).statusCode,
    403,
    'an edit POST is refused',
  );
  t.equal(
    (await postForm(member, `/exercises/whoop/${workout.id}/delete`, {})).statusCode,
    403,
    'a delete POST is refused',
  );
  // Its id on the manual routes addresses no manual session of this person's.
  t.equal((await postForm(member, `/exercises/${workout.id}`, form)).statusCode, 404);
  t.equal((await postForm(member, `/exercises/${workout.id}/delete`, {})).statusCode, 404);
  t.equal((await member.browser.get(`/exercises/${workout.id}/edit`)).statusCode, 404);
  const after = await pool.one(sql.type(z.object({ rows: z.string() }))`
    SELECT row_to_json(w)::text AS rows FROM integration_workout w WHERE id = ${workout.id}
  `);
  t.equal(after.rows, workout.rows, 'the WHOOP row is untouched');
  t.equal(
    (await member.browser.get('/exercises/not-a-number/edit')).statusCode,
    404,
    'a malformed id is not found',
  );
});
