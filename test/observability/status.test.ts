// GET /internal/whoop/status?userId=: what operators see of one person's WHOOP link (never a token).
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { keyringVault, openStoredTokens } from '../integrations/support.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import { INTERNAL_TOKEN, linkMember, runSync, startSyncFixture, syncNow } from '../sync/support/fixture.ts';

const bearer = { authorization: `Bearer ${INTERNAL_TOKEN}` };

t.test('status: bearer token required, query validated, unknown users 404', async (t) => {
  const fixture = await startSyncFixture(t);
  const get = (url: string, headers: Record<string, string> = {}) =>
    fixture.app.inject({ method: 'GET', url, headers: { 'x-request-id': 'status-test-0001', ...headers } });

  for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }] as Record<
    string,
    string
  >[]) {
    const refused = await get('/internal/whoop/status?userId=1', headers);
    t.equal(refused.statusCode, 401);
    t.match(refused.json(), { error: 'Unauthorized', requestId: 'status-test-0001' });
  }
  const browser = new BrowserSession(fixture.app);
  await signUp(browser, { email: 'status-cookie@example.com' });
  t.equal(
    (await browser.get('/internal/whoop/status?userId=1')).statusCode,
    401,
    'a session cookie is no substitute for the token',
  );

  for (const query of [
    '',
    '?userId=',
    '?userId=abc',
    '?userId=0',
    '?userId=-3',
    '?userId=1.5',
    '?userId=1&x=2',
  ]) {
    const bad = await get(`/internal/whoop/status${query}`, bearer);
    t.equal(bad.statusCode, 400, `400 for "${query}"`);
    t.match(bad.headers['content-type'], /application\/json/);
    t.match(bad.json(), { error: 'Bad Request', requestId: 'status-test-0001', issues: Array });
  }
  const unknown = await get('/internal/whoop/status?userId=987654', bearer);
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json(), { error: 'unknown_user', requestId: 'status-test-0001' });

  const user = await fixture.services.users.signUp({
    email: 'never-linked@example.com',
    password: 'correct horse battery',
    displayName: 'Never Linked',
    timeZone: 'UTC',
  });
  const unlinked = await get(`/internal/whoop/status?userId=${user.id}`, bearer);
  t.equal(unlinked.statusCode, 200);
  t.match(unlinked.json(), {
    userId: user.id,
    provider: 'whoop',
    connectionId: null,
    status: 'disconnected',
    lastSync: { at: null, status: null, error: null },
    nextSyncAt: null,
    tokens: { accessTokenExpiresAt: null, accessTokenStored: false, refreshTokenStored: false },
    runs: [],
  });
});

t.test('status: state, last and next sync, token expiry and the last 10 runs, never a token', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 2 });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  // Eleven more syncs: the report keeps the last ten.
  const runIds = [linked.initialRunId];
  for (let index = 0; index < 11; index++) runIds.push((await syncNow(fixture, linked)).runId);

  const response = await fixture.app.inject({
    method: 'GET',
    url: `/internal/whoop/status?userId=${linked.userId}`,
    headers: { ...bearer, 'x-request-id': 'status-test-0002' },
  });
  t.equal(response.statusCode, 200);
  const body = response.json();
  t.match(body, {
    userId: linked.userId,
    provider: 'whoop',
    connectionId: linked.connectionId,
    status: 'connected',
    whoopUserId: String(member.userId),
    lastSync: { at: String, status: 'succeeded', error: null },
    nextSyncAt: String,
    tokens: { accessTokenExpiresAt: String, accessTokenStored: true, refreshTokenStored: true },
    requestId: 'status-test-0002',
  });
  const stored = await fixture.pool.oneFirst(sql.type(z.object({ expires_at: z.date() }))`
    SELECT expires_at FROM integration_token WHERE connection_id = ${linked.connectionId} AND kind = 'access'
  `);
  t.equal(body.tokens.accessTokenExpiresAt, stored.toISOString(), 'the stored expiry');
  t.same(
    body.runs.map((run: { id: number }) => run.id),
    runIds.slice(-10).reverse(),
    'the last 10 runs, newest first',
  );
  t.match(body.runs[0], {
    trigger: 'manual',
    status: 'succeeded',
    queuedAt: String,
    startedAt: String,
    finishedAt: String,
    durationMs: Number,
    counts: { cycle: { fetched: Number, inserted: Number, done: true } },
    error: null,
    errorCode: null,
    http: { requests: Number, retries: 0, rateLimited: 0 },
  });

  const tokens = await openStoredTokens(fixture, keyringVault(fixture.env.TOKEN_ENCRYPTION_KEYS ?? ''));
  t.equal(tokens.length, 2, 'both tokens are stored');
  for (const token of tokens)
    t.notOk(response.body.includes(token.token), `no ${token.kind} token in the answer`);
  t.notMatch(response.body, /access_?token"|refresh_?token"|ciphertext|wrapped/i);
});
