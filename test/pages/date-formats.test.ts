// Every Intl.DateTimeFormat with a time zone keeps memory that garbage collection never returns, so a
// render must not build one (issue 11): the WHOOP card and the sync status (polled every second while
// a sync runs) and the pages rendered many times build no new formatter once warm.
import t from 'tap';
import { dateFormatsConstructed } from '../../src/presenters/date-formats.ts';
import { linkMember, loginAs, startSyncFixture } from '../sync/support/fixture.ts';

t.test('rendering the card, the sync status and the pages many times builds no new formatter', async (t) => {
  const fixture = await startSyncFixture(t);
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 3 }), {
    timeZone: 'America/New_York',
  });
  const browser = await loginAs(fixture, linked);
  const urls = [
    '/integrations',
    '/integrations/whoop/card',
    '/integrations/whoop/sync/status',
    '/',
    '/sleep',
  ];
  const htmx = { 'hx-request': 'true' };
  // Warm: the zones and styles in use are built once.
  for (const url of urls) t.equal((await browser.get(url, htmx)).statusCode, 200, `${url} renders`);
  const warm = dateFormatsConstructed();
  for (let round = 0; round < 100; round++) {
    for (const url of urls) await browser.get(url, htmx);
  }
  t.equal(dateFormatsConstructed() - warm, 0, '500 more renders built no formatter');
});
