// Issue 13, deliverable 0: a newcomer opens the address the server logs (127.0.0.1) while PUBLIC_BASE_URL
// is localhost, signs up and connects WHOOP. Before the redirect, WHOOP sent them back to localhost,
// where their session cookie (set for 127.0.0.1) was not sent: the login page, never linked.
import t from 'tap';
import { startSim, whoopEnv } from '../test/integrations/support.ts';
import { freePort, launchBrowser, screenshot, startApp } from './support/harness.ts';

t.test('opened on 127.0.0.1, the first run moves to PUBLIC_BASE_URL and ends linked to WHOOP', async (t) => {
  const port = await freePort();
  const publicBaseUrl = `http://localhost:${port}`;
  const listeningUrl = `http://127.0.0.1:${port}`;
  const sim = await startSim(t, { redirectUri: `${publicBaseUrl}/integrations/whoop/callback` });
  sim.createMember({ firstName: 'Ada', lastName: 'Lovelace', days: 3 });
  const app = await startApp(t, { port, env: whoopEnv(sim, { PUBLIC_BASE_URL: publicBaseUrl }) });
  t.equal(app.baseUrl, listeningUrl, 'the server listens on the address its log names first');

  const browser = await launchBrowser(t);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${listeningUrl}/signup?from=log`);
  t.equal(page.url(), `${publicBaseUrl}/signup?from=log`, 'moved to the public address, query kept');
  t.same(
    (await context.cookies(listeningUrl)).map((cookie) => cookie.name),
    [],
    'no cookie was ever set for 127.0.0.1',
  );
  await screenshot(page, 'first-run-moved-to-public-url');

  await page.getByLabel('Name').fill('Ada');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel(/^Password/).fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${publicBaseUrl}/`);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click();
  await page.waitForURL(`${publicBaseUrl}/integrations`);
  await page.locator('#whoop-card').getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(`${sim.oauthBaseUrl}/auth?**`);
  t.match(await page.locator('#member').textContent(), /Ada Lovelace/);
  await page.getByRole('button', { name: 'Grant' }).click();

  // WHOOP returns to PUBLIC_BASE_URL, where the session lives: linked, not the login page.
  await page.waitForURL(`${publicBaseUrl}/integrations`);
  const card = page.locator('#whoop-card');
  t.equal(await card.getAttribute('data-status'), 'connected');
  t.equal(await card.locator('dd.member-name').textContent(), 'Ada Lovelace');
  t.match(await page.locator('.flash').textContent(), /WHOOP is linked/);
  await screenshot(page, 'first-run-linked');
});
