// SYNC_SCHEDULE in SYNC_TIMEZONE: each connection keeps next_sync_at; a tick every minute enqueues the
// connections that are due, spaced out, and moves them to their next slot.
import t from 'tap';
import { z } from 'zod';
import { crontabFor } from '../../src/jobs/index.ts';
import { sql } from '../../src/services/db/sql.ts';
import { nextScheduledAt, spacingMs } from '../../src/services/whoop/sync/schedule.ts';
import {
  type LinkedMember,
  linkMember,
  loginAs,
  type SyncFixture,
  startSyncFixture,
} from './support/fixture.ts';

const ZONE = 'America/New_York';

function wallClock(date: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(date);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { hour: part('hour'), minute: part('minute') };
}

async function setState(
  fixture: SyncFixture,
  linked: LinkedMember,
  state: { status: string; nextSyncAt: Date | null },
) {
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_connection SET status = ${state.status},
      next_sync_at = ${state.nextSyncAt ? sql.timestamp(state.nextSyncAt) : null}
    WHERE id = ${linked.connectionId}
  `);
}

t.test('the next sync time follows the cron schedule in the configured zone', async (t) => {
  const options = { schedule: '0 6,18 * * *', timeZone: ZONE };
  const start = new Date('2026-03-07T12:00:00Z'); // the day before New York moves its clocks forward
  let after = start;
  const slots: string[] = [];
  for (let i = 0; i < 5; i++) {
    after = nextScheduledAt(options, after);
    const local = wallClock(after, ZONE);
    slots.push(`${local.hour}:${String(local.minute).padStart(2, '0')}`);
  }
  t.same(
    slots,
    ['18:00', '6:00', '18:00', '6:00', '18:00'],
    '06:00 and 18:00 New York time, across the DST change',
  );
  t.equal(
    nextScheduledAt(options, start).toISOString(),
    '2026-03-07T23:00:00.000Z',
    '18:00 EST is 23:00 UTC',
  );
  t.equal(
    nextScheduledAt(options, new Date('2026-03-08T12:00:00Z')).toISOString(),
    '2026-03-08T22:00:00.000Z',
    '18:00 EDT is 22:00 UTC',
  );
  t.match(crontabFor({ whoop: true }), /^\* \* \* \* \* whoop_sync_tick$/m, 'the tick runs every minute');
});

t.test('the tick enqueues exactly the due connections, spread out', async (t) => {
  const fixture = await startSyncFixture(t, {
    env: { SYNC_SCHEDULE: '0 6,18 * * *', SYNC_TIMEZONE: ZONE, WHOOP_RATE_LIMIT_PER_MINUTE: '100' },
  });
  const now = new Date();
  const past = new Date(now.getTime() - 60_000);
  const future = new Date(now.getTime() + 3_600_000);
  const link = async () => linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  const due = await link();
  const notYet = await link();
  const failedLastTime = await link();
  const reauth = await link();
  const alreadyQueued = await link();
  const disconnected = await link();
  const neverScheduled = await link();
  // Every link queued its first sync; all but one of those have ended.
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_sync_run SET status = 'succeeded', finished_at = now()
    WHERE id <> ${alreadyQueued.initialRunId}
  `);
  await setState(fixture, due, { status: 'connected', nextSyncAt: past });
  await setState(fixture, notYet, { status: 'connected', nextSyncAt: future });
  await setState(fixture, failedLastTime, { status: 'error', nextSyncAt: past });
  await setState(fixture, reauth, { status: 'reauth_required', nextSyncAt: past });
  await setState(fixture, alreadyQueued, { status: 'connected', nextSyncAt: past });
  await setState(fixture, disconnected, { status: 'disconnected', nextSyncAt: past });
  await setState(fixture, neverScheduled, { status: 'connected', nextSyncAt: null });

  const result = await fixture.services.whoopSync.tick(now);
  t.same(
    result.enqueued.sort(),
    [due.connectionId, failedLastTime.connectionId].sort(),
    'exactly the due connections',
  );
  t.same(result.joined, [alreadyQueued.connectionId], 'a queued one is joined, not queued twice');

  const runs = await fixture.pool.any(sql.type(
    z.object({ connection_id: z.number(), trigger: z.string(), run_at: z.date() }),
  )`
    SELECT r.connection_id, r.trigger, j.run_at
    FROM integration_sync_run r JOIN graphile_worker.jobs j ON j.key = 'whoop_sync:' || r.connection_id
    WHERE r.status = 'queued' ORDER BY j.run_at
  `);
  t.same(
    runs.map((run) => run.connection_id).sort(),
    [due.connectionId, failedLastTime.connectionId, alreadyQueued.connectionId].sort(),
    'one queued run and job per due connection',
  );
  const scheduled = runs.filter((run) => run.trigger === 'scheduled');
  t.equal(scheduled.length, 2);
  t.equal(
    (scheduled[1]?.run_at.getTime() ?? 0) - (scheduled[0]?.run_at.getTime() ?? 0),
    spacingMs(100),
    'the second starts one gap after the first',
  );

  const next = z.object({ id: z.number(), next_sync_at: z.date().nullable() });
  const rows = new Map(
    (await fixture.pool.any(sql.type(next)`SELECT id, next_sync_at FROM integration_connection`)).map(
      (row) => [row.id, row.next_sync_at],
    ),
  );
  const slot = nextScheduledAt({ schedule: '0 6,18 * * *', timeZone: ZONE }, now);
  for (const linked of [due, failedLastTime, alreadyQueued, neverScheduled]) {
    t.equal(
      rows.get(linked.connectionId)?.toISOString(),
      slot.toISOString(),
      `connection ${linked.connectionId} moves to the next slot`,
    );
  }
  t.equal(rows.get(notYet.connectionId)?.toISOString(), future.toISOString(), 'not yet due: untouched');
  t.equal(rows.get(reauth.connectionId)?.toISOString(), past.toISOString(), 'reauth needed: left alone');

  const again = await fixture.services.whoopSync.tick(now);
  t.same(again.enqueued, [], 'a second tick finds nothing due');

  // Sync now on a connection whose scheduled run waits its turn: the run is brought forward.
  const job = z.object({ priority: z.number(), run_at: z.date() });
  const jobOf = (linked: LinkedMember) =>
    fixture.pool.one(sql.type(job)`
      SELECT priority, run_at FROM graphile_worker.jobs WHERE key = ${`whoop_sync:${linked.connectionId}`}
    `);
  const later = scheduled[1]?.connection_id === due.connectionId ? due : failedLastTime;
  t.equal((await jobOf(later)).priority, 10, 'scheduled syncs run after manual ones');
  const manual = await fixture.services.whoopSync.request({ userId: later.userId, trigger: 'manual' });
  t.equal(manual.outcome, 'joined');
  const bumped = await jobOf(later);
  t.equal(bumped.priority, -10, 'now with the priority of a manual sync');
  t.ok(bumped.run_at.getTime() <= Date.now(), 'and due at once');
});

t.test('the card shows Next sync in the configured zone', async (t) => {
  const fixture = await startSyncFixture(t, {
    env: { SYNC_SCHEDULE: '30 7 * * *', SYNC_TIMEZONE: 'Asia/Kolkata' },
  });
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 2 }), {
    timeZone: 'Asia/Kolkata',
  });
  const browser = await loginAs(fixture, linked);
  const page = await browser.get('/integrations');
  const nextSync = /<dd class="next-sync"><time datetime="([^"]+)">([^<]+)<\/time>/.exec(page.body);
  t.ok(nextSync, 'Next sync is shown');
  const at = new Date(nextSync?.[1] ?? '');
  t.same(wallClock(at, 'Asia/Kolkata'), { hour: 7, minute: 30 }, '07:30 in Kolkata');
  t.ok(at.getTime() > Date.now() && at.getTime() <= Date.now() + 86_400_000, 'within the next day');
  t.match(nextSync?.[2], /7:30\sAM/, 'and written as 7:30 AM');
});
