// FEATURE_WHOOP_INTEGRATION=false stops the worker's WHOOP work too (issue 10, defect 8): the tick
// enqueues nothing, queued WHOOP jobs wait without failing, and turning the flag on resumes them.
import { runOnce } from 'graphile-worker';
import t from 'tap';
import { z } from 'zod';
import { buildTaskList, crontabFor } from '../../src/jobs/index.ts';
import { createDbPool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';
import { createServices } from '../../src/services/index.ts';
import { testConfig } from '../helper.ts';
import { linkMember, startSyncFixture } from './support/fixture.ts';

const jobRow = z.object({
  task_identifier: z.string(),
  attempts: z.number(),
  last_error: z.string().nullable(),
});
const runRow = z.object({ status: z.string() });

t.test('with the WHOOP feature off no WHOOP job is enqueued or run, and on again resumes', async (t) => {
  const fixture = await startSyncFixture(t);
  const member = fixture.sim.createMember({ days: 2 });
  const linked = await linkMember(fixture, member);
  // The link queued its first sync; another person's schedule is due as well.
  const other = await linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_connection SET next_sync_at = now() - interval '1 minute'
  `);
  const jobs = () =>
    fixture.pool.any(sql.type(jobRow)`
      SELECT task_identifier, attempts, last_error FROM graphile_worker.jobs ORDER BY id
    `);
  const before = await jobs();

  // The same database, served by processes started with the flag off.
  const pool = await createDbPool(fixture.databaseUrl, { maximumPoolSize: 3 });
  t.teardown(() => pool.end());
  const off = createServices({
    config: testConfig({ ...fixture.env, FEATURE_WHOOP_INTEGRATION: 'false' }),
    pool,
    logger: fixture.logs.logger,
  });
  t.teardown(() => off.close());
  t.equal(off.whoopSync.enabled, false);
  t.notMatch(crontabFor({ whoop: off.whoopSync.enabled }), /whoop/, 'no WHOOP tick in the crontab');
  t.same((await off.whoopSync.tick()).enqueued, [], 'the tick enqueues nothing');
  await runOnce({ connectionString: fixture.databaseUrl, taskList: buildTaskList(off), logger: undefined });
  const after = await jobs();
  t.same(after, before, 'the queued WHOOP jobs wait as they were: none ran, none failed');
  t.ok(
    after.every((job) => job.attempts === 0 && job.last_error === null),
    'no attempt, no error',
  );

  // On again: the scheduled work resumes.
  await runOnce({
    connectionString: fixture.databaseUrl,
    taskList: buildTaskList(fixture.services),
    logger: undefined,
  });
  for (const person of [linked, other]) {
    const run = await fixture.pool.one(sql.type(runRow)`
      SELECT status FROM integration_sync_run WHERE id = ${person.initialRunId}
    `);
    t.equal(run.status, 'succeeded', 'the queued first sync ran once the flag was on');
  }
  const scheduled = await fixture.pool.any(sql.type(z.object({ ahead: z.boolean() }))`
    SELECT next_sync_at > now() AS ahead FROM integration_connection
  `);
  t.ok(
    scheduled.length === 2 && scheduled.every((row) => row.ahead),
    'and each has its next scheduled sync again',
  );
});
