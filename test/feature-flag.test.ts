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

t.test(
  'with the WHOOP feature off, no WHOOP address exists and forms may go nowhere but the site',
  async (t) => {
    const { app } = await build(t, { env: { FEATURE_WHOOP_INTEGRATION: 'false' } });
    const browser = new BrowserSession(app);
    await signUp(browser, { email: 'flag-off-routes@example.com' });
    for (const url of ['/integrations/whoop/history', '/integrations/whoop/callback?code=c&state=s']) {
      t.equal((await browser.get(url)).statusCode, 404, `GET ${url}`);
    }
    t.equal((await browser.post('/integrations/whoop/connect', {})).statusCode, 404, 'Connect');
    const dashboard = await browser.get('/');
    t.match(String(dashboard.headers['content-security-policy']), /form-action 'self'(;|$)/);
  },
);

t.test('with the WHOOP feature on, forms may also go to WHOOP for consent', async (t) => {
  const { app } = await build(t, {
    env: { FEATURE_WHOOP_INTEGRATION: 'true', WHOOP_OAUTH_BASE_URL: 'https://whoop.example/oauth/oauth2' },
  });
  const page = await app.inject({ url: '/login' });
  t.match(
    String(page.headers['content-security-policy']),
    /form-action 'self' https:\/\/whoop\.example(;|$)/,
  );
});
