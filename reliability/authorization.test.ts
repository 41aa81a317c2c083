// Every route the app registers, tried as a visitor, as another member, and (for /internal) with a
// missing or wrong token: none reads or changes the owner's data (issue 10, reliability suites).
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { addDays } from '../src/services/local-time.ts';
import { build } from '../test/helper.ts';
import { csrfTokenFrom } from '../test/support/browser-session.ts';
import { postForm, signUpMember } from '../test/support/health-pages.ts';
import { seedWhoopMember } from '../test/support/wearable-fixtures.ts';

const INTERNAL_TOKEN = 'authorization-suite-internal-token-0123456789';

/** Every (method, path) Fastify registered, read from its route tree. */
function registeredRoutes(app: FastifyInstance): Array<{ method: string; path: string }> {
  const routes: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([\s│├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = Math.floor((match[1] ?? '').length / 4);
    const path = (stack[depth - 1] ?? '') + (match[2] ?? '');
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (match[3] ?? '').split(', ')) if (method !== 'HEAD') routes.push({ method, path });
  }
  return routes;
}

// Reachable without an account: the front door, health checks, static files, the OAuth callback
// (which sends a visitor to the login page), /metrics (public in tests without METRICS_TOKEN) and the
// page that confirms an account was deleted (its person is signed out by then; it shows nobody's data).
const PUBLIC = new Set([
  '/login',
  '/signup',
  '/healthz',
  '/readyz',
  '/metrics',
  '/*',
  '/logout',
  '/account/deleted',
]);

t.test('every route, as a visitor, as another member and without the internal token', async (t) => {
  const { app, pool } = await build(t, { env: { INTERNAL_API_TOKEN: INTERNAL_TOKEN } });
  const owner = await signUpMember(app, pool, { email: 'owner@example.com' });
  await seedWhoopMember(pool, { userId: owner.id, timeZone: 'UTC', lastDate: owner.today, days: 30 });
  const yesterday = addDays(owner.today, -1);
  await postForm(owner, '/sleep', {
    date: yesterday,
    bedTime: '22:00',
    wakeTime: '06:00',
    quality: '3',
    note: 'OWNER-SECRET',
  });
  await postForm(owner, '/exercises', {
    date: yesterday,
    startTime: '12:00',
    activity: 'OWNER-SECRET',
    durationMinutes: '30',
    intensity: '',
    note: '',
  });
  const ids = await pool.one(sql.type(
    z.object({ sleep: z.number(), workout: z.number(), whoop: z.number() }),
  )`
    SELECT (SELECT id FROM sleep_entry) AS sleep, (SELECT id FROM workout_session) AS workout,
           (SELECT id FROM integration_workout WHERE deleted_at IS NULL ORDER BY id LIMIT 1) AS whoop
  `);
  const snapshot = async () =>
    (
      await pool.one(sql.type(z.object({ rows: z.string() }))`
        SELECT concat_ws('|',
          (SELECT json_agg(s ORDER BY id) FROM sleep_entry s)::text,
          (SELECT json_agg(w ORDER BY id) FROM workout_session w)::text,
          (SELECT json_agg(json_build_object('status', c.status, 'account', c.provider_account_id) ORDER BY id)
             FROM integration_connection c WHERE c.user_id = ${owner.id})::text,
          (SELECT count(*) FROM integration_workout WHERE user_id = ${owner.id} AND deleted_at IS NULL)::text,
          (SELECT display_name || time_zone FROM app_user WHERE id = ${owner.id})
        ) AS rows
      `)
    ).rows;
  const before = await snapshot();
  const other = await signUpMember(app, pool, { email: 'other@example.com' });

  // Logging out ends the other member's session: last.
  const routes = registeredRoutes(app).sort(
    (a, b) => Number(a.path === '/logout') - Number(b.path === '/logout'),
  );
  t.ok(routes.length >= 30, `${routes.length} routes found`);
  const concrete = (path: string) =>
    path
      .replace('/exercises/whoop/:id', `/exercises/whoop/${ids.whoop}`)
      .replace('/sleep/:id', `/sleep/${ids.sleep}`)
      .replace('/exercises/:id', `/exercises/${ids.workout}`)
      .replace('/*', '/app.css');
  const form = {
    date: yesterday,
    bedTime: '1:00',
    wakeTime: '2:00',
    startTime: '1:00',
    activity: 'X',
    durationMinutes: '5',
    note: 'taken over',
    displayName: 'Taken',
    timeZone: 'UTC',
  };
  let cases = 0;
  for (const { method, path } of routes) {
    const url = concrete(path);
    const internal = path.startsWith('/internal/');
    // A visitor: no cookie at all.
    const visitor = await app.inject({
      method: method as 'GET',
      url,
      payload: method === 'POST' ? {} : undefined,
    });
    cases += 1;
    if (internal) {
      t.equal(visitor.statusCode, 401, `${method} ${path}: no token, 401`);
      const wrong = await app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: 'Bearer not-the-internal-token-0123456789abcdef' },
        payload: method === 'POST' ? { userId: owner.id, code: 'x' } : undefined,
      });
      cases += 1;
      t.equal(wrong.statusCode, 401, `${method} ${path}: a wrong token, 401`);
      const cookie = await other.browser[method === 'GET' ? 'get' : 'post'](url, {} as never);
      cases += 1;
      t.equal(cookie.statusCode, 401, `${method} ${path}: a member's session cookie is not a token`);
      continue;
    }
    if (!PUBLIC.has(path)) {
      t.ok(
        [303, 401, 403, 404].includes(visitor.statusCode),
        `${method} ${path}: a visitor gets ${visitor.statusCode}`,
      );
    }
    t.notMatch(visitor.body, /OWNER-SECRET/, `${method} ${path}: nothing of the owner's shown to a visitor`);
    // Another member, with a valid session and CSRF token.
    const response =
      method === 'GET'
        ? await other.browser.get(url)
        : await other.browser.post(url, {
            _csrf: csrfTokenFrom((await other.browser.get('/account')).body),
            ...form,
          });
    cases += 1;
    t.ok(response.statusCode < 500, `${method} ${path}: another member gets ${response.statusCode}`);
    t.notMatch(
      response.body,
      /OWNER-SECRET/,
      `${method} ${path}: nothing of the owner's shown to another member`,
    );
  }
  t.equal(await snapshot(), before, "the owner's entries, link and settings are unchanged");
  t.comment(`authorization cases: ${cases}`);
});
