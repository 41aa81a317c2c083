// After a disconnect (history kept), Sleep, Dashboard and Progress show the manual log again.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { addDays } from '../../src/services/local-time.ts';
import { build } from '../helper.ts';
import { minutesIn, page, postForm, signUpMember, textOf } from '../support/health-pages.ts';
import { seedWhoopMember, setWhoopStatus } from '../support/wearable-fixtures.ts';

t.test('linked, then disconnected: WHOOP data gives way to manual entries', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'leaver@example.com', timeZone: 'Australia/Sydney' });
  await seedWhoopMember(pool, {
    userId: member.id,
    timeZone: member.timeZone,
    lastDate: member.today,
    days: 60,
  });
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

  const linkedSleep = await page(member, '/sleep');
  t.ok(linkedSleep.html.querySelector('#wearable-nights tr.night'), 'linked: WHOOP nights');
  t.notOk(linkedSleep.html.querySelector('#manual-sleep'), 'linked: no manual log');
  const linkedDashboard = await page(member, '/');
  t.equal(textOf(linkedDashboard.html, '#today-sleep h2 .badge'), 'WHOOP');

  // A sync error or a needed re-auth is still a link: the synced history stays on the pages.
  await setWhoopStatus(pool, member.id, 'reauth_required');
  t.ok(
    (await page(member, '/sleep')).html.querySelector('#wearable-nights tr.night'),
    'reauth_required: still WHOOP',
  );

  await setWhoopStatus(pool, member.id, 'disconnected');
  const kept = await pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM integration_sleep WHERE user_id = ${member.id}
  `);
  t.ok(kept > 0, 'the WHOOP history is kept in the database');

  const sleep = await page(member, '/sleep');
  t.notOk(sleep.html.querySelector('#wearable-nights'), 'disconnected: no WHOOP nights');
  const rows = sleep.html.querySelectorAll('#manual-sleep tbody tr');
  t.equal(rows.length, 2, 'the two manual entries');
  t.equal(minutesIn(textOf(rows[0], '.col-duration')), 7 * 60 + 30);
  t.equal(textOf(rows[0], '.col-note'), 'By hand');

  const dashboard = await page(member, '/');
  const card = dashboard.html.querySelector('#today-sleep');
  t.notOk(card?.querySelector('.badge-whoop'), 'no WHOOP badge on the sleep card');
  t.equal(minutesIn(textOf(card, '.metric-asleep')), 7 * 60 + 30, "last night's manual entry");
  t.equal(textOf(card, '.badge'), 'Manual');
  t.notOk(dashboard.html.querySelector('#today-strain'), 'no strain without WHOOP');
  t.notOk(dashboard.html.querySelector('#today-workouts tr[data-source="whoop"]'), 'no WHOOP workouts');
  t.ok(dashboard.html.querySelector('#whoop-prompt a[href="/integrations"]'), 'a prompt to link WHOOP');

  const progress = await page(member, '/progress?range=7');
  const charts = progress.html.querySelectorAll('.chart');
  t.same(
    charts.map((chart) => chart.id),
    ['chart-sleep-duration'],
    'only the manual sleep duration chart',
  );
  t.equal(charts[0]?.querySelectorAll('.chart-mark').length, 2, 'one bar per logged night');
  t.notOk(charts[0]?.querySelector('.badge-whoop'), 'no WHOOP badge on manual data');
});

t.test('a person who never linked WHOOP sees empty states that say what to do', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'new@example.com' });
  const dashboard = await page(member, '/');
  t.ok(dashboard.html.querySelector('#today-sleep a[href="/sleep/new"]'), 'log last night');
  t.ok(dashboard.html.querySelector('#today-workouts a[href^="/exercises/new"]'), 'log a workout');
  t.ok(dashboard.html.querySelector('#whoop-prompt'), 'link WHOOP');
  const progress = await page(member, '/progress');
  t.match(textOf(progress.html, '#chart-sleep-duration .empty'), /Log a night on the Sleep page/);
  t.notOk(progress.html.querySelector('svg'), 'no empty chart drawn');
});

t.test('with the WHOOP feature off, WHOOP data and prompts stay off the pages', async (t) => {
  const { app, pool } = await build(t, { env: { FEATURE_WHOOP_INTEGRATION: 'false' } });
  const member = await signUpMember(app, pool, { email: 'off@example.com' });
  await seedWhoopMember(pool, { userId: member.id, timeZone: 'UTC', lastDate: member.today, days: 5 });
  const dashboard = await page(member, '/');
  t.notOk(dashboard.html.querySelector('#whoop-prompt'));
  t.notOk(dashboard.html.querySelector('.badge-whoop'));
  t.notOk((await page(member, '/sleep')).html.querySelector('#wearable-nights'));
  t.notMatch(
    (await page(member, '/sleep')).body,
    /href="\/integrations"/,
    'no link to a page that does not exist',
  );
});
