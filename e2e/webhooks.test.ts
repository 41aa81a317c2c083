// QA checklist "Webhooks arriving": a change at WHOOP reaches the app as a signed webhook
// (POST /webhooks/whoop), the worker reads the record, and the page shows the new value, with no sync.
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import {
  CLIENT_ID,
  linkMember,
  PASSWORD,
  readRow,
  runSync,
  startSyncFixture,
  startTestWorker,
  waitFor,
} from '../test/sync/support/fixture.ts';
import { captureState } from './support/axe.ts';
import { freePort, launchBrowser, logInInBrowser } from './support/harness.ts';

const eventRow = z.object({ event_type: z.string(), outcome: z.string().nullable() });

t.test('a workout changed at WHOOP shows up on Exercises through its webhook', async (t) => {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const fixture = await startSyncFixture(t, {
    env: { PUBLIC_BASE_URL: baseUrl },
    sim: { webhooks: { retryDelaysMs: [20, 40] } },
  });
  await fixture.app.listen({ host: '127.0.0.1', port });
  const { port: listening } = fixture.app.server.address() as AddressInfo;
  // As registered in WHOOP's developer dashboard (demo mode registers it with the simulator).
  fixture.sim.updateClient(CLIENT_ID, { webhookUrl: `http://127.0.0.1:${listening}/webhooks/whoop` });
  const member = fixture.sim.createMember({ firstName: 'Mary', lastName: 'Jackson', days: 10 });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded', 'the first sync ran');
  await startTestWorker(t, fixture);

  const workout = [...fixture.sim.groundTruth(member.userId).workouts].sort(
    (a, b) => Date.parse(b.start) - Date.parse(a.start),
  )[0];
  if (!workout) throw new Error('the member has no workout');
  const before = await readRow(fixture, 'integration_workout', linked.connectionId, workout.id, [
    'sport_name',
    'local_date',
  ]);
  const newSport = before.sport_name === 'rowing' ? 'cycling' : 'rowing';

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: 'UTC' });
  await logInInBrowser(page, baseUrl, { email: linked.email, password: PASSWORD });
  const exercises = `${baseUrl}/exercises?date=${before.local_date}`;
  await page.goto(exercises);
  const row = page.locator(`#day-workouts tr[data-source="whoop"]:has-text("${String(before.sport_name)}")`);
  t.ok((await row.count()) > 0, `the workout shows as ${before.sport_name} before`);

  // The member edits the workout at WHOOP: WHOOP posts workout.updated.
  const runsBefore = await fixture.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM integration_sync_run
  `);
  fixture.sim.editRecord(member.userId, 'workout', workout.id, { sport_name: newSport });
  await fixture.sim.webhooksIdle();
  await waitFor('the webhook job to store the change', async () => {
    const events = await fixture.pool.any(
      sql.type(eventRow)`SELECT event_type, outcome FROM integration_webhook_event ORDER BY id`,
    );
    return events.length === 1 && events[0]?.outcome === 'stored' ? events : undefined;
  });
  const after = await readRow(fixture, 'integration_workout', linked.connectionId, workout.id, [
    'sport_name',
  ]);
  t.equal(after.sport_name, newSport, 'the stored workout has the new sport');
  const runsAfter = await fixture.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM integration_sync_run
  `);
  t.equal(runsAfter, runsBefore, 'no sync ran: the webhook alone brought the change');

  await page.goto(exercises);
  t.ok(
    (await page.locator(`#day-workouts tr[data-source="whoop"]:has-text("${newSport}")`).count()) > 0,
    `Exercises shows the workout as ${newSport}`,
  );
  await captureState(t, page, 'webhook-workout-updated');
});
