// One request id, followed: from the click (Connect's callback, Sync now, the internal API) into the
// job payload, the sync run row, every log line of the job and each WHOOP call it made.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { answerConsent, keyringVault, openStoredTokens, pressConnect } from '../integrations/support.ts';
import { BrowserSession, csrfTokenFrom, signUp } from '../support/browser-session.ts';
import {
  INTERNAL_TOKEN,
  runSync,
  type SyncFixture,
  startSyncFixture,
  startTestWorker,
  waitFor,
} from '../sync/support/fixture.ts';

const runRow = z.object({ id: z.number(), request_id: z.string().nullable(), status: z.string() });
const jobRow = z.object({ id: z.string(), payload: z.record(z.string(), z.unknown()) });
const DATA_ENDPOINTS = new Set([
  '/v2/user/profile/basic',
  '/v2/user/measurement/body',
  '/v2/cycle',
  '/v2/activity/sleep',
  '/v2/recovery',
  '/v2/activity/workout',
]);

async function latestRun(fixture: SyncFixture, connectionId: number) {
  return fixture.pool.one(sql.type(runRow)`
    SELECT id, request_id, status FROM integration_sync_run WHERE connection_id = ${connectionId}
    ORDER BY id DESC LIMIT 1
  `);
}

/** The queued job (its payload is only in graphile-worker's table; the public view leaves it out). */
async function queuedJob(fixture: SyncFixture, connectionId: number) {
  return fixture.pool.one(sql.type(jobRow)`
    SELECT id::text AS id, payload FROM graphile_worker._private_jobs WHERE key = ${`whoop_sync:${connectionId}`}
  `);
}

async function allTokens(fixture: SyncFixture): Promise<string[]> {
  const opened = await openStoredTokens(fixture, keyringVault(fixture.env.TOKEN_ENCRYPTION_KEYS ?? ''));
  return opened.map((token) => token.token);
}

t.test('a request id travels from the click to the run row, the job and every WHOOP call', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 3 });
  const browser = new BrowserSession(fixture.app);
  await signUp(browser, { email: 'follow-me@example.com' });

  // Connect: the callback request links the account and enqueues the first sync with its id.
  const connect = await pressConnect(browser);
  const callbackUrl = await answerConsent(String(connect.headers.location), 'grant', member.userId);
  const callback = await browser.get(`${callbackUrl.pathname}${callbackUrl.search}`, {
    'x-request-id': 'connect-callback-0001',
  });
  t.equal(callback.statusCode, 303);
  const connectionId = await fixture.pool.oneFirst(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM integration_connection WHERE provider_account_id = ${String(member.userId)}
  `);
  const initial = await latestRun(fixture, connectionId);
  t.match(initial, { request_id: 'connect-callback-0001', status: 'queued' }, 'the first sync keeps the id');
  t.match((await queuedJob(fixture, connectionId)).payload, {
    runId: initial.id,
    requestId: 'connect-callback-0001',
  });
  t.equal(await runSync(fixture, initial.id), 'succeeded');
  const initialLines = fixture.logs.lines().filter((line) => line.syncRunId === initial.id);
  t.ok(initialLines.length > 3);
  t.ok(
    initialLines.every((line) => line.reqId === 'connect-callback-0001'),
    'its log lines carry the id',
  );

  // The access token is about to expire: the Sync now job refreshes it first (one more WHOOP call).
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_token SET expires_at = now() + interval '1 minute'
    WHERE connection_id = ${connectionId} AND kind = 'access'
  `);
  const tokensBefore = await allTokens(fixture);

  // Sync now, as a person clicks it (plain form post), with the id a proxy in front of us assigned.
  const REQUEST_ID = 'sync-now-click-0001';
  const page = await browser.get('/integrations');
  const click = await browser.post(
    '/integrations/whoop/sync',
    { _csrf: csrfTokenFrom(page.body) },
    { 'x-request-id': REQUEST_ID },
  );
  t.equal(click.statusCode, 303);
  t.equal(click.headers['x-request-id'], REQUEST_ID, 'the answer echoes the id');
  const run = await latestRun(fixture, connectionId);
  t.match(run, { request_id: REQUEST_ID, status: 'queued' }, 'the run row has the id');
  const job = await queuedJob(fixture, connectionId);
  t.same(job.payload, { connectionId, runId: run.id, requestId: REQUEST_ID }, 'the job payload has it');

  // A real worker takes the job.
  await startTestWorker(t, fixture);
  const finished = await waitFor('the Sync now run to finish', async () => {
    const current = await latestRun(fixture, connectionId);
    return current.status === 'succeeded' || current.status === 'failed' ? current : undefined;
  });
  t.equal(finished.status, 'succeeded');
  const stored = await fixture.services.whoopSync.findRun(run.id);

  const lines = fixture.logs.lines();
  const http = lines.filter((line) => line.reqId === REQUEST_ID && line.msg === 'request completed');
  t.ok(http.length >= 1, 'the HTTP request logged its id');
  const jobLines = lines.filter((line) => line.syncRunId === run.id);
  t.ok(jobLines.length >= 4, `${jobLines.length} lines of the job`);
  t.same(
    jobLines.filter((line) => line.reqId !== REQUEST_ID || line.component !== 'sync'),
    [],
    'every line of the job: reqId and component',
  );
  t.ok(
    jobLines.every((line) => line.connectionId === connectionId && line.jobId === job.id),
    'and the connection and the job',
  );
  const messages = jobLines.map((line) => String(line.msg));
  t.ok(messages.includes('whoop sync: started'));
  t.ok(messages.includes('whoop sync: finished'));
  t.ok(messages.includes('whoop token refresh: new pair stored'), 'the token refresh logs with the id too');

  const calls = jobLines.filter((line) => line.endpoint !== undefined);
  t.equal(calls.length, stored?.http_requests, 'one line per WHOOP call');
  const refresh = calls.filter((line) => line.endpoint === '/oauth/oauth2/token');
  t.match(refresh, [{ method: 'POST', status: 200, durationMs: Number }], 'the refresh call');
  const dataCalls = calls.filter((line) => line.endpoint !== '/oauth/oauth2/token');
  // Profile and body are read at most daily: the link's first sync read them, so Sync now lists the four collections.
  t.ok(dataCalls.length >= 4);
  for (const line of dataCalls) {
    t.ok(DATA_ENDPOINTS.has(String(line.endpoint)), `endpoint pattern ${line.endpoint}`);
    t.match(line, {
      method: 'GET',
      status: 200,
      durationMs: Number,
      attempt: 1,
      rateLimit: { limit: String, remaining: String, reset: String },
    });
  }

  const text = fixture.logs.text();
  const tokens = [...tokensBefore, ...(await allTokens(fixture))];
  t.equal(new Set(tokens).size, 4, 'old and new token pairs');
  t.ok(
    tokens.every((token) => !text.includes(token)),
    'no token in any log line',
  );
  t.notMatch(text, /bearer [a-z0-9]|"authorization"/i, 'no Authorization header');
  t.notMatch(text, /nextToken=|[?&]start=/, 'no query strings of WHOOP calls');
});

t.test('the internal sync and the internal code exchange carry their request ids too', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 2 });
  const user = await fixture.services.users.signUp({
    email: 'internal-follow@example.com',
    password: 'correct horse battery',
    displayName: 'Internal',
    timeZone: 'UTC',
  });
  fixture.sim.setConsent({ autoApprove: 'grant', defaultUserId: member.userId });
  const authorize = new URL(`${fixture.sim.oauthBaseUrl}/auth`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'sync-test-client',
    redirect_uri: 'http://127.0.0.1:9/integrations/whoop/callback',
    scope: 'offline read:recovery read:cycles read:workout read:sleep read:profile read:body_measurement',
    state: 'internal-follow-state',
  }).toString();
  const code =
    new URL(
      (await fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? 'http://x',
    ).searchParams.get('code') ?? '';
  const call = (url: string, body: unknown, requestId: string) =>
    fixture.app.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `Bearer ${INTERNAL_TOKEN}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      payload: JSON.stringify(body),
    });

  const exchanged = await call(
    '/internal/whoop/oauth/exchange',
    { userId: user.id, code },
    'internal-exchange-01',
  );
  t.equal(exchanged.statusCode, 200);
  const { connectionId } = exchanged.json() as { connectionId: number };
  const initial = await latestRun(fixture, connectionId);
  t.equal(initial.request_id, 'internal-exchange-01', 'the first sync keeps the exchange request id');
  t.equal((await queuedJob(fixture, connectionId)).payload.requestId, 'internal-exchange-01');
  t.equal(await runSync(fixture, initial.id), 'succeeded');

  const synced = await call('/internal/whoop/sync', { userId: user.id }, 'internal-sync-0001');
  t.equal(synced.statusCode, 202);
  t.match(synced.json(), { requestId: 'internal-sync-0001' });
  const run = await latestRun(fixture, connectionId);
  t.equal(run.request_id, 'internal-sync-0001');
  t.equal((await queuedJob(fixture, connectionId)).payload.requestId, 'internal-sync-0001');
  t.equal(await runSync(fixture, run.id), 'succeeded');
  const lines = fixture.logs.lines().filter((line) => line.syncRunId === run.id);
  t.ok(lines.length > 3 && lines.every((line) => line.reqId === 'internal-sync-0001'));
});

t.test('error pages show the request id as a reference; JSON errors return it', async (t) => {
  const fixture = await startSyncFixture(t);
  const page = await fixture.app.inject({
    url: '/no/such/page',
    headers: { 'x-request-id': 'quote-me-0001' },
  });
  t.equal(page.statusCode, 404);
  t.match(page.body, /Reference: <code>quote-me-0001<\/code>/);
  const api = await fixture.app.inject({
    url: '/internal/whoop/status?userId=x',
    headers: { authorization: `Bearer ${INTERNAL_TOKEN}`, 'x-request-id': 'quote-me-0002' },
  });
  t.equal(api.statusCode, 400);
  t.match(api.json(), { requestId: 'quote-me-0002' });
  const lines = fixture.logs.lines().filter((line) => line.reqId === 'quote-me-0001');
  t.ok(lines.length >= 1, 'and the logs have it');
});
