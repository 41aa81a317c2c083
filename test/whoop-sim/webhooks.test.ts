import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { type WhoopSleep, webhookEventSchema } from '../../src/services/whoop/schemas.ts';
import { signWebhook, verifyWebhookSignature } from '../../src/whoop-sim/index.ts';
import { api, CLIENT_ID, CLIENT_SECRET, connect, control, startSim, type Teardown } from './helpers.ts';

const VECTOR_BODY =
  '{"user_id":10129,"id":"ecfc6a15-4661-442f-a9a4-f160dd7afae8","type":"sleep.updated","trace_id":"e369c784-5100-49e8-8098-75d35c47b31b"}';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

/** A local webhook receiver answering with `status(n)` for the n-th request. */
async function receiver(t: Teardown, status: (n: number) => number = () => 204) {
  const received: Received[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = status(++count);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/whoop`, received };
}

function verify(r: Received): boolean {
  return verifyWebhookSignature({
    secret: CLIENT_SECRET,
    timestamp: String(r.headers['x-whoop-signature-timestamp']),
    rawBody: r.raw,
    signature: String(r.headers['x-whoop-signature']),
    now: Date.now(),
    toleranceMs: 5 * 60_000,
  });
}

async function connectedMember(t: Teardown, status?: (n: number) => number) {
  const hook = await receiver(t, status);
  const sim = await startSim(t, { webhooks: { retryDelaysMs: [10, 20, 40] } });
  sim.updateClient(CLIENT_ID, { webhookUrl: hook.url });
  const member = sim.createMember({ days: 5, inProgress: true });
  const tokens = await connect(sim, member.userId);
  const mainSleep = sim.groundTruth(member.userId).sleeps.find((s) => !s.nap) as WhoopSleep;
  return { sim, hook, member, tokens, mainSleep };
}

t.test('the documented test vector verifies', async (t) => {
  const signature = signWebhook('sim_client_secret_123', '1748241241000', VECTOR_BODY);
  t.equal(signature, '+6kvu5pZnoYzlQ+29aXr/XJYdsrZUAJAmo8/6brjjPs=');
  const input = {
    secret: 'sim_client_secret_123',
    timestamp: '1748241241000',
    rawBody: VECTOR_BODY,
    signature,
  };
  t.ok(verifyWebhookSignature(input));
  t.ok(verifyWebhookSignature({ ...input, rawBody: Buffer.from(VECTOR_BODY) }), 'raw bytes work too');
  t.notOk(
    verifyWebhookSignature({ ...input, rawBody: JSON.stringify(JSON.parse(VECTOR_BODY), null, 1) }),
    're-serialized JSON fails',
  );
  t.notOk(verifyWebhookSignature({ ...input, secret: 'other' }));
  t.notOk(
    verifyWebhookSignature({ ...input, now: 1748241241000 + 6 * 60_000, toleranceMs: 5 * 60_000 }),
    'stale',
  );
});

t.test(
  'a data change is delivered, signed, to the local receiver; recovery events carry the sleep id',
  async (t) => {
    const { sim, hook, member, mainSleep } = await connectedMember(t);
    const { status } = await control(
      sim,
      'POST',
      `/members/${member.userId}/records/sleep/${mainSleep.id}/rescore`,
    );
    t.equal(status, 200);
    const { body } = await control<{ pending: number }>(sim, 'POST', '/webhooks/wait');
    t.equal(body.pending, 0);
    t.equal(hook.received.length, 2);
    const events = hook.received.map((r) => webhookEventSchema.parse(JSON.parse(r.raw)));
    t.same(
      events.map((e) => [e.type, e.id, e.user_id]),
      [
        ['sleep.updated', mainSleep.id, member.userId],
        ['recovery.updated', mainSleep.id, member.userId],
      ],
    );
    for (const r of hook.received) {
      t.ok(verify(r), 'signature verifies with the client secret over the raw body');
      t.match(r.headers['x-whoop-signature-timestamp'], /^\d{13}$/, 'timestamp in ms');
      t.equal(r.headers['content-type'], 'application/json');
    }
    t.not(events[0]?.trace_id, events[1]?.trace_id);
  },
);

t.test('failed deliveries are retried with the same trace_id, without holding up later events', async (t) => {
  const { sim, hook, member, mainSleep } = await connectedMember(t, (n) => (n <= 2 ? 500 : 200));
  const workoutId = member.inProgressWorkoutId ?? '';
  sim.editRecord(member.userId, 'workout', workoutId, { sport_name: 'running' });
  await sim.webhooksIdle();
  const bodies = hook.received.map(
    (r) => JSON.parse(r.raw) as { type: string; trace_id: string; id: string },
  );
  t.same(
    bodies.map((b) => [b.type, b.id]),
    [
      ['workout.updated', workoutId],
      ['workout.updated', workoutId],
      ['workout.updated', workoutId],
    ],
  );
  t.equal(new Set(bodies.map((b) => b.trace_id)).size, 1, 'one event, three attempts');
  t.ok(hook.received.every(verify), 'every attempt is signed');
  t.same(
    sim.webhookDeliveries().map((d) => [d.attempt, d.outcome, d.status]),
    [
      [1, 'retrying', 500],
      [2, 'retrying', 500],
      [3, 'delivered', 200],
    ],
  );

  hook.received.length = 0;
  sim.deleteRecord(member.userId, 'sleep', mainSleep.id);
  await sim.webhooksIdle();
  t.same(
    hook.received.map((r) => (JSON.parse(r.raw) as { type: string }).type).sort(),
    ['recovery.deleted', 'sleep.deleted'],
    'deleting a main sleep deletes its recovery',
  );
});

t.test('a receiver that keeps failing is given up on after the retries', async (t) => {
  const { sim, hook, member, mainSleep } = await connectedMember(t, () => 503);
  sim.editRecord(member.userId, 'recovery', mainSleep.id, { score_state: 'PENDING_SCORE', score: null });
  await sim.webhooksIdle();
  t.equal(hook.received.length, 4, 'one attempt and three retries');
  t.equal(sim.webhookDeliveries().at(-1)?.outcome, 'gave_up');
});

t.test('duplicate, dropped and out-of-order delivery switches', async (t) => {
  const { sim, hook, member, mainSleep } = await connectedMember(t);
  const types = () => hook.received.map((r) => (JSON.parse(r.raw) as { type: string }).type);
  const traces = () => hook.received.map((r) => (JSON.parse(r.raw) as { trace_id: string }).trace_id);

  sim.setFaults({ webhookOutOfOrder: true });
  sim.rescore(member.userId, 'sleep', mainSleep.id);
  await sim.webhooksIdle();
  t.same(types(), ['recovery.updated', 'sleep.updated'], 'out of order');

  hook.received.length = 0;
  sim.setFaults({ webhookOutOfOrder: false, webhookDuplicate: true });
  sim.rescore(member.userId, 'sleep', mainSleep.id);
  await sim.webhooksIdle();
  t.same(types(), ['sleep.updated', 'sleep.updated', 'recovery.updated', 'recovery.updated'], 'duplicated');
  t.equal(traces()[0], traces()[1], 'a duplicate repeats the trace_id');

  hook.received.length = 0;
  sim.setFaults({ webhookDuplicate: false, webhookDropNext: 1 });
  sim.rescore(member.userId, 'sleep', mainSleep.id);
  await sim.webhooksIdle();
  t.same(types(), ['recovery.updated'], 'the sleep event was lost');
  t.equal(sim.webhookDeliveries().filter((d) => d.outcome === 'dropped').length, 1);
});

t.test(
  'the clock sends events too: a live workout grows, a new night brings a sleep and a recovery',
  async (t) => {
    const { sim, hook, member } = await connectedMember(t);
    const liveId = member.inProgressWorkoutId ?? '';
    const before = sim.groundTruth(member.userId).workouts.find((w) => w.id === liveId);
    sim.advanceTime(10 * 60_000);
    await sim.webhooksIdle();
    const events = hook.received.map(
      (r) => JSON.parse(r.raw) as { type: string; id: string; trace_id: string },
    );
    t.same(events, [
      { type: 'workout.updated', id: liveId, user_id: member.userId, trace_id: events[0]?.trace_id },
    ]);
    const after = sim.groundTruth(member.userId).workouts.find((w) => w.id === liveId);
    t.ok(Date.parse(after?.end ?? '') > Date.parse(before?.end ?? ''), 'later end');

    hook.received.length = 0;
    sim.advanceTime(24 * 3_600_000);
    await sim.webhooksIdle();
    const types = new Set(hook.received.map((r) => (JSON.parse(r.raw) as { type: string }).type));
    t.ok(types.has('sleep.updated') && types.has('recovery.updated'), [...types].join(','));
  },
);

t.test('revoked members get no more webhooks', async (t) => {
  const { sim, hook, member, tokens, mainSleep } = await connectedMember(t);
  t.equal((await api(sim, '/v2/user/access', tokens.access_token, { method: 'DELETE' })).status, 204);
  sim.rescore(member.userId, 'sleep', mainSleep.id);
  await sim.webhooksIdle();
  t.equal(hook.received.length, 0);
});
