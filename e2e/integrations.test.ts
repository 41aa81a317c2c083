import t from 'tap';
import { CLIENT_ID, startSim, whoopEnv } from '../test/integrations/support.ts';
import { captureState } from './support/axe.ts';
import { freePort, launchBrowser, screenshot, signUpInBrowser, startApp } from './support/harness.ts';

t.test('link WHOOP through the consent page, unlink it, and decline', async (t) => {
  // The app's public URL must be known before it starts: WHOOP redirects back to it.
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const sim = await startSim(t, { redirectUri: `${baseUrl}/integrations/whoop/callback` });
  const member = sim.createMember({ firstName: 'Grace', lastName: 'Hopper', days: 5 });
  const app = await startApp(t, { port, env: whoopEnv(sim, { PUBLIC_BASE_URL: baseUrl }) });
  t.equal(app.baseUrl, baseUrl);

  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await signUpInBrowser(page, baseUrl, { name: 'Grace', email: 'grace@example.com' });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click();
  await page.waitForURL(`${baseUrl}/integrations`);
  const card = page.locator('#whoop-card');
  t.equal(await card.getAttribute('data-status'), 'disconnected');
  await captureState(t, page, 'whoop-disconnected');

  // Connect: WHOOP's consent page (the simulator), Grant, and back to a Connected card.
  await card.getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(`${sim.oauthBaseUrl}/auth?**`);
  t.match(await page.locator('#member').textContent(), /Grace Hopper/, 'WHOOP shows who is granting');
  await screenshot(page, 'whoop-consent');
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.waitForURL(`${baseUrl}/integrations`);
  t.equal(await card.getAttribute('data-status'), 'connected');
  t.match(await card.locator('.status').textContent(), 'Connected');
  t.equal(await card.locator('dd.member-name').textContent(), 'Grace Hopper');
  t.match(await page.locator('.flash').textContent(), /WHOOP is linked/);
  t.equal(await card.getByRole('button', { name: 'Sync now' }).isDisabled(), true);
  await captureState(t, page, 'whoop-connected');

  // Disconnect asks first, inside the card (htmx); confirming swaps the disconnected card in place.
  await card.getByRole('button', { name: 'Disconnect' }).click();
  await page.locator('#whoop-card[data-confirm="disconnect"]').waitFor();
  t.equal(page.url(), `${baseUrl}/integrations`, 'the question opens in place');
  await captureState(t, page, 'whoop-disconnect-confirm');
  await card.getByRole('button', { name: 'Disconnect' }).click();
  await page.locator('#whoop-card[data-status="disconnected"]').waitFor();
  t.match(await page.locator('#whoop-card').textContent(), /WHOOP is disconnected/);
  t.equal(page.url(), `${baseUrl}/integrations`);
  t.equal(sim.requestCounts()['DELETE /developer/v2/user/access']?.[CLIENT_ID], 1, 'revoked at WHOOP');
  await captureState(t, page, 'whoop-after-disconnect');

  // Connect again and Deny: the page says so and nothing is linked.
  await page.locator('#whoop-card').getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(`${sim.oauthBaseUrl}/auth?**`);
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(`${baseUrl}/integrations`);
  t.match(await page.locator('.flash').textContent(), /You declined/);
  t.equal(await page.locator('#whoop-card').getAttribute('data-status'), 'disconnected');
  await captureState(t, page, 'whoop-declined');
  t.equal(
    sim.grants().filter((grant) => grant.userId === member.userId && !grant.revoked).length,
    0,
    'no live grant at WHOOP',
  );
});
