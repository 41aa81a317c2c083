// A worker process SIGKILLed five times at different points of a backfill, a new one started after
// each kill: the run resumes every time, and the data ends equal to the ground truth with nothing
// lost and nothing stored twice; the grant still works afterwards. And a worker killed while its token
// refresh waits on WHOOP: its lease runs out, the next worker refreshes once, the grant lives.
// (A worker killed after WHOOP has processed a refresh but before it read the answer loses that
// pair: WHOOP offers no way to ask for it again. Only the user can reconnect then.)
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import {
  connectionState,
  expireAccessTokens,
  linkMember,
  requestsTo,
  runSync,
  startSyncFixture,
  startTestWorker,
  storedIds,
  syncNow,
  tableCounts,
  truthIds,
  waitFor,
  waitForRunEnd,
} from '../test/sync/support/fixture.ts';

const childScript = fileURLToPath(new URL('../test/sync/support/worker-child.ts', import.meta.url));
const KILLS = 5;
const rawRow = z.object({ raw: z.number() });
const heldRow = z.object({ held: z.boolean() });

t.test(`a backfill survives ${KILLS} SIGKILLs of its worker`, async (t) => {
  const fixture = await startSyncFixture(t, { sim: { seed: 23 } });
  const member = fixture.sim.createMember({ days: 240, timezoneOffset: '-05:00' });
  // Slow answers leave room to kill between commits.
  fixture.sim.setFaults({ latencyMs: 25 });
  const linked = await linkMember(fixture, member);
  const truth = fixture.sim.groundTruth(member.userId);
  const records = truth.cycles.length + truth.sleeps.length + truth.recoveries.length + truth.workouts.length;
  const stored = async () =>
    (
      await fixture.pool.one(sql.type(rawRow)`
        SELECT count(*)::int AS raw FROM integration_raw_event WHERE connection_id = ${linked.connectionId}
      `)
    ).raw;

  const children: ChildProcess[] = [];
  t.teardown(() => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  for (let kill = 1; kill <= KILLS; kill++) {
    // Each worker gets a little further: killed once a further slice of the records is stored.
    const threshold = Math.round((records * kill) / (KILLS + 1));
    const child = spawn(process.execPath, [childScript], {
      env: { ...process.env, ...fixture.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    const exited = once(child, 'exit');
    await waitFor(`${threshold} records stored before kill ${kill}`, async () => {
      if (child.exitCode !== null) throw new Error('the worker exited by itself');
      return (await stored()) >= threshold;
    });
    child.kill('SIGKILL');
    await exited;
    // Its session-level slot lock goes with its backend; then the next worker can take the run.
    await waitFor(`the killed worker's session to end (kill ${kill})`, async () => {
      const row = await fixture.pool.one(sql.type(heldRow)`
        SELECT EXISTS (
          SELECT FROM pg_locks l JOIN pg_database d ON d.oid = l.database
          WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.objid = ${linked.connectionId}::int::oid
        ) AS held
      `);
      return !row.held;
    });
    const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
    t.equal(
      run?.status,
      'running',
      `kill ${kill}: killed while running, ${await stored()} raw records stored`,
    );
  }

  fixture.sim.setFaults({ latencyMs: 0 });
  await startTestWorker(t, fixture);
  const finished = await waitForRunEnd(fixture, linked.initialRunId);
  t.equal(finished.status, 'succeeded');
  t.equal(finished.attempts, KILLS + 1, 'the same run, resumed after every kill');
  t.same(await storedIds(fixture, linked.connectionId), truthIds(fixture, member), 'nothing lost');
  t.equal((await tableCounts(fixture, linked.connectionId)).raw, records + 2, 'nothing stored twice');
  t.match(await connectionState(fixture, linked.connectionId), { status: 'connected' });

  // The grant still works: a later sync, with a refresh, succeeds.
  await expireAccessTokens(fixture);
  fixture.sim.resetRequestCounts();
  t.equal((await syncNow(fixture, linked)).outcome, 'succeeded', 'a later sync succeeds');
  t.equal(requestsTo(fixture, /^POST \/oauth\/oauth2\/token$/), 1, 'after one refresh');
  t.comment(`kills: ${KILLS}`);
});

t.test(
  'a worker killed while its token refresh waits on WHOOP: the next worker refreshes, the grant lives',
  async (t) => {
    const fixture = await startSyncFixture(t, { sim: { seed: 29 } });
    fixture.sim.setFaults({ revokeGrantOnRefreshReuse: true });
    const member = fixture.sim.createMember({ days: 3 });
    const linked = await linkMember(fixture, member);
    const first = await runSync(fixture, linked.initialRunId);
    t.equal(first, 'succeeded');
    await expireAccessTokens(fixture);
    fixture.sim.resetRequestCounts();
    // WHOOP never answers this refresh: the worker is killed while it waits, holding the refresh lease.
    fixture.sim.setFaults({ hangNext: 1 });
    const request = await fixture.services.whoopSync.request({ userId: linked.userId, trigger: 'manual' });
    if (request.outcome !== 'queued') throw new Error(`not queued: ${request.outcome}`);
    const child = spawn(process.execPath, [childScript], {
      env: { ...process.env, ...fixture.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    t.teardown(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    const exited = once(child, 'exit');
    await waitFor(
      'the refresh to reach WHOOP',
      async () => requestsTo(fixture, /^POST \/oauth\/oauth2\/token$/) >= 1,
    );
    child.kill('SIGKILL');
    await exited;

    // A new worker resumes the run; the dead holder's lease runs out and the refresh happens once.
    await startTestWorker(t, fixture);
    const finished = await waitFor(
      'the resumed run to finish',
      async () => {
        const run = await fixture.services.whoopSync.findRun(request.runId);
        return run && !['queued', 'running', 'deferred'].includes(run.status) ? run : undefined;
      },
      120_000,
    );
    t.equal(finished.status, 'succeeded', 'the run resumed and succeeded');
    t.equal(
      requestsTo(fixture, /^POST \/oauth\/oauth2\/token$/),
      2,
      'the hung refresh, then one that WHOOP answered',
    );
    t.match(await connectionState(fixture, linked.connectionId), { status: 'connected' });
    t.ok(
      fixture.sim.grants().every((grant) => !grant.revoked),
      'the grant is alive at WHOOP',
    );
    t.same(await storedIds(fixture, linked.connectionId), truthIds(fixture, member));
  },
);
