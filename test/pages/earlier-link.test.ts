// After a Disconnect, the WHOOP history from before it stays on Sleep, Progress, Exercises and the
// Dashboard, read-only and labelled as the earlier link's; days after the disconnect (in the person's
// zone) show manual entries. Deleted WHOOP records stay hidden.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { addDays, zonedDateTimeToInstant } from '../../src/services/local-time.ts';
import { build } from '../helper.ts';
import { minutesIn, page, postForm, signUpMember, textOf } from '../support/health-pages.ts';
import { seedWhoopMember, setWhoopStatus } from '../support/wearable-fixtures.ts';

const dateRow = z.object({ local_date: z.string() });

t.test('disconnected ten days ago: WHOOP before that date, labelled; manual entries after', async (t) => {
  const { app, pool } = await build(t);
  // Sydney: the disconnect at 08:00 local falls on the previous UTC date, so the zone decides the cutoff.
  const member = await signUpMember(app, pool, { email: 'leaver@example.com', timeZone: 'Australia/Sydney' });
  await seedWhoopMember(pool, {
    userId: member.id,
    timeZone: member.timeZone,
    lastDate: member.today,
    days: 60,
  });
  const through = addDays(member.today, -10);
  const after = addDays(through, 1);
  await postForm(member, '/sleep', {
    date: member.today,
    bedTime: '22:30',
    wakeTime: '06:00',
    quality: '4',
    note: 'By hand',
  });
  await postForm(member, '/sleep', {
    date: addDays(member.today, -2),
    bedTime: '23:00',
    wakeTime: '06:00',
    quality: '',
    note: '',
  });

  // A sync error or a needed re-auth is still a link: everything WHOOP, no label.
  await setWhoopStatus(pool, member.id, 'reauth_required');
  const reauth = await page(member, '/sleep');
  t.ok(reauth.html.querySelector('#wearable-nights tr.night'), 'reauth_required: WHOOP nights');
  t.notOk(reauth.html.querySelector('.earlier-link'), 'reauth_required: not labelled as an earlier link');
  t.notOk(reauth.html.querySelector('#manual-sleep'), 'reauth_required: no manual log');

  await setWhoopStatus(pool, member.id, 'disconnected');
  const disconnectedAt = zonedDateTimeToInstant(through, '08:00', member.timeZone);
  t.equal(disconnectedAt.toISOString().slice(0, 10), addDays(through, -1), 'the UTC date is the day before');
  await pool.query(sql.typeAlias('void')`
    UPDATE integration_connection SET disconnected_at = ${sql.timestamp(disconnectedAt)} WHERE user_id = ${member.id}
  `);
  // A night WHOOP deleted before the disconnect stays hidden.
  const deletedDate = addDays(through, -3);
  await pool.query(sql.typeAlias('void')`
    UPDATE integration_sleep SET deleted_at = now() WHERE user_id = ${member.id} AND local_date = ${deletedDate}
  `);

  await t.test('Sleep: the earlier nights, labelled, then the sleep log', async (t) => {
    const sleep = await page(member, '/sleep');
    const nights = sleep.html
      .querySelectorAll('#wearable-nights tr.night')
      .map((row) => row.getAttribute('data-date'));
    t.ok(nights.length > 0, 'WHOOP nights before the disconnect are shown');
    t.ok(nights.includes(through), 'the night ending on the day of the disconnect (in Sydney) is shown');
    t.ok(
      nights.every((date) => (date ?? '') <= through),
      'no WHOOP night after the disconnect date',
    );
    t.notOk(nights.includes(deletedDate), 'a night WHOOP deleted stays hidden');
    t.match(textOf(sleep.html, '#wearable-nights .earlier-link'), /From your earlier WHOOP link/);
    t.equal(
      sleep.html.querySelector('#wearable-nights .earlier-link')?.getAttribute('data-through'),
      through,
    );
    t.notOk(
      sleep.html.querySelector('#wearable-nights form, #wearable-nights a[href*="/edit"]'),
      'read-only',
    );
    const manual = sleep.html.querySelectorAll('#manual-sleep tbody tr');
    t.same(
      manual.map((row) => row.getAttribute('data-date')),
      [member.today, addDays(member.today, -2)],
      'the two manual entries after the disconnect',
    );
    t.equal(minutesIn(textOf(manual[0], '.col-duration')), 7 * 60 + 30);

    const older = await page(member, `/sleep?until=${addDays(through, -20)}`);
    t.ok(
      older.html.querySelectorAll('#wearable-nights tr.night').length >= 13,
      'earlier pages: the WHOOP history',
    );
  });

  await t.test('Progress: WHOOP series up to the disconnect, labelled; the sleep log after it', async (t) => {
    const progress = await page(member, '/progress?range=30');
    t.match(textOf(progress.html, '#progress-charts .earlier-link'), /From your earlier WHOOP link/);
    const marks = (id: string) =>
      progress.html
        .querySelectorAll(`#${id} .chart-mark`)
        .map((mark) => mark.getAttribute('data-date') ?? '');
    const asleep = marks('chart-sleep-duration');
    t.ok(asleep.length >= 15, 'WHOOP time asleep for the nights before the disconnect');
    t.ok(
      asleep.every((date) => date <= through),
      'and none after it',
    );
    t.ok(marks('chart-recovery').length > 0, 'recovery from the earlier link');
    t.ok(
      marks('chart-strain').every((date) => date <= through),
      'strain only up to the disconnect',
    );
    t.ok(
      progress.html.querySelector('#chart-sleep-duration .badge-whoop'),
      'the WHOOP charts carry the WHOOP badge',
    );
    t.same(
      marks('chart-logged-sleep-duration').sort(),
      [addDays(member.today, -2), member.today],
      'the sleep log charts the nights after the disconnect',
    );
    const week = await page(member, '/progress?range=7');
    t.same(
      week.html.querySelectorAll('.chart').map((chart) => chart.id),
      ['chart-sleep-duration'],
      'a week entirely after the disconnect: the sleep log alone',
    );
    t.notOk(week.html.querySelector('.earlier-link'));
  });

  await t.test('Exercises: WHOOP workouts on days up to the disconnect, none after', async (t) => {
    const before = await pool.oneFirst(sql.type(dateRow)`
      SELECT max(local_date)::text AS local_date FROM integration_workout
      WHERE user_id = ${member.id} AND deleted_at IS NULL AND local_date <= ${through}
    `);
    const later = await pool.oneFirst(sql.type(dateRow)`
      SELECT min(local_date)::text AS local_date FROM integration_workout
      WHERE user_id = ${member.id} AND deleted_at IS NULL AND local_date >= ${after}
    `);
    const shown = await page(member, `/exercises?date=${before}`);
    t.ok(shown.html.querySelector('#day-workouts tr[data-source="whoop"]'), `${before}: WHOOP workouts`);
    t.match(textOf(shown.html, '#day-workouts .earlier-link'), /From your earlier WHOOP link/);
    t.match(textOf(shown.html, '#day-workouts tr[data-source="whoop"] .col-actions'), /Read-only/);
    const hidden = await page(member, `/exercises?date=${later}`);
    t.notOk(hidden.html.querySelector('#day-workouts tr[data-source="whoop"]'), `${later}: no WHOOP workout`);
    t.notOk(hidden.html.querySelector('.earlier-link'));
  });

  await t.test('Dashboard: today is after the disconnect, so the sleep log and a prompt', async (t) => {
    const dashboard = await page(member, '/');
    const card = dashboard.html.querySelector('#today-sleep');
    t.equal(textOf(card, '.badge'), 'Manual');
    t.equal(minutesIn(textOf(card, '.metric-asleep')), 7 * 60 + 30, "last night's manual entry");
    t.notOk(dashboard.html.querySelector('#today-strain'), 'no strain');
    t.notOk(dashboard.html.querySelector('#today-workouts tr[data-source="whoop"]'), 'no WHOOP workouts');
    t.ok(dashboard.html.querySelector('#whoop-prompt a[href="/integrations"]'), 'a prompt to link WHOOP');
  });

  await t.test('Integrations: the card is Disconnected and says the history is kept', async (t) => {
    // What a sync stores besides the records: the card counts on the raw payloads.
    await pool.query(sql.typeAlias('void')`
      INSERT INTO integration_raw_event (connection_id, resource_type, external_id, content_hash, payload)
      SELECT id, 'sleep', 'sleep-1', '\\x01'::bytea, '{}'::jsonb FROM integration_connection WHERE user_id = ${member.id}
    `);
    const integrations = await page(member, '/integrations');
    t.equal(integrations.html.querySelector('#whoop-card')?.getAttribute('data-status'), 'disconnected');
    t.match(
      textOf(integrations.html, '#whoop-card'),
      /history from the earlier link is kept, and still shown read-only/,
    );
  });
});

t.test('disconnected today: today still shows the earlier link, labelled, on the Dashboard', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'today@example.com', timeZone: 'UTC' });
  await seedWhoopMember(pool, {
    userId: member.id,
    timeZone: member.timeZone,
    lastDate: member.today,
    days: 5,
  });
  await setWhoopStatus(pool, member.id, 'disconnected');
  const dashboard = await page(member, '/');
  t.equal(textOf(dashboard.html, '#today-sleep h2 .badge'), 'WHOOP');
  t.match(textOf(dashboard.html, '#today-sleep .earlier-link'), /From your earlier WHOOP link/);
  t.match(textOf(dashboard.html, '#today-strain .earlier-link'), /From your earlier WHOOP link/);
});
