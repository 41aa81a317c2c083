import t from 'tap';
import { cycleSchema, sleepSchema } from '../../src/services/whoop/schemas.ts';
import {
  api,
  authorizeUrl,
  connect,
  control,
  REDIRECT_URI,
  startSim,
  submitConsent,
  token,
} from './helpers.ts';

t.test('injected token errors are transient: the code and the refresh token survive a 502', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const consent = await submitConsent(sim, authorizeUrl(sim), 'grant', member.userId);
  const code = new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? '';
  sim.setFaults({ failNext: 1, errorStatuses: [502], errorOn: ['token'] });
  const failed = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  t.equal(failed.status, 502);
  t.match(failed.headers.get('content-type'), /text\/html/, 'a gateway error page, not JSON');
  const ok = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  t.equal(ok.status, 200, 'the code was not consumed by the failed attempt');
  const { refresh_token } = (await ok.json()) as { refresh_token: string };

  sim.setFaults({ failNext: 1 });
  const refresh = { grant_type: 'refresh_token', refresh_token, scope: 'offline' };
  t.equal((await token(sim, refresh)).status, 502);
  t.equal((await token(sim, refresh)).status, 200, 'the refresh token was not spent by the 502');
});

t.test('error rate on data endpoints, with statuses in turn; the token endpoint can be spared', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 2 });
  const { access_token, refresh_token } = await connect(sim, member.userId);
  sim.setFaults({ errorRate: 1, errorOn: ['data'] });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await api(sim, '/v2/cycle', access_token)).status);
  t.same(statuses, [500, 502, 503, 500]);
  const refreshed = await token(sim, {
    grant_type: 'refresh_token',
    refresh_token: refresh_token ?? '',
    scope: 'offline',
  });
  t.equal(refreshed.status, 200);
});

t.test('a seeded error rate fails the same requests on every run', async (t) => {
  const runs: number[][] = [];
  for (let run = 0; run < 2; run++) {
    const sim = await startSim(t, { seed: 1234 });
    const member = sim.createMember({ days: 2 });
    const { access_token } = await connect(sim, member.userId);
    sim.setFaults({ errorRate: 0.4 });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await api(sim, '/v2/user/profile/basic', access_token)).status);
    runs.push(statuses);
  }
  t.same(runs[0], runs[1]);
  t.ok(runs[0]?.includes(200) && runs[0]?.some((s) => s >= 500), `a mix: ${runs[0]?.join(',')}`);
});

t.test('added latency', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const { access_token } = await connect(sim, member.userId);
  sim.setFaults({ latencyMs: 150 });
  const started = performance.now();
  const response = await api(sim, '/v2/user/profile/basic', access_token);
  t.equal(response.status, 200);
  t.ok(performance.now() - started >= 145, 'answered no sooner than the added latency');
});

async function waitForHung(sim: { controlUrl: string }, count: number): Promise<void> {
  for (;;) {
    const state = (await (await fetch(`${sim.controlUrl}/state`)).json()) as { hungRequests: number };
    if (state.hungRequests === count) return;
  }
}

t.test('hung requests never answer; the next one does; close() ends them', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 1 });
  const { access_token } = await connect(sim, member.userId);
  sim.setFaults({ hangNext: 1 });
  const abort = new AbortController();
  const hung = api(sim, '/v2/cycle', access_token, { signal: abort.signal });
  await waitForHung(sim, 1);
  t.equal((await api(sim, '/v2/cycle', access_token)).status, 200, 'only the next request hangs');
  abort.abort();
  await t.rejects(hung, { name: 'AbortError' });
  await waitForHung(sim, 0);

  sim.setFaults({ hang: true });
  const forever = api(sim, '/v2/user/profile/basic', access_token);
  await waitForHung(sim, 1);
  await sim.close();
  await t.rejects(forever, 'closing the simulator drops the hung connection');
});

t.test('a malformed record in a page', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 12 });
  const { access_token } = await connect(sim, member.userId);
  sim.setFaults({ malformedRecord: 'cycle' });
  const page = (await (await api(sim, '/v2/cycle?limit=5', access_token)).json()) as { records: unknown[] };
  t.equal(page.records.length, 5);
  t.notOk(cycleSchema.safeParse(page.records[0]).success, 'the first record breaks the schema');
  t.ok(
    page.records.slice(1).every((r) => cycleSchema.safeParse(r).success),
    'the others are fine',
  );
  const sleeps = (await (await api(sim, '/v2/activity/sleep?limit=5', access_token)).json()) as {
    records: unknown[];
  };
  t.ok(
    sleeps.records.every((r) => sleepSchema.safeParse(r).success),
    'other collections are untouched',
  );
});

t.test('a repeated next_token', async (t) => {
  const sim = await startSim(t);
  const member = sim.createMember({ days: 30 });
  const { access_token } = await connect(sim, member.userId);
  sim.setFaults({ repeatNextToken: true });
  const first = (await (await api(sim, '/v2/cycle', access_token)).json()) as { next_token: string };
  const second = (await (await api(sim, `/v2/cycle?nextToken=${first.next_token}`, access_token)).json()) as {
    next_token: string;
  };
  t.equal(second.next_token, first.next_token, 'the same token comes back: a naive client loops');
});

t.test('fault switches over the control API', async (t) => {
  const sim = await startSim(t);
  const patched = await control<Record<string, unknown>>(sim, 'PATCH', '/faults', {
    latencyMs: 5,
    errorRate: 0.1,
  });
  t.equal(patched.status, 200);
  t.match(patched.body, { latencyMs: 5, errorRate: 0.1, hang: false });
  t.equal((await control(sim, 'PATCH', '/faults', { noSuchSwitch: true })).status, 400);
  t.equal((await control(sim, 'PATCH', '/faults', { errorRate: 2 })).status, 400);
  const reset = await control<Record<string, unknown>>(sim, 'DELETE', '/faults');
  t.match(reset.body, { latencyMs: 0, errorRate: 0 });
});
