import { spawnSync } from 'node:child_process';
import t from 'tap';
import { build } from './helper.ts';
import { BrowserSession, signUp } from './support/browser-session.ts';

function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

t.test('/metrics times requests by route pattern, never by raw URL', async (t) => {
  const { app } = await build(t);
  const browser = new BrowserSession(app);
  await signUp(browser, { email: 'metrics@example.com' });
  await browser.get('/account');
  await app.inject('/no/such/page/12345');
  const response = await app.inject('/metrics');
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^text\/plain/);
  const body = response.body;
  t.ok(
    sample(body, 'http_request_duration_seconds_count', {
      route: '/account',
      method: 'GET',
      status_class: '2xx',
    }),
  );
  t.ok(
    sample(body, 'http_request_duration_seconds_count', {
      route: '/signup',
      method: 'POST',
      status_class: '3xx',
    }),
  );
  t.ok(sample(body, 'http_request_duration_seconds_count', { route: 'unmatched', status_class: '4xx' }));
  t.notMatch(body, '12345', 'no raw URL in any label');
  t.notMatch(body, 'metrics@example.com', 'no email in any label');
  t.ok(sample(body, 'process_cpu_user_seconds_total') !== undefined, 'process defaults are exported');
});

t.test('connections are counted by status', async (t) => {
  const { app } = await build(t);
  const body = (await app.inject('/metrics')).body;
  t.equal(sample(body, 'integration_connections', { provider: 'whoop', status: 'connected' }), 0);
  t.equal(sample(body, 'integration_connections', { provider: 'whoop', status: 'reauth_required' }), 0);
  t.equal(sample(body, 'worker_jobs', { state: 'waiting' }), 0);
});

t.test('with METRICS_TOKEN set, /metrics refuses a missing or wrong token', async (t) => {
  const token = 'metrics-token-0123456789';
  const { app } = await build(t, { env: { METRICS_TOKEN: token } });
  t.equal((await app.inject('/metrics')).statusCode, 401);
  const wrong = await app.inject({
    url: '/metrics',
    headers: { authorization: 'Bearer wrong-token-0123456789' },
  });
  t.equal(wrong.statusCode, 401);
  const right = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
  t.equal(right.statusCode, 200);
});

t.test("the exposition passes Prometheus' own parser (promtool check metrics)", async (t) => {
  const { app } = await build(t);
  await app.inject('/healthz');
  const body = (await app.inject('/metrics')).body;
  const result = spawnSync(process.env.PROMTOOL ?? 'promtool', ['check', 'metrics'], {
    input: body,
    encoding: 'utf8',
  });
  t.equal(result.error, undefined, 'promtool runs (Debian package prometheus)');
  t.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  t.equal(`${result.stdout}${result.stderr}`.trim(), '', 'no lint problems');
});
