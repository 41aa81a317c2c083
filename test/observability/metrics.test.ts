// /metrics after real syncs against the simulator: each metric moves by what the sync did, and the
// label sets stay bounded however many people sync.
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { DOMAINS } from '../../src/services/whoop/sync/runs.ts';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  expireAccessTokens,
  linkMember,
  runSync,
  type SyncFixture,
  startSyncFixture,
  syncNow,
} from '../sync/support/fixture.ts';
import { moved, type Sample, scrape, value } from './support.ts';

const ACTIONS = ['inserted', 'updated', 'unchanged', 'rejected'] as const;
const TOKEN = '/oauth/oauth2/token';

/** Data API requests the simulator received, by our endpoint pattern ('GET /developer/v2/cycle' -> '/v2/cycle'). */
function simulatorDataRequests(fixture: SyncFixture): Map<string, number> {
  const byEndpoint = new Map<string, number>();
  for (const [key, byClient] of Object.entries(fixture.sim.requestCounts())) {
    const match = /^GET \/developer(\/.*)$/.exec(key);
    if (!match?.[1]) continue;
    const count = Object.values(byClient).reduce((sum, n) => sum + n, 0);
    byEndpoint.set(match[1], (byEndpoint.get(match[1]) ?? 0) + count);
  }
  return byEndpoint;
}

/** Every (domain, action) counter moved by exactly what the run row counted. */
async function recordsMatchRun(
  t: Test,
  fixture: SyncFixture,
  runId: number,
  before: Sample[],
  after: Sample[],
) {
  const run = await fixture.services.whoopSync.findRun(runId);
  const delta = moved(before, after);
  for (const domain of DOMAINS) {
    for (const action of ACTIONS) {
      t.equal(
        delta('integration_records_synced_total', { provider: 'whoop', domain, action }),
        run?.counts[domain]?.[action] ?? 0,
        `records ${domain}/${action}`,
      );
    }
  }
  return run;
}

t.test('a sync moves runs, durations, records, API requests and the rate budget', async (t) => {
  const fixture = await startSyncFixture(t);
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 4 }));
  fixture.sim.resetRequestCounts();
  const before = await scrape(fixture.app);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const after = await scrape(fixture.app);
  const delta = moved(before, after);
  const labels = { provider: 'whoop', trigger: 'initial', outcome: 'succeeded' };
  t.equal(delta('integration_sync_runs_total', labels), 1, 'one run');
  t.equal(delta('integration_sync_runs_total'), 1, 'and no other');
  t.equal(delta('integration_sync_run_duration_seconds_count', labels), 1, 'its duration observed');
  t.ok(delta('integration_sync_run_duration_seconds_sum', labels) > 0);

  const run = await recordsMatchRun(t, fixture, linked.initialRunId, before, after);
  t.ok((run?.counts.cycle?.inserted ?? 0) > 0, 'cycles were inserted');
  const cycles = await fixture.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM integration_cycle WHERE connection_id = ${linked.connectionId}
  `);
  t.equal(delta('integration_records_synced_total', { domain: 'cycle', action: 'inserted' }), cycles);

  const sent = simulatorDataRequests(fixture);
  t.ok(sent.size >= 5, `the simulator saw the data endpoints (${[...sent.keys()].join(', ')})`);
  for (const [endpoint, count] of sent) {
    t.equal(delta('whoop_api_requests_total', { endpoint, status: '200' }), count, `requests to ${endpoint}`);
  }
  const total = [...sent.values()].reduce((sum, n) => sum + n, 0);
  t.equal(delta('whoop_api_requests_total'), total, 'every request counted once');
  t.equal(run?.http_requests, total, 'as the run row counted them');
  t.equal(delta('whoop_api_errors_total'), 0);
  t.equal(delta('whoop_api_rate_limited_total'), 0);

  const budget = await fixture.pool.one(sql.type(z.object({ minute_used: z.number(), day_used: z.number() }))`
    SELECT minute_used, day_used FROM integration_rate_budget WHERE provider = 'whoop'
  `);
  const day = value(after, 'whoop_rate_budget_remaining', { window: 'day' }) ?? -1;
  const minute = value(after, 'whoop_rate_budget_remaining', { window: 'minute' }) ?? -1;
  t.ok(day <= 100_000_000 - total && day >= 100_000_000 - budget.day_used, `day budget remaining (${day})`);
  t.ok(minute <= 1_000_000 - total && minute >= 0, `minute budget remaining (${minute})`);

  // Again, nothing new at WHOOP: the records come back unchanged.
  const again = await scrape(fixture.app);
  const second = await syncNow(fixture, linked);
  t.equal(second.outcome, 'succeeded');
  const later = await scrape(fixture.app);
  const rerun = await recordsMatchRun(t, fixture, second.runId, again, later);
  t.ok((rerun?.counts.cycle?.unchanged ?? 0) > 0, 'unchanged cycles counted');
  t.equal(moved(again, later)('integration_records_synced_total', { action: 'inserted' }), 0);
  t.equal(moved(again, later)('integration_sync_runs_total', { trigger: 'manual', outcome: 'succeeded' }), 1);
});

t.test('token refreshes, and refresh failures by reason (transient, invalid_grant)', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 2 });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');

  async function step(prepare: () => void) {
    await expireAccessTokens(fixture, linked.connectionId);
    prepare();
    const before = await scrape(fixture.app);
    const { outcome } = await syncNow(fixture, linked);
    return { outcome, delta: moved(before, await scrape(fixture.app)) };
  }

  const refreshed = await step(() => {});
  t.equal(refreshed.outcome, 'succeeded');
  t.equal(refreshed.delta('whoop_token_refreshes_total'), 1, 'one refresh');
  t.equal(refreshed.delta('whoop_token_refresh_failures_total'), 0);
  t.equal(refreshed.delta('whoop_api_requests_total', { endpoint: TOKEN, status: '200' }), 1);

  // WHOOP's token endpoint answers 502 to the first try and the three retries.
  const transient = await step(() =>
    fixture.sim.setFaults({ failNext: 4, errorOn: ['token'], errorStatuses: [502] }),
  );
  fixture.sim.resetFaults();
  t.equal(transient.outcome, 'failed');
  t.equal(transient.delta('whoop_token_refresh_failures_total', { reason: 'transient' }), 1);
  t.equal(transient.delta('whoop_token_refresh_failures_total', { reason: 'invalid_grant' }), 0);
  t.equal(transient.delta('whoop_token_refreshes_total'), 0);
  t.equal(transient.delta('whoop_api_requests_total', { endpoint: TOKEN, status: '502' }), 4);
  t.equal(transient.delta('whoop_api_errors_total', { endpoint: TOKEN, kind: 'server' }), 4);
  t.equal(transient.delta('integration_sync_runs_total', { trigger: 'manual', outcome: 'failed' }), 1);

  // The member revokes the app at WHOOP: the refresh token is refused with invalid_grant.
  const dead = await step(() => fixture.sim.revokeAccess(member.userId));
  t.equal(dead.outcome, 'failed');
  t.equal(dead.delta('whoop_token_refresh_failures_total', { reason: 'invalid_grant' }), 1);
  t.equal(dead.delta('whoop_token_refresh_failures_total', { reason: 'transient' }), 0);
  t.equal(dead.delta('whoop_api_requests_total', { endpoint: TOKEN, status: '400' }), 1);
  t.equal(dead.delta('integration_sync_runs_total', { trigger: 'manual', outcome: 'failed' }), 1);
  const after = await scrape(fixture.app);
  t.equal(value(after, 'integration_connections', { provider: 'whoop', status: 'reauth_required' }), 1);
  t.equal(value(after, 'integration_connections', { provider: 'whoop', status: 'connected' }), 0);
});

t.test('a 429 from WHOOP is counted; the sync waits for the reset and finishes', async (t) => {
  const fixture = await startSyncFixture(t, {
    frozenClock: false,
    sim: { rateLimit: { enabled: true, perMinute: 4, minuteWindowMs: 2000, perDay: 100_000 } },
  });
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  // Another client of the same WHOOP app spends the window: our budget knows nothing of it.
  for (let spent = 0; ; spent++) {
    if (spent > 20) throw new Error('the simulator never answered 429');
    const response = await fetch(`${fixture.sim.oauthBaseUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'not-a-refresh-token',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    });
    await response.arrayBuffer();
    if (response.status === 429) break;
  }
  const before = await scrape(fixture.app);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const delta = moved(before, await scrape(fixture.app));
  const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
  t.ok((run?.http_rate_limited ?? 0) >= 1, `the run received ${run?.http_rate_limited} 429s`);
  t.equal(delta('whoop_api_rate_limited_total'), run?.http_rate_limited, '429s counted');
  t.equal(delta('whoop_api_requests_total', { status: '429' }), run?.http_rate_limited, 'by status too');
  t.equal(delta('whoop_api_requests_total'), run?.http_requests, 'every request counted');
  t.ok(delta('whoop_rate_budget_wait_seconds_total') > 0, 'time spent waiting for the reset');
  t.equal(delta('whoop_api_errors_total'), 0, 'a 429 is not an error');
  t.equal(delta('integration_sync_runs_total', { trigger: 'initial', outcome: 'succeeded' }), 1);
});
