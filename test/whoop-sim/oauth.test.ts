import { createHash } from 'node:crypto';
import t from 'tap';
import { oauthErrorSchema, tokenResponseSchema } from '../../src/services/whoop/schemas.ts';
import {
  ALL_SCOPES,
  api,
  authorizeUrl,
  CLIENT_ID,
  CLIENT_SECRET,
  connect,
  REDIRECT_URI,
  startSim,
  submitConsent,
  token,
} from './helpers.ts';

t.test('consent page names the member and the requested scopes', async (t) => {
  const sim = await startSim(t);
  sim.createMember({ firstName: 'Ada', lastName: 'Okafor', email: 'ada@example.test', days: 2 });
  const latest = sim.createMember({
    firstName: 'Bruno',
    lastName: 'Sato',
    email: 'bruno@example.test',
    days: 2,
  });
  const response = await fetch(authorizeUrl(sim, { scope: 'read:sleep offline' }));
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /text\/html/);
  const html = await response.text();
  t.match(
    html,
    /Signed in as <strong>Bruno Sato<\/strong> \(bruno@example\.test\)/,
    'defaults to the newest member',
  );
  t.match(html, new RegExp(`<option value="${latest.userId}" selected>`));
  t.match(html, /<code>read:sleep<\/code>/);
  t.match(html, /<code>offline<\/code>/);
  t.notMatch(html, /read:cycles/, 'lists only what was requested');
  t.match(html, /<button type="submit" name="decision" value="grant">Grant<\/button>/);
  t.match(html, /<button type="submit" name="decision" value="deny">Deny<\/button>/);
  t.notMatch(html, /<script/i, 'works without JavaScript');

  const hinted = await (await fetch(authorizeUrl(sim, { login_hint: 'ada@example.test' }))).text();
  t.match(hinted, /Signed in as <strong>Ada Okafor<\/strong>/, 'login_hint preselects a member');
});

t.test('Grant redirects with code, scope and state; Deny with access_denied', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 2 });
  const granted = await submitConsent(
    sim,
    authorizeUrl(sim, { state: 'grant-state-1' }),
    'grant',
    member.userId,
  );
  t.equal(granted.status, 303);
  const back = new URL(granted.headers.get('location') ?? '');
  t.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
  t.match(back.searchParams.get('code'), /^\S{20,}$/);
  t.equal(back.searchParams.get('scope'), ALL_SCOPES);
  t.equal(back.searchParams.get('state'), 'grant-state-1');

  const denied = await submitConsent(
    sim,
    authorizeUrl(sim, { state: 'deny-state-1' }),
    'deny',
    member.userId,
  );
  t.equal(denied.status, 303);
  const deniedUrl = new URL(denied.headers.get('location') ?? '');
  t.equal(deniedUrl.searchParams.get('error'), 'access_denied');
  t.match(deniedUrl.searchParams.get('error_description'), /denied/);
  t.equal(deniedUrl.searchParams.get('state'), 'deny-state-1');
  t.equal(deniedUrl.searchParams.get('code'), null);
});

t.test('an unknown client or a redirect mismatch shows an error page and never redirects', async (t) => {
  const sim = await startSim(t);
  sim.createMember({ days: 1 });
  const cases: Array<Record<string, string>> = [
    { redirect_uri: `${REDIRECT_URI}/other` },
    { redirect_uri: REDIRECT_URI.replace('127.0.0.1', 'localhost') },
    { client_id: 'nobody' },
  ];
  for (const params of cases) {
    const response = await fetch(authorizeUrl(sim, params), { redirect: 'manual' });
    t.equal(response.status, 400, JSON.stringify(params));
    t.equal(response.headers.get('location'), null);
    t.match(await response.text(), /<p id="error">/);
  }
});

t.test('a state shorter than 8 characters is rejected', async (t) => {
  const sim = await startSim(t);
  sim.createMember({ days: 1 });
  const response = await fetch(authorizeUrl(sim, { state: 'short' }), { redirect: 'manual' });
  t.equal(response.status, 302);
  const back = new URL(response.headers.get('location') ?? '');
  t.equal(back.searchParams.get('error'), 'invalid_state');
  t.equal(back.searchParams.get('code'), null);
  const eight = await fetch(authorizeUrl(sim, { state: '12345678' }), { redirect: 'manual' });
  t.equal(eight.status, 200, 'eight characters are enough');
});

t.test('unknown scopes and response types come back as errors', async (t) => {
  const sim = await startSim(t);
  sim.createMember({ days: 1 });
  const scope = await fetch(authorizeUrl(sim, { scope: 'read:cycles write:everything' }), {
    redirect: 'manual',
  });
  t.equal(new URL(scope.headers.get('location') ?? '').searchParams.get('error'), 'invalid_scope');
  const type = await fetch(authorizeUrl(sim, { response_type: 'token' }), { redirect: 'manual' });
  t.equal(new URL(type.headers.get('location') ?? '').searchParams.get('error'), 'unsupported_response_type');
});

t.test('code exchange returns the documented token response; codes are single use', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const consent = await submitConsent(sim, authorizeUrl(sim), 'grant', member.userId);
  const code = new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const first = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  t.equal(first.status, 200);
  const tokens = tokenResponseSchema.parse(await first.json());
  t.equal(tokens.expires_in, 3600);
  t.equal(tokens.token_type, 'bearer');
  t.equal(tokens.scope, ALL_SCOPES);
  t.ok(tokens.refresh_token, 'offline was granted');
  t.notOk('user_id' in tokens, 'the token response carries no user id');

  const again = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  t.equal(again.status, 400);
  const error = oauthErrorSchema.parse(await again.json());
  t.equal(error.error, 'invalid_grant');
  t.equal(error.status_code, 400);
  const profile = await api(sim, '/v2/user/profile/basic', tokens.access_token);
  t.equal(profile.status, 401, 'a replayed code revokes what it produced');
});

t.test('codes expire, and must be redeemed with the same redirect_uri', async (t) => {
  const sim = await startSim(t, { codeTtlSeconds: 300 });
  const member = sim.createMember({ days: 1 });
  const codeOf = async () => {
    const consent = await submitConsent(sim, authorizeUrl(sim), 'grant', member.userId);
    return new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? '';
  };
  const mismatch = await token(sim, {
    grant_type: 'authorization_code',
    code: await codeOf(),
    redirect_uri: `${REDIRECT_URI}?x=1`,
  });
  t.equal(mismatch.status, 400);
  t.equal(((await mismatch.json()) as { error: string }).error, 'invalid_grant');

  const code = await codeOf();
  sim.advanceTime(301_000);
  const late = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  t.equal(late.status, 400);
  t.match(await late.json(), { error: 'invalid_grant', error_hint: /expired/ });
});

t.test('client credentials must be in the body: Basic alone is 401 invalid_client', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const consent = await submitConsent(sim, authorizeUrl(sim), 'grant', member.userId);
  const code = new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const basic = await fetch(`${sim.oauthBaseUrl}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }),
  });
  t.equal(basic.status, 401);
  t.match(await basic.json(), { error: 'invalid_client', status_code: 401 });

  const wrongSecret = await token(sim, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_secret: 'nope',
  });
  t.equal(wrongSecret.status, 401);

  const json = await fetch(`${sim.oauthBaseUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'authorization_code',
      code,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    }),
  });
  t.equal(json.status, 400);
  t.match(await json.json(), { error: 'invalid_request' });

  const good = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  t.equal(good.status, 200, 'the rejected attempts did not consume the code');
});

t.test('refresh rotates both tokens and kills the old pair at once', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const first = await connect(sim, member.userId);
  const refreshed = await token(sim, {
    grant_type: 'refresh_token',
    refresh_token: first.refresh_token ?? '',
    scope: 'offline',
  });
  t.equal(refreshed.status, 200);
  const second = tokenResponseSchema.parse(await refreshed.json());
  t.not(second.access_token, first.access_token);
  t.ok(second.refresh_token);
  t.not(second.refresh_token, first.refresh_token);
  t.equal(second.scope, ALL_SCOPES, 'keeps the granted scopes');

  t.equal(
    (await api(sim, '/v2/user/profile/basic', first.access_token)).status,
    401,
    'old access token is dead',
  );
  t.equal(
    (await api(sim, '/v2/user/profile/basic', second.access_token)).status,
    200,
    'new access token works',
  );

  const reuse = await token(sim, {
    grant_type: 'refresh_token',
    refresh_token: first.refresh_token ?? '',
    scope: 'offline',
  });
  t.equal(reuse.status, 400, 'a second refresh with the spent token fails');
  t.match(await reuse.json(), { error: 'invalid_grant' });
  t.equal(
    (await api(sim, '/v2/user/profile/basic', second.access_token)).status,
    200,
    'switch off: grant survives',
  );
});

t.test('with the switch on, a spent refresh token revokes the whole grant', async (t) => {
  const sim = await startSim(t);
  sim.setFaults({ revokeGrantOnRefreshReuse: true });
  const member = sim.createMember({ days: 1 });
  const first = await connect(sim, member.userId);
  const rotate = (refresh: string) =>
    token(sim, { grant_type: 'refresh_token', refresh_token: refresh, scope: 'offline' });
  const second = (await (await rotate(first.refresh_token ?? '')).json()) as {
    access_token: string;
    refresh_token: string;
  };
  const reuse = await rotate(first.refresh_token ?? '');
  t.equal(reuse.status, 400);
  t.match(await reuse.json(), { error: 'invalid_grant' });
  t.equal(
    (await api(sim, '/v2/user/profile/basic', second.access_token)).status,
    401,
    'the newest access token died',
  );
  const next = await rotate(second.refresh_token);
  t.equal(next.status, 400, 'the newest refresh token died too');
});

t.test('of two concurrent refreshes with the same token, one fails', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const first = await connect(sim, member.userId);
  const params = { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '', scope: 'offline' };
  const statuses = (await Promise.all([token(sim, params), token(sim, params)])).map((r) => r.status).sort();
  t.same(statuses, [200, 400]);
});

t.test(
  'a refresh token is issued only when offline was granted, and only when refreshed with scope=offline',
  async (t) => {
    const sim = await startSim(t);
    const member = sim.createMember({ days: 1 });
    const online = await connect(sim, member.userId, { scope: 'read:profile read:cycles' });
    t.equal(online.refresh_token, undefined, 'no offline, no refresh token');
    t.equal(online.scope, 'read:profile read:cycles');

    const offline = await connect(sim, member.userId);
    const withoutScope = await token(sim, {
      grant_type: 'refresh_token',
      refresh_token: offline.refresh_token ?? '',
    });
    t.equal(withoutScope.status, 200);
    const body = (await withoutScope.json()) as { access_token: string; refresh_token?: string };
    t.ok(body.access_token);
    t.equal(body.refresh_token, undefined, 'observed: no scope=offline, no new refresh token');
  },
);

t.test('DELETE /developer/v2/user/access ends every token of the member for the app', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const a = await connect(sim, member.userId);
  const b = await connect(sim, member.userId);
  const revoke = await api(sim, '/v2/user/access', a.access_token, { method: 'DELETE' });
  t.equal(revoke.status, 204);
  t.equal((await api(sim, '/v2/user/profile/basic', a.access_token)).status, 401);
  t.equal((await api(sim, '/v2/user/profile/basic', b.access_token)).status, 401, 'the other grant too');
  const refresh = await token(sim, {
    grant_type: 'refresh_token',
    refresh_token: b.refresh_token ?? '',
    scope: 'offline',
  });
  t.equal(refresh.status, 400);
  t.match(await refresh.json(), { error: 'invalid_grant' });
});

t.test('access tokens expire after expires_in', async (t) => {
  const sim = await startSim(t, { accessTokenTtlSeconds: 60 });
  const member = sim.createMember({ days: 1 });
  const tokens = await connect(sim, member.userId);
  t.equal(tokens.expires_in, 60);
  t.equal((await api(sim, '/v2/user/profile/basic', tokens.access_token)).status, 200);
  sim.advanceTime(60_000);
  const expired = await api(sim, '/v2/user/profile/basic', tokens.access_token);
  t.equal(expired.status, 401);
  t.match(expired.headers.get('www-authenticate'), /invalid_token/);
});

t.test('PKCE S256 is accepted together with the client secret', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const verifier = 'a-verifier-that-is-long-enough-to-be-a-real-pkce-verifier-0123';
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const params = { code_challenge: challenge, code_challenge_method: 'S256' };
  const codeOf = async () => {
    const consent = await submitConsent(sim, authorizeUrl(sim, params), 'grant', member.userId);
    return new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? '';
  };
  const wrong = await token(sim, {
    grant_type: 'authorization_code',
    code: await codeOf(),
    redirect_uri: REDIRECT_URI,
    code_verifier: `${verifier}x`,
  });
  t.equal(wrong.status, 400);
  const right = await token(sim, {
    grant_type: 'authorization_code',
    code: await codeOf(),
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
  t.equal(right.status, 200);
  const plain = await fetch(
    authorizeUrl(sim, { code_challenge: challenge, code_challenge_method: 'plain' }),
    {
      redirect: 'manual',
    },
  );
  t.equal(new URL(plain.headers.get('location') ?? '').searchParams.get('error'), 'invalid_request');
});

t.test('auto-approve answers the authorize request without the consent page', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  sim.setConsent({ autoApprove: 'grant', defaultUserId: member.userId });
  const granted = await fetch(authorizeUrl(sim), { redirect: 'manual' });
  t.equal(granted.status, 302);
  const code = new URL(granted.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const tokens = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  const { access_token } = (await tokens.json()) as { access_token: string };
  const profile = (await (await api(sim, '/v2/user/profile/basic', access_token)).json()) as {
    user_id: number;
  };
  t.equal(profile.user_id, member.userId);

  sim.setConsent({ autoApprove: 'deny' });
  const denied = await fetch(authorizeUrl(sim), { redirect: 'manual' });
  t.equal(new URL(denied.headers.get('location') ?? '').searchParams.get('error'), 'access_denied');
});
