// /integrations/whoop/history: a person's own sync runs, newest first, failures in plain words.
import { parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { ERROR_SENTENCES, errorSentence, runDuration } from '../../src/presenters/sync-history.ts';
import { sql } from '../../src/services/db/sql.ts';
import { classifyRunError, type SyncRunSummary } from '../../src/services/sync-history.ts';
import { REAUTH_MESSAGE } from '../../src/services/whoop/access-tokens.ts';
import { WhoopApiError, WhoopUnavailableError } from '../../src/services/whoop/client.ts';
import {
  DayBudgetSpentError,
  NotSyncableError,
  RepeatedPageTokenError,
  WhoopUnauthorizedError,
} from '../../src/services/whoop/sync/errors.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import {
  expireAccessTokens,
  linkMember,
  loginAs,
  runSync,
  startSyncFixture,
  syncNow,
} from '../sync/support/fixture.ts';

const HISTORY = '/integrations/whoop/history';

function runsOn(html: string) {
  const root = parse(html);
  return root.querySelectorAll('#sync-history .sync-run').map((run) => ({
    id: Number(run.getAttribute('data-run-id')),
    status: run.getAttribute('data-status'),
    error: run.querySelector('.sync-run-error')?.text ?? null,
    text: run.text,
  }));
}

t.test('a failed run shows its error in plain words, and each person sees only their own runs', async (t) => {
  const fixture = await startSyncFixture(t);
  const first = await linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  t.equal(await runSync(fixture, first.initialRunId), 'succeeded');

  // WHOOP's token endpoint fails every attempt: the run fails, the next one will try again.
  await expireAccessTokens(fixture, first.connectionId);
  fixture.sim.setFaults({ failNext: 4, errorOn: ['token'], errorStatuses: [502] });
  const unavailable = await syncNow(fixture, first);
  t.equal(unavailable.outcome, 'failed');
  fixture.sim.resetFaults();
  // The member revokes the app at WHOOP: the refresh is refused with invalid_grant.
  fixture.sim.revokeAccess(first.member.userId);
  await expireAccessTokens(fixture, first.connectionId);
  const reauth = await syncNow(fixture, first);
  t.equal(reauth.outcome, 'failed');

  const browser = await loginAs(fixture, first);
  const card = parse((await browser.get('/integrations')).body);
  t.equal(
    card.querySelector('#whoop-card a[href="/integrations/whoop/history"]')?.text,
    'Sync history',
    'the card links to the history',
  );
  const page = await browser.get(HISTORY);
  t.equal(page.statusCode, 200);
  const runs = runsOn(page.body);
  t.same(
    runs.map((run) => [run.id, run.status]),
    [
      [reauth.runId, 'failed'],
      [unavailable.runId, 'failed'],
      [first.initialRunId, 'succeeded'],
    ],
    'newest first',
  );
  t.equal(runs[0]?.error, ERROR_SENTENCES.reauth_required);
  t.match(runs[0]?.error, /Reconnect WHOOP/);
  t.equal(runs[1]?.error, ERROR_SENTENCES.whoop_unavailable);
  t.equal(runs[2]?.error, null, 'a successful run has no error');
  t.match(runs[2]?.text, /First sync after linking/);
  t.match(runs[2]?.text, /Sleep: \d+ read, \d+ new/, 'per-domain counts');
  t.match(runs[2]?.text, /took (under a second|\d+ (s|min))/, 'its duration');
  t.match(runs[1]?.text, /Sync now/);
  const stored = await fixture.services.whoopSync.findRun(unavailable.runId);
  t.ok(stored?.error, 'the run row keeps the technical message');
  t.notOk(page.body.includes(stored?.error ?? '-'), 'which the page does not show');
  t.notMatch(page.body, /invalid_grant|HTTP 502|unavailable:|Error:|\bat \S+\.ts:\d+/);

  // A second person: sees none of the first person's runs, even when paging from their ids.
  const second = await linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  t.equal(await runSync(fixture, second.initialRunId), 'succeeded');
  const other = await loginAs(fixture, second);
  const firstIds = [first.initialRunId, unavailable.runId, reauth.runId];
  for (const url of [HISTORY, `${HISTORY}?before=${second.initialRunId + 10}`]) {
    const theirs = runsOn((await other.get(url)).body);
    t.same(
      theirs.map((run) => run.id),
      [second.initialRunId],
      `${url}: only their own run`,
    );
  }
  const pagedFromTheirIds = runsOn((await other.get(`${HISTORY}?before=${reauth.runId + 1}`)).body);
  t.same(pagedFromTheirIds, [], "paging from the first person's ids shows none of their runs");
  t.notOk(
    runsOn((await other.get(HISTORY)).body).some((run) => firstIds.includes(run.id)),
    "none of the first person's runs",
  );
  const firstPage = (await browser.get(HISTORY)).body;
  t.notOk(
    runsOn(firstPage).some((run) => run.id === second.initialRunId),
    'and the other way round',
  );

  // Someone who never linked WHOOP.
  const newcomer = new BrowserSession(fixture.app);
  await signUp(newcomer, { email: 'newcomer@example.com' });
  const empty = await newcomer.get(HISTORY);
  t.equal(empty.statusCode, 200);
  t.same(runsOn(empty.body), []);
  t.match(parse(empty.body).querySelector('#sync-history')?.text, /No syncs yet/);

  const anonymous = await fixture.app.inject(HISTORY);
  t.equal(anonymous.statusCode, 303);
  t.equal(anonymous.headers.location, `/login?next=${encodeURIComponent(HISTORY)}`);
});

t.test('the history pages through older runs, 50 at a time', async (t) => {
  const fixture = await startSyncFixture(t);
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  // 59 more finished runs of the same connection (only their rows matter here).
  await fixture.pool.query(sql.typeAlias('void')`
    INSERT INTO integration_sync_run (connection_id, trigger, status, started_at, finished_at)
    SELECT ${linked.connectionId}, 'scheduled', 'succeeded', now(), now() FROM generate_series(1, 59)
  `);
  const ids = await fixture.pool.anyFirst(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM integration_sync_run WHERE connection_id = ${linked.connectionId} ORDER BY id DESC
  `);
  const browser = await loginAs(fixture, linked);
  const page = await browser.get(HISTORY);
  t.same(
    runsOn(page.body).map((run) => run.id),
    ids.slice(0, 50),
  );
  const older = parse(page.body).querySelector('#sync-history nav.pager a')?.getAttribute('href');
  t.equal(older, `${HISTORY}?before=${ids[49]}`);
  const next = await browser.get(older ?? HISTORY);
  t.same(
    runsOn(next.body).map((run) => run.id),
    ids.slice(50),
  );
  t.notOk(parse(next.body).querySelector('#sync-history nav.pager'), 'no older page after the last');
  t.same(
    runsOn((await browser.get(`${HISTORY}?before=nonsense`)).body).map((run) => run.id),
    ids.slice(0, 50),
    'an unreadable cursor shows the newest runs',
  );
});

t.test('known failures map to sentences; the technical text never shows', async (t) => {
  const run = (status: SyncRunSummary['status'], error: string | null, counts = {}): SyncRunSummary => ({
    id: 1,
    trigger: 'manual',
    status,
    requestId: null,
    queuedAt: new Date(),
    startedAt: new Date(),
    finishedAt: new Date(),
    durationMs: 1000,
    resumeAt: null,
    counts,
    error,
    errorCode: classifyRunError({ status, error, counts }),
    attempts: 1,
    deferrals: 0,
    http: { requests: 1, retries: 0, rateLimited: 0, budgetWaits: 0 },
  });
  const cases: Array<[SyncRunSummary, string]> = [
    [run('failed', REAUTH_MESSAGE), 'reauth_required'],
    [run('failed', new WhoopUnavailableError('cycle', 'HTTP 503', 503).message), 'whoop_unavailable'],
    [run('failed', new WhoopUnavailableError('sleep', 'TimeoutError: aborted').message), 'whoop_unavailable'],
    [
      run('failed', new WhoopUnavailableError('cycle', 'rate limited again and again', 429).message),
      'rate_limited',
    ],
    [
      run('failed', new WhoopUnavailableError('token refresh', 'refused with invalid_client', 401).message),
      'app_credentials',
    ],
    [
      run('failed', new WhoopApiError('profile (a different WHOOP member)', 409).message),
      'different_account',
    ],
    [run('failed', new WhoopUnauthorizedError('cycle').message), 'whoop_refused'],
    [run('failed', new DayBudgetSpentError(new Date()).message), 'quota_spent'],
    [run('deferred', null), 'quota_spent'],
    [run('cancelled', new NotSyncableError('disconnected').message), 'connection_changed'],
    [run('cancelled', 'the connection is not live any more'), 'connection_changed'],
    [run('failed', 'the sync job was lost; the next sync starts again'), 'job_lost'],
    [run('failed', 'relation "integration_cycle" does not exist'), 'unexpected'],
  ];
  for (const [failed, code] of cases) {
    t.equal(failed.errorCode, code, `${failed.status} "${failed.error}" -> ${code}`);
    const sentence = errorSentence(failed) ?? '';
    t.ok(sentence.length > 20, 'a sentence');
    if (failed.error) t.notOk(sentence.includes(failed.error), 'not the technical text');
  }
  const partial = run('partial', `workout: ${new RepeatedPageTokenError('workout').message}; 2 records`, {
    workout: { fetched: 3, inserted: 1, updated: 0, unchanged: 0, rejected: 0, done: true, error: 'x' },
    sleep: { fetched: 3, inserted: 1, updated: 0, unchanged: 0, rejected: 2, done: true },
  });
  t.equal(partial.errorCode, 'partial_data');
  t.equal(
    errorSentence(partial),
    'Most of your data was synced, but not all of it: WHOOP refused to list Workouts; 2 records WHOOP sent could not be read and were kept aside. The next sync tries again.',
  );
  t.equal(errorSentence(run('succeeded', null)), null);
  t.same([400, 4_400, 125_000, 3_780_000].map(runDuration), [
    'under a second',
    '4 s',
    '2 min 05 s',
    '1 h 03 min',
  ]);
});
