// WHOOP rotates both tokens on every refresh and kills the old pair: two refreshes of one connection
// at once would kill the link (the simulator's revokeGrantOnRefreshReuse switch makes that happen).
import t, { type Test } from 'tap';
import { REAUTH_MESSAGE } from '../../src/services/whoop/access-tokens.ts';
import {
  anotherProcess,
  connectionState,
  engineOf,
  expireAccessTokens,
  linkMember,
  passContext,
  requestsTo,
  runSync,
  type SyncFixture,
  startSyncFixture,
  storedIds,
  syncNow,
  syncTarget,
  truthIds,
} from './support/fixture.ts';

const TOKEN_ENDPOINT = /^POST \/oauth\/oauth2\/token$/;
const HOUR = 3_600_000;

/** 20 passes at once, spread over this process and three more (each with its own pool). */
async function twentySyncsAtOnce(
  t: Test,
  fixture: SyncFixture,
  linked: Awaited<ReturnType<typeof linkMember>>,
) {
  const processes = [
    fixture.services,
    ...(await Promise.all([1, 2, 3].map(() => anotherProcess(t, fixture)))),
  ];
  const target = await syncTarget(fixture, linked);
  return Promise.allSettled(
    Array.from({ length: 20 }, (_, index) => {
      const services = processes[index % processes.length] ?? fixture.services;
      return engineOf(services).syncConnection(target, passContext(fixture));
    }),
  );
}

t.test('20 syncs at once with an expired access token make exactly one refresh', async (t) => {
  const fixture = await startSyncFixture(t);
  fixture.sim.setFaults({ revokeGrantOnRefreshReuse: true });
  const member = fixture.sim.createMember({ days: 4, timezoneOffset: 'Z' });
  const linked = await linkMember(fixture, member);

  await t.test('expired in our records and at WHOOP: refreshed ahead of the first request', async (t) => {
    fixture.sim.advanceTime(HOUR + 60_000);
    await expireAccessTokens(fixture, linked.connectionId);
    fixture.sim.resetRequestCounts();
    const results = await twentySyncsAtOnce(t, fixture, linked);
    t.same(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      [],
    );
    t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 1, 'one refresh request');
    t.equal((await connectionState(fixture, linked.connectionId)).status, 'connected', 'still Connected');
  });

  await t.test('valid in our records but refused by WHOOP (401): one refresh, one retry each', async (t) => {
    fixture.sim.advanceTime(HOUR + 60_000);
    fixture.sim.resetRequestCounts();
    const results = await twentySyncsAtOnce(t, fixture, linked);
    t.same(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      [],
    );
    t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 1, 'one refresh request');
    t.ok(
      fixture.sim.grants().every((grant) => !grant.revoked),
      'the grant is alive',
    );
  });

  await t.test('the stored pair keeps working and the data is whole', async (t) => {
    fixture.sim.resetRequestCounts();
    t.equal((await syncNow(fixture, linked)).outcome, 'succeeded');
    t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 0, 'no refresh needed');
    t.same(await storedIds(fixture, linked.connectionId), truthIds(fixture, member));
    t.equal((await connectionState(fixture, linked.connectionId)).status, 'connected');
  });
});

t.test(
  'a refresh answered invalid_grant: Reconnect needed, the sync stops, no further refresh',
  async (t) => {
    const fixture = await startSyncFixture(t);
    const member = fixture.sim.createMember({ days: 3 });
    const linked = await linkMember(fixture, member);
    t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');

    // The member revokes the app on WHOOP's side: the access token is refused, the refresh token too.
    fixture.sim.revokeAccess(member.userId);
    fixture.sim.resetRequestCounts();
    const sync = await syncNow(fixture, linked);
    t.equal(sync.outcome, 'failed');
    t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 1, 'one refresh attempt');
    const run = await fixture.services.whoopSync.findRun(sync.runId);
    t.equal(run?.error, REAUTH_MESSAGE);
    t.match(await connectionState(fixture, linked.connectionId), {
      status: 'reauth_required',
      last_sync_status: 'failed',
      last_sync_error: REAUTH_MESSAGE,
      next_sync_at: null,
    });
    t.equal(
      (await fixture.services.whoop.card(linked.userId)).status,
      'reauth_required',
      'the card says Reconnect needed',
    );

    const again = await fixture.services.whoopSync.request({ userId: linked.userId, trigger: 'manual' });
    t.same(again, { outcome: 'refused', status: 'reauth_required' }, 'no new sync is queued');
    t.equal(await runSync(fixture, sync.runId), 'skipped', 'the ended run is not run again');
    const pass = engineOf(fixture.services).syncConnection(
      await syncTarget(fixture, linked),
      passContext(fixture),
    );
    await t.rejects(pass, { name: 'NotSyncableError' }, 'even a pass already under way stops');
    t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 1, 'and still only the one refresh attempt');
  },
);

t.test('a refresh failing with 5xx never marks the grant dead', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 3 });
  const linked = await linkMember(fixture, member);
  await expireAccessTokens(fixture, linked.connectionId);
  fixture.sim.setFaults({ errorOn: ['token'], failNext: 20, errorStatuses: [502, 503] });
  const sync = await runSync(fixture, linked.initialRunId);
  t.equal(sync, 'failed');
  t.match(await connectionState(fixture, linked.connectionId), {
    status: 'error',
    last_sync_status: 'failed',
  });
  t.equal(
    (await fixture.services.whoop.card(linked.userId)).status,
    'error',
    'the card shows a transient error',
  );

  fixture.sim.resetFaults();
  t.equal((await syncNow(fixture, linked)).outcome, 'succeeded', 'the next sync refreshes and succeeds');
  t.equal((await connectionState(fixture, linked.connectionId)).status, 'connected');
});
