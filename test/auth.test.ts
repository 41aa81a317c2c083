import { parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { build } from './helper.ts';
import { BrowserSession, signUp } from './support/browser-session.ts';

t.test('sign up, log out and log in again', async (t) => {
  const { app } = await build(t);
  const browser = new BrowserSession(app);

  const created = await signUp(browser, {
    email: 'Ann@Example.com',
    displayName: 'Ann',
    timeZone: 'Pacific/Honolulu',
  });
  t.equal(created.statusCode, 303);
  t.equal(created.headers.location, '/');
  const dashboard = await browser.get('/');
  t.equal(dashboard.statusCode, 200);
  t.equal(
    parse(dashboard.body).querySelector('.account a')?.text,
    'Ann',
    'the header names the signed-in user',
  );

  const loggedOut = await browser.submit('/', '/logout', {});
  t.equal(loggedOut.statusCode, 303);
  const afterLogout = await browser.get('/');
  t.equal(afterLogout.statusCode, 303, 'pages need a session again after logout');
  t.match(afterLogout.headers.location, /^\/login\?next=/);

  const loggedIn = await browser.submit('/login', '/login', {
    email: 'ann@example.com',
    password: 'correct horse battery',
  });
  t.equal(loggedIn.statusCode, 303);
  t.equal((await browser.get('/')).statusCode, 200);
});

t.test('a duplicate email is refused with a clear message', async (t) => {
  const { app, pool } = await build(t);
  await signUp(new BrowserSession(app), { email: 'dup@example.com' });
  const second = await signUp(new BrowserSession(app), { email: 'DUP@example.com' });
  t.equal(second.statusCode, 409);
  const message = parse(second.body).querySelector('#email-error')?.text ?? '';
  t.match(message, /already exists/);
  const { rows } =
    await pool.query((await import('../src/services/db/sql.ts')).sql.typeAlias('void')`SELECT FROM app_user`);
  t.equal(rows.length, 1, 'only one account exists');
});

t.test('invalid sign-up input re-renders the form with messages', async (t) => {
  const { app } = await build(t);
  const response = await signUp(new BrowserSession(app), {
    email: 'not-an-email',
    password: 'short',
    displayName: ' ',
  });
  t.equal(response.statusCode, 422);
  const page = parse(response.body);
  t.ok(page.querySelector('#email-error'), 'email message shown');
  t.match(page.querySelector('#password-error')?.text ?? '', /at least 10/);
  t.ok(page.querySelector('#displayName-error'), 'name message shown');
});

t.test('bad credentials get one generic message', async (t) => {
  const { app } = await build(t);
  await signUp(new BrowserSession(app), { email: 'known@example.com' });
  for (const attempt of [
    { email: 'known@example.com', password: 'wrong password!' },
    { email: 'unknown@example.com', password: 'correct horse battery' },
  ]) {
    const response = await new BrowserSession(app).submit('/login', '/login', attempt);
    t.equal(response.statusCode, 401);
    t.equal(parse(response.body).querySelector('[role=alert]')?.text, 'Email or password is incorrect.');
  }
});

t.test('a POST without a CSRF token is refused', async (t) => {
  const { app } = await build(t);
  const browser = new BrowserSession(app);
  await signUp(browser, { email: 'csrf@example.com' });
  const withoutToken = await browser.post('/account', { displayName: 'Mallory', timeZone: 'UTC' });
  t.equal(withoutToken.statusCode, 403);
  t.match(parse(withoutToken.body).querySelector('h1')?.text ?? '', /Request refused/);
  const forged = await browser.post('/account', {
    _csrf: 'forged-token',
    displayName: 'Mallory',
    timeZone: 'UTC',
  });
  t.equal(forged.statusCode, 403);
  const account = await browser.get('/account');
  t.equal(
    parse(account.body).querySelector('#displayName')?.getAttribute('value'),
    'Test Person',
    'nothing changed',
  );
});

t.test('login regenerates the session id', async (t) => {
  const { app } = await build(t);
  await signUp(new BrowserSession(app), { email: 'fixation@example.com' });
  const browser = new BrowserSession(app);
  await browser.get('/login');
  const before = browser.cookies.get('sid');
  t.ok(before, 'an anonymous session exists for the login form');
  await browser.submit('/login', '/login', {
    email: 'fixation@example.com',
    password: 'correct horse battery',
  });
  t.not(browser.cookies.get('sid'), before);
});

t.test(
  'anonymous sessions live an hour and are purged; a logged-in one lives 30 days (defect 10.5)',
  async (t) => {
    const { app, pool, services } = await build(t);
    await signUp(new BrowserSession(app), { email: 'anon@example.com' });
    for (let i = 0; i < 5; i++) await new BrowserSession(app).get(i % 2 ? '/signup' : '/login');
    const expiries = z.object({ user_id: z.number().nullable(), hours: z.number() });
    const anonymous = await pool.any(sql.type(expiries)`
    SELECT user_id, extract(epoch FROM expires_at - now())::float8 / 3600 AS hours FROM session WHERE user_id IS NULL
  `);
    t.equal(anonymous.length, 5, 'one row per cookie-less visit to a form');
    t.ok(
      anonymous.every((row) => row.hours > 0 && row.hours <= 1),
      `anonymous rows expire within the hour (${anonymous.map((row) => row.hours.toFixed(2)).join(', ')})`,
    );
    const member = new BrowserSession(app);
    await member.get('/login');
    await member.submit('/login', '/login', { email: 'anon@example.com', password: 'correct horse battery' });
    const signedIn = await pool.any(sql.type(expiries)`
    SELECT user_id, extract(epoch FROM expires_at - now())::float8 / 3600 AS hours FROM session WHERE user_id IS NOT NULL
  `);
    t.ok(
      signedIn.length >= 1 && signedIn.every((row) => row.hours > 24 * 29),
      'a logged-in session keeps 30 days',
    );
    // An hour later: the purge job's query removes the visitors' rows and keeps the member's.
    await pool.query(sql.typeAlias('void')`
    UPDATE session SET expires_at = expires_at - interval '61 minutes'
  `);
    t.ok((await services.sessions.purgeExpired()) >= 5, 'the expired anonymous rows are purged');
    const left = await pool.any(sql.type(expiries)`SELECT user_id, 0::float8 AS hours FROM session`);
    t.ok(left.length >= 1 && left.every((row) => row.user_id !== null), 'only logged-in sessions remain');
    t.equal((await member.get('/')).statusCode, 200, 'the member is still logged in');
  },
);

t.test('the session cookie is HttpOnly and SameSite', async (t) => {
  const { app } = await build(t);
  const browser = new BrowserSession(app);
  const response = await browser.get('/login');
  const cookie = response.cookies.find((c) => c.name === 'sid');
  t.ok(cookie?.httpOnly);
  t.equal(cookie?.sameSite, 'Lax');
});

t.test('a secure deployment marks the session cookie Secure', async (t) => {
  const { app } = await build(t, {
    env: { PUBLIC_BASE_URL: 'https://health.example.com', TRUST_PROXY: '1' },
  });
  const response = await new BrowserSession(app).get('/login', {
    'x-forwarded-host': 'health.example.com',
    'x-forwarded-proto': 'https',
  });
  t.equal(response.cookies.find((c) => c.name === 'sid')?.secure, true);
});

t.test('login only redirects to paths on this site', async (t) => {
  const { app } = await build(t);
  await signUp(new BrowserSession(app), { email: 'next@example.com' });
  const browser = new BrowserSession(app);
  const response = await browser.submit('/login?next=//evil.example', '/login', {
    email: 'next@example.com',
    password: 'correct horse battery',
    next: '//evil.example',
  });
  t.equal(response.headers.location, '/');
  const local = await new BrowserSession(app).submit('/login', '/login', {
    email: 'next@example.com',
    password: 'correct horse battery',
    next: '/sleep',
  });
  t.equal(local.headers.location, '/sleep');
});

t.test('next never leaves the site, whatever browsers strip or decode (defect 10.3)', async (t) => {
  const hostile = [
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    '/\u0000/evil.example',
    '/\\evil.example',
    '/\\/evil.example',
    '//evil.example',
    '///evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    ' /evil',
    '/%0a',
  ];
  // Eight logins per app: the per-address login limit is not under test here.
  for (let first = 0; first < hostile.length; first += 8) {
    const { app } = await build(t);
    await signUp(new BrowserSession(app), { email: 'hostile-next@example.com' });
    for (const next of hostile.slice(first, first + 8)) {
      const login = await new BrowserSession(app).submit('/login', '/login', {
        email: 'hostile-next@example.com',
        password: 'correct horse battery',
        next,
      });
      t.equal(login.statusCode, 303, `${JSON.stringify(next)}: logged in`);
      const location = String(login.headers.location);
      t.equal(
        new URL(location, 'http://localhost:3000').origin,
        'http://localhost:3000',
        `${JSON.stringify(next)} stays on the site`,
      );
      t.notMatch(
        location,
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is checked
        /[\u0000-\u001f\u007f\\]/,
        `${JSON.stringify(next)}: no control character or backslash`,
      );
    }
  }
});

t.test('the login form drops a hostile next and keeps a same-site one whole', async (t) => {
  const { app } = await build(t);
  await signUp(new BrowserSession(app), { email: 'kept-next@example.com' });
  // GET /login?next=/%09/evil.example arrives as a tab once decoded.
  const page = await new BrowserSession(app).get('/login?next=/%09/evil.example');
  t.equal(page.statusCode, 200);
  t.notMatch(page.body, /evil\.example/, 'the form does not carry the hostile target');
  const newline = await new BrowserSession(app).get('/login?next=/%0a');
  t.equal(newline.statusCode, 200, 'a newline in next is no 500');
  const kept = await new BrowserSession(app).submit('/login', '/login', {
    email: 'kept-next@example.com',
    password: 'correct horse battery',
    next: '/progress?days=30#chart',
  });
  t.equal(kept.headers.location, '/progress?days=30#chart', 'a same-site path keeps its query and fragment');
});

t.test('the time zone can be changed in account settings', async (t) => {
  const { app } = await build(t);
  const browser = new BrowserSession(app);
  await signUp(browser, { email: 'tz@example.com', timeZone: 'Europe/Berlin' });
  const invalid = await browser.submit('/account', '/account', {
    displayName: 'TZ',
    timeZone: 'Mars/Olympus',
  });
  t.equal(invalid.statusCode, 422);
  t.match(parse(invalid.body).querySelector('#timeZone-error')?.text ?? '', /valid time zone/);
  const saved = await browser.submit('/account', '/account', { displayName: 'TZ', timeZone: 'Asia/Tokyo' });
  t.equal(saved.statusCode, 303);
  const page = parse((await browser.get('/account')).body);
  t.equal(page.querySelector('#timeZone option[selected]')?.getAttribute('value'), 'Asia/Tokyo');
  t.equal(page.querySelector('[role=status]')?.text, 'Settings saved.');
});
