// A worker process SIGKILLed in the middle of a backfill, then a worker started again: the run
// resumes and the data ends equal to the ground truth, with nothing lost and nothing twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import {
  connectionState,
  linkMember,
  startSyncFixture,
  startTestWorker,
  storedIds,
  tableCounts,
  truthIds,
  waitFor,
} from './support/fixture.ts';

const childScript = fileURLToPath(new URL('./support/worker-child.ts', import.meta.url));

t.test('a worker killed mid-backfill and restarted ends with data equal to the ground truth', async (t) => {
  // Slow answers give the kill a wide window between the first domain's commit and the last one's.
  const fixture = await startSyncFixture(t, { sim: { seed: 5 } });
  const member = fixture.sim.createMember({ days: 120, timezoneOffset: '+09:00' });
  fixture.sim.setFaults({ latencyMs: 40 });
  const linked = await linkMember(fixture, member);

  const child: ChildProcess = spawn(process.execPath, [childScript], {
    env: { ...process.env, ...fixture.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });

  const watermarks = z.object({ watermarks: z.record(z.string(), z.string()) });
  await waitFor('the first collection to commit in the child worker', async () => {
    if (child.exitCode !== null) throw new Error(`the worker exited early:\n${output}`);
    const row = await fixture.pool.one(sql.type(watermarks)`
      SELECT watermarks FROM integration_connection WHERE id = ${linked.connectionId}
    `);
    return row.watermarks.cycle !== undefined;
  });
  child.kill('SIGKILL');
  await exited;

  const killed = await fixture.services.whoopSync.findRun(linked.initialRunId);
  t.equal(killed?.status, 'running', 'killed while running');
  t.equal(killed?.counts.cycle?.done, true, 'cycles were committed');
  t.not(killed?.counts.workout?.done, true, 'workouts were not');
  t.equal((await connectionState(fixture, linked.connectionId)).status, 'syncing');

  // The killed backend goes away with its session lock; the job stays locked by the dead worker.
  await waitFor("the dead worker's session to end", async () => {
    const held = await fixture.pool.oneFirst(sql.type(z.object({ held: z.boolean() }))`
      SELECT EXISTS (
        SELECT FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.objid = ${linked.connectionId}::int::oid
      ) AS held
    `);
    return !held;
  });
  const locked = await fixture.pool.oneFirst(sql.type(z.object({ locked: z.boolean() }))`
    SELECT locked_at IS NOT NULL AS locked FROM graphile_worker.jobs WHERE id = (
      SELECT job_id FROM integration_sync_run WHERE id = ${linked.initialRunId}
    )
  `);
  t.ok(locked, 'its job is still locked by the dead worker');

  fixture.sim.setFaults({ latencyMs: 0 });
  await startTestWorker(t, fixture);
  const finished = await waitFor('the resumed run to finish', async () => {
    const run = await fixture.services.whoopSync.findRun(linked.initialRunId);
    return run && !['queued', 'running', 'deferred'].includes(run.status) ? run : undefined;
  });
  t.equal(finished.status, 'succeeded');
  t.equal(finished.attempts, 2, 'the same run, resumed once');
  t.equal(finished.counts.cycle?.done, true);
  t.same(await storedIds(fixture, linked.connectionId), truthIds(fixture, member), 'nothing lost');
  const counts = await tableCounts(fixture, linked.connectionId);
  const truth = fixture.sim.groundTruth(member.userId);
  const records = truth.cycles.length + truth.sleeps.length + truth.recoveries.length + truth.workouts.length;
  t.equal(counts.raw, records + 2, 'one raw event per record, plus profile and body: nothing twice');
  t.match(await connectionState(fixture, linked.connectionId), {
    status: 'connected',
    last_sync_status: 'succeeded',
  });
});
