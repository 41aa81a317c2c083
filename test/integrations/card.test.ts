import { parse } from 'node-html-parser';
import t from 'tap';
import { sql } from '../../src/services/db/sql.ts';
import { build } from '../helper.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import { integrationsCard, readCard, setUp, userIdOf } from './support.ts';

type App = Awaited<ReturnType<typeof setUp>>;

async function withConnection(app: App, userId: number, status: string, extra: { error?: string } = {}) {
  await app.pool.query(sql.typeAlias('void')`
    INSERT INTO integration_connection
      (user_id, provider, provider_account_id, provider_account_name, status, connected_at, last_sync_at,
       last_sync_status, last_sync_error)
    VALUES (${userId}, 'whoop', '4242', 'Whitney Hoop', ${status}, '2026-03-01T08:30:00Z', '2026-03-02T06:00:00Z',
      ${extra.error ? 'failed' : 'succeeded'}, ${extra.error ?? null})
    ON CONFLICT (user_id, provider) DO UPDATE SET status = EXCLUDED.status, last_sync_error = EXCLUDED.last_sync_error,
      last_sync_status = EXCLUDED.last_sync_status
  `);
}

t.test('the WHOOP card shows every state as the server knows it', async (t) => {
  const app = await setUp(t);
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'card@example.com', timeZone: 'America/New_York' });
  const userId = await userIdOf(app, 'card@example.com');

  t.test('disconnected', async (t) => {
    const card = await integrationsCard(browser);
    t.equal(card.status, 'disconnected');
    t.match(card.text, /Disconnected/);
    t.same(card.buttons, ['Connect']);
    const page = parse((await browser.get('/integrations')).body);
    t.ok(
      page.querySelector(
        '#whoop-card form[action="/integrations/whoop/connect"][method=post] input[name=_csrf]',
      ),
    );
  });

  t.test('connected', async (t) => {
    await withConnection(app, userId, 'connected');
    const card = await integrationsCard(browser);
    t.equal(card.status, 'connected');
    t.equal(card.memberName, 'Whitney Hoop');
    t.match(card.text, /Linked since Mar 1, 2026, 3:30\sAM/, 'in the person’s time zone');
    t.match(card.text, /Last sync Mar 2, 2026, 1:00\sAM/);
    t.match(card.text, /Next sync Not scheduled yet/);
    t.same(card.buttons, ['Sync now', 'Disconnect']);
    const page = parse((await browser.get('/integrations')).body);
    const syncNow = page.querySelector('#whoop-card form[action="/integrations/whoop/sync"]');
    t.equal(syncNow?.getAttribute('method'), 'post', 'Sync now is a plain form');
    t.ok(syncNow?.querySelector('input[name=_csrf]'), 'with a CSRF token');
    const form = page.querySelector('#whoop-card form[action="/integrations/whoop/disconnect"]');
    t.equal(
      form?.getAttribute('method'),
      'get',
      'Disconnect opens a page that asks first, without JavaScript',
    );
    t.equal(
      form?.getAttribute('hx-get'),
      '/integrations/whoop/disconnect',
      'and asks inside the card with htmx',
    );
    t.equal(form?.getAttribute('hx-target'), '#whoop-card');
  });

  t.test('syncing', async (t) => {
    await withConnection(app, userId, 'syncing');
    const page = parse((await browser.get('/integrations')).body);
    const card = page.querySelector('#whoop-card');
    t.match(card?.text ?? '', /Syncing/);
    const status = card?.querySelector('#whoop-sync-status');
    t.equal(
      status?.getAttribute('hx-get'),
      '/integrations/whoop/sync/status',
      'polls the sync status while syncing',
    );
    t.match(status?.getAttribute('hx-trigger') ?? '', /^every /);
  });

  t.test('error, in plain words', async (t) => {
    await withConnection(app, userId, 'error', {
      error: 'WHOOP did not answer (HTTP 503) while reading sleep.',
    });
    const card = await integrationsCard(browser);
    t.equal(card.status, 'error');
    t.match(card.text, /The last sync failed: WHOOP did not answer \(HTTP 503\) while reading sleep\./);
    t.match(card.text, /Last sync Mar 2, 2026, 1:00\sAM \(failed\)/);
    t.ok(card.buttons.includes('Disconnect'));
  });

  t.test('reconnect needed', async (t) => {
    await withConnection(app, userId, 'reauth_required');
    const card = await integrationsCard(browser);
    t.equal(card.status, 'reauth_required');
    t.match(card.text, /Reconnect needed/);
    t.match(card.text, /history is kept/);
    t.equal(card.buttons.filter((b) => b === 'Reconnect').length, 1, 'one Reconnect button');
    const page = parse((await browser.get('/integrations')).body);
    const reconnect = page.querySelectorAll('#whoop-card form').find((f) => f.text.includes('Reconnect'));
    t.equal(
      reconnect?.getAttribute('action'),
      '/integrations/whoop/connect',
      'it starts the same OAuth flow',
    );
  });

  t.test('the card alone, for htmx', async (t) => {
    await withConnection(app, userId, 'connected');
    const response = await browser.get('/integrations/whoop/card', { 'hx-request': 'true' });
    t.equal(response.statusCode, 200);
    const root = parse(response.body);
    t.notOk(root.querySelector('html'), 'a fragment');
    t.equal(root.childNodes.filter((n) => n.nodeType === 1).length, 1, 'one root element');
    t.equal(readCard(response.body).status, 'connected');
    t.ok(root.querySelector('#whoop-card input[name=_csrf]'), 'its forms carry a CSRF token');
  });

  t.test('a card for nobody: login first', async (t) => {
    const anonymous = new BrowserSession(app.app);
    const page = await anonymous.get('/integrations/whoop/card');
    t.equal(page.statusCode, 303);
    const htmx = await anonymous.get('/integrations/whoop/card', { 'hx-request': 'true' });
    t.equal(htmx.statusCode, 401);
    t.match(htmx.headers['hx-redirect'], /^\/login/);
  });
});

t.test('each person sees only their own card', async (t) => {
  const app = await setUp(t);
  const owner = new BrowserSession(app.app);
  await signUp(owner, { email: 'owner@example.com' });
  await withConnection(app, await userIdOf(app, 'owner@example.com'), 'connected');
  const other = new BrowserSession(app.app);
  await signUp(other, { email: 'other@example.com' });
  t.equal((await integrationsCard(other)).status, 'disconnected');
  t.equal((await integrationsCard(owner)).status, 'connected');
});

t.test(
  'without WHOOP credentials (and no simulator started), the card says WHOOP is not configured',
  async (t) => {
    const app = await build(t);
    const browser = new BrowserSession(app.app);
    await signUp(browser, { email: 'unconfigured@example.com' });
    const card = await integrationsCard(browser);
    t.equal(card.status, 'disconnected');
    t.match(card.text, /not configured/);
    t.same(card.buttons, []);
    const page = await browser.get('/integrations');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const connect = await browser.post('/integrations/whoop/connect', { _csrf: token });
    t.equal(connect.statusCode, 303);
    t.equal(connect.headers.location, '/integrations');
    t.match((await integrationsCard(browser)).flash, /not configured/);
  },
);
