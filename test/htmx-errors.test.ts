// htmx requests that fail get what htmx can use (issue 10, defect 9): a fragment in the target's place
// with the request id, or HX-Refresh / HX-Redirect when a whole new page is the remedy; never the
// whole layout swapped into a card. One URL answering both ways says so with Vary: HX-Request.
import { parse } from 'node-html-parser';
import t from 'tap';
import { sql } from '../src/services/db/sql.ts';
import { build } from './helper.ts';
import { BrowserSession, signUp } from './support/browser-session.ts';

const htmx = (target: string) => ({
  'hx-request': 'true',
  'hx-target': target,
  'hx-current-url': 'http://localhost:3000/integrations',
});

t.test('failed htmx requests answer a fragment or a navigation, never a page', async (t) => {
  const { app, pool } = await build(t, { env: { FEATURE_WHOOP_INTEGRATION: 'true' } });
  const browser = new BrowserSession(app);
  await signUp(browser, { email: 'htmx@example.com' });

  const missing = await browser.get('/integrations/whoop/nothing-here', {
    ...htmx('div#whoop-card'),
    'x-request-id': 'htmx-404-abc',
  });
  t.equal(missing.statusCode, 404);
  t.notMatch(missing.body, /<html|<nav/i, 'no layout inside the card');
  const fragment = parse(missing.body).querySelector('[role=alert]');
  t.equal(fragment?.getAttribute('id'), 'whoop-card', 'the message takes the card’s place and id');
  t.match(fragment?.text ?? '', /htmx-404-abc/, 'with the request id');
  t.equal(
    fragment?.querySelector('a')?.getAttribute('href'),
    '/integrations',
    'and a way back: reload the page',
  );

  // A database failure during a poll: a 500 fragment, the layout nowhere.
  await pool.query(
    sql.typeAlias('void')`ALTER TABLE integration_sync_run RENAME TO integration_sync_run_away`,
  );
  const failed = await browser.get('/integrations/whoop/sync/status', {
    ...htmx('div#whoop-sync-status'),
    'x-request-id': 'htmx-500-abc',
  });
  await pool.query(
    sql.typeAlias('void')`ALTER TABLE integration_sync_run_away RENAME TO integration_sync_run`,
  );
  t.equal(failed.statusCode, 500);
  t.notMatch(failed.body, /<html|<nav/i);
  t.match(failed.body, /htmx-500-abc/);
  t.equal(parse(failed.body).querySelector('[role=alert]')?.getAttribute('id'), 'whoop-sync-status');

  // A form whose CSRF token expired: a fresh page brings a fresh token.
  const stale = await browser.post('/integrations/whoop/sync', { _csrf: 'expired' }, htmx('div#whoop-card'));
  t.equal(stale.statusCode, 403);
  t.equal(stale.headers['hx-refresh'], 'true', 'htmx reloads the page');
  t.equal(stale.body, '');

  // Logged out meanwhile: htmx navigates to the login page.
  await browser.submit('/', '/logout', {});
  const loggedOut = await browser.get('/integrations/whoop/card', htmx('div#whoop-card'));
  t.equal(loggedOut.statusCode, 401);
  t.match(String(loggedOut.headers['hx-redirect']), /^\/login\?next=/);
});

t.test('pages that answer htmx with a fragment send Vary: HX-Request', async (t) => {
  const { app } = await build(t, { env: { FEATURE_WHOOP_INTEGRATION: 'true' } });
  const browser = new BrowserSession(app);
  await signUp(browser, { email: 'vary@example.com' });
  for (const url of ['/integrations', '/integrations/whoop/card', '/progress', '/missing-page']) {
    for (const headers of [{}, htmx('div#main')]) {
      const response = await browser.get(url, headers);
      t.match(
        String(response.headers.vary),
        /HX-Request/i,
        `${url} ${Object.keys(headers).length ? 'htmx' : 'page'}`,
      );
    }
  }
});
