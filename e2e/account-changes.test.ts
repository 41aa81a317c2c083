// A person disconnects WHOOP and still sees the history from before; then signs in to WHOOP with
// another account, is asked on a confirmation page, confirms, and sees the new account's data.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { waitFor } from '../test/sync/support/fixture.ts';
import { captureState } from './support/axe.ts';
import { launchBrowser, signUpInBrowser, startAppWithWhoop } from './support/harness.ts';

const sleepRow = z.object({ connection_id: z.number(), external_id: z.string() });

t.test('disconnect keeps the history on the pages; another account asks, then replaces it', async (t) => {
  const { baseUrl, sim, app } = await startAppWithWhoop(t);
  const older = sim.createMember({ firstName: 'Olive', lastName: 'Older', days: 6 });
  const newer = sim.createMember({ firstName: 'Nina', lastName: 'Newer', days: 4 });
  const sleepsOf = () =>
    app.pool.any(
      sql.type(sleepRow)`SELECT connection_id, external_id FROM integration_sleep ORDER BY external_id`,
    );

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: 'UTC' });
  await signUpInBrowser(page, baseUrl, { name: 'Olive', email: 'olive@example.com' });

  // Link Olive's WHOOP account; the worker runs the first sync.
  await page.goto(`${baseUrl}/integrations`);
  await page.locator('#whoop-card').getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(`${sim.oauthBaseUrl}/auth?**`);
  await page.locator('#user_id').selectOption(String(older.userId));
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.waitForURL(`${baseUrl}/integrations`);
  const olderSleeps = sim.groundTruth(older.userId).sleeps.length;
  await waitFor('the first sync', async () => (await sleepsOf()).length === olderSleeps);

  // Disconnect: the history from before stays on Sleep, labelled, read-only.
  await page.reload();
  await page.locator('#whoop-card').getByRole('button', { name: 'Disconnect' }).click();
  await page
    .locator('#whoop-card[data-confirm="disconnect"]')
    .getByRole('button', { name: 'Disconnect' })
    .click();
  await page.locator('#whoop-card[data-status="disconnected"]').waitFor();
  await page.goto(`${baseUrl}/sleep`);
  t.ok((await page.locator('#wearable-nights tr.night').count()) > 0, 'the WHOOP nights are still shown');
  t.match(await page.locator('#wearable-nights .earlier-link').textContent(), /From your earlier WHOOP link/);
  t.equal(await page.locator('#wearable-nights form').count(), 0, 'read-only');
  t.ok(
    await page.getByRole('link', { name: 'Log sleep' }).isVisible(),
    'the sleep log is back for later nights',
  );
  await captureState(t, page, 'whoop-earlier-link-sleep');

  // Connect again, as Nina at WHOOP: the app asks before replacing Olive's data.
  await page.goto(`${baseUrl}/integrations`);
  await page.locator('#whoop-card').getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(`${sim.oauthBaseUrl}/auth?**`);
  await page.locator('#user_id').selectOption(String(newer.userId));
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.waitForURL(`${baseUrl}/integrations/whoop/switch`);
  t.equal(await page.locator('h1').textContent(), 'Switch WHOOP account?');
  t.equal(await page.locator('.previous-account').textContent(), 'Olive Older');
  t.equal(await page.locator('.next-account').textContent(), 'Nina Newer');
  await captureState(t, page, 'whoop-switch-confirmation');
  t.ok((await sleepsOf()).length === olderSleeps, 'nothing replaced before the answer');

  await page.getByRole('button', { name: "Delete the old account's WHOOP data and link this one" }).click();
  await page.waitForURL(`${baseUrl}/integrations`);
  t.match(await page.locator('.flash').textContent(), /WHOOP is linked to Nina Newer/);
  t.equal(await page.locator('#whoop-card dd.member-name').textContent(), 'Nina Newer');
  const newerIds = sim
    .groundTruth(newer.userId)
    .sleeps.map((sleep) => sleep.id)
    .sort();
  await waitFor("the new account's first sync", async () => {
    const ids = (await sleepsOf()).map((sleep) => sleep.external_id);
    return ids.length === newerIds.length && ids.every((id, index) => id === newerIds[index]);
  });

  await page.goto(`${baseUrl}/sleep`);
  t.ok((await page.locator('#wearable-nights tr.night').count()) > 0, "the new account's nights");
  t.equal(await page.locator('.earlier-link').count(), 0, 'a live link: no earlier-link label');
  await captureState(t, page, 'whoop-after-switch-sleep');
});
