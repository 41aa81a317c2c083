// Issue 13, deliverable 0: the first run never dead-ends. A newcomer who opens the address the server
// listens on (127.0.0.1) instead of PUBLIC_BASE_URL (localhost) would get a session WHOOP never returns to.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { build, createTestDatabase } from './helper.ts';
import { setUp } from './integrations/support.ts';
import { freePort } from './support/free-port.ts';

// test/helper.ts builds every app with PUBLIC_BASE_URL http://localhost:3000.
const otherHost = '127.0.0.1:3000';

t.test(
  'a page asked for on another host name moves to PUBLIC_BASE_URL, path and query kept, no cookie',
  async (t) => {
    const { app } = await build(t);
    for (const method of ['GET', 'HEAD'] as const) {
      const response = await app.inject({
        method,
        url: '/login?next=%2Fsleep%3Fdate%3D2025-01-02',
        headers: { host: otherHost },
      });
      t.equal(response.statusCode, 307, `${method} is redirected`);
      t.equal(response.headers.location, 'http://localhost:3000/login?next=%2Fsleep%3Fdate%3D2025-01-02');
      t.equal(response.headers['set-cookie'], undefined, 'no cookie for the other host name');
    }
    const unknown = await app.inject({ url: '/no/such/page', headers: { host: otherHost } });
    t.equal(unknown.headers.location, 'http://localhost:3000/no/such/page', 'unknown paths too');
    const hostile = await app.inject({ url: '//evil.example/x', headers: { host: otherHost } });
    t.equal(
      new URL(String(hostile.headers.location)).origin,
      'http://localhost:3000',
      'a path that looks like a host stays on the public origin',
    );
  },
);

t.test(
  'on the public host name the page is served (the port does not matter: cookies ignore it)',
  async (t) => {
    const { app } = await build(t);
    for (const host of ['localhost:3000', 'LOCALHOST:3000', 'localhost:80']) {
      const response = await app.inject({ url: '/login', headers: { host } });
      t.equal(response.statusCode, 200, host);
      t.match(response.body, /<h1>Log in<\/h1>|Log in/);
    }
  },
);

t.test('forms and htmx requests on another host name get 421, never a cookie', async (t) => {
  const { app } = await build(t);
  const form = await app.inject({
    method: 'POST',
    url: '/signup',
    headers: { host: otherHost, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'email=a%40example.com&password=correct+horse+battery',
  });
  t.equal(form.statusCode, 421);
  t.match(form.headers['content-type'], /^text\/html/);
  t.match(form.body, 'href="http://localhost:3000/"', 'the page links the right address');
  t.equal(form.headers['set-cookie'], undefined);
  t.match(String(form.headers['content-security-policy']), "default-src 'self'", 'with the site headers');

  const htmx = await app.inject({ url: '/integrations', headers: { host: otherHost, 'hx-request': 'true' } });
  t.equal(htmx.statusCode, 421);
  t.equal(htmx.headers['hx-refresh'], 'true', 'htmx reloads the page, which then moves');
});

t.test('probes, /metrics, webhooks and /internal are never redirected', async (t) => {
  const { app } = await setUp(t);
  const headers = { host: otherHost };
  t.equal((await app.inject({ url: '/healthz', headers })).statusCode, 200);
  t.equal((await app.inject({ url: '/readyz', headers })).statusCode, 200);
  t.equal((await app.inject({ url: '/metrics', headers })).statusCode, 200);
  const webhook = await app.inject({
    method: 'POST',
    url: '/webhooks/whoop',
    headers: { ...headers, 'content-type': 'application/json' },
    payload: '{}',
  });
  t.notOk([307, 421].includes(webhook.statusCode), `webhook answered ${webhook.statusCode}`);
  t.equal(webhook.headers.location, undefined);
  const internal = await app.inject({ url: '/internal/whoop/status', headers });
  t.equal(internal.statusCode, 401, '/internal answers for itself (bearer token)');
});

t.test('behind a trusted proxy the forwarded host counts; an untrusted one is ignored', async (t) => {
  const env = { PUBLIC_BASE_URL: 'https://health.example.com', TRUST_PROXY: '1' };
  const { app } = await build(t, { env });
  const proxied = {
    host: 'app:3000',
    'x-forwarded-host': 'health.example.com',
    'x-forwarded-proto': 'https',
  };
  t.equal(
    (await app.inject({ url: '/login', headers: proxied })).statusCode,
    200,
    'X-Forwarded-Host trusted',
  );
  const passedOn = await app.inject({ url: '/login', headers: { host: 'health.example.com' } });
  t.equal(passedOn.statusCode, 200, 'or the Host header passed on');
  const byAddress = await app.inject({ url: '/login?x=1', headers: { host: '203.0.113.7' } });
  t.equal(byAddress.statusCode, 307, 'the server opened by its IP address');
  t.equal(byAddress.headers.location, 'https://health.example.com/login?x=1');

  const { app: direct } = await build(t, { env: { PUBLIC_BASE_URL: 'https://health.example.com' } });
  const spoofed = await direct.inject({
    url: '/login',
    headers: { host: 'other.example', 'x-forwarded-host': 'health.example.com' },
  });
  t.equal(spoofed.statusCode, 307, 'without TRUST_PROXY, X-Forwarded-Host is not believed');
});

t.test('npm start names the address to open, and the listening address leads there', async (t) => {
  const database = await createTestDatabase(t);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'health-first-run-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const child = spawn(process.execPath, ['src/main.ts', 'web'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      DATABASE_URL: database.url,
      PORT: String(port),
      FEATURE_WHOOP_INTEGRATION: 'false',
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.exitCode === null && child.kill('SIGKILL'));
  const messages: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    messages.push(String((JSON.parse(line) as { msg?: string }).msg));
    if (messages.at(-1)?.startsWith('Open ')) break;
  }
  t.ok(messages.some((message) => message.startsWith(`Server listening at http://127.0.0.1:${port}`)));
  t.match(messages.at(-1), `Open http://localhost:${port} in your browser`);

  const response = await fetch(`http://127.0.0.1:${port}/signup`, { redirect: 'manual' });
  t.equal(response.status, 307);
  t.equal(response.headers.get('location'), `http://localhost:${port}/signup`);
  t.equal(response.headers.get('set-cookie'), null);
  child.kill('SIGTERM');
});

t.test('pages link a favicon, served as SVG and allowed by the CSP', async (t) => {
  const { app } = await build(t);
  const page = await app.inject('/login');
  const href = /<link rel="icon" href="([^"]+)" type="image\/svg\+xml">/.exec(page.body)?.[1];
  t.equal(href, '/static/favicon.svg', 'the layout links the icon');
  t.match(String(page.headers['content-security-policy']), "img-src 'self'", 'icons come from img-src');
  const icon = await app.inject(String(href));
  t.equal(icon.statusCode, 200);
  t.match(icon.headers['content-type'], /^image\/svg\+xml/);
  t.match(icon.body, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});

t.test('a request without a Host header is served, not redirected', async (t) => {
  const { app } = await build(t);
  const response = await app.inject({
    url: '/login',
    headers: { host: '', 'x-forwarded-host': 'other.example' },
  });
  t.equal(response.statusCode, 200);
});
