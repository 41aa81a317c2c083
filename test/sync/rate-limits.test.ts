// The app-wide budget against a simulator with small, fast windows (the simulator follows the wall
// clock here). Every 429 the client receives is counted on the run: none may happen.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  linkMember,
  REDIRECT_URI,
  requestsTo,
  runSync,
  startSyncFixture,
  startTestWorker,
  storedIds,
  truthIds,
  waitFor,
} from './support/fixture.ts';

const ids = (value: ReturnType<typeof truthIds>) => ({ ...value, cycles: value.cycles.length });

t.test('with low limits the sync never receives an avoidable 429 and finishes after the reset', async (t) => {
  const fixture = await startSyncFixture(t, {
    frozenClock: false,
    sim: { rateLimit: { enabled: true, perMinute: 5, minuteWindowMs: 1000, perDay: 100_000 } },
    env: { WHOOP_RATE_LIMIT_PER_MINUTE: '5' },
  });
  const member = fixture.sim.createMember({ days: 45 });
  // Linking itself spends two requests of the window (code exchange, profile) that the budget never
  // reserved: the first response's headers tell it.
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
  t.equal(run?.http_rate_limited, 0, 'no 429 received');
  t.ok((run?.http_requests ?? 0) > 10, `more requests (${run?.http_requests}) than one window allows`);
  t.ok((run?.budget_waits ?? 0) >= 2, `waited for the window to reset (${run?.budget_waits} times)`);
  // The current cycle keeps changing with the wall clock: compare which records, not their strain.
  t.same(ids(await storedIds(fixture, linked.connectionId)), ids(truthIds(fixture, member)));
  const budget = await fixture.pool.one(sql.type(
    z.object({ minute_window_ms: z.number(), minute_limit_seen: z.number() }),
  )`
    SELECT minute_window_ms, minute_limit_seen FROM integration_rate_budget WHERE provider = 'whoop'
  `);
  t.same(
    budget,
    { minute_window_ms: 1000, minute_limit_seen: 5 },
    'window and limit learned from X-RateLimit-Limit',
  );
});

t.test('a spent day window defers the sync until the reset instead of spinning', async (t) => {
  const fixture = await startSyncFixture(t, {
    frozenClock: false,
    // Compressed: a one-second "minute" and a three-second "day".
    sim: {
      rateLimit: { enabled: true, perMinute: 1000, minuteWindowMs: 1000, perDay: 6, dayWindowMs: 3000 },
    },
    env: { WHOOP_RATE_LIMIT_PER_DAY: '6' },
  });
  const member = fixture.sim.createMember({ days: 30 });
  const linked = await linkMember(fixture, member);
  const runId = linked.initialRunId;

  t.equal(await runSync(fixture, runId), 'deferred');
  const deferred = await fixture.services.whoopSync.findRun(runId);
  t.match(deferred, { status: 'deferred', http_rate_limited: 0, deferrals: 1 });
  t.ok(deferred?.resume_at && deferred.resume_at.getTime() > Date.now() - 1000, 'resumes after the reset');
  const job = await fixture.pool.one(sql.type(z.object({ run_at: z.date(), attempts: z.number() }))`
    SELECT run_at, attempts FROM graphile_worker.jobs WHERE key = ${`whoop_sync:${linked.connectionId}`}
  `);
  t.ok(job.run_at.getTime() >= (deferred?.resume_at?.getTime() ?? 0), 'its job is scheduled after the reset');
  t.equal(
    (await fixture.services.whoopSync.request({ userId: linked.userId, trigger: 'manual' })).outcome,
    'joined',
    'Sync now joins it',
  );

  // Run again before the reset (an impatient worker): nothing is sent, the run stays deferred.
  const sent = requestsTo(fixture, /^GET \/developer/);
  t.equal(await runSync(fixture, runId), 'deferred');
  t.equal(requestsTo(fixture, /^GET \/developer/), sent, 'no request while the day window is spent');

  // A worker picks the job up after each reset until the run is done.
  await startTestWorker(t, fixture);
  const finished = await waitFor('the deferred run to finish', async () => {
    const run = await fixture.services.whoopSync.findRun(runId);
    return run && !['queued', 'running', 'deferred'].includes(run.status) ? run : undefined;
  });
  t.equal(finished.status, 'succeeded');
  t.equal(finished.http_rate_limited, 0, 'never a 429');
  t.ok(finished.deferrals >= 2, `deferred ${finished.deferrals} times, resumed after each reset`);
  t.same(ids(await storedIds(fixture, linked.connectionId)), ids(truthIds(fixture, member)));
});

t.test(
  'a 429 nobody could foresee (another app spent the window) blocks until the reset, once',
  async (t) => {
    const fixture = await startSyncFixture(t, {
      frozenClock: false,
      sim: {
        rateLimit: { enabled: true, perMinute: 1000, minuteWindowMs: 1000, perDay: 12, dayWindowMs: 60_000 },
      },
      env: { WHOOP_RATE_LIMIT_PER_DAY: '12' },
    });
    const member = fixture.sim.createMember({ days: 10 });
    const linked = await linkMember(fixture, member);
    // Someone else with the same WHOOP app (a process outside this budget) spends the day's window.
    const outsider = await outsiderToken(fixture);
    let status = 200;
    for (let i = 0; i < 20 && status !== 429; i++) {
      const response = await fetch(`${fixture.sim.apiBaseUrl}/v2/user/profile/basic`, {
        headers: { authorization: `Bearer ${outsider}` },
      });
      status = response.status;
    }
    t.equal(status, 429, 'the window is spent at WHOOP');

    t.equal(await runSync(fixture, linked.initialRunId), 'deferred', 'deferred until the reset');
    const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
    t.equal(run?.http_rate_limited, 1, 'one 429, then no more requests');
    const budget = await fixture.pool.one(
      sql.type(z.object({ day_used: z.number(), blocked: z.boolean() }))`
      SELECT day_used, blocked_until > now() AS blocked FROM integration_rate_budget WHERE provider = 'whoop'
    `,
    );
    t.same(
      budget,
      { day_used: 12, blocked: true },
      'the budget learned the window is spent and when it resets',
    );
  },
);

/** A token of the same WHOOP app, obtained outside the app (as another deployment would). */
async function outsiderToken(fixture: Awaited<ReturnType<typeof startSyncFixture>>): Promise<string> {
  const authorize = new URL(`${fixture.sim.oauthBaseUrl}/auth`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'read:profile',
    state: 'outsider-state',
  }).toString();
  const consent = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const response = await fetch(`${fixture.sim.oauthBaseUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
