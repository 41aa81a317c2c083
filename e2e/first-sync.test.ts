// QA checklist "First sync": right after linking, the card follows the first sync live, then shows its
// result, and the health pages show the WHOOP data.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { captureState } from './support/axe.ts';
import { launchBrowser, signUpInBrowser, startAppWithWhoop } from './support/harness.ts';

const runRow = z.object({ trigger: z.string(), status: z.string() });

t.test('the first sync runs by itself after linking and fills the pages', async (t) => {
  const { baseUrl, sim, app } = await startAppWithWhoop(t);
  const member = sim.createMember({ firstName: 'Frances', lastName: 'Allen', days: 5 });

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: 'UTC' });
  await signUpInBrowser(page, baseUrl, { name: 'Frances', email: 'frances@example.com' });

  await page.goto(`${baseUrl}/integrations`);
  await page.locator('#whoop-card').getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(`${sim.oauthBaseUrl}/auth?**`);
  await page.locator('#user_id').selectOption(String(member.userId));
  // Slow WHOOP answers, so the first sync is seen while it reads.
  sim.setFaults({ latencyMs: 250 });
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.waitForURL(`${baseUrl}/integrations`);

  const card = page.locator('#whoop-card');
  await page.locator('#whoop-sync-status[data-state="running"]').waitFor();
  t.match(await page.locator('#whoop-sync-status').textContent(), /Syncing…/, 'the card says it syncs');
  t.equal(await card.getByRole('button', { name: 'Sync now' }).isDisabled(), true, 'Sync now waits');
  await captureState(t, page, 'first-sync-progress');

  await card.locator('.sync-result').waitFor({ timeout: 60_000 });
  sim.resetFaults();
  t.match(await card.locator('.sync-result').textContent(), /^\d+ records? added, 0 records updated\.$/);
  t.not(await card.locator('dd.last-sync').textContent(), 'Not synced yet', 'Last sync is set');
  await captureState(t, page, 'first-sync-result');

  const runs = await app.pool.any(sql.type(runRow)`SELECT trigger, status FROM integration_sync_run`);
  t.same(runs, [{ trigger: 'initial', status: 'succeeded' }], 'one run: the first sync, succeeded');
  const sleeps = await app.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM integration_sleep WHERE deleted_at IS NULL
  `);
  t.equal(sleeps, sim.groundTruth(member.userId).sleeps.length, 'every sleep WHOOP has is stored');

  await page.goto(`${baseUrl}/sleep`);
  t.ok((await page.locator('#wearable-nights tr.night').count()) > 0, 'Sleep lists the WHOOP nights');
  await captureState(t, page, 'first-sync-sleep');
  await page.goto(`${baseUrl}/integrations/whoop/history`);
  t.match(await page.locator('.sync-run').first().textContent(), /First sync after linking · Succeeded/);
  await captureState(t, page, 'first-sync-history');
});
