// What an operator reads off /metrics to know which build answers, and how fresh the WHOOP data is
// anywhere (the "no successful sync anywhere" alert of docs/operations.md is built on the latter).
import t from 'tap';
import { z } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { sql } from '../../src/services/db/sql.ts';
import {
  expireAccessTokens,
  linkMember,
  runSync,
  startSyncFixture,
  syncNow,
} from '../sync/support/fixture.ts';
import { scrape, value } from './support.ts';

const LAST_SUCCESS = 'integration_last_successful_sync_timestamp_seconds';
const finishedRow = z.object({ seconds: z.number() });

t.test('build_info names the running version, Node.js version and BUILD_COMMIT', async (t) => {
  const fixture = await startSyncFixture(t, { env: { BUILD_COMMIT: '0123abc' } });
  const samples = await scrape(fixture.app);
  const builds = samples.filter((sample) => sample.name === 'build_info');
  t.equal(builds.length, 1, 'one series per process');
  t.same(builds[0]?.labels, {
    version: packageJson.version,
    node_version: process.version,
    commit: '0123abc',
  });
  t.equal(builds[0]?.value, 1);
});

t.test('build_info says "unknown" when the build did not record its commit', async (t) => {
  const fixture = await startSyncFixture(t);
  const samples = await scrape(fixture.app);
  t.equal(
    value(samples, 'build_info', {
      version: packageJson.version,
      node_version: process.version,
      commit: 'unknown',
    }),
    1,
  );
});

t.test('the last successful sync time follows succeeded runs only, across connections', async (t) => {
  const fixture = await startSyncFixture(t, { env: { SYNC_NOW_COOLDOWN_SECONDS: '0' } });
  const lastSuccess = async () => value(await scrape(fixture.app), LAST_SUCCESS, { provider: 'whoop' });
  const finishedAt = (runId: number) =>
    fixture.pool.oneFirst(sql.type(finishedRow)`
      SELECT extract(epoch FROM finished_at)::float8 AS seconds FROM integration_sync_run WHERE id = ${runId}
    `);

  t.equal(await lastSuccess(), 0, 'no sync ever succeeded: 0 (the alert treats it as infinitely old)');

  const first = await linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  t.equal(await runSync(fixture, first.initialRunId), 'succeeded');
  t.equal(await lastSuccess(), await finishedAt(first.initialRunId), 'the end of the first successful run');

  // WHOOP's token endpoint fails every try: a failed run does not count as fresh data.
  await expireAccessTokens(fixture, first.connectionId);
  fixture.sim.setFaults({ failNext: 4, errorOn: ['token'], errorStatuses: [502] });
  const failed = await syncNow(fixture, first);
  fixture.sim.resetFaults();
  t.equal(failed.outcome, 'failed');
  t.equal(await lastSuccess(), await finishedAt(first.initialRunId), 'unchanged by the failed run');

  // Another person's success is a success "anywhere": the newest one counts.
  const second = await linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  t.equal(await runSync(fixture, second.initialRunId), 'succeeded');
  const newest = await finishedAt(second.initialRunId);
  t.ok(newest >= (await finishedAt(first.initialRunId)));
  t.equal(await lastSuccess(), newest, 'the newest success of any connection');
});
