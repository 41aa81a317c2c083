// QA checklist "A scheduled sync": a connection whose next sync is due is picked up by the schedule
// tick (the worker's every-minute whoop_sync_tick job), synced, and listed as "Scheduled" in the history.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import {
  linkMember,
  PASSWORD,
  runSync,
  startSyncFixture,
  startTestWorker,
  waitForRunEnd,
} from '../test/sync/support/fixture.ts';
import { captureState } from './support/axe.ts';
import { freePort, launchBrowser, logInInBrowser } from './support/harness.ts';

const scheduledRun = z.object({ id: z.number() });

t.test('a due connection syncs on the schedule and the history says so', async (t) => {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const fixture = await startSyncFixture(t, { env: { PUBLIC_BASE_URL: baseUrl } });
  const member = fixture.sim.createMember({ firstName: 'Katherine', lastName: 'Johnson', days: 5 });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded', 'the first sync ran');
  await fixture.app.listen({ host: '127.0.0.1', port });
  await startTestWorker(t, fixture);

  // The slot has come: as the worker's tick would see it a minute after 06:00 or 18:00.
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_connection SET next_sync_at = now() - interval '1 minute' WHERE id = ${linked.connectionId}
  `);
  const tick = await fixture.services.whoopSync.tick();
  t.same(tick.enqueued, [linked.connectionId], 'the tick enqueued the due connection');
  const run = await fixture.pool.one(sql.type(scheduledRun)`
    SELECT id FROM integration_sync_run WHERE connection_id = ${linked.connectionId} AND trigger = 'scheduled'
  `);
  const ended = await waitForRunEnd(fixture, run.id);
  t.equal(ended.status, 'succeeded', 'the worker ran it');
  const next = await fixture.pool.oneFirst(sql.type(z.object({ next_sync_at: z.date() }))`
    SELECT next_sync_at FROM integration_connection WHERE id = ${linked.connectionId}
  `);
  t.ok(next.getTime() > Date.now(), 'the next slot is in the future');

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: 'UTC' });
  await logInInBrowser(page, baseUrl, { email: linked.email, password: PASSWORD });
  await page.goto(`${baseUrl}/integrations`);
  const card = page.locator('#whoop-card');
  t.equal(await card.getAttribute('data-status'), 'connected');
  t.equal(
    await card.locator('dd.next-sync time').getAttribute('datetime'),
    next.toISOString(),
    'Next sync shows the following slot',
  );
  await captureState(t, page, 'scheduled-sync-card');

  await card.getByRole('link', { name: 'Sync history' }).click();
  await page.waitForURL(`${baseUrl}/integrations/whoop/history`);
  const newest = page.locator('.sync-run').first();
  t.equal(await newest.getAttribute('data-run-id'), String(run.id));
  t.match(await newest.locator('.sync-run-head').textContent(), /Scheduled · Succeeded/);
  await captureState(t, page, 'scheduled-sync-history');
});
