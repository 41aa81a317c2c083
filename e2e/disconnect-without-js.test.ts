// Disconnect asks first, and the question works with JavaScript off: the card's button opens a page
// with the question, Cancel goes back with WHOOP still linked, and the form there disconnects.
import t from 'tap';
import { CLIENT_ID, startSim, whoopEnv } from '../test/integrations/support.ts';
import { freePort, launchBrowser, screenshot, signUpInBrowser, startApp } from './support/harness.ts';

// A GET form with no fields submits to the action with an empty query ('?').
const QUESTION = /\/integrations\/whoop\/disconnect\??$/;

t.test('without JavaScript: Disconnect asks on a page of its own; Cancel keeps the link', async (t) => {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const sim = await startSim(t, { redirectUri: `${baseUrl}/integrations/whoop/callback` });
  sim.createMember({ firstName: 'Ada', lastName: 'Lovelace', days: 3 });
  await startApp(t, { port, env: whoopEnv(sim, { PUBLIC_BASE_URL: baseUrl }) });

  const browser = await launchBrowser(t);
  const context = await browser.newContext({ javaScriptEnabled: false });
  t.teardown(() => context.close());
  const page = await context.newPage();
  await signUpInBrowser(page, baseUrl, { name: 'Ada', email: 'ada@example.com' });

  await page.goto(`${baseUrl}/integrations`);
  await page.locator('#whoop-card').getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(`${sim.oauthBaseUrl}/auth?**`);
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.waitForURL(`${baseUrl}/integrations`);
  const card = page.locator('#whoop-card');
  t.not(await card.getAttribute('data-status'), 'disconnected', 'linked');

  await card.getByRole('button', { name: 'Disconnect' }).click();
  await page.waitForURL(QUESTION);
  t.equal(await page.locator('#whoop-card h2').textContent(), 'Disconnect WHOOP?');
  // axe needs scripts in the page; the same question is checked with JavaScript on in integrations.test.ts.
  await screenshot(page, 'whoop-disconnect-confirm-page');
  await page.getByRole('link', { name: 'Cancel, keep WHOOP linked' }).click();
  await page.waitForURL(`${baseUrl}/integrations`);
  t.not(await card.getAttribute('data-status'), 'disconnected', 'Cancel left WHOOP linked');
  t.equal(sim.requestCounts()['DELETE /developer/v2/user/access']?.[CLIENT_ID], undefined, 'nothing revoked');

  await card.getByRole('button', { name: 'Disconnect' }).click();
  await page.waitForURL(QUESTION);
  await page.locator('#whoop-card').getByRole('button', { name: 'Disconnect' }).click();
  await page.waitForURL(`${baseUrl}/integrations`);
  t.equal(await card.getAttribute('data-status'), 'disconnected');
  t.match(await card.textContent(), /WHOOP is disconnected\. Your synced history is kept\./);
  t.equal(sim.requestCounts()['DELETE /developer/v2/user/access']?.[CLIENT_ID], 1, 'revoked at WHOOP');
});
