import { parse } from 'node-html-parser';
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { generateKeyringKey } from '../../src/services/token-vault/index.ts';
import type { WhoopSimulatorOptions } from '../../src/whoop-sim/index.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import {
  addRawEvent,
  CLIENT_ID,
  CLIENT_SECRET,
  connections,
  disconnect,
  integrationsCard,
  keyringVault,
  linkWhoop,
  openStoredTokens,
  setUp,
  tokenRows,
} from './support.ts';

const REVOKE = 'DELETE /developer/v2/user/access';

async function linked(t: Test, options: { sim?: Partial<WhoopSimulatorOptions> } = {}) {
  const keyring = generateKeyringKey('v1');
  const app = await setUp(t, { env: { TOKEN_ENCRYPTION_KEYS: keyring }, sim: options.sim });
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'member@example.com' });
  await linkWhoop(browser, { whoopUserId: app.memberId });
  const [connection] = await connections(app);
  if (!connection) throw new Error('not linked');
  const tokens = await openStoredTokens(app, keyringVault(keyring));
  const access = tokens.find((row) => row.kind === 'access')?.token ?? '';
  const refresh = tokens.find((row) => row.kind === 'refresh')?.token ?? '';
  return { ...app, browser, connection, access, refresh };
}

function profileWith(apiBaseUrl: string, accessToken: string) {
  return fetch(`${apiBaseUrl}/v2/user/profile/basic`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
}

function refreshWith(oauthBaseUrl: string, refreshToken: string) {
  return fetch(`${oauthBaseUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scope: 'offline',
    }),
  });
}

t.test('Disconnect revokes at WHOOP, destroys the tokens and keeps the history', async (t) => {
  const app = await linked(t);
  const rawEventId = await addRawEvent(app, app.connection.id);
  t.equal((await profileWith(app.sim.apiBaseUrl, app.access)).status, 200, 'the token works before');

  const response = await disconnect(app.browser);
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, '/integrations');
  const card = await integrationsCard(app.browser);
  t.equal(card.status, 'disconnected');
  t.match(card.flash, /WHOOP is disconnected\. Your synced history is kept\./);
  t.ok(card.buttons.includes('Connect'));
  t.match(card.text, /history from the earlier link is kept/);

  t.equal(app.sim.requestCounts()[REVOKE]?.[CLIENT_ID], 1, 'WHOOP received the revoke');
  t.equal((await profileWith(app.sim.apiBaseUrl, app.access)).status, 401, 'the old access token is dead');
  const refreshed = await refreshWith(app.sim.oauthBaseUrl, app.refresh);
  t.equal(refreshed.status, 400, 'the old refresh token is dead');
  t.match(await refreshed.json(), { error: 'invalid_grant' });
  t.same(
    app.sim.grants().filter((grant) => !grant.revoked),
    [],
    'no live grant at WHOOP',
  );

  t.same(await tokenRows(app), [], 'tokens deleted');
  const [row] = await connections(app);
  t.match(row, { id: app.connection.id, status: 'disconnected', provider_account_id: String(app.memberId) });
  t.ok(row?.disconnected_at instanceof Date);
  const kept = await app.pool.anyFirst(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM integration_raw_event WHERE connection_id = ${app.connection.id}
  `);
  t.same(kept, [rawEventId], 'the synced record survives');

  t.test('reconnecting the same WHOOP account re-uses the connection and its history', async (t) => {
    await linkWhoop(app.browser, { whoopUserId: app.memberId });
    const card = await integrationsCard(app.browser);
    t.equal(card.status, 'connected');
    const rows = await connections(app);
    t.equal(rows.length, 1);
    t.equal(rows[0]?.id, app.connection.id, 'same connection id');
    t.equal(rows[0]?.disconnected_at, null);
    t.ok(
      (rows[0]?.connected_at?.getTime() ?? 0) > (app.connection.connected_at?.getTime() ?? 0),
      'linked anew',
    );
    const history = await app.pool.anyFirst(sql.type(z.object({ id: z.number() }))`
      SELECT id FROM integration_raw_event WHERE connection_id = ${app.connection.id}
    `);
    t.same(history, [rawEventId], 'history still attached');
    t.equal((await tokenRows(app)).length, 2, 'fresh tokens stored');
  });
});

t.test('Disconnect through htmx swaps the card in place', async (t) => {
  const app = await linked(t);
  const response = await disconnect(app.browser, { 'hx-request': 'true' });
  t.equal(response.statusCode, 200);
  const root = parse(response.body);
  t.notOk(root.querySelector('html'), 'a fragment, not a page');
  const card = root.querySelector('#whoop-card');
  t.equal(card?.getAttribute('data-status'), 'disconnected');
  t.match(card?.text ?? '', /WHOOP is disconnected/);
  t.ok(
    card?.querySelector('form[action="/integrations/whoop/connect"] input[name=_csrf]'),
    'Connect is ready again',
  );
});

t.test('a failed revoke at WHOOP is logged and does not stop the disconnect', async (t) => {
  const app = await linked(t);
  app.sim.setFaults({ failNext: 1, errorOn: ['data'], errorStatuses: [503] });
  const response = await disconnect(app.browser);
  t.equal(response.statusCode, 303);
  t.equal((await integrationsCard(app.browser)).status, 'disconnected');
  t.same(await tokenRows(app), [], 'tokens destroyed anyway');
  const warning = app.logs
    .lines()
    .find((line) => String(line.msg).startsWith('whoop disconnect: revoke at WHOOP failed'));
  t.ok(warning, 'the failure is logged');
  t.equal(warning?.level, 40);
  t.notMatch(app.logs.text(), app.access);
});

t.test('WHOOP unreachable: the disconnect still completes', async (t) => {
  const app = await linked(t);
  await app.sim.close();
  const response = await disconnect(app.browser);
  t.equal(response.statusCode, 303);
  t.equal((await integrationsCard(app.browser)).status, 'disconnected');
  t.same(await tokenRows(app), []);
});

t.test('an expired access token is refreshed once so that the revoke still reaches WHOOP', async (t) => {
  const app = await linked(t);
  app.sim.advanceTime(2 * 3600_000);
  t.equal((await profileWith(app.sim.apiBaseUrl, app.access)).status, 401, 'the access token has expired');
  await disconnect(app.browser);
  const counts = app.sim.requestCounts();
  t.equal(counts['POST /oauth/oauth2/token']?.[CLIENT_ID], 2, 'code exchange, then one refresh');
  t.equal(counts[REVOKE]?.[CLIENT_ID], 2, 'refused with the old token, accepted with the new');
  t.same(
    app.sim.grants().filter((grant) => !grant.revoked),
    [],
    'the grant is ended at WHOOP',
  );
  t.same(await tokenRows(app), []);
});

t.test('Disconnect when nothing is linked changes nothing', async (t) => {
  const app = await setUp(t);
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'nobody@example.com' });
  const page = await browser.get('/integrations');
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const response = await browser.post('/integrations/whoop/disconnect', { _csrf: token });
  t.equal(response.statusCode, 303);
  t.match((await integrationsCard(browser)).flash, /WHOOP was not linked/);
  t.same(await connections(app), []);
  t.equal(app.sim.requestCounts()[REVOKE], undefined);
});

t.test('Disconnect needs a CSRF token', async (t) => {
  const app = await linked(t);
  const response = await app.browser.post('/integrations/whoop/disconnect', {});
  t.equal(response.statusCode, 403);
  t.equal((await integrationsCard(app.browser)).status, 'connected');
  t.equal((await tokenRows(app)).length, 2);
});
