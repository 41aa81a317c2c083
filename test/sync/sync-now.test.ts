// Sync now on the Integrations card (CSRF-protected, with and without htmx), the status partial htmx
// polls, and POST /internal/whoop/sync for other services.
import { parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { csrfTokenFrom } from '../support/browser-session.ts';
import { INTERNAL_TOKEN, linkMember, loginAs, runSync, startSyncFixture } from './support/fixture.ts';

const HTMX = { 'hx-request': 'true' };

t.test(
  'Sync now queues a manual sync (or joins it), the card polls the progress, then shows the result',
  async (t) => {
    const fixture = await startSyncFixture(t);
    const member = fixture.sim.createMember({ days: 6 });
    const linked = await linkMember(fixture, member);
    t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
    const browser = await loginAs(fixture, linked);

    const page = await browser.get('/integrations');
    const form = parse(page.body).querySelector('#whoop-card form[action="/integrations/whoop/sync"]');
    t.equal(form?.getAttribute('method'), 'post', 'a plain form: works without JavaScript');
    t.equal(form?.getAttribute('hx-post'), '/integrations/whoop/sync');
    t.match(page.body, /\d+ records? added/, "the first sync's result is on the card");

    const forged = await browser.post('/integrations/whoop/sync', {});
    t.equal(forged.statusCode, 403, 'no CSRF token, no sync');

    const csrf = csrfTokenFrom(page.body);
    const posted = await browser.post('/integrations/whoop/sync', { _csrf: csrf });
    t.equal(posted.statusCode, 303, 'without htmx: back to the page');
    t.equal(posted.headers.location, '/integrations');
    const runs = z.object({
      id: z.number(),
      trigger: z.string(),
      status: z.string(),
      request_id: z.string().nullable(),
    });
    const queued = await fixture.pool.one(sql.type(runs)`
    SELECT id, trigger, status, request_id FROM integration_sync_run WHERE connection_id = ${linked.connectionId} ORDER BY id DESC LIMIT 1
  `);
    t.match(queued, { trigger: 'manual', status: 'queued' });
    t.ok(queued.request_id, 'the request id is kept on the run');

    const reloaded = parse((await browser.get('/integrations')).body);
    const status = reloaded.querySelector('#whoop-card #whoop-sync-status');
    t.equal(
      status?.getAttribute('hx-get'),
      '/integrations/whoop/sync/status',
      'the card polls a small status partial',
    );
    t.equal(status?.getAttribute('hx-trigger'), 'every 1s');
    t.match(status?.text ?? '', /Sync queued/);
    t.ok(reloaded.querySelector('#whoop-card button[disabled]'), 'Sync now waits for the run');

    const joined = await browser.post('/integrations/whoop/sync', { _csrf: csrf }, HTMX);
    t.equal(joined.statusCode, 200, 'with htmx: the card comes back in place');
    t.ok(parse(joined.body).querySelector('#whoop-card #whoop-sync-status[hx-trigger]'));
    const count = await fixture.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM integration_sync_run WHERE connection_id = ${linked.connectionId}
  `);
    t.equal(count, 2, 'a second press joins the queued run');

    // Mid-run: the partial lists each domain's progress.
    await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_sync_run SET status = 'running', current_domain = 'sleep',
      counts = ${sql.jsonb({
        profile: { fetched: 1, inserted: 0, updated: 0, unchanged: 1, rejected: 0, done: true },
        cycle: { fetched: 4, inserted: 1, updated: 2, unchanged: 1, rejected: 0, done: true },
        sleep: { fetched: 3, inserted: 0, updated: 0, unchanged: 3, rejected: 0, done: false },
      })}
    WHERE id = ${queued.id}
  `);
    const polled = await browser.get('/integrations/whoop/sync/status', HTMX);
    const partial = parse(polled.body);
    t.equal(partial.childNodes.filter((node) => node.nodeType === 1).length, 1, 'one root element');
    t.equal(
      partial.querySelector('#whoop-sync-status')?.getAttribute('hx-trigger'),
      'every 1s',
      'keeps polling',
    );
    const states = Object.fromEntries(
      partial
        .querySelectorAll('li')
        .map((li) => [li.getAttribute('data-domain'), li.getAttribute('data-state')]),
    );
    t.same(states, {
      profile: 'done',
      body_measurement: 'waiting',
      cycle: 'done',
      sleep: 'reading',
      recovery: 'waiting',
      workout: 'waiting',
    });
    t.match(partial.querySelector('li[data-domain=cycle]')?.text ?? '', /4 read, 1 new, 2 updated/);
    t.match(partial.querySelector('li[data-domain=sleep]')?.text ?? '', /3 read…/);
    await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_sync_run SET status = 'queued', counts = '{}', current_domain = NULL WHERE id = ${queued.id}
  `);

    // The worker runs it; the next poll returns the whole card, without any polling element.
    fixture.sim.editRecord(
      member.userId,
      'cycle',
      String(fixture.sim.groundTruth(member.userId).cycles[1]?.id),
      {
        score: { strain: 12.5 },
      },
    );
    t.equal(await runSync(fixture, queued.id), 'succeeded');
    const done = await browser.get('/integrations/whoop/sync/status', HTMX);
    t.equal(done.headers['hx-retarget'], '#whoop-card', 'the card replaces itself');
    t.equal(done.headers['hx-reswap'], 'outerHTML');
    const card = parse(done.body);
    t.ok(card.querySelector('#whoop-card'));
    t.notOk(card.querySelector('[hx-trigger]'), 'nothing polls any more');
    t.match(
      card.querySelector('.sync-result')?.text ?? '',
      /0 records added, 1 record updated\./,
      'the result',
    );
    t.match(card.querySelector('.last-sync')?.text ?? '', /\d{4}/, 'Last sync is set');

    const plain = await browser.get('/integrations/whoop/sync/status');
    t.ok(parse(plain.body).querySelector('#whoop-sync-status'), 'without htmx: the partial alone');
  },
);

t.test(
  'the card looks again every second while a run reads, and far less often while it waits',
  async (t) => {
    const fixture = await startSyncFixture(t);
    const member = fixture.sim.createMember({ days: 3 });
    const linked = await linkMember(fixture, member);
    const browser = await loginAs(fixture, linked);
    const poll = async () => {
      const status = parse((await browser.get('/integrations/whoop/sync/status', HTMX)).body).querySelector(
        '#whoop-sync-status',
      );
      return {
        trigger: status?.getAttribute('hx-trigger'),
        note: status?.querySelector('.sync-poll')?.text.trim(),
      };
    };
    const setRun = (status: string, queuedSecondsAgo: number) =>
      fixture.pool.query(sql.typeAlias('void')`
      UPDATE integration_sync_run
      SET status = ${status}, queued_at = now() - make_interval(secs => ${queuedSecondsAgo}),
          resume_at = CASE WHEN ${status} = 'deferred' THEN now() + interval '3 hours' END
      WHERE id = ${linked.initialRunId}
    `);

    await setRun('queued', 0);
    t.match(
      await poll(),
      { trigger: 'every 1s', note: /^Updates every second\./ },
      'just pressed: a worker takes it at once',
    );
    await setRun('queued', 60);
    t.match(
      await poll(),
      { trigger: 'every 15s', note: /^Looks again every 15 seconds\./ },
      'still queued a minute later: the workers are busy',
    );
    await setRun('running', 60);
    t.match(await poll(), { trigger: 'every 1s', note: /^Updates every second\./ }, 'running');
    await setRun('deferred', 60);
    t.match(
      await poll(),
      { trigger: 'every 60s', note: /^Looks again every 60 seconds\./ },
      "paused for WHOOP's daily limit",
    );
  },
);

t.test('POST /internal/whoop/sync answers 202 with the run id', async (t) => {
  const fixture = await startSyncFixture(t);
  const linked = await linkMember(fixture, fixture.sim.createMember({ days: 2 }));
  const post = (body: unknown, token = INTERNAL_TOKEN) =>
    fixture.app.inject({
      method: 'POST',
      url: '/internal/whoop/sync',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  t.equal((await post({ userId: linked.userId }, 'wrong-token-wrong-token-wrong-token')).statusCode, 401);
  t.equal((await post({ userId: 'one' })).statusCode, 400);

  const joined = await post({ userId: linked.userId });
  t.equal(joined.statusCode, 202);
  t.match(
    joined.json(),
    { runId: linked.initialRunId, status: 'queued', joined: true },
    'joins the initial sync',
  );

  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded');
  const queued = await post({ userId: linked.userId });
  t.equal(queued.statusCode, 202);
  const body = queued.json() as { runId: number; status: string; joined: boolean; requestId: string };
  t.match(body, { status: 'queued', joined: false });
  t.not(body.runId, linked.initialRunId, 'a new run');
  const run = await fixture.services.whoopSync.findRun(body.runId);
  t.match(run, { trigger: 'internal', request_id: body.requestId });
  t.equal(await runSync(fixture, body.runId), 'succeeded');

  const nobody = await post({ userId: linked.userId + 1000 });
  t.equal(nobody.statusCode, 409, 'no connection: nothing queued');
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_connection SET status = 'reauth_required' WHERE id = ${linked.connectionId}
  `);
  const reauth = await post({ userId: linked.userId });
  t.equal(reauth.statusCode, 409);
  t.match(reauth.json(), { error: 'not_syncable', status: 'reauth_required' });
});
