// The pages that show WHOOP data say how old it is ("WHOOP data as of" the end of the last sync that
// read WHOOP, in the person's zone) and warn, with a way to act, when syncing has stopped or failed.
import type { HTMLElement } from 'node-html-parser';
import type { Test } from 'tap';
import t from 'tap';
import { z } from 'zod';
import { formatterFor } from '../../src/presenters/format.ts';
import { sql } from '../../src/services/db/sql.ts';
import { localDateOf } from '../../src/services/local-time.ts';
import type { BrowserSession } from '../support/browser-session.ts';
import { page, signUpMember } from '../support/health-pages.ts';
import {
  type LinkedMember,
  linkMember,
  loginAs,
  runSync,
  type SyncFixture,
  startSyncFixture,
  syncNow,
} from '../sync/support/fixture.ts';

const TIME_ZONE = 'America/Los_Angeles';
const PAGES = ['/', '/sleep', '/progress', '/exercises'] as const;

interface Reader {
  browser: BrowserSession;
  id: number;
  timeZone: string;
  today: string;
}

async function pages(member: Reader) {
  const read: Record<string, HTMLElement> = {};
  for (const url of PAGES) {
    const response = await page(member, url);
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    read[url] = response.html;
  }
  return read;
}

const textOf = (element: HTMLElement | null | undefined) => element?.text.replace(/\s+/g, ' ').trim() ?? '';

function assertAsOf(t: Test, html: HTMLElement, url: string, asOf: Date, earlier = false) {
  const line = html.querySelector('#main .whoop-as-of');
  const expected = formatterFor(TIME_ZONE).dateTime(asOf);
  const from = earlier ? ' from your earlier link' : '';
  t.equal(
    textOf(line),
    `WHOOP data${from} as of ${expected}.`,
    `${url}: as of the last good sync, in the person's zone`,
  );
  t.equal(
    line?.querySelector('time')?.getAttribute('datetime'),
    asOf.toISOString(),
    `${url}: machine-readable`,
  );
}

/** The linked person, logged in, reading the pages in their own time zone. */
async function readerOf(fixture: SyncFixture, linked: LinkedMember) {
  return {
    browser: await loginAs(fixture, linked),
    id: linked.userId,
    timeZone: TIME_ZONE,
    today: localDateOf(new Date(), TIME_ZONE),
  };
}

const finishedRow = z.object({ finished_at: z.date() });
const lastSyncRow = z.object({ last_sync_at: z.date() });

t.test('a linked member: as of the last sync that read WHOOP, and a notice when syncing stops', async (t) => {
  const fixture = await startSyncFixture(t, { env: { WHOOP_BACKFILL_DAYS: '10' } });
  const member = fixture.sim.createMember({ days: 10, timezoneOffset: '-08:00' });
  const linked = await linkMember(fixture, member, { timeZone: TIME_ZONE });
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const { finished_at: asOf } = await fixture.pool.one(sql.type(finishedRow)`
    SELECT finished_at FROM integration_sync_run WHERE id = ${linked.initialRunId}
  `);
  const reader = await readerOf(fixture, linked);

  await t.test('after a sync: every page says when, and warns of nothing', async (t) => {
    const read = await pages(reader);
    for (const url of PAGES) {
      assertAsOf(t, read[url] as HTMLElement, url, asOf);
      t.notOk(read[url]?.querySelector('.whoop-notice'), `${url}: no notice`);
    }
  });

  await t.test('a failed sync does not move "as of", and the pages say it failed', async (t) => {
    fixture.sim.setFaults({ errorOn: ['data'], errorRate: 1, errorStatuses: [401] });
    t.teardown(() => fixture.sim.resetFaults());
    const failed = await syncNow(fixture, linked);
    t.equal(failed.outcome, 'failed');
    const connection = await fixture.pool.one(sql.type(lastSyncRow)`
      SELECT last_sync_at FROM integration_connection WHERE id = ${linked.connectionId}
    `);
    t.ok(connection.last_sync_at > asOf, 'the failed run moved the card’s Last sync');
    const read = await pages(reader);
    for (const url of PAGES) {
      const html = read[url] as HTMLElement;
      assertAsOf(t, html, url, asOf);
      const notice = html.querySelector('#main .whoop-notice');
      t.equal(notice?.getAttribute('data-problem'), 'sync_failed', `${url}: a notice`);
      t.match(
        textOf(notice),
        /The last WHOOP sync failed: WHOOP refused the access token even after renewing it\./,
      );
      t.match(textOf(notice), /It tries again by itself/);
      t.equal(
        notice?.querySelector('a')?.getAttribute('href'),
        '/integrations',
        `${url}: it links to Integrations`,
      );
    }
  });

  await t.test(
    'Reconnect needed: the pages ask for a reconnect, the data stays as of the last good sync',
    async (t) => {
      fixture.sim.resetFaults();
      fixture.sim.revokeAccess(member.userId);
      t.equal((await syncNow(fixture, linked)).outcome, 'failed');
      const read = await pages(reader);
      for (const url of PAGES) {
        const html = read[url] as HTMLElement;
        assertAsOf(t, html, url, asOf);
        const notice = html.querySelector('#main .whoop-notice');
        t.equal(notice?.getAttribute('data-problem'), 'reauth_required', `${url}: a notice`);
        t.match(textOf(notice), /WHOOP needs you to reconnect\./);
        const link = notice?.querySelector('a');
        t.equal(link?.getAttribute('href'), '/integrations');
        t.equal(textOf(link), 'Reconnect WHOOP on Integrations');
      }
    },
  );

  await t.test('after a Disconnect: the earlier link’s data, as of its last sync, no notice', async (t) => {
    await fixture.services.whoop.disconnect({ userId: linked.userId, log: fixture.logs.logger });
    const read = await pages(reader);
    for (const url of PAGES) {
      const html = read[url] as HTMLElement;
      assertAsOf(t, html, url, asOf, true);
      t.notOk(html.querySelector('.whoop-notice'), `${url}: nothing to fix`);
    }
  });
});

t.test('a sync that read part of WHOOP moves "as of"', async (t) => {
  const fixture = await startSyncFixture(t, { env: { WHOOP_BACKFILL_DAYS: '5' } });
  const member = fixture.sim.createMember({ days: 5, timezoneOffset: '-08:00' });
  const linked = await linkMember(fixture, member, { timeZone: TIME_ZONE });
  fixture.sim.setFaults({ malformedRecord: 'sleep' });
  t.equal(await runSync(fixture, linked.initialRunId), 'partial');
  const { finished_at: asOf } = await fixture.pool.one(sql.type(finishedRow)`
    SELECT finished_at FROM integration_sync_run WHERE id = ${linked.initialRunId}
  `);
  const reader = await readerOf(fixture, linked);
  const read = await pages(reader);
  for (const url of PAGES) assertAsOf(t, read[url] as HTMLElement, url, asOf);
});

t.test('linked, before the first sync ends: the pages say so', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 3 });
  const linked = await linkMember(fixture, member, { timeZone: TIME_ZONE });
  const reader = await readerOf(fixture, linked);
  const read = await pages(reader);
  for (const url of PAGES) {
    t.equal(
      textOf(read[url]?.querySelector('#main .whoop-as-of')),
      'No WHOOP sync has finished yet: WHOOP data shows here once the first sync ends.',
      url,
    );
  }
});

t.test('never linked: no freshness line and no notice', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = await signUpMember(fixture.app, fixture.pool, {
    email: 'never@example.com',
    timeZone: TIME_ZONE,
  });
  const read = await pages(member);
  for (const url of PAGES) {
    t.notOk(read[url]?.querySelector('#whoop-freshness'), `${url}: nothing about WHOOP freshness`);
    t.notOk(read[url]?.querySelector('.whoop-notice'), `${url}: no notice`);
  }
});
