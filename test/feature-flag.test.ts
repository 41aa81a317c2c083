import { parse } from 'node-html-parser';
import t from 'tap';
import { build } from './helper.ts';
import { BrowserSession, signUp } from './support/browser-session.ts';

function navLabels(html: string): string[] {
  return parse(html)
    .querySelectorAll('nav[aria-label=Main] a')
    .map((link) => link.text);
}

t.test('with the WHOOP feature off, the Integrations link is absent and its routes are 404', async (t) => {
  const { app } = await build(t, { env: { FEATURE_WHOOP_INTEGRATION: 'false' } });
  const browser = new BrowserSession(app);
  await signUp(browser, { email: 'flag-off@example.com' });
  const dashboard = await browser.get('/');
  t.same(navLabels(dashboard.body), ['Dashboard', 'Sleep', 'Exercises', 'Progress']);
  t.notOk(parse(dashboard.body).querySelector('#whoop-prompt'), 'no prompt to link WHOOP');
  const integrations = await browser.get('/integrations');
  t.equal(integrations.statusCode, 404);
});

t.test('with the WHOOP feature on, Integrations is in the navigation and reachable', async (t) => {
  const { app } = await build(t, { env: { FEATURE_WHOOP_INTEGRATION: 'true' } });
  const browser = new BrowserSession(app);
  await signUp(browser, { email: 'flag-on@example.com' });
  const dashboard = await browser.get('/');
  t.same(navLabels(dashboard.body), ['Dashboard', 'Sleep', 'Exercises', 'Progress', 'Integrations']);
  t.equal((await browser.get('/integrations')).statusCode, 200);
});
