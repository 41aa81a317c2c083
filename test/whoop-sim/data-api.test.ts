import t from 'tap';
import {
  bodyMeasurementSchema,
  profileSchema,
  type WhoopCycle,
  type WhoopRecovery,
  type WhoopSleep,
  type WhoopWorkout,
} from '../../src/services/whoop/schemas.ts';
import { api, connect, FIXED_NOW, fetchAllPages, startSim } from './helpers.ts';

const COLLECTIONS = [
  { path: '/v2/cycle', truth: 'cycles', key: (r: WhoopCycle) => String(r.id) },
  { path: '/v2/activity/sleep', truth: 'sleeps', key: (r: WhoopSleep) => r.id },
  { path: '/v2/activity/workout', truth: 'workouts', key: (r: WhoopWorkout) => r.id },
  { path: '/v2/recovery', truth: 'recoveries', key: (r: WhoopRecovery) => String(r.cycle_id) },
] as const;

t.test('pagination returns every record exactly once, newest first, with limit 25 and 7', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 60, timezoneOffset: '-10:00', inProgress: true });
  const { access_token } = await connect(sim, member.userId);
  const truth = sim.groundTruth(member.userId);
  for (const c of COLLECTIONS) {
    const key = c.key as (r: unknown) => string;
    const expected = (truth[c.truth] as unknown[]).map(key);
    t.ok(expected.length > 25, `${c.truth}: enough records for several pages (${expected.length})`);
    for (const limit of ['25', '7']) {
      const { records, pages } = await fetchAllPages(sim, c.path, access_token, { limit });
      const got = records.map(key);
      t.equal(new Set(got).size, got.length, `${c.path} limit ${limit}: no duplicates`);
      t.same(got, expected, `${c.path} limit ${limit}: every record once, newest first`);
      t.equal(pages, Math.ceil(expected.length / Number(limit)), `${c.path} limit ${limit}: page count`);
    }
  }
});

t.test('collection paging parameters', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 20 });
  const { access_token } = await connect(sim, member.userId);
  const first = await api(sim, '/v2/cycle', access_token);
  const page = (await first.json()) as { records: WhoopCycle[]; next_token?: string };
  t.equal(page.records.length, 10, 'limit defaults to 10');
  t.type(page.next_token, 'string');

  const snake = (await (await api(sim, `/v2/cycle?next_token=${page.next_token}`, access_token)).json()) as {
    records: WhoopCycle[];
  };
  t.same(
    snake.records.map((r) => r.id),
    page.records.map((r) => r.id),
    'next_token as a request parameter is ignored: the first page again',
  );

  const camel = (await (await api(sim, `/v2/cycle?nextToken=${page.next_token}`, access_token)).json()) as {
    records: WhoopCycle[];
    next_token?: string;
  };
  t.equal(camel.records.length, 10);
  t.notOk(camel.next_token, 'no next_token on the last page');

  for (const bad of ['limit=26', 'limit=0', 'limit=ten', 'start=yesterday', 'nextToken=garbage']) {
    const response = await api(sim, `/v2/cycle?${bad}`, access_token);
    t.equal(response.status, 400, bad);
  }
  t.equal((await api(sim, '/v2/cycle?limit=25', access_token)).status, 200, 'limit 25 is allowed');
});

t.test(
  'the [start, end) overlap filter includes the in-progress cycle and a sleep that began before start',
  async (t) => {
    const sim = await startSim(t);
    const member = sim.createMember({ days: 10, timezoneOffset: '+05:30' });
    const { access_token } = await connect(sim, member.userId);
    const truth = sim.groundTruth(member.userId);
    const current = truth.cycles[0] as WhoopCycle;
    t.equal(current.end, undefined, 'the newest cycle has no end');

    const hourAgo = new Date(FIXED_NOW - 3_600_000).toISOString();
    const recent = (await (await api(sim, `/v2/cycle?start=${hourAgo}`, access_token)).json()) as {
      records: WhoopCycle[];
    };
    t.same(
      recent.records.map((c) => c.id),
      [current.id],
      'a cycle that started a day ago but has not ended overlaps the last hour',
    );

    const mainSleep = truth.sleeps.find((s) => !s.nap && s.cycle_id === current.id) as WhoopSleep;
    const middle = new Date((Date.parse(mainSleep.start) + Date.parse(mainSleep.end)) / 2).toISOString();
    const sleeps = (await (
      await api(sim, `/v2/activity/sleep?start=${middle}&limit=25`, access_token)
    ).json()) as {
      records: WhoopSleep[];
    };
    t.ok(
      sleeps.records.some((s) => s.id === mainSleep.id),
      'a sleep that began before start is included',
    );

    const previous = truth.cycles[1] as WhoopCycle;
    const atStart = await api(sim, `/v2/cycle?start=${previous.start}&end=${current.start}`, access_token);
    const ids = ((await atStart.json()) as { records: WhoopCycle[] }).records.map((c) => c.id);
    t.ok(ids.includes(previous.id), 'start is inclusive');
    t.notOk(ids.includes(current.id), 'end is exclusive');
  },
);

t.test('bearer and scope checks', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 3 });
  const none = await fetch(`${sim.apiBaseUrl}/v2/cycle`);
  t.equal(none.status, 401, 'no token');
  t.equal((await api(sim, '/v2/cycle', 'not-a-token')).status, 401, 'unknown token');

  const { access_token } = await connect(sim, member.userId, { scope: 'read:profile' });
  t.equal((await api(sim, '/v2/user/profile/basic', access_token)).status, 200);
  for (const path of [
    '/v2/cycle',
    '/v2/recovery',
    '/v2/activity/sleep',
    '/v2/activity/workout',
    '/v2/user/measurement/body',
  ]) {
    const response = await api(sim, path, access_token);
    t.equal(response.status, 403, `${path} needs its scope`);
  }
  sim.setFaults({ missingScopeStatus: 401 });
  t.equal((await api(sim, '/v2/cycle', access_token)).status, 401, 'the missing-scope status is a switch');
});

t.test('profile, body measurement and by-id endpoints', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 5, email: 'who@example.test', inProgress: true });
  const other = sim.createMember({ days: 5, withBody: false });
  const { access_token } = await connect(sim, member.userId);
  const truth = sim.groundTruth(member.userId);

  const profile = profileSchema.parse(await (await api(sim, '/v2/user/profile/basic', access_token)).json());
  t.equal(profile.user_id, member.userId);
  t.type(profile.user_id, 'number', 'user_id is an integer, not a string');
  t.equal(profile.email, 'who@example.test');
  const body = bodyMeasurementSchema.parse(
    await (await api(sim, '/v2/user/measurement/body', access_token)).json(),
  );
  t.ok(body.height_meter > 1 && body.height_meter < 2.2);

  const cycle = truth.cycles[1] as WhoopCycle;
  t.same(await (await api(sim, `/v2/cycle/${cycle.id}`, access_token)).json(), cycle);
  const sleep = (await (await api(sim, `/v2/cycle/${cycle.id}/sleep`, access_token)).json()) as WhoopSleep;
  t.equal(sleep.cycle_id, cycle.id);
  t.equal(sleep.nap, false, "a cycle's sleep is its main sleep");
  const recovery = (await (
    await api(sim, `/v2/cycle/${cycle.id}/recovery`, access_token)
  ).json()) as WhoopRecovery;
  t.equal(recovery.sleep_id, sleep.id);
  t.notOk('id' in recovery, 'recovery has no id');
  t.notOk('timezone_offset' in recovery, 'recovery has no timezone_offset');

  const workout = truth.workouts[0] as WhoopWorkout;
  t.equal(workout.id, member.inProgressWorkoutId, 'the live workout is the newest');
  t.same(await (await api(sim, `/v2/activity/workout/${workout.id}`, access_token)).json(), workout);
  t.same(await (await api(sim, `/v2/activity/sleep/${sleep.id}`, access_token)).json(), sleep);

  const missing = '00000000-0000-4000-8000-000000000000';
  t.equal((await api(sim, `/v2/activity/sleep/${missing}`, access_token)).status, 404);
  t.equal((await api(sim, `/v2/activity/workout/${missing}`, access_token)).status, 404);
  t.equal((await api(sim, '/v2/activity/sleep/not-a-uuid', access_token)).status, 400);
  t.equal((await api(sim, '/v2/cycle/1', access_token)).status, 404);
  t.equal((await api(sim, '/v2/cycle/abc', access_token)).status, 400);
  t.equal((await api(sim, '/v2/cycle/1/recovery', access_token)).status, 404);
  const othersCycle = sim.groundTruth(other.userId).cycles[0] as WhoopCycle;
  t.equal(
    (await api(sim, `/v2/cycle/${othersCycle.id}`, access_token)).status,
    404,
    "another member's cycle",
  );
  t.equal((await api(sim, '/v1/cycle', access_token)).status, 404, 'v1 endpoints are gone');

  const otherTokens = await connect(sim, other.userId);
  t.equal(
    (await api(sim, '/v2/user/measurement/body', otherTokens.access_token)).status,
    404,
    'body can be missing',
  );
});
