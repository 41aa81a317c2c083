import t from 'tap';
import { api, CLIENT_ID, connect, control, startSim, token } from './helpers.ts';

t.test('every data and token response carries the rate-limit headers', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 2 });
  const tokens = await connect(sim, member.userId);
  const data = await api(sim, '/v2/cycle', tokens.access_token);
  t.equal(data.headers.get('x-ratelimit-limit'), '100, 100;window=60, 10000;window=86400');
  t.equal(data.headers.get('x-ratelimit-remaining'), '98', 'the token request counted too');
  t.equal(data.headers.get('x-ratelimit-reset'), '60');

  const notFound = await api(sim, '/v2/cycle/1', tokens.access_token);
  t.equal(notFound.status, 404);
  t.equal(notFound.headers.get('x-ratelimit-remaining'), '97', 'a 404 counts as well');

  const refreshed = await token(sim, {
    grant_type: 'refresh_token',
    refresh_token: tokens.refresh_token ?? '',
    scope: 'offline',
  });
  t.equal(refreshed.headers.get('x-ratelimit-remaining'), '96');
});

t.test('429 at the limit, until the window resets', async (t) => {
  const sim = await startSim(t, { rateLimit: { perMinute: 5, perDay: 1000, minuteWindowMs: 2000 } });
  const member = sim.createMember({ days: 2 });
  const { access_token } = await connect(sim, member.userId);
  const statuses: number[] = [];
  let last: Response | undefined;
  for (let i = 0; i < 5; i++) {
    last = await api(sim, '/v2/user/profile/basic', access_token);
    statuses.push(last.status);
  }
  t.same(statuses, [200, 200, 200, 200, 429], 'the token exchange used the first of five');
  t.equal(last?.headers.get('x-ratelimit-remaining'), '0');
  t.equal(last?.headers.get('x-ratelimit-limit'), '5, 5;window=2, 1000;window=86400');
  t.equal(last?.headers.get('x-ratelimit-reset'), '2');
  t.match(await last?.json(), { error: 'too_many_requests' });

  sim.advanceTime(2000);
  const after = await api(sim, '/v2/user/profile/basic', access_token);
  t.equal(after.status, 200, 'a compressed window resets with the clock');
  t.equal(after.headers.get('x-ratelimit-remaining'), '4');
});

t.test(
  'the window closest to exhaustion comes first; a spent day window holds until its reset',
  async (t) => {
    const sim = await startSim(t, { rateLimit: { perMinute: 100, perDay: 3, dayWindowMs: 3_600_000 } });
    const member = sim.createMember({ days: 2 });
    const { access_token } = await connect(sim, member.userId);
    const second = await api(sim, '/v2/cycle', access_token);
    t.equal(second.headers.get('x-ratelimit-limit'), '3, 100;window=60, 3;window=3600');
    t.equal(second.headers.get('x-ratelimit-remaining'), '1');
    t.equal(second.headers.get('x-ratelimit-reset'), '3600');
    await api(sim, '/v2/cycle', access_token);
    sim.advanceTime(120_000);
    const spent = await api(sim, '/v2/cycle', access_token);
    t.equal(spent.status, 429, 'a new minute does not help');
    t.equal(spent.headers.get('x-ratelimit-reset'), '3480');
  },
);

t.test('the limit is per client; request counts are per endpoint and client', async (t) => {
  const sim = await startSim(t, { rateLimit: { perMinute: 3 } });
  sim.addClient({
    clientId: 'second-app',
    clientSecret: 'second-secret',
    redirectUris: ['http://127.0.0.1:9/cb2'],
  });
  const member = sim.createMember({ days: 2 });
  const { access_token } = await connect(sim, member.userId);
  await api(sim, '/v2/cycle', access_token);
  await api(sim, '/v2/cycle', access_token);
  t.equal((await api(sim, '/v2/cycle', access_token)).status, 429);

  const otherToken = await fetch(`${sim.oauthBaseUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'x',
      client_id: 'second-app',
      client_secret: 'second-secret',
    }),
  });
  t.equal(otherToken.status, 400, "another app's budget is untouched (invalid_grant, not 429)");
  await api(sim, '/v2/cycle/123', 'unknown-token');

  const { status, body } = await control<Record<string, Record<string, number>>>(sim, 'GET', '/requests');
  t.equal(status, 200);
  t.same(body, {
    'POST /oauth/oauth2/token': { [CLIENT_ID]: 1, 'second-app': 1 },
    'GET /developer/v2/cycle': { [CLIENT_ID]: 3 },
    'GET /developer/v2/cycle/:cycleId': { '-': 1 },
  });
  t.equal((await control(sim, 'DELETE', '/requests')).status, 204);
  t.same(sim.requestCounts(), {});
});
