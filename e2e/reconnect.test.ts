// QA checklist "Reconnect needed" and "Reconnect": the member revokes the app at WHOOP, the next sync
// finds out and the card asks for a reconnect; reconnecting the same WHOOP account keeps the history,
// and so does connecting it again after a Disconnect.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { waitFor } from '../test/sync/support/fixture.ts';
import { captureState } from './support/axe.ts';
import { launchBrowser, signUpInBrowser, startAppWithWhoop } from './support/harness.ts';

const connectionRow = z.object({
  id: z.number(),
  status: z.string(),
  last_sync_error: z.string().nullable(),
});

t.test('revoked at WHOOP: Reconnect needed, then Reconnect keeps the history', async (t) => {
  const { baseUrl, sim, app } = await startAppWithWhoop(t);
  const member = sim.createMember({ firstName: 'Dorothy', lastName: 'Vaughan', days: 4 });
  const connection = () =>
    app.pool.one(sql.type(connectionRow)`SELECT id, status, last_sync_error FROM integration_connection`);
  const storedSleeps = () =>
    app.pool.oneFirst(
      sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM integration_sleep`,
    );

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: 'UTC' });
  await signUpInBrowser(page, baseUrl, { name: 'Dorothy', email: 'dorothy@example.com' });
  const grant = async (button: 'Connect' | 'Reconnect') => {
    await page.locator('#whoop-card').getByRole('button', { name: button, exact: true }).click();
    await page.waitForURL(`${sim.oauthBaseUrl}/auth?**`);
    await page.locator('#user_id').selectOption(String(member.userId));
    await page.getByRole('button', { name: 'Grant' }).click();
    await page.waitForURL(`${baseUrl}/integrations`);
  };
  await page.goto(`${baseUrl}/integrations`);
  await grant('Connect');
  await page.locator('#whoop-card .sync-result').waitFor({ timeout: 60_000 });
  const synced = await storedSleeps();
  t.ok(synced > 0, 'the first sync stored the history');
  const linked = await connection();

  // The member removes the app in WHOOP's settings: the next sync (Sync now here) is refused.
  sim.revokeAccess(member.userId);
  await page.locator('#whoop-card').getByRole('button', { name: 'Sync now' }).click();
  await page.locator('#whoop-card[data-status="reauth_required"]').waitFor({ timeout: 60_000 });
  const card = page.locator('#whoop-card');
  t.equal(await card.locator('.status').textContent(), 'Reconnect needed');
  t.match(await card.textContent(), /WHOOP no longer accepts this app's access for Dorothy Vaughan/);
  t.equal(
    await card.getByRole('button', { name: 'Sync now' }).count(),
    0,
    'nothing to sync until reconnected',
  );
  const broken = await connection();
  t.equal(broken.status, 'reauth_required');
  t.ok(broken.last_sync_error, 'the reason is stored');
  t.equal(await storedSleeps(), synced, 'the history is kept');
  await captureState(t, page, 'whoop-reconnect-needed');

  // Reconnect: the same WHOOP account, the same connection, the history continues.
  await grant('Reconnect');
  t.match(await page.locator('.flash').textContent(), /WHOOP is linked/);
  t.equal((await card.getAttribute('data-status')) === 'disconnected', false, 'linked again');
  await waitFor(
    'the connection to be live again',
    async () => (await connection()).status !== 'reauth_required',
  );
  t.equal((await connection()).id, linked.id, 'the same connection row');
  await page.locator('#whoop-card .sync-result').waitFor({ timeout: 60_000 });
  t.equal(await card.getAttribute('data-status'), 'connected');
  t.equal(await storedSleeps(), synced, 'nothing lost, nothing doubled');
  await captureState(t, page, 'whoop-reconnected');

  // Disconnect, then connect the same WHOOP account again: no question, the history continues.
  await card.getByRole('button', { name: 'Disconnect' }).click();
  await page
    .locator('#whoop-card[data-confirm="disconnect"]')
    .getByRole('button', { name: 'Disconnect' })
    .click();
  await page.locator('#whoop-card[data-status="disconnected"]').waitFor();
  t.equal((await connection()).status, 'disconnected');
  await grant('Connect');
  t.equal(page.url(), `${baseUrl}/integrations`, 'no switch question for the same account');
  t.match(await page.locator('.flash').textContent(), /WHOOP is linked/);
  t.equal((await connection()).id, linked.id, 'the same connection continues');
  await page.locator('#whoop-card .sync-result').waitFor({ timeout: 60_000 });
  t.equal(await storedSleeps(), synced, 'the history continues, nothing doubled');
  await captureState(t, page, 'whoop-connected-again');
});
