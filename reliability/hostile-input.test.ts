// Thousands of generated hostile inputs (fast-check) against the login and sign-up forms, `next`,
// the OAuth callback, every manual form and the internal API: never a 5xx, never a crash, nothing
// stored from refused input (issue 10, reliability suites). FUZZ_SEED replays a run.
import fc from 'fast-check';
import { parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { csrfTokenFrom } from '../test/support/browser-session.ts';
import { INTERNAL_TOKEN, linkMember, loginAs, startSyncFixture } from '../test/sync/support/fixture.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261130);
const countRow = z.object({ count: z.number() });
// Any code point, lone surrogates and control characters included, and some that matter here.
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '/\t/evil.example',
    '//evil.example',
    '/\\evil',
    '%0a',
    '../../etc/passwd',
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    'x'.repeat(5000),
  ),
);
let inputs = 0;

t.test(
  'generated hostile input is answered with a 4xx or a redirect, and stores nothing it refused',
  async (t) => {
    const fixture = await startSyncFixture(t);
    const { app, pool } = fixture;
    const linked = await linkMember(fixture, fixture.sim.createMember({ days: 1 }));
    const member = await loginAs(fixture, linked);
    const csrf = csrfTokenFrom((await member.get('/account')).body);
    const count = async (
      table: 'app_user' | 'sleep_entry' | 'workout_session' | 'integration_connection',
    ) => {
      const tables = {
        app_user: sql.fragment`app_user`,
        sleep_entry: sql.fragment`sleep_entry`,
        workout_session: sql.fragment`workout_session`,
        integration_connection: sql.fragment`integration_connection`,
      };
      return (await pool.one(sql.type(countRow)`SELECT count(*)::int AS count FROM ${tables[table]}`)).count;
    };
    const address = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `10.9.${a}.${b}`);
    const post = (url: string, form: Record<string, string>, remoteAddress = '127.0.0.1', cookie?: string) =>
      app.inject({
        method: 'POST',
        url,
        remoteAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
        payload: new URLSearchParams(form).toString(),
      });
    const cookie = [...member.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const run = <T>(
      name: string,
      numRuns: number,
      arbitrary: fc.Arbitrary<T>,
      check: (value: T) => Promise<void>,
    ) =>
      t.test(name, async () => {
        await fc.assert(
          fc.asyncProperty(arbitrary, async (value) => {
            inputs += 1;
            await check(value);
          }),
          { numRuns, seed },
        );
      });

    await run(
      'POST /login',
      400,
      fc.record({ email: hostile, password: hostile, next: hostile, from: address }),
      async (input) => {
        const response = await post(
          '/login',
          { _csrf: csrf, email: input.email, password: input.password, next: input.next },
          input.from,
          cookie,
        );
        if (![303, 401, 403, 422, 429].includes(response.statusCode))
          throw new Error(`login answered ${response.statusCode}`);
        if (response.statusCode === 303) {
          const target = new URL(String(response.headers.location), 'http://localhost:3000');
          if (target.origin !== 'http://localhost:3000')
            throw new Error(`left the site: ${response.headers.location}`);
        }
      },
    );

    await run(
      'POST /signup',
      400,
      fc.record({
        email: hostile,
        password: hostile,
        displayName: hostile,
        timeZone: hostile,
        from: address,
      }),
      async (input) => {
        const before = await count('app_user');
        const { from, ...form } = input;
        const response = await post('/signup', { _csrf: csrf, ...form }, from, cookie);
        if (response.statusCode >= 500) throw new Error(`sign-up answered ${response.statusCode}`);
        if (response.statusCode !== 303 && (await count('app_user')) !== before)
          throw new Error(`refused (${response.statusCode}) but stored`);
      },
    );

    await run('GET /login?next=', 500, hostile, async (next) => {
      const response = await app.inject({ method: 'GET', url: `/login?next=${encodeURIComponent(next)}` });
      if (response.statusCode !== 200) throw new Error(`login page answered ${response.statusCode}`);
      const value = parse(response.body).querySelector('input[name=next]')?.getAttribute('value') ?? '';
      const target = new URL(value, 'http://localhost:3000');
      if (!value.startsWith('/') || target.origin !== 'http://localhost:3000')
        throw new Error(`next kept as ${value}`);
    });

    await run(
      'GET /integrations/whoop/callback',
      300,
      fc.record(
        { code: fc.option(hostile), state: fc.option(hostile), error: fc.option(hostile) },
        { requiredKeys: [] },
      ),
      async (query) => {
        const before = await count('integration_connection');
        const search = new URLSearchParams();
        for (const [key, value] of Object.entries(query))
          if (typeof value === 'string') search.set(key, value);
        const response = await member.get(`/integrations/whoop/callback?${search}`);
        if (response.statusCode >= 500) throw new Error(`callback answered ${response.statusCode}`);
        if ((await count('integration_connection')) !== before) throw new Error('a connection appeared');
      },
    );

    // A manual log form: saved (303) or refused with nothing stored (422).
    const logForm = (url: string, table: 'sleep_entry' | 'workout_session', fields: string[]) =>
      run(
        `POST ${url}`,
        400,
        fc.record(Object.fromEntries(fields.map((field) => [field, hostile]))),
        async (form: Record<string, string>) => {
          const before = await count(table);
          const response = await post(url, { _csrf: csrf, ...form }, '127.0.0.1', cookie);
          if (![303, 422].includes(response.statusCode))
            throw new Error(`${url} answered ${response.statusCode}`);
          if (response.statusCode === 422 && (await count(table)) !== before)
            throw new Error('refused but stored');
        },
      );
    await logForm('/sleep', 'sleep_entry', ['date', 'bedTime', 'wakeTime', 'quality', 'note']);
    await logForm('/exercises', 'workout_session', [
      'date',
      'startTime',
      'activity',
      'durationMinutes',
      'intensity',
      'note',
    ]);

    await run('POST /account', 300, fc.record({ displayName: hostile, timeZone: hostile }), async (form) => {
      const response = await post('/account', { _csrf: csrf, ...form }, '127.0.0.1', cookie);
      if (![303, 422].includes(response.statusCode))
        throw new Error(`settings answered ${response.statusCode}`);
    });

    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ userId: fc.oneof(fc.integer(), hostile), code: hostile }),
    );
    for (const url of [
      '/internal/whoop/oauth/exchange',
      '/internal/whoop/disconnect',
      '/internal/whoop/sync',
    ]) {
      await run(`POST ${url}`, 250, body, async (payload) => {
        const before = await count('integration_connection');
        const response = await app.inject({
          method: 'POST',
          url,
          headers: { authorization: `Bearer ${INTERNAL_TOKEN}`, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
        if (response.statusCode >= 500)
          throw new Error(`${url} answered ${response.statusCode}: ${response.body}`);
        if ((await count('integration_connection')) !== before) throw new Error('a connection appeared');
      });
    }
    t.equal(
      (await fixture.services.whoop.card(linked.userId)).status,
      'connected',
      "the member's link survived",
    );
    t.comment(`fuzz inputs: ${inputs} (seed ${seed})`);
  },
);
