// Screen readers hear a sync's outcome once, not the progress lines every second: the card is not a
// live region, the per-domain list is in none, and one polite live region outside the card (which
// htmx replaces) receives the result sentence from the poll that sees the run end.
import { type HTMLElement, parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { csrfTokenFrom } from '../support/browser-session.ts';
import { linkMember, loginAs, runSync, startSyncFixture } from '../sync/support/fixture.ts';

const HTMX = { 'hx-request': 'true' };
const LIVE = '[aria-live], [role=status], [role=alert], [role=log]';

const textOf = (element: HTMLElement | null | undefined) => element?.text.replace(/\s+/g, ' ').trim() ?? '';

/** The nearest element, itself included, that screen readers follow as a live region. */
function liveRegionAround(element: HTMLElement | null | undefined): HTMLElement | null {
  for (let node = element; node; node = node.parentNode) {
    if (
      node.getAttribute?.('aria-live') ||
      ['status', 'alert', 'log'].includes(node.getAttribute?.('role') ?? '')
    )
      return node;
  }
  return null;
}

t.test('the sync progress is silent; its outcome is announced once', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 4 });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const browser = await loginAs(fixture, linked);

  const page = parse((await browser.get('/integrations')).body);
  const announcer = page.querySelector('#whoop-sync-announcer');
  t.equal(announcer?.getAttribute('role'), 'status');
  t.equal(announcer?.getAttribute('aria-live'), 'polite');
  t.equal(textOf(announcer), '', 'says nothing on arrival');
  t.notOk(announcer?.closest('#whoop-card'), 'outside the card that htmx replaces');
  t.notOk(page.querySelector('#whoop-card')?.getAttribute('aria-live'), 'the card is not a live region');
  t.same(
    (page.querySelector('#whoop-card')?.querySelectorAll(LIVE) ?? []).map((element) => element.toString()),
    [],
    'nothing in the card is live',
  );

  await browser.post('/integrations/whoop/sync', { _csrf: csrfTokenFrom(page.toString()) });
  const run = await fixture.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM integration_sync_run WHERE connection_id = ${linked.connectionId} ORDER BY id DESC LIMIT 1
  `);
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_sync_run SET status = 'running', current_domain = 'sleep',
      counts = ${sql.jsonb({ cycle: { fetched: 4, inserted: 1, updated: 2, unchanged: 1, rejected: 0, done: true } })}
    WHERE id = ${run}
  `);

  const running = parse((await browser.get('/integrations')).body);
  const list = running.querySelector('#whoop-card .sync-progress');
  t.ok(list?.querySelector('li[data-domain=cycle]'), 'the per-domain progress is shown');
  t.equal(liveRegionAround(list), null, 'and is in no live region');
  const polled = await browser.get('/integrations/whoop/sync/status', HTMX);
  const partial = parse(polled.body);
  t.ok(partial.querySelector('#whoop-sync-status[hx-trigger="every 1s"]'), 'polled every second');
  t.same(
    partial.querySelectorAll(LIVE).map((element) => element.toString()),
    [],
    'a poll while it runs announces nothing',
  );
  t.notOk(partial.querySelector('[hx-swap-oob]'), 'and does not touch the announcer');

  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_sync_run SET status = 'queued', counts = '{}', current_domain = NULL WHERE id = ${run}
  `);
  t.equal(await runSync(fixture, run), 'succeeded');
  const ended = parse((await browser.get('/integrations/whoop/sync/status', HTMX)).body);
  const result = ended.querySelector('#whoop-card .sync-result');
  t.match(textOf(result), /0 records added, 0 records updated\.|Everything was already up to date\./);
  t.equal(
    liveRegionAround(result),
    null,
    'the result line in the card is not live itself (no double reading)',
  );
  const announcement = ended.querySelectorAll('[hx-swap-oob]');
  t.equal(announcement.length, 1, 'one out-of-band update');
  t.equal(announcement[0]?.id, 'whoop-sync-announcer', 'into the live region that stays on the page');
  t.equal(
    announcement[0]?.getAttribute('hx-swap-oob'),
    'innerHTML',
    'its text only: the region itself stays',
  );
  t.equal(textOf(announcement[0]), `The WHOOP sync finished. ${textOf(result)}`, 'the result sentence');
});

t.test('a failed sync is announced with its reason, once', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 3 });
  const linked = await linkMember(fixture, member);
  const browser = await loginAs(fixture, linked);
  fixture.sim.setFaults({ errorOn: ['data'], errorRate: 1, errorStatuses: [401] });
  t.equal(await runSync(fixture, linked.initialRunId), 'failed');
  const ended = parse((await browser.get('/integrations/whoop/sync/status', HTMX)).body);
  t.equal(ended.querySelector('#whoop-card')?.getAttribute('data-status'), 'error');
  t.equal(
    liveRegionAround(ended.querySelector('#whoop-card .last-error')),
    null,
    'the card’s error is not an alert too',
  );
  const announcement = ended.querySelectorAll('[hx-swap-oob]');
  t.equal(announcement.length, 1);
  t.equal(
    textOf(announcement[0]),
    'The WHOOP sync failed: WHOOP refused the access token even after renewing it. The next sync will try again.',
  );
});
