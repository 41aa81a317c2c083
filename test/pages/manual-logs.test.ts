// Manual sleep and workout logs: create, edit, delete, validation, and times in the person's zone.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { addDays } from '../../src/services/local-time.ts';
import { build } from '../helper.ts';
import { minutesIn, page, postForm, signUpMember, textOf } from '../support/health-pages.ts';

const storedSleep = z.object({
  id: z.number(),
  local_date: z.string(),
  bed_at: z.date(),
  wake_at: z.date(),
  quality: z.number().nullable(),
  note: z.string().nullable(),
});
const storedWorkout = z.object({
  id: z.number(),
  local_date: z.string(),
  start_at: z.date(),
  activity: z.string(),
  duration_minutes: z.number(),
});

t.test(
  'a night logged in Los Angeles is stored as the right instants, across midnight and a DST change',
  async (t) => {
    const { app, pool } = await build(t);
    const member = await signUpMember(app, pool, {
      email: 'la@example.com',
      timeZone: 'America/Los_Angeles',
    });
    // 2024-03-10 is spring-forward day in Los Angeles: 23:00 PST to 07:00 PDT is 7 hours, not 8.
    const created = await postForm(member, '/sleep', {
      date: '2024-03-10',
      bedTime: '23:00',
      wakeTime: '07:00',
      quality: '4',
      note: 'Clocks changed',
    });
    t.equal(created.statusCode, 303);
    t.equal(created.headers.location, '/sleep');
    const row = await pool.one(sql.type(storedSleep)`
    SELECT id, local_date, bed_at, wake_at, quality, note FROM sleep_entry WHERE user_id = ${member.id}
  `);
    t.equal(row.local_date, '2024-03-10', 'the night belongs to the morning it ended');
    t.equal(row.bed_at.toISOString(), '2024-03-10T07:00:00.000Z', 'bed 23:00 PST the evening before');
    t.equal(row.wake_at.toISOString(), '2024-03-10T14:00:00.000Z', 'wake 07:00 PDT');
    t.equal(row.quality, 4);
    t.equal(row.note, 'Clocks changed');

    const { html } = await page(member, '/sleep?until=2024-03-12');
    const line = html.querySelector(`#manual-sleep tr[data-id="${row.id}"]`);
    t.equal(line?.getAttribute('data-date'), '2024-03-10');
    t.equal(textOf(line, '.col-bed'), '11:00 PM', 'shown in the person zone');
    t.equal(textOf(line, '.col-wake'), '7:00 AM');
    t.equal(minutesIn(textOf(line, '.col-duration')), 7 * 60, 'seven hours across the DST jump');
    t.equal(textOf(line, '.col-source .badge, .col-date .badge'), 'Manual');

    const edit = await page(member, `/sleep/${row.id}/edit`);
    t.equal(
      edit.html.querySelector('#date')?.getAttribute('value'),
      '2024-03-10',
      'the edit form shows local values',
    );
    t.equal(edit.html.querySelector('#bedTime')?.getAttribute('value'), '23:00');
    t.equal(edit.html.querySelector('#wakeTime')?.getAttribute('value'), '07:00');
  },
);

t.test('a workout late in the evening stays on its local day', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, {
    email: 'late@example.com',
    timeZone: 'America/Los_Angeles',
  });
  const saved = await postForm(member, '/exercises', {
    date: '2024-07-01',
    startTime: '23:30',
    activity: 'Night run',
    durationMinutes: '40',
    intensity: '3',
    note: '',
  });
  t.equal(saved.statusCode, 303);
  t.equal(saved.headers.location, '/exercises?date=2024-07-01');
  const row = await pool.one(sql.type(storedWorkout)`
    SELECT id, local_date, start_at, activity, duration_minutes FROM workout_session WHERE user_id = ${member.id}
  `);
  t.equal(row.start_at.toISOString(), '2024-07-02T06:30:00.000Z', '23:30 PDT is the next day in UTC');
  t.equal(row.local_date, '2024-07-01');
  const day = await page(member, '/exercises?date=2024-07-01');
  const line = day.html.querySelector(`#day-workouts tr[data-id="${row.id}"]`);
  t.equal(textOf(line, '.col-start'), '11:30 PM');
  t.equal(textOf(line, '.col-source .badge'), 'Manual');
  t.equal(minutesIn(textOf(line, '.col-duration')), 40);
  const next = await page(member, '/exercises?date=2024-07-02');
  t.notOk(next.html.querySelector(`tr[data-id="${row.id}"]`), 'not on the UTC date');
});

t.test('sleep entries: create, edit and delete', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'crud@example.com', timeZone: 'Europe/Berlin' });
  const date = addDays(member.today, -1);
  t.equal((await page(member, '/sleep/new')).status, 200);
  await postForm(member, '/sleep', { date, bedTime: '22:45', wakeTime: '06:15', quality: '', note: '' });
  const { id } = await pool.one(
    sql.type(z.object({ id: z.number() }))`SELECT id FROM sleep_entry WHERE user_id = ${member.id}`,
  );
  const listed = await page(member, '/sleep');
  t.match(listed.html.querySelector('.flash')?.text ?? '', /saved/i, 'a confirmation after saving');
  t.equal(minutesIn(textOf(listed.html, `tr[data-id="${id}"] .col-duration`)), 7 * 60 + 30);
  t.ok(listed.html.querySelector(`a[href="/sleep/${id}/edit"]`), 'an edit link');

  const edited = await postForm(member, `/sleep/${id}`, {
    date,
    bedTime: '23:15',
    wakeTime: '06:15',
    quality: '5',
    note: 'Better',
  });
  t.equal(edited.statusCode, 303);
  const after = await page(member, '/sleep');
  t.equal(minutesIn(textOf(after.html, `tr[data-id="${id}"] .col-duration`)), 7 * 60);
  t.equal(textOf(after.html, `tr[data-id="${id}"] .col-note`), 'Better');

  const deleted = await postForm(member, `/sleep/${id}/delete`, {});
  t.equal(deleted.statusCode, 303);
  const count = await pool.oneFirst(
    sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM sleep_entry`,
  );
  t.equal(count, 0, 'deleted');
  t.match(
    textOf((await page(member, '/sleep')).html, '#manual-sleep .empty'),
    /Log sleep/,
    'the empty state says what to do',
  );
  t.equal((await postForm(member, `/sleep/${id}/delete`, {})).statusCode, 404, 'deleting twice: not found');
});

t.test('workout sessions: create, edit and delete', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'gym@example.com' });
  const form = {
    date: member.today,
    startTime: '07:00',
    activity: 'Rowing',
    durationMinutes: '30',
    intensity: '4',
    note: '',
  };
  t.equal(
    (await page(member, `/exercises/new?date=${member.today}`)).html
      .querySelector('#date')
      ?.getAttribute('value'),
    member.today,
  );
  await postForm(member, '/exercises', form);
  const { id } = await pool.one(sql.type(z.object({ id: z.number() }))`SELECT id FROM workout_session`);
  const edited = await postForm(member, `/exercises/${id}`, {
    ...form,
    activity: 'Erg',
    durationMinutes: '45',
  });
  t.equal(edited.statusCode, 303);
  const day = await page(member, `/exercises?date=${member.today}`);
  t.match(textOf(day.html, `tr[data-id="${id}"] .col-activity`), /^Erg/);
  t.equal(minutesIn(textOf(day.html, `tr[data-id="${id}"] .col-duration`)), 45);
  t.ok(
    day.html.querySelector(`tr[data-id="${id}"] a[href="/exercises/${id}/edit"]`),
    'manual rows can be edited',
  );
  const dashboard = await page(member, '/');
  t.match(
    textOf(dashboard.html, `#today-workouts tr[data-id="${id}"] .col-activity`),
    /^Erg/,
    'today on the dashboard',
  );
  t.equal((await postForm(member, `/exercises/${id}/delete`, {})).statusCode, 303);
  const empty = await page(member, `/exercises?date=${member.today}`);
  t.match(textOf(empty.html, '#day-workouts .empty'), /Log a workout/, 'empty day says what to do');
});

t.test('invalid manual entries are refused with messages and nothing is saved', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'typo@example.com', timeZone: 'Asia/Tokyo' });
  const yesterday = addDays(member.today, -1);
  const tomorrow = addDays(member.today, 1);
  const night = { date: yesterday, bedTime: '23:00', wakeTime: '07:00', quality: '', note: '' };
  const badNights: Array<[string, Record<string, string>, string, RegExp]> = [
    ['wake before bed (same evening)', { bedTime: '07:00', wakeTime: '06:00' }, 'wakeTime', /after bed time/],
    ['wake equal to bed', { bedTime: '07:00', wakeTime: '07:00' }, 'wakeTime', /after bed time/],
    ['a date after today', { date: tomorrow }, 'date', /can't be after today/],
    ['a note over 1000 characters', { note: 'z'.repeat(1001) }, 'note', /1000 characters/],
    ['quality out of range', { quality: '6' }, 'quality', /1 to 5/],
    ['a time that is not a time', { bedTime: '25:00' }, 'bedTime', /HH:MM/],
    ['no date', { date: '' }, 'date', /Enter the wake-up date/],
  ];
  for (const [what, change, field, message] of badNights) {
    const response = await postForm(member, '/sleep', { ...night, ...change });
    t.equal(response.statusCode, 422, `sleep: ${what} is refused`);
    const html = (await import('node-html-parser')).parse(response.body);
    t.match(textOf(html, `#${field}-error`), message, `sleep: ${what} says why`);
    t.equal(
      html.querySelector(`#${field}`)?.getAttribute('aria-invalid'),
      'true',
      'the field is marked invalid',
    );
    t.ok(html.querySelector('[role=alert]'), 'a summary is announced');
  }
  const workout = {
    date: yesterday,
    startTime: '18:00',
    activity: 'Run',
    durationMinutes: '30',
    intensity: '',
    note: '',
  };
  const badWorkouts: Array<[string, Record<string, string>, string, RegExp]> = [
    ['a negative duration', { durationMinutes: '-20' }, 'durationMinutes', /more than 0/],
    ['a zero duration', { durationMinutes: '0' }, 'durationMinutes', /more than 0/],
    ['a duration over a day', { durationMinutes: '1441' }, 'durationMinutes', /at most 1440/],
    ['a duration that is not a number', { durationMinutes: 'an hour' }, 'durationMinutes', /whole number/],
    ['a date after today', { date: tomorrow }, 'date', /can't be after today/],
    ['a note over 1000 characters', { note: 'n'.repeat(1001) }, 'note', /1000 characters/],
    ['an activity over 100 characters', { activity: 'a'.repeat(101) }, 'activity', /100 characters/],
    ['no activity', { activity: '   ' }, 'activity', /Enter the activity/],
    ['intensity out of range', { intensity: '0' }, 'intensity', /1 to 5/],
  ];
  for (const [what, change, field, message] of badWorkouts) {
    const response = await postForm(member, '/exercises', { ...workout, ...change });
    t.equal(response.statusCode, 422, `workout: ${what} is refused`);
    const html = (await import('node-html-parser')).parse(response.body);
    t.match(textOf(html, `#${field}-error`), message, `workout: ${what} says why`);
  }
  const refused = await postForm(member, '/exercises', {
    ...workout,
    activity: 'Keep me',
    durationMinutes: '-5',
  });
  t.equal(
    (await import('node-html-parser')).parse(refused.body).querySelector('#activity')?.getAttribute('value'),
    'Keep me',
    'the form keeps what was typed',
  );
  const counts = await pool.one(sql.type(z.object({ sleeps: z.number(), workouts: z.number() }))`
    SELECT (SELECT count(*) FROM sleep_entry)::int AS sleeps, (SELECT count(*) FROM workout_session)::int AS workouts
  `);
  t.same(counts, { sleeps: 0, workouts: 0 }, 'nothing was saved');

  // The same rules on edit: the stored entry is left as it was.
  await postForm(member, '/sleep', night);
  const entry = await pool.one(
    sql.type(storedSleep)`SELECT id, local_date, bed_at, wake_at, quality, note FROM sleep_entry`,
  );
  const edit = await postForm(member, `/sleep/${entry.id}`, { ...night, date: tomorrow });
  t.equal(edit.statusCode, 422);
  const unchanged = await pool.one(
    sql.type(storedSleep)`SELECT id, local_date, bed_at, wake_at, quality, note FROM sleep_entry`,
  );
  t.same(unchanged, entry, 'an invalid edit changes nothing');
});

t.test('today is today in the person zone, not the server zone', async (t) => {
  const { app, pool } = await build(t);
  // Kiritimati is UTC+14 and Niue UTC-11: at any moment their dates differ, and one differs from UTC.
  const ahead = await signUpMember(app, pool, { email: 'ahead@example.com', timeZone: 'Pacific/Kiritimati' });
  const behind = await signUpMember(app, pool, { email: 'behind@example.com', timeZone: 'Pacific/Niue' });
  t.not(ahead.today, behind.today);
  const form = { bedTime: '23:00', wakeTime: '07:00', quality: '', note: '' };
  t.equal(
    (await postForm(ahead, '/sleep', { ...form, date: ahead.today })).statusCode,
    303,
    'its own today is fine',
  );
  t.equal(
    (await postForm(behind, '/sleep', { ...form, date: ahead.today })).statusCode,
    422,
    'a date still to come there is refused',
  );
  const dashboard = await page(ahead, '/');
  t.equal(
    dashboard.html.querySelectorAll('#today-sleep .manual-night').length,
    1,
    'the dashboard shows it as last night',
  );
  t.equal(dashboard.html.querySelector('main > p time')?.getAttribute('datetime'), ahead.today);
});
