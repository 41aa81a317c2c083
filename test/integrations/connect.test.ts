import { createHash } from 'node:crypto';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import {
  createKeyringKeyProvider,
  createTokenVault,
  generateKeyringKey,
  parseKeyring,
} from '../../src/services/token-vault/index.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import {
  answerConsent,
  CLIENT_ID,
  connections,
  followCallback,
  integrationsCard,
  linkWhoop,
  pressConnect,
  REDIRECT_URI,
  setUp,
  tokenRows,
  userIdOf,
} from './support.ts';

const stateRow = z.object({
  state_hash: z.custom<Buffer>((v) => Buffer.isBuffer(v)),
  user_id: z.number(),
  consumed_at: z.date().nullable(),
  expires_at: z.date(),
  created_at: z.date(),
  has_verifier: z.boolean(),
});

t.test('Connect redirects to WHOOP with a one-time state stored only as a hash', async (t) => {
  const app = await setUp(t);
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'start@example.com' });

  const connect = await pressConnect(browser);
  t.equal(connect.statusCode, 303);
  const url = new URL(String(connect.headers.location));
  t.equal(`${url.origin}${url.pathname}`, `${app.sim.oauthBaseUrl}/auth`, 'to WHOOP_OAUTH_BASE_URL/auth');
  const params = url.searchParams;
  t.equal(params.get('response_type'), 'code');
  t.equal(params.get('client_id'), CLIENT_ID);
  t.equal(params.get('redirect_uri'), REDIRECT_URI);
  t.same(
    params.get('scope')?.split(' ').sort(),
    [
      'offline',
      'read:body_measurement',
      'read:cycles',
      'read:profile',
      'read:recovery',
      'read:sleep',
      'read:workout',
    ],
    'the six read scopes and offline',
  );
  const state = params.get('state') ?? '';
  t.ok(Buffer.from(state, 'base64url').length >= 32, 'state carries at least 32 random bytes');
  t.equal(params.get('code_challenge_method'), 'S256');
  t.match(params.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);

  const rows = await app.pool.any(sql.type(stateRow)`
    SELECT state_hash, user_id, consumed_at, expires_at, created_at, pkce_verifier_sealed IS NOT NULL AS has_verifier
    FROM oauth_state
  `);
  t.equal(rows.length, 1);
  const row = rows[0];
  t.same(
    row?.state_hash,
    createHash('sha256').update(state).digest(),
    'only the SHA-256 of the state is stored',
  );
  t.equal(row?.user_id, await userIdOf(app, 'start@example.com'));
  t.equal(row?.consumed_at, null);
  t.equal(
    (row?.expires_at.getTime() ?? 0) - (row?.created_at.getTime() ?? 0),
    10 * 60 * 1000,
    'TTL of 10 minutes',
  );
  t.ok(row?.has_verifier, 'the PKCE verifier is kept (sealed) with the state');
  const everything = JSON.stringify(
    await app.pool.any(
      sql.type(z.object({ row: z.unknown() }))`SELECT to_jsonb(s) AS row FROM oauth_state s`,
    ),
  );
  t.notMatch(everything, state, 'the state value itself is nowhere in the row');

  const second = new URL(String((await pressConnect(browser)).headers.location)).searchParams.get('state');
  t.not(second, state, 'every Connect makes a new state');
});

t.test('Connect needs a signed-in user and a CSRF token', async (t) => {
  const app = await setUp(t);
  const anonymous = await app.app.inject({ method: 'POST', url: '/integrations/whoop/connect' });
  t.equal(anonymous.statusCode, 403, 'an anonymous POST is refused');
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'csrf@example.com' });
  const forged = await browser.post('/integrations/whoop/connect', { _csrf: 'forged' });
  t.equal(forged.statusCode, 403);
  t.equal(
    (await app.pool.anyFirst(sql.type(z.object({ id: z.number() }))`SELECT id FROM oauth_state`)).length,
    0,
  );
});

t.test('Grant on WHOOP ends Connected, with encrypted tokens stored', async (t) => {
  const keyring = generateKeyringKey('v1');
  const app = await setUp(t, { env: { TOKEN_ENCRYPTION_KEYS: keyring } });
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'grant@example.com', timeZone: 'Asia/Kolkata' });

  const { callback, callbackUrl } = await linkWhoop(browser, { whoopUserId: app.memberId });
  t.ok(callbackUrl.searchParams.get('code'), 'WHOOP sent a code back');
  t.equal(callback.statusCode, 303);
  t.equal(callback.headers.location, '/integrations');

  const card = await integrationsCard(browser);
  t.equal(card.status, 'connected');
  t.match(card.text, /Connected/);
  t.equal(card.memberName, 'Whitney Hoop', 'the WHOOP member name is shown');
  t.match(card.flash, /WHOOP is linked/);
  t.match(card.text, /Linked since/);
  t.match(card.text, /Last sync Not synced yet/);
  t.match(
    card.text,
    /Next sync (Not scheduled yet|\w{3} \d{1,2}, \d{4}, \d{1,2}:\d\d\s[AP]M)/,
    'Next sync: a time once scheduled',
  );
  t.ok(card.buttons.includes('Sync now') && card.buttons.includes('Disconnect'));

  const [connection] = await connections(app);
  t.match(connection, {
    user_id: await userIdOf(app, 'grant@example.com'),
    status: 'connected',
    provider_account_id: String(app.memberId),
  });
  t.ok(connection?.connected_at instanceof Date);
  t.same([...(connection?.scopes ?? [])].sort(), [
    'offline',
    'read:body_measurement',
    'read:cycles',
    'read:profile',
    'read:recovery',
    'read:sleep',
    'read:workout',
  ]);

  const counts = app.sim.requestCounts();
  t.equal(counts['POST /oauth/oauth2/token']?.[CLIENT_ID], 1, 'one server-to-server code exchange');
  t.equal(counts['GET /developer/v2/user/profile/basic']?.[CLIENT_ID], 1, 'one profile read');

  const tokens = await tokenRows(app);
  t.same(
    tokens.map((row) => [row.kind, row.key_provider, row.key_id, row.key_version]),
    [
      ['access', 'keyring', 'local', 'v1'],
      ['refresh', 'keyring', 'local', 'v1'],
    ],
  );
  const access = tokens.find((row) => row.kind === 'access');
  const inAnHour = Date.now() + 3600_000;
  t.ok(Math.abs((access?.expires_at?.getTime() ?? 0) - inAnHour) < 60_000, 'access expiry from expires_in');

  // The sealed rows open (with the same key, outside the app) to tokens WHOOP accepts.
  const vault = createTokenVault({
    keyProvider: createKeyringKeyProvider({ keys: parseKeyring(keyring), keyId: 'local' }),
  });
  const sealed = await app.pool.one(
    sql.type(
      z.object({
        ciphertext: z.custom<Buffer>(),
        iv: z.custom<Buffer>(),
        auth_tag: z.custom<Buffer>(),
        wrapped_key: z.custom<Buffer>(),
        key_version: z.string(),
      }),
    )`SELECT ciphertext, iv, auth_tag, wrapped_key, key_version FROM integration_token WHERE kind = 'access'`,
  );
  const accessToken = await vault.open(
    {
      ciphertext: sealed.ciphertext,
      iv: sealed.iv,
      authTag: sealed.auth_tag,
      wrappedKey: sealed.wrapped_key,
      keyProvider: 'keyring',
      keyId: 'local',
      keyVersion: sealed.key_version,
    },
    { connectionId: String(connection?.id), kind: 'access' },
  );
  const profile = await fetch(`${app.sim.apiBaseUrl}/v2/user/profile/basic`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  t.equal(profile.status, 200, 'the stored access token is the one WHOOP issued');
  await t.rejects(
    vault.open(
      {
        ciphertext: sealed.ciphertext,
        iv: sealed.iv,
        authTag: sealed.auth_tag,
        wrappedKey: sealed.wrapped_key,
        keyProvider: 'keyring',
        keyId: 'local',
        keyVersion: sealed.key_version,
      },
      { connectionId: String(connection?.id), kind: 'refresh' },
    ),
    /did not authenticate/,
    'the ciphertext is bound to its kind',
  );
});

t.test('each step is logged with the request id, and no token, code or state is logged', async (t) => {
  const app = await setUp(t, { env: { LOG_LEVEL: 'trace' } });
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'logs@example.com' });
  const connect = await pressConnect(browser);
  const authorizeUrl = new URL(String(connect.headers.location));
  const callbackUrl = await answerConsent(authorizeUrl.toString(), 'grant', app.memberId);
  const callback = await browser.get(`${callbackUrl.pathname}${callbackUrl.search}`, {
    'x-request-id': 'callback-request-1',
  });
  t.equal(callback.statusCode, 303);
  const steps = app.logs
    .lines()
    .filter((line) => line.reqId === 'callback-request-1')
    .map((line) => String(line.msg));
  for (const step of [
    'whoop oauth: state accepted',
    'whoop oauth: code exchanged for tokens',
    'whoop oauth: profile read',
    'whoop oauth: connection stored with sealed tokens',
  ]) {
    t.ok(steps.includes(step), `logged with the request id: ${step}`);
  }
  const text = app.logs.text();
  const code = callbackUrl.searchParams.get('code') ?? '';
  const state = authorizeUrl.searchParams.get('state') ?? '';
  t.ok(code.length > 20 && state.length > 20);
  t.notMatch(text, code, 'the code is not logged');
  t.notMatch(text, state, 'the state is not logged');
  for (const grant of app.sim.grants()) t.notMatch(text, grant.id);
  t.notMatch(text, /ory_at_|ory_rt_/, 'no WHOOP token is logged');
});

t.test('Deny on WHOOP links nothing and says so', async (t) => {
  const app = await setUp(t);
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'deny@example.com' });
  const { callback, callbackUrl } = await linkWhoop(browser, { decision: 'deny' });
  t.equal(callbackUrl.searchParams.get('error'), 'access_denied');
  t.equal(callback.statusCode, 303);
  const card = await integrationsCard(browser);
  t.match(card.flash, /You declined/);
  t.equal(card.status, 'disconnected');
  t.ok(card.buttons.includes('Connect'));
  t.same(await connections(app), [], 'no connection');
  t.same(await tokenRows(app), [], 'no token');
  t.equal(app.sim.requestCounts()['POST /oauth/oauth2/token'], undefined, 'no exchange was attempted');

  // The state of a declined request cannot be used afterwards.
  const replay = new URL(callbackUrl);
  replay.searchParams.delete('error');
  replay.searchParams.set('code', 'made-up-code');
  await followCallback(browser, replay);
  t.match((await integrationsCard(browser)).flash, /not valid/);
});

t.test('any other WHOOP error is shown in plain words and links nothing', async (t) => {
  const app = await setUp(t);
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'error@example.com' });
  const connect = await pressConnect(browser);
  const state = new URL(String(connect.headers.location)).searchParams.get('state') ?? '';
  await browser.get(`/integrations/whoop/callback?error=invalid_scope&error_description=nope&state=${state}`);
  const card = await integrationsCard(browser);
  t.match(card.flash, /WHOOP returned an error/);
  t.equal(card.status, 'disconnected');
  await browser.get('/integrations/whoop/callback?error=%3Cscript%3E&state=x');
  t.match(
    (await integrationsCard(browser)).flash,
    /WHOOP returned an error \(unknown_error\)/,
    'odd codes are not echoed',
  );
  t.same(await connections(app), []);
});

t.test('a missing code, an unknown, expired, replayed or foreign state each link nothing', async (t) => {
  const app = await setUp(t);
  const alice = new BrowserSession(app.app);
  await signUp(alice, { email: 'alice@example.com' });
  const mallory = new BrowserSession(app.app);
  await signUp(mallory, { email: 'mallory@example.com' });

  t.test('missing code', async (t) => {
    const connect = await pressConnect(alice);
    const state = new URL(String(connect.headers.location)).searchParams.get('state') ?? '';
    const response = await alice.get(`/integrations/whoop/callback?state=${encodeURIComponent(state)}`);
    t.equal(response.statusCode, 303);
    t.match((await integrationsCard(alice)).flash, /no authorization code/);
  });

  t.test('unknown state', async (t) => {
    const response = await alice.get('/integrations/whoop/callback?code=abc&state=not-a-state-we-issued-123');
    t.equal(response.statusCode, 303);
    t.match((await integrationsCard(alice)).flash, /not valid/);
  });

  t.test('no state at all', async (t) => {
    await alice.get('/integrations/whoop/callback?code=abc');
    t.match((await integrationsCard(alice)).flash, /not valid/);
  });

  t.test('a malformed query', async (t) => {
    const response = await alice.get('/integrations/whoop/callback?code=a&code=b&state=x&state=y');
    t.equal(response.statusCode, 303, 'not a 500');
    t.match((await integrationsCard(alice)).flash, /not valid/);
  });

  t.test('expired state', async (t) => {
    const connect = await pressConnect(alice);
    const callbackUrl = await answerConsent(String(connect.headers.location), 'grant', app.memberId);
    await app.pool.query(sql.typeAlias('void')`
      UPDATE oauth_state SET expires_at = now() - interval '1 second' WHERE consumed_at IS NULL
    `);
    await followCallback(alice, callbackUrl);
    t.match((await integrationsCard(alice)).flash, /not valid/);
  });

  t.test('foreign state: Mallory presents the callback of Alice', async (t) => {
    const connect = await pressConnect(alice);
    const callbackUrl = await answerConsent(String(connect.headers.location), 'grant', app.memberId);
    const response = await followCallback(mallory, callbackUrl);
    t.equal(response.statusCode, 303);
    t.match((await integrationsCard(mallory)).flash, /not valid/);
    t.equal((await integrationsCard(mallory)).status, 'disconnected');
  });

  t.test('the same user in another session', async (t) => {
    const connect = await pressConnect(alice);
    const callbackUrl = await answerConsent(String(connect.headers.location), 'grant', app.memberId);
    const otherDevice = new BrowserSession(app.app);
    await otherDevice.submit('/login', '/login', {
      email: 'alice@example.com',
      password: 'correct horse battery',
    });
    await followCallback(otherDevice, callbackUrl);
    t.match((await integrationsCard(otherDevice)).flash, /not valid/);
  });

  t.same(await connections(app), [], 'nothing was linked by any of them');
  t.same(await tokenRows(app), []);
  t.equal(app.sim.requestCounts()['POST /oauth/oauth2/token'], undefined, 'no code reached WHOOP');

  t.test('replayed state: the second use of a good callback fails', async (t) => {
    const connect = await pressConnect(alice);
    const callbackUrl = await answerConsent(String(connect.headers.location), 'grant', app.memberId);
    await followCallback(alice, callbackUrl);
    t.equal((await integrationsCard(alice)).status, 'connected');
    const connectedAt = (await connections(app))[0]?.connected_at;
    const replay = await followCallback(alice, callbackUrl);
    t.equal(replay.statusCode, 303);
    t.match((await integrationsCard(alice)).flash, /not valid/);
    t.equal((await connections(app)).length, 1);
    t.same((await connections(app))[0]?.connected_at, connectedAt, 'the link is untouched');
    t.equal(
      app.sim.requestCounts()['POST /oauth/oauth2/token']?.[CLIENT_ID],
      1,
      'the code went to WHOOP once',
    );
  });
});

t.test('an anonymous callback goes to login without carrying the code along', async (t) => {
  const app = await setUp(t);
  const response = await app.app.inject('/integrations/whoop/callback?code=secret-code-123&state=abcdefgh');
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, '/login?next=%2Fintegrations');
});

t.test('a second user linking the same WHOOP account is refused; nothing is stored for them', async (t) => {
  const app = await setUp(t);
  const first = new BrowserSession(app.app);
  await signUp(first, { email: 'first@example.com' });
  await linkWhoop(first, { whoopUserId: app.memberId });
  t.equal((await integrationsCard(first)).status, 'connected');

  const second = new BrowserSession(app.app);
  await signUp(second, { email: 'second@example.com' });
  const { callback } = await linkWhoop(second, { whoopUserId: app.memberId });
  t.equal(callback.statusCode, 303);
  const card = await integrationsCard(second);
  t.match(card.flash, /already linked to another user/);
  t.equal(card.status, 'disconnected');

  const rows = await connections(app);
  t.equal(rows.length, 1, 'no connection row for the second user');
  t.equal(rows[0]?.user_id, await userIdOf(app, 'first@example.com'));
  t.equal(rows[0]?.status, 'connected', 'the first link is untouched');
  t.same(
    (await tokenRows(app)).map((row) => row.connection_id),
    [rows[0]?.id, rows[0]?.id],
    'only the first user has tokens',
  );
  t.equal((await integrationsCard(first)).status, 'connected');
});

t.test(
  'the database refuses a second live link of one WHOOP account even if the check is raced',
  async (t) => {
    const app = await setUp(t);
    const browser = new BrowserSession(app.app);
    await signUp(browser, { email: 'race-a@example.com' });
    await signUp(new BrowserSession(app.app), { email: 'race-b@example.com' });
    const a = await userIdOf(app, 'race-a@example.com');
    const b = await userIdOf(app, 'race-b@example.com');
    // Two internal exchanges at once for the same WHOOP member: one wins, the other gets a clear refusal.
    const codes = await Promise.all(
      [0, 1].map(async () => {
        const url = new URL(`${app.sim.oauthBaseUrl}/auth`);
        url.search = new URLSearchParams({
          response_type: 'code',
          client_id: CLIENT_ID,
          redirect_uri: REDIRECT_URI,
          scope: 'read:profile offline',
          state: 'internal-state-123',
        }).toString();
        return (await answerConsent(url.toString(), 'grant', app.memberId)).searchParams.get('code') ?? '';
      }),
    );
    const results = await Promise.allSettled([
      app.services.whoop.exchangeCode({ userId: a, code: codes[0] ?? '' }),
      app.services.whoop.exchangeCode({ userId: b, code: codes[1] ?? '' }),
    ]);
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one link');
    const refused = results.find((r) => r.status === 'rejected');
    t.match((refused as PromiseRejectedResult | undefined)?.reason, { code: 'account_linked_elsewhere' });
    const live = (await connections(app)).filter((row) => row.status === 'connected');
    t.equal(live.length, 1);
  },
);
