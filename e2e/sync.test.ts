import t from 'tap';
import {
  linkMember,
  PASSWORD,
  runSync,
  startSyncFixture,
  startTestWorker,
} from '../test/sync/support/fixture.ts';
import { captureState } from './support/axe.ts';
import { launchBrowser, logInInBrowser } from './support/harness.ts';

t.test('Sync now shows live progress, then the result, and stops polling', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({
    firstName: 'Ada',
    lastName: 'Lovelace',
    days: 20,
    timezoneOffset: '+01:00',
  });
  const linked = await linkMember(fixture, member, { timeZone: 'Europe/London' });
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded', 'the first sync ran');
  const { port } = new URL(await fixture.app.listen({ host: '127.0.0.1', port: 0 }));
  // The fixture's PUBLIC_BASE_URL host name: pages asked for on another one (127.0.0.1) redirect there.
  const baseUrl = `http://localhost:${port}`;
  await startTestWorker(t, fixture);

  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await logInInBrowser(page, baseUrl, { email: linked.email, password: PASSWORD });
  await page.goto(`${baseUrl}/integrations`);
  const card = page.locator('#whoop-card');
  t.equal(await card.getAttribute('data-status'), 'connected');
  const lastSyncBefore = await card.locator('dd.last-sync time').getAttribute('datetime');

  // Slow WHOOP answers: the sync takes a few polls.
  fixture.sim.setFaults({ latencyMs: 400 });
  // A finished main sleep that has its recovery: rescoring it changes both records, whatever the hour
  // (the newest sleep may still be in progress, with no recovery yet).
  const truth = fixture.sim.groundTruth(member.userId);
  const scoredNight = truth.sleeps.find(
    (sleep) => !sleep.nap && truth.recoveries.some((recovery) => recovery.sleep_id === sleep.id),
  );
  fixture.sim.rescore(member.userId, 'sleep', scoredNight?.id ?? '');
  await card.getByRole('button', { name: 'Sync now' }).click();

  const status = page.locator('#whoop-sync-status');
  await page.locator('#whoop-sync-status[hx-trigger]').waitFor();
  t.equal(
    await card.getByRole('button', { name: 'Sync now' }).isDisabled(),
    true,
    'Sync now waits for the run',
  );
  // A poll that shows a finished domain while the run goes on: live per-domain progress.
  await page.locator('#whoop-sync-status[data-state="running"] li[data-state="done"]').first().waitFor();
  t.match(await status.textContent(), /Syncing…/);
  // The link's first sync read profile and body; they are read at most daily.
  t.match(await status.locator('li[data-domain="profile"]').textContent(), /read daily/);
  await captureState(t, page, 'whoop-sync-progress');

  // The run ends: the card comes back whole with the result, and nothing polls any more.
  await page.locator('#whoop-card .sync-result').waitFor({ timeout: 30_000 });
  t.match(await card.locator('.sync-result').textContent(), /0 records added, 2 records updated\./);
  t.equal(await page.locator('[hx-trigger]').count(), 0, 'polling stopped');
  // Screen readers hear the outcome once, from the live region outside the card (the progress was silent).
  const announcer = page.locator('#whoop-sync-announcer[role="status"][aria-live="polite"]');
  t.equal(
    await announcer.textContent(),
    'The WHOOP sync finished. 0 records added, 2 records updated.',
    'the outcome, announced once',
  );
  t.equal(
    await page.locator('#whoop-card[aria-live], #whoop-card [aria-live]').count(),
    0,
    'the card is not live',
  );
  const lastSyncAfter = await card.locator('dd.last-sync time').getAttribute('datetime');
  t.ok(
    lastSyncAfter && lastSyncBefore && Date.parse(lastSyncAfter) > Date.parse(lastSyncBefore),
    'Last sync moved on',
  );
  t.equal(await card.getByRole('button', { name: 'Sync now' }).isEnabled(), true);
  await captureState(t, page, 'whoop-sync-result');
});
