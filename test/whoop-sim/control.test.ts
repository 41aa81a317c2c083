import t from 'tap';
import type { WhoopCycle, WhoopSleep, WhoopWorkout } from '../../src/services/whoop/schemas.ts';
import { startWhoopSimulator } from '../../src/whoop-sim/index.ts';
import {
  api,
  authorizeUrl,
  CLIENT_ID,
  connect,
  control,
  FIXED_NOW,
  REDIRECT_URI,
  startSim,
  token,
} from './helpers.ts';

interface Summary {
  userId: number;
  email: string;
  timezoneOffset: string;
  counts: Record<string, number>;
  inProgressWorkoutId?: string;
}
interface Truth {
  cycles: WhoopCycle[];
  sleeps: WhoopSleep[];
  workouts: WhoopWorkout[];
}

t.test('the simulator refuses to start in production', async (t) => {
  await t.rejects(
    startWhoopSimulator({ clients: [], nodeEnv: 'production' }),
    /does not start when NODE_ENV=production/,
  );
});

t.test('members are created, listed and validated over the control API', async (t) => {
  const sim = await startSim(t);
  const created = await control<Summary>(sim, 'POST', '/members', {
    email: 'kai@example.test',
    days: 90,
    timezoneOffset: '+05:30',
    inProgress: true,
  });
  t.equal(created.status, 201);
  t.match(created.body, { email: 'kai@example.test', timezoneOffset: '+05:30', counts: { cycles: 90 } });
  t.type(created.body.inProgressWorkoutId, 'string');
  const list = await control<Summary[]>(sim, 'GET', '/members');
  t.same(
    list.body.map((m) => m.userId),
    [created.body.userId],
  );
  t.equal((await control(sim, 'POST', '/members', { timezoneOffset: '+5:30' })).status, 400);
  t.equal((await control(sim, 'POST', '/members', { days: 0 })).status, 400);
  t.equal((await control(sim, 'POST', '/members', { unknown: 1 })).status, 400);
  t.equal((await control(sim, 'GET', '/members/1/truth')).status, 404);

  const time = await control<{ now: string }>(sim, 'GET', '/time');
  t.equal(time.body.now, new Date(FIXED_NOW).toISOString());
  const advanced = await control<{ now: string }>(sim, 'POST', '/time/advance', { ms: 3_600_000 });
  t.equal(advanced.body.now, new Date(FIXED_NOW + 3_600_000).toISOString());
});

t.test('rescore turns a PENDING_SCORE record into a SCORED one, visible through the API', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 60 });
  const { access_token } = await connect(sim, member.userId);
  const truth = (await control<Truth>(sim, 'GET', `/members/${member.userId}/truth`)).body;
  const pending = truth.sleeps.find((s) => s.score_state === 'PENDING_SCORE' && !s.nap) as WhoopSleep;
  t.ok(pending, 'the history holds a main sleep stuck in PENDING_SCORE');
  const before = await (await api(sim, `/v2/cycle/${pending.cycle_id}/recovery`, access_token)).json();
  t.match(before, { score_state: 'PENDING_SCORE' }, 'its recovery waits too');

  const result = await control<{ events: Array<{ type: string; id: string }> }>(
    sim,
    'POST',
    `/members/${member.userId}/records/sleep/${pending.id}/rescore`,
  );
  t.equal(result.status, 200);
  t.same(
    result.body.events.map((e) => e.type),
    ['sleep.updated', 'recovery.updated'],
  );
  const after = (await (
    await api(sim, `/v2/activity/sleep/${pending.id}`, access_token)
  ).json()) as WhoopSleep;
  t.equal(after.score_state, 'SCORED');
  t.ok(after.score_state === 'SCORED' && after.score.stage_summary.total_in_bed_time_milli > 0);
  t.ok(after.updated_at > pending.updated_at, 'updated_at moved');
  const recovery = await (await api(sim, `/v2/cycle/${pending.cycle_id}/recovery`, access_token)).json();
  t.match(recovery, { score_state: 'SCORED', sleep_id: pending.id });
  t.equal(
    (await control(sim, 'POST', `/members/${member.userId}/records/cycle/${pending.cycle_id}/rescore`))
      .status,
    400,
  );
});

t.test('grow extends an in-progress workout: same id, later end, bigger totals', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 2, inProgress: true });
  const { access_token } = await connect(sim, member.userId);
  const id = member.inProgressWorkoutId ?? '';
  const before = (await (await api(sim, `/v2/activity/workout/${id}`, access_token)).json()) as WhoopWorkout;
  const grown = await control(sim, 'POST', `/members/${member.userId}/records/workout/${id}/grow`, {
    ms: 600_000,
  });
  t.equal(grown.status, 200);
  const after = (await (await api(sim, `/v2/activity/workout/${id}`, access_token)).json()) as WhoopWorkout;
  t.equal(Date.parse(after.end) - Date.parse(before.end), 600_000);
  t.ok(
    before.score_state === 'SCORED' &&
      after.score_state === 'SCORED' &&
      after.score.strain > before.score.strain &&
      after.score.kilojoule > before.score.kilojoule,
    'strain and energy grew',
  );
  const cycleGrow = await control(sim, 'POST', `/members/${member.userId}/records/cycle/1/grow`, { ms: 1 });
  t.equal(cycleGrow.status, 400, 'only sleeps and workouts grow');
  const unknown = '00000000-0000-4000-8000-000000000000';
  t.equal(
    (await control(sim, 'POST', `/members/${member.userId}/records/workout/${unknown}/grow`, { ms: 1 }))
      .status,
    404,
  );
});

t.test('edit and delete records', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 10 });
  const { access_token } = await connect(sim, member.userId);
  const truth = sim.groundTruth(member.userId);
  const cycle = truth.cycles[2] as WhoopCycle;
  const edited = await control(sim, 'PATCH', `/members/${member.userId}/records/cycle/${cycle.id}`, {
    score: { strain: 19.5 },
  });
  t.equal(edited.status, 200);
  const served = (await (await api(sim, `/v2/cycle/${cycle.id}`, access_token)).json()) as WhoopCycle;
  t.ok(served.score_state === 'SCORED' && served.score.strain === 19.5, 'the API serves the edit');
  t.ok(
    served.score_state === 'SCORED' &&
      cycle.score_state === 'SCORED' &&
      served.score.kilojoule === cycle.score.kilojoule,
  );
  const invalid = await control(sim, 'PATCH', `/members/${member.userId}/records/cycle/${cycle.id}`, {
    start: 'soon',
  });
  t.equal(invalid.status, 400, 'an edit must keep the record valid');

  const workout = truth.workouts[0] as WhoopWorkout;
  const removed = await control<{ events: unknown[] }>(
    sim,
    'DELETE',
    `/members/${member.userId}/records/workout/${workout.id}`,
  );
  t.same(removed.body.events, [{ userId: member.userId, type: 'workout.deleted', id: workout.id }]);
  t.equal((await api(sim, `/v2/activity/workout/${workout.id}`, access_token)).status, 404);
  sim.advanceTime(2 * 86_400_000);
  const fresh = await connect(sim, member.userId);
  const listed = (await (await api(sim, '/v2/activity/workout?limit=25', fresh.access_token)).json()) as {
    records: WhoopWorkout[];
  };
  t.notOk(
    listed.records.some((w) => w.id === workout.id),
    'a deleted record stays deleted as time goes on',
  );
});

t.test('clients, consent, grants and revocation from WHOOP’s side', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 2 });
  const added = await control(sim, 'POST', '/clients', {
    clientId: 'demo-app',
    clientSecret: 'demo-secret',
    redirectUris: ['http://127.0.0.1:3000/callback'],
  });
  t.equal(added.status, 201);
  t.equal(
    (await control(sim, 'POST', '/clients', { clientId: 'demo-app', clientSecret: 'x', redirectUris: [] }))
      .status,
    400,
  );
  const patched = await control<{ webhookUrl: string }>(sim, 'PATCH', `/clients/${CLIENT_ID}`, {
    webhookUrl: 'http://127.0.0.1:9/hook',
  });
  t.equal(patched.body.webhookUrl, 'http://127.0.0.1:9/hook');

  const consent = await control(sim, 'PUT', '/consent', {
    defaultUserId: member.userId,
    autoApprove: 'grant',
  });
  t.same(consent.body, { defaultUserId: member.userId, autoApprove: 'grant' });
  t.equal((await control(sim, 'PUT', '/consent', { defaultUserId: 1 })).status, 404);

  const approved = await fetch(authorizeUrl(sim), { redirect: 'manual' });
  const code = new URL(approved.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const exchanged = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  const { access_token } = (await exchanged.json()) as { access_token: string };
  const grants = await control<Array<{ clientId: string; userId: number; revoked: boolean }>>(
    sim,
    'GET',
    '/grants',
  );
  t.match(grants.body, [{ clientId: CLIENT_ID, userId: member.userId, revoked: false }]);
  const revoked = await control<{ revokedGrants: number }>(
    sim,
    'POST',
    `/members/${member.userId}/revoke`,
    {},
  );
  t.equal(revoked.body.revokedGrants, 1);
  t.equal((await api(sim, '/v2/user/profile/basic', access_token)).status, 401, 'the app lost access');

  const state = await control<{ members: unknown[]; clients: Array<Record<string, unknown>> }>(
    sim,
    'GET',
    '/state',
  );
  t.equal(state.body.members.length, 1);
  t.ok(
    state.body.clients.every((c) => !('clientSecret' in c)),
    'the state overview does not echo secrets',
  );
  t.match(state.body.clients, [
    { clientId: CLIENT_ID, redirectUris: [REDIRECT_URI] },
    { clientId: 'demo-app' },
  ]);
});
