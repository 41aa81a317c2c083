import Fastify from 'fastify';
import t from 'tap';
import { isInternal } from '../../src/plugins/internal-api.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import {
  answerConsent,
  CLIENT_ID,
  connections,
  INTERNAL_TOKEN,
  integrationsCard,
  REDIRECT_URI,
  setUp,
  tokenRows,
  userIdOf,
} from './support.ts';

type App = Awaited<ReturnType<typeof setUp>>;

function call(app: App, url: string, body: unknown, headers: Record<string, string> = {}) {
  return app.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const bearer = { authorization: `Bearer ${INTERNAL_TOKEN}` };

/** A code from WHOOP's consent page, obtained the way another service of ours would. */
async function codeFor(app: App, whoopUserId: number): Promise<string> {
  const url = new URL(`${app.sim.oauthBaseUrl}/auth`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'read:recovery read:cycles read:workout read:sleep read:profile read:body_measurement offline',
    state: 'service-to-service-state',
  }).toString();
  return (await answerConsent(url.toString(), 'grant', whoopUserId)).searchParams.get('code') ?? '';
}

t.test('every /internal route refuses a missing or wrong bearer token with a JSON 401', async (t) => {
  const app = await setUp(t);
  for (const url of ['/internal/whoop/oauth/exchange', '/internal/whoop/disconnect', '/internal/nope']) {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-token' },
      { authorization: `Bearer ${INTERNAL_TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`x:${INTERNAL_TOKEN}`).toString('base64')}` },
      { authorization: `bearer ${INTERNAL_TOKEN} extra` },
    ]) {
      const response = await call(
        app,
        url,
        { userId: 1, code: 'abc' },
        { 'x-request-id': 'internal-401-abc', ...headers },
      );
      t.equal(response.statusCode, 401, `${url} with ${JSON.stringify(Object.keys(headers))}`);
      t.match(response.headers['content-type'], /application\/json/);
      t.match(response.json(), { error: 'Unauthorized', requestId: 'internal-401-abc' });
    }
  }
  t.notMatch(app.logs.text(), INTERNAL_TOKEN, 'the token is never logged');
});

t.test('a session cookie alone is refused', async (t) => {
  const app = await setUp(t);
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'cookie@example.com' });
  const userId = await userIdOf(app, 'cookie@example.com');
  const cookie = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const response = await call(app, '/internal/whoop/disconnect', { userId }, { cookie });
  t.equal(response.statusCode, 401);
  t.equal(response.headers['set-cookie'], undefined, 'no session is touched');
});

t.test(
  'percent-encoded paths are the internal API too: matched on the routed path (defect 10.12)',
  async (t) => {
    const app = await setUp(t);
    const browser = new BrowserSession(app.app);
    await signUp(browser, { email: 'encoded@example.com' });
    const userId = await userIdOf(app, 'encoded@example.com');
    const cookie = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    for (const url of [
      '/%69nternal/whoop/disconnect',
      '/%69%6Eternal/whoop/disconnect',
      '/internal/whoop/%64isconnect',
    ]) {
      const response = await call(app, url, { userId }, { cookie });
      t.equal(response.statusCode, 401, `${url}: the bearer token is required`);
      t.equal(response.headers['set-cookie'], undefined, `${url}: the session cookie is not even read`);
      t.match(response.json(), { error: 'Unauthorized' });
    }
    const unknown = await call(app, '/%69nternal/whoop/nothing-here', {}, { ...bearer, cookie });
    t.equal(unknown.statusCode, 404);
    t.match(unknown.json(), { error: 'Not Found' }, 'an unknown internal path answers JSON, not a page');
    t.equal((await integrationsCard(browser)).status, 'disconnected', 'nothing changed for the person');
  },
);

t.test('the internal check sees the path the router decoded, not the raw URL', async (t) => {
  const app = Fastify();
  app.get('/internal/whoop/status', async (request) => ({ internal: isInternal(request) }));
  app.get('/sleep', async (request) => ({ internal: isInternal(request) }));
  for (const [url, internal] of [
    ['/internal/whoop/status', true],
    ['/%69nternal/whoop/status', true],
    ['/internal/whoop/%73tatus?x=1', true],
    ['/sleep?next=/internal/whoop/status', false],
  ] as const) {
    const response = await app.inject({ method: 'GET', url });
    t.same(response.json(), { internal }, url);
  }
  await app.close();
});

t.test('malformed bodies are refused with a JSON 400 (or 415 when not JSON)', async (t) => {
  const app = await setUp(t);
  const cases: Array<[string, unknown, number]> = [
    ['/internal/whoop/oauth/exchange', {}, 400],
    ['/internal/whoop/oauth/exchange', { userId: 'one', code: 'abc' }, 400],
    ['/internal/whoop/oauth/exchange', { userId: 1, code: '' }, 400],
    ['/internal/whoop/oauth/exchange', { userId: 1, code: 'abc', extra: true }, 400],
    ['/internal/whoop/oauth/exchange', '{"userId": 1, "code": ', 400],
    ['/internal/whoop/disconnect', { userId: -1 }, 400],
    ['/internal/whoop/disconnect', [], 400],
  ];
  for (const [url, body, status] of cases) {
    const response = await call(app, url, body, { ...bearer, 'x-request-id': 'internal-400-abc' });
    t.equal(response.statusCode, status, `${url} ${JSON.stringify(body)}`);
    t.match(response.json(), { requestId: 'internal-400-abc' });
  }
  const form = await app.app.inject({
    method: 'POST',
    url: '/internal/whoop/disconnect',
    headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'userId=1',
  });
  t.equal(form.statusCode, 415);
  t.match(form.json(), { error: 'Unsupported Media Type' });
  const detail = await call(app, '/internal/whoop/oauth/exchange', { userId: 'x', code: 'abc' }, bearer);
  t.match(detail.json(), { issues: [{ path: 'userId' }] }, 'says what is wrong');
});

t.test('unknown routes and users are JSON 404s', async (t) => {
  const app = await setUp(t);
  const route = await call(app, '/internal/whoop/nothing-here', {}, bearer);
  t.equal(route.statusCode, 404);
  t.match(route.json(), { error: 'Not Found' });
  const user = await call(app, '/internal/whoop/oauth/exchange', { userId: 999999, code: 'abc' }, bearer);
  t.equal(user.statusCode, 404);
  t.match(user.json(), { error: 'unknown_user' });
  const disconnectUser = await call(app, '/internal/whoop/disconnect', { userId: 999999 }, bearer);
  t.equal(disconnectUser.statusCode, 404);
});

t.test('POST /internal/whoop/oauth/exchange links, and /internal/whoop/disconnect unlinks', async (t) => {
  const app = await setUp(t);
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'service@example.com' });
  const userId = await userIdOf(app, 'service@example.com');

  const exchanged = await call(
    app,
    '/internal/whoop/oauth/exchange',
    { userId, code: await codeFor(app, app.memberId) },
    { ...bearer, 'x-request-id': 'exchange-req-1' },
  );
  t.equal(exchanged.statusCode, 200);
  t.match(exchanged.json(), {
    status: 'connected',
    whoopUserId: String(app.memberId),
    reusedConnection: false,
    requestId: 'exchange-req-1',
  });
  t.notMatch(exchanged.body, /ory_at_|ory_rt_|access_token|refresh_token/, 'no token in the answer');
  t.equal((await integrationsCard(browser)).status, 'connected');
  t.equal((await tokenRows(app)).length, 2);
  const steps = app.logs
    .lines()
    .filter((line) => line.reqId === 'exchange-req-1')
    .map((line) => line.msg);
  t.ok(steps.includes('whoop oauth: code exchanged for tokens'), 'logged with the caller request id');

  const again = await call(
    app,
    '/internal/whoop/oauth/exchange',
    { userId, code: 'not-a-real-code' },
    bearer,
  );
  t.equal(again.statusCode, 400, 'a bad code is the caller error');
  t.match(again.json(), { error: 'code_rejected' });

  const other = new BrowserSession(app.app);
  await signUp(other, { email: 'other@example.com' });
  const taken = await call(
    app,
    '/internal/whoop/oauth/exchange',
    { userId: await userIdOf(app, 'other@example.com'), code: await codeFor(app, app.memberId) },
    bearer,
  );
  t.equal(taken.statusCode, 409);
  t.match(taken.json(), { error: 'account_linked_elsewhere' });

  const disconnected = await call(
    app,
    '/internal/whoop/disconnect',
    { userId },
    { ...bearer, 'x-request-id': 'dc-req-1' },
  );
  t.equal(disconnected.statusCode, 200);
  t.same(disconnected.json(), {
    status: 'disconnected',
    wasLinked: true,
    revoked: true,
    requestId: 'dc-req-1',
  });
  t.equal(app.sim.requestCounts()['DELETE /developer/v2/user/access']?.[CLIENT_ID], 1);
  t.same(await tokenRows(app), []);
  t.equal((await connections(app))[0]?.status, 'disconnected');

  const twice = await call(app, '/internal/whoop/disconnect', { userId }, bearer);
  t.match(twice.json(), { status: 'disconnected', wasLinked: false }, 'idempotent');
});

t.test('WHOOP failing during the exchange links nothing and says WHOOP is unavailable', async (t) => {
  const app = await setUp(t);
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'flaky@example.com' });
  const code = await codeFor(app, app.memberId);
  app.sim.setFaults({ failNext: 1, errorOn: ['token'], errorStatuses: [502] });
  const response = await call(
    app,
    '/internal/whoop/oauth/exchange',
    { userId: await userIdOf(app, 'flaky@example.com'), code },
    bearer,
  );
  t.equal(response.statusCode, 502);
  t.match(response.json(), { error: 'whoop_unavailable', message: /not answering/ });
  t.same(await connections(app), []);
});

t.test('without INTERNAL_API_TOKEN configured, the internal API refuses everything', async (t) => {
  const app = await setUp(t, { env: { INTERNAL_API_TOKEN: '' } });
  const response = await call(app, '/internal/whoop/disconnect', { userId: 1 }, { authorization: 'Bearer ' });
  t.equal(response.statusCode, 401);
});
