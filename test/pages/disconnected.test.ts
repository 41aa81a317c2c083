// Without WHOOP data (never linked, or the feature off) the pages show the manual log and say what to do.
// After a Disconnect: test/pages/earlier-link.test.ts.
import t from 'tap';
import { build } from '../helper.ts';
import { page, signUpMember, textOf } from '../support/health-pages.ts';
import { seedWhoopMember } from '../support/wearable-fixtures.ts';

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
