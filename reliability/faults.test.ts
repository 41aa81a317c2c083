// For 10 seeds, WHOOP misbehaves while several members sync through the real queue and worker:
// 5xx, hung requests, malformed records and token-endpoint failures (with the access tokens expired,
// so every sync starts with a refresh), then 429 bursts with one-second resets. Once WHOOP
// behaves again, one more sync each: every member's tables equal the simulator's ground truth, with
// no duplicate and no lost row, and no connection ever wrongly in Reconnect needed.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import {
  expireAccessTokens,
  type LinkedMember,
  linkMember,
  type SyncFixture,
  startSyncFixture,
  startTestWorker,
  storedIds,
  truthIds,
  waitForRunEnd,
} from '../test/sync/support/fixture.ts';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const statusRow = z.object({ status: z.string() });
const duplicateRow = z.object({ duplicates: z.number() });
let faultsInjected = 0;

async function connectionStatuses(fixture: SyncFixture, people: LinkedMember[]) {
  return Promise.all(
    people.map(
      async (person) =>
        (
          await fixture.pool.one(sql.type(statusRow)`
            SELECT status FROM integration_connection WHERE id = ${person.connectionId}
          `)
        ).status,
    ),
  );
}

for (const seed of SEEDS) {
  t.test(`seed ${seed}: faults during the syncs, the ground truth at the end`, async (t) => {
    const fixture = await startSyncFixture(t, {
      sim: { seed },
      env: { WHOOP_REQUEST_TIMEOUT_MS: '300', SYNC_NOW_COOLDOWN_SECONDS: '0' },
    });
    const members = [0, 1, 2].map((index) =>
      fixture.sim.createMember({ days: 5 + index, timezoneOffset: ['+05:30', '-07:00', 'Z'][index] }),
    );
    const people: LinkedMember[] = [];
    for (const member of members) people.push(await linkMember(fixture, member));
    // Every sync starts with a refresh, so the token endpoint's faults are met too.
    await expireAccessTokens(fixture);
    fixture.sim.setFaults({
      errorRate: 0.2,
      errorOn: ['data', 'token'],
      errorStatuses: [500, 502, 503],
      hangNext: 2,
      malformedRecord: true,
    });
    fixture.sim.resetRequestCounts();
    await startTestWorker(t, fixture);
    const first = await Promise.all(people.map((person) => waitForRunEnd(fixture, person.initialRunId)));
    const sent = Object.values(fixture.sim.requestCounts()).reduce(
      (sum, byClient) => sum + Object.values(byClient).reduce((a, b) => a + b, 0),
      0,
    );
    // Seeded: about a fifth of the requests failed, two hung, one record per page was malformed.
    faultsInjected += Math.round(sent * 0.2) + 2 + first.reduce((sum, run) => sum + rejectedOf(run), 0);
    t.notOk(
      (await connectionStatuses(fixture, people)).includes('reauth_required'),
      'no link wrongly marked Reconnect needed',
    );

    // WHOOP behaves again: one more sync each, and the tables catch up with the truth.
    fixture.sim.resetFaults();
    for (const person of people) {
      const request = await fixture.services.whoopSync.request({ userId: person.userId, trigger: 'manual' });
      if (request.outcome !== 'queued' && request.outcome !== 'joined') throw new Error(request.outcome);
      const run = await waitForRunEnd(fixture, request.runId);
      t.equal(run.status, 'succeeded', `member ${person.member.userId}: the last sync succeeded`);
    }
    for (const [index, person] of people.entries()) {
      const member = members[index];
      if (!member) continue;
      t.same(
        await storedIds(fixture, person.connectionId),
        truthIds(fixture, member),
        `member ${member.userId}: stored = ground truth`,
      );
    }
    for (const table of [
      'integration_cycle',
      'integration_sleep',
      'integration_recovery',
      'integration_workout',
    ]) {
      const row = await fixture.pool.one(sql.type(duplicateRow)`
        SELECT (count(*) - count(DISTINCT (connection_id, external_id)))::int AS duplicates
        FROM ${sql.identifier([table])}
      `);
      t.equal(row.duplicates, 0, `${table}: no duplicates`);
    }
    t.same(await connectionStatuses(fixture, people), ['connected', 'connected', 'connected']);
  });
}

function rejectedOf(run: { counts: Record<string, { rejected?: number } | undefined> }): number {
  return Object.values(run.counts).reduce((sum, counts) => sum + (counts?.rejected ?? 0), 0);
}

t.test(
  '429 bursts (another app spending the window): the syncs wait them out, no link is lost',
  async (t) => {
    const fixture = await startSyncFixture(t, {
      frozenClock: false,
      // A one-second "minute": each 429 says the window resets within a second.
      sim: {
        seed: 4,
        rateLimit: {
          enabled: true,
          perMinute: 100_000,
          minuteWindowMs: 1000,
          perDay: 1e8,
          dayWindowMs: 86_400_000,
        },
      },
    });
    const members = [fixture.sim.createMember({ days: 20 }), fixture.sim.createMember({ days: 20 })];
    const people: LinkedMember[] = [];
    for (const member of members) people.push(await linkMember(fixture, member));
    fixture.sim.setFaults({ errorRate: 0.15, errorOn: ['data'], errorStatuses: [429] });
    await startTestWorker(t, fixture);
    const runs = await Promise.all(people.map((person) => waitForRunEnd(fixture, person.initialRunId)));
    const limited = runs.reduce((sum, run) => sum + run.http_rate_limited, 0);
    faultsInjected += limited;
    t.ok(limited > 0, `${limited} 429s received`);
    t.same(
      runs.map((run) => run.status),
      ['succeeded', 'succeeded'],
      'both syncs finished after the resets',
    );
    for (const [index, person] of people.entries()) {
      const member = members[index];
      if (member) t.same(await storedIds(fixture, person.connectionId), truthIds(fixture, member));
    }
    t.same(await connectionStatuses(fixture, people), ['connected', 'connected']);
    t.comment(`seeds: ${SEEDS.length}, faults injected: about ${faultsInjected}`);
  },
);
