// One person cannot spend everyone's WHOOP budget (issue 10, defect 6): Sync now has a per-connection
// cooldown, Connect is rate limited, every WHOOP call (code exchange, profile, revoke) is counted in
// the shared budget, and interactive work may use only a bounded share of each window.
import { parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { createRateBudget } from '../../src/services/whoop/rate-budget.ts';
import { DayBudgetSpentError } from '../../src/services/whoop/sync/errors.ts';
import { csrfTokenFrom } from '../support/browser-session.ts';
import { linkMember, loginAs, runSync, startSyncFixture } from './support/fixture.ts';

const usedRow = z.object({ day_used: z.number(), day_interactive_used: z.number() });
const countRow = z.object({ count: z.number() });

t.test('Sync now starts at most one manual run per cooldown, and says when it can run again', async (t) => {
  const fixture = await startSyncFixture(t, { env: { SYNC_NOW_COOLDOWN_SECONDS: '600' } });
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 3 }), {
    timeZone: 'Europe/Paris',
  });
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const browser = await loginAs(fixture, linked);
  const press = async () => {
    const csrf = csrfTokenFrom((await browser.get('/integrations')).body);
    return browser.post('/integrations/whoop/sync', { _csrf: csrf }, { 'hx-request': 'true' });
  };
  const runs = async () =>
    (
      await fixture.pool.one(sql.type(countRow)`
        SELECT count(*)::int AS count FROM integration_sync_run WHERE connection_id = ${linked.connectionId}
      `)
    ).count;

  t.equal((await press()).statusCode, 200);
  t.equal(await runs(), 2, 'the first press queues a manual run');
  await press();
  t.equal(await runs(), 2, 'pressing again while it waits joins it');
  const manual = await fixture.pool.one(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM integration_sync_run WHERE connection_id = ${linked.connectionId} ORDER BY id DESC LIMIT 1
  `);
  t.equal(await runSync(fixture, manual.id), 'succeeded');

  const tooSoon = await press();
  t.equal(await runs(), 2, 'right after it ended, no new run');
  const message = parse(tooSoon.body).querySelector('#whoop-card .flash');
  t.match(
    message?.text ?? '',
    /Sync now works again at \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M/,
    'the card says when Sync now can run again',
  );
  // The cooldown passes.
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_sync_run SET queued_at = queued_at - interval '11 minutes'
    WHERE connection_id = ${linked.connectionId}
  `);
  await press();
  t.equal(await runs(), 3, 'once the cooldown is over, Sync now queues again');
});

t.test('Connect is rate limited per person', async (t) => {
  const fixture = await startSyncFixture(t);
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 1 }));
  await fixture.services.whoop.disconnect({ userId: linked.userId });
  const browser = await loginAs(fixture, linked);
  const locations: string[] = [];
  for (let press = 0; press < 6; press++) {
    const csrf = csrfTokenFrom((await browser.get('/integrations')).body);
    const response = await browser.post('/integrations/whoop/connect', { _csrf: csrf });
    locations.push(new URL(String(response.headers.location), 'http://localhost:3000').origin);
  }
  const whoop = new URL(fixture.sim.oauthBaseUrl).origin;
  t.same(locations.slice(0, 5), Array(5).fill(whoop), 'five presses go to WHOOP');
  t.equal(locations[5], 'http://localhost:3000', 'the sixth stays here');
  t.match((await browser.get('/integrations')).body, /Too many attempts to connect WHOOP/);
});

t.test('link-time calls and the revoke spend the shared budget', async (t) => {
  const fixture = await startSyncFixture(t);
  const used = async () =>
    fixture.pool.one(sql.type(usedRow)`SELECT day_used, day_interactive_used FROM integration_rate_budget`);
  const before = await used();
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 1 }));
  const afterLink = await used();
  t.equal(afterLink.day_used - before.day_used, 2, 'the code exchange and the profile read');
  t.equal(afterLink.day_interactive_used - before.day_interactive_used, 2, 'counted as interactive');
  await fixture.services.whoop.disconnect({ userId: linked.userId });
  t.equal((await used()).day_used - afterLink.day_used, 1, 'the revoke');
});

t.test('interactive work may use half of a window; background work leaves a tenth', async (t) => {
  const fixture = await startSyncFixture(t);
  const budget = createRateBudget({
    pool: fixture.pool,
    logger: fixture.logs.logger,
    perMinute: 1000,
    perDay: 20,
  });
  /** Reserves until the window refuses; how many were granted. */
  const grantedUntilSpent = async (priority: 'interactive' | 'background') => {
    for (let granted = 0; ; granted++) {
      try {
        await budget.acquire({ priority });
      } catch (error) {
        t.type(error, DayBudgetSpentError, `then ${priority} work waits for the next day window`);
        return granted;
      }
    }
  };
  t.equal(await grantedUntilSpent('interactive'), 10, 'interactive: half of the 20');
  const background = await grantedUntilSpent('background');
  t.equal(background, 8, 'scheduled syncs still had their share: 18 of 20 in all');
});
