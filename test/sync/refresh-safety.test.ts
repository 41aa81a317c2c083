// A refresh must never lose the grant (issue 10, defects 1 and 2): WHOOP rotates the pair the moment
// it answers, so nothing that can fail may stand between its answer and the stored pair, no
// transaction or row lock may span the call, and Disconnect must win over a refresh in flight.
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { startLocalKms } from '../support/kms-server.ts';
import {
  connectionState,
  engineOf,
  expireAccessTokens,
  linkMember,
  passContext,
  requestsTo,
  runSync,
  startSyncFixture,
  syncNow,
  syncTarget,
} from './support/fixture.ts';

const TOKEN_ENDPOINT = /^POST \/oauth\/oauth2\/token$/;

// The SDK reads its credentials from the environment; the local KMS only checks a SigV4 header is there.
process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'local-secret';

/** Polls until `condition` holds (the simulator has received a request, say). */
async function until(condition: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 2_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never happened: ${what}`);
}

const countRow = z.object({ count: z.number() });

/** A member synced once, whose access token our copy says expired: the next use refreshes. */
async function syncedWithExpiredToken(t: Test) {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 2, timezoneOffset: 'Z' });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  await expireAccessTokens(fixture, linked.connectionId);
  fixture.sim.resetRequestCounts();
  return { fixture, linked };
}

t.test('no transaction or row lock is open while WHOOP answers a refresh', async (t) => {
  const { fixture, linked } = await syncedWithExpiredToken(t);
  fixture.sim.setFaults({ latencyMs: 1_500 });
  const pass = engineOf(fixture.services).syncConnection(
    await syncTarget(fixture, linked),
    passContext(fixture),
  );
  await until(() => requestsTo(fixture, TOKEN_ENDPOINT) === 1, 'the refresh reached WHOOP');
  const open = await fixture.pool.one(sql.type(countRow)`
    SELECT count(*)::int AS count FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
  `);
  const locks = await fixture.pool.one(sql.type(countRow)`
    SELECT count(*)::int AS count FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE l.pid <> pg_backend_pid() AND c.relname IN ('integration_connection', 'integration_token')
  `);
  t.equal(open.count, 0, 'no transaction is open during the call');
  t.equal(locks.count, 0, 'no lock on the connection or its tokens during the call');
  fixture.sim.resetFaults();
  await pass;
  t.equal((await connectionState(fixture, linked.connectionId)).status, 'connected');
});

t.test('a key service failure before the refresh leaves the grant intact', async (t) => {
  const kms = await startLocalKms({ keys: ['whoop-tokens'] });
  t.teardown(() => kms.close());
  const fixture = await startSyncFixture(t, {
    env: { KMS_KEY_ID: 'whoop-tokens', KMS_ENDPOINT: kms.endpoint, AWS_REGION: 'us-east-1' },
  });
  fixture.sim.setFaults({ revokeGrantOnRefreshReuse: true });
  const member = fixture.sim.createMember({ days: 2, timezoneOffset: 'Z' });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');

  await expireAccessTokens(fixture, linked.connectionId);
  fixture.sim.resetRequestCounts();
  kms.failNext('GenerateDataKey', 1);
  const failed = await syncNow(fixture, linked);
  t.equal(failed.outcome, 'failed', 'the sync fails while KMS cannot give a data key');
  t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 0, 'WHOOP was not asked to rotate a pair we could not store');
  t.not((await connectionState(fixture, linked.connectionId)).status, 'reauth_required');

  const healed = await syncNow(fixture, linked);
  t.equal(healed.outcome, 'succeeded', 'once KMS answers, the stored refresh token still works');
  t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 1, 'one refresh');
  t.equal((await connectionState(fixture, linked.connectionId)).status, 'connected');
  t.ok(
    fixture.sim.grants().every((grant) => !grant.revoked),
    'the grant is alive at WHOOP',
  );
});

t.test('Disconnect completes while a refresh hangs, and the refresh stores nothing', async (t) => {
  const { fixture, linked } = await syncedWithExpiredToken(t);
  fixture.sim.setFaults({ hangNext: 1 });

  const order: string[] = [];
  const pass = engineOf(fixture.services)
    .syncConnection(await syncTarget(fixture, linked), passContext(fixture))
    .then(
      () => order.push('pass succeeded'),
      (error: Error) => order.push(`pass stopped: ${error.name}`),
    );
  await until(() => requestsTo(fixture, TOKEN_ENDPOINT) === 1, 'the refresh reached WHOOP');
  const disconnected = await fixture.services.whoop.disconnect({ userId: linked.userId });
  order.push('disconnected');
  t.same(disconnected, { wasLinked: true, revoked: true }, 'tokens gone here, revoked at WHOOP');
  t.equal(
    requestsTo(fixture, TOKEN_ENDPOINT),
    1,
    'Disconnect finished while the refresh was still waiting for WHOOP',
  );
  await pass;
  t.same(order, ['disconnected', 'pass stopped: NotSyncableError'], 'the pass stopped after Disconnect');
  t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 1, 'the refresh was not tried again once disconnected');

  const tokensLeft = await fixture.pool.one(sql.type(countRow)`
    SELECT count(*)::int AS count FROM integration_token WHERE connection_id = ${linked.connectionId}
  `);
  t.equal(tokensLeft.count, 0, 'the refresh did not store tokens again');
  t.equal((await connectionState(fixture, linked.connectionId)).status, 'disconnected');
  t.ok(
    fixture.sim.grants().every((grant) => grant.revoked),
    'no grant is left alive at WHOOP',
  );
});
