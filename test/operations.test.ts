import t from 'tap';
import { build } from './helper.ts';
import { BrowserSession, signUp } from './support/browser-session.ts';

t.test('/healthz answers while the process is up', async (t) => {
  const { app } = await build(t);
  const response = await app.inject('/healthz');
  t.equal(response.statusCode, 200);
  t.same(response.json(), { status: 'ok' });
});

t.test('/readyz is ready with a database and fails when the database is down', async (t) => {
  const database = await (await import('./helper.ts')).createTestDatabase(t);
  const { app } = await build(t, { databaseUrl: database.url });
  const ready = await app.inject('/readyz');
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready', database: true });
  await database.drop();
  const down = await app.inject('/readyz');
  t.equal(down.statusCode, 503);
  t.same(down.json(), { status: 'unavailable', database: false });
});

t.test('a valid incoming request id is echoed and logged; an unsafe one is replaced', async (t) => {
  const { app, logs } = await build(t);
  const echoed = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-abc-12345' } });
  t.equal(echoed.headers['x-request-id'], 'trace-abc-12345');
  const lines = logs.lines().filter((line) => line.reqId === 'trace-abc-12345');
  t.ok(
    lines.some((line) => line.msg === 'request completed'),
    'its line carries the id',
  );

  const unsafe = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline' } });
  t.match(unsafe.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  const generated = await app.inject('/healthz');
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  t.not(generated.headers['x-request-id'], unsafe.headers['x-request-id']);
});

t.test('logs contain no cookie and no password', async (t) => {
  const { app, logs } = await build(t, { env: { LOG_LEVEL: 'trace' } });
  const browser = new BrowserSession(app);
  const password = 'very-secret-password-42';
  await signUp(browser, { email: 'logs@example.com', password });
  await browser.submit('/', '/logout', {});
  await browser.submit('/login', '/login', { email: 'logs@example.com', password: 'wrong-password-99' });
  await browser.submit('/login', '/login', { email: 'logs@example.com', password });
  await app.inject({ url: '/healthz', headers: { authorization: 'Bearer secret-bearer-value' } });
  const text = logs.text();
  t.ok(text.length > 0, 'something was logged');
  t.notMatch(text, password);
  t.notMatch(text, 'wrong-password-99');
  t.notMatch(text, 'secret-bearer-value');
  for (const value of browser.cookies.values()) t.notMatch(text, value, 'no session cookie value');
  t.notMatch(text, /"cookie"/i);
});

t.test('error pages show a reference id and never a stack', async (t) => {
  const { app } = await build(t);
  const response = await app.inject({ url: '/no/such/page', headers: { 'x-request-id': 'ref-404-abcdef' } });
  t.equal(response.statusCode, 404);
  t.match(response.body, 'ref-404-abcdef');
  t.match(response.headers['content-type'], /text\/html/);
});

t.test(
  'every page carries the security headers; probes and scrapes carry neither them nor a session',
  async (t) => {
    const { app } = await build(t);
    for (const url of ['/login', '/signup', '/no/such/page']) {
      const response = await app.inject(url);
      t.match(
        response.headers,
        {
          'content-security-policy': /default-src 'self';.*frame-ancestors 'none'/,
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-resource-policy': 'same-origin',
          'origin-agent-cluster': '?1',
          'referrer-policy': 'no-referrer',
          'x-content-type-options': 'nosniff',
          'x-dns-prefetch-control': 'off',
          'x-download-options': 'noopen',
          'x-frame-options': 'SAMEORIGIN',
          'x-permitted-cross-domain-policies': 'none',
          'x-xss-protection': '0',
        },
        url,
      );
      t.notOk(response.headers['strict-transport-security'], 'no HSTS over plain http');
    }
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      const response = await app.inject(url);
      t.equal(response.statusCode, 200, url);
      t.notOk(response.headers['set-cookie'], `${url} sets no cookie`);
      t.notOk(response.headers['content-security-policy'], `${url} is not a page`);
    }
  },
);

t.test('pages send a CSP that allows no inline script', async (t) => {
  const { app } = await build(t);
  const response = await app.inject('/login');
  const csp = String(response.headers['content-security-policy']);
  t.match(csp, /script-src 'self'(;|$)/);
  t.notMatch(csp, /unsafe-inline/);
});

t.test('htmx is served by the app itself', async (t) => {
  const { app } = await build(t);
  const response = await app.inject('/vendor/htmx/htmx.min.js');
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /javascript/);
  t.equal((await app.inject('/vendor/htmx/htmx.js')).statusCode, 404, 'only the minified build is exposed');
});

t.test('one info line per real request; health checks, scrapes and polls only at debug', async (t) => {
  const { app, logs } = await build(t);
  for (let i = 0; i < 5; i++) {
    await app.inject('/healthz');
    await app.inject('/readyz');
    await app.inject('/metrics');
  }
  await app.inject({ url: '/login', headers: { 'x-request-id': 'one-line-per-request' } });
  const info = logs.lines().filter((line) => Number(line.level) >= 30);
  const quiet = info.filter((line) => ['/healthz', '/readyz', '/metrics'].includes(String(line.route)));
  t.same(quiet, [], 'no info line for 15 health checks and scrapes');
  const login = info.filter((line) => line.reqId === 'one-line-per-request');
  t.equal(login.length, 1, 'one line for the page');
  t.match(login[0], { msg: 'request completed', method: 'GET', route: '/login', statusCode: 200 });
  t.ok(
    logs.lines().some((line) => line.route === '/healthz' && line.level === 20),
    'health checks are still there at debug',
  );
});
