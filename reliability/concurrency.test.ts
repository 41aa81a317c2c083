// 50 sync requests and refresh attempts at once on one connection, through the web routes, the
// internal API, the queue and four processes' engines: exactly one refresh, and the link stays
// Connected. Disconnect in the middle of such a storm completes, and nothing re-saves the tokens.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { csrfTokenFrom } from '../test/support/browser-session.ts';
import {
  anotherProcess,
  engineOf,
  expireAccessTokens,
  INTERNAL_TOKEN,
  linkMember,
  loginAs,
  passContext,
  requestsTo,
  runSync,
  startSyncFixture,
  startTestWorker,
  syncTarget,
  waitFor,
} from '../test/sync/support/fixture.ts';

const TOKEN_ENDPOINT = /^POST \/oauth\/oauth2\/token$/;
const statusRow = z.object({ status: z.string(), tokens: z.number() });

t.test('a storm of 50 syncs makes one refresh; Disconnect during the next storm completes', async (t) => {
  const fixture = await startSyncFixture(t, { env: { SYNC_NOW_COOLDOWN_SECONDS: '0' } });
  fixture.sim.setFaults({ revokeGrantOnRefreshReuse: true });
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 4 }));
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const browser = await loginAs(fixture, linked);
  const csrf = csrfTokenFrom((await browser.get('/integrations')).body);
  const processes = [
    fixture.services,
    ...(await Promise.all([1, 2, 3].map(() => anotherProcess(t, fixture)))),
  ];
  await startTestWorker(t, fixture);
  const state = () =>
    fixture.pool.one(sql.type(statusRow)`
      SELECT c.status, (SELECT count(*) FROM integration_token k WHERE k.connection_id = c.id)::int AS tokens
      FROM integration_connection c WHERE c.id = ${linked.connectionId}
    `);

  /** 20 Sync now presses, 10 internal requests and 20 engine passes spread over four processes. */
  async function storm() {
    const target = await syncTarget(fixture, linked);
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 20; i++)
      work.push(browser.post('/integrations/whoop/sync', { _csrf: csrf }, { 'hx-request': 'true' }));
    for (let i = 0; i < 10; i++)
      work.push(
        fixture.app.inject({
          method: 'POST',
          url: '/internal/whoop/sync',
          headers: { authorization: `Bearer ${INTERNAL_TOKEN}`, 'content-type': 'application/json' },
          payload: JSON.stringify({ userId: linked.userId }),
        }),
      );
    for (let i = 0; i < 20; i++) {
      const services = processes[i % processes.length] ?? fixture.services;
      work.push(engineOf(services).syncConnection(target, passContext(fixture)));
    }
    return work;
  }

  await expireAccessTokens(fixture);
  fixture.sim.setFaults({ latencyMs: 150 });
  fixture.sim.resetRequestCounts();
  const results = await Promise.allSettled(await storm());
  t.same(
    results.filter((result) => result.status === 'rejected').map((result) => String(result.reason)),
    [],
    'all 50 ended without an error',
  );
  await waitFor('the queued sync to end', async () => (await state()).status === 'connected');
  t.equal(requestsTo(fixture, TOKEN_ENDPOINT), 1, 'exactly one refresh');
  t.match(await state(), { status: 'connected', tokens: 2 }, 'still Connected');
  t.ok(
    fixture.sim.grants().every((grant) => !grant.revoked),
    'the grant is alive at WHOOP',
  );

  // Another storm, and the person disconnects in the middle of it.
  await expireAccessTokens(fixture);
  fixture.sim.resetRequestCounts();
  // Settled as they end: passes that meet the Disconnect stop with NotSyncableError.
  const second = (await storm()).map((work) =>
    work.then(
      () => 'ended',
      (error: Error) => error.name,
    ),
  );
  await waitFor('the refresh to reach WHOOP', async () => requestsTo(fixture, TOKEN_ENDPOINT) >= 1);
  const disconnectCsrf = csrfTokenFrom((await browser.get('/integrations')).body);
  const disconnected = await browser.post('/integrations/whoop/disconnect', { _csrf: disconnectCsrf });
  t.equal(disconnected.statusCode, 303, 'Disconnect completes during the storm');
  const outcomes = new Set(await Promise.all(second));
  t.ok(
    [...outcomes].every((outcome) => ['ended', 'NotSyncableError'].includes(outcome)),
    `the storm ended or stopped cleanly: ${[...outcomes].join(', ')}`,
  );
  await waitFor('every run to end', async () => {
    const active = await fixture.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM integration_sync_run
      WHERE connection_id = ${linked.connectionId} AND status IN ('queued', 'running')
    `);
    return active === 0;
  });
  t.match(
    await state(),
    { status: 'disconnected', tokens: 0 },
    'disconnected, and no token was stored again',
  );
  t.ok(
    fixture.sim.grants().every((grant) => grant.revoked),
    'no grant is left alive at WHOOP',
  );
  t.comment('concurrency: 100 requests and passes over two storms, one refresh each, one disconnect');
});
