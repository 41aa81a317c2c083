// What a sync reads: profile and body at most daily; while webhooks flow, scheduled syncs list cycles
// and, once a day, a short window of the webhook-covered collections; silent webhooks restore it all.
import t from 'tap';
import { sql } from '../../src/services/db/sql.ts';
import { DAILY_MS, planPass, WEBHOOK_ERA_WINDOW_MS } from '../../src/services/whoop/sync/plan.ts';
import {
  type LinkedMember,
  linkMember,
  runSync,
  type SyncFixture,
  startSyncFixture,
  syncNow,
} from './support/fixture.ts';

const HOUR = 3_600_000;
const silence = 24 * HOUR;

t.test('planPass', async (t) => {
  const now = Date.parse('2026-06-01T06:00:00Z');
  const ago = (ms: number) => new Date(now - ms);
  const options = { now, webhookSilenceMs: silence };
  const quiet = { profileReadAt: ago(12 * HOUR), lastWebhookAt: null, coveredListedAt: ago(12 * HOUR) };
  t.same(
    planPass('scheduled', quiet, options),
    { profile: false, covered: 'full' },
    'no webhooks: full lists',
  );
  t.same(
    planPass('scheduled', { ...quiet, profileReadAt: ago(DAILY_MS) }, options),
    { profile: true, covered: 'full' },
    'profile and body once a day',
  );
  t.same(planPass('initial', { ...quiet, profileReadAt: null }, options), { profile: true, covered: 'full' });
  const flowing = { ...quiet, lastWebhookAt: ago(HOUR) };
  t.same(planPass('scheduled', flowing, options), { profile: false, covered: 'skip' }, 'webhooks keep them');
  t.same(
    planPass('scheduled', { ...flowing, coveredListedAt: ago(21 * HOUR) }, options),
    { profile: false, covered: 'short' },
    'a short window once a day catches dropped webhooks',
  );
  t.same(planPass('manual', flowing, options), { profile: false, covered: 'full' }, 'Sync now reads it all');
  t.same(
    planPass('scheduled', { ...flowing, lastWebhookAt: ago(silence) }, options),
    { profile: false, covered: 'full' },
    'silent webhooks: the full schedule resumes',
  );
});

function dataRequests(fixture: SyncFixture): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [endpoint, byClient] of Object.entries(fixture.sim.requestCounts())) {
    if (!endpoint.startsWith('GET /developer')) continue;
    counts[endpoint.replace('GET /developer', '')] = Object.values(byClient).reduce((a, b) => a + b, 0);
  }
  return counts;
}

async function scheduledSync(fixture: SyncFixture, linked: LinkedMember) {
  const request = await fixture.services.whoopSync.request({ userId: linked.userId, trigger: 'scheduled' });
  if (request.outcome !== 'queued') throw new Error(`not queued: ${request.outcome}`);
  fixture.sim.resetRequestCounts();
  const outcome = await runSync(fixture, request.runId);
  const run = await fixture.services.whoopSync.findRun(request.runId);
  return { outcome, run, requests: dataRequests(fixture) };
}

async function setFacts(fixture: SyncFixture, linked: LinkedMember, facts: Record<string, number | null>) {
  const at = (key: string) => {
    const hours = facts[key];
    return hours === undefined
      ? sql.fragment`${sql.identifier([key])}`
      : hours === null
        ? sql.fragment`NULL`
        : sql.fragment`now() - ${hours}::int * interval '1 hour'`;
  };
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_connection
    SET last_webhook_at = ${at('last_webhook_at')}, covered_listed_at = ${at('covered_listed_at')},
        profile_read_at = ${at('profile_read_at')}
    WHERE id = ${linked.connectionId}
  `);
}

t.test('the requests a sync sends follow the plan', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 10 });
  const linked = await linkMember(fixture, member);
  await runSync(fixture, linked.initialRunId);

  fixture.sim.resetRequestCounts();
  await syncNow(fixture, linked);
  t.same(
    Object.keys(dataRequests(fixture)).sort(),
    ['/v2/activity/sleep', '/v2/activity/workout', '/v2/cycle', '/v2/recovery'],
    'Sync now soon after the first sync: the collections, not profile or body again',
  );

  await setFacts(fixture, linked, { last_webhook_at: 1 });
  const kept = await scheduledSync(fixture, linked);
  t.equal(kept.outcome, 'succeeded');
  t.same(kept.requests, { '/v2/cycle': 1 }, 'webhooks flow: a scheduled sync lists cycles only');
  t.equal(kept.run?.counts.sleep?.skipped, 'kept current by webhooks', 'and the run says why');

  await setFacts(fixture, linked, { covered_listed_at: 21, profile_read_at: 21 });
  const daily = await scheduledSync(fixture, linked);
  t.same(
    daily.requests,
    {
      '/v2/user/profile/basic': 1,
      '/v2/user/measurement/body': 1,
      '/v2/cycle': 1,
      '/v2/activity/sleep': 1,
      '/v2/recovery': 1,
      '/v2/activity/workout': 1,
    },
    'once a day: profile, body and a short window of every collection',
  );
  const since = Date.parse(daily.run?.counts.sleep?.since ?? '');
  t.ok(
    Math.abs(Date.now() - WEBHOOK_ERA_WINDOW_MS - since) < 60_000,
    'the covered collections reach back the short window only',
  );

  await setFacts(fixture, linked, { last_webhook_at: 25 });
  const silent = await scheduledSync(fixture, linked);
  t.same(
    Object.keys(silent.requests).sort(),
    ['/v2/activity/sleep', '/v2/activity/workout', '/v2/cycle', '/v2/recovery'],
    'webhooks silent for a day: every collection again',
  );
  t.ok(
    Date.parse(silent.run?.counts.sleep?.since ?? '') < Date.now() - 3 * 86_400_000,
    'from the watermark minus the lookback',
  );
});
