import { parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { liveGrants } from '../integrations/support.ts';
import {
  type LinkedMember,
  linkMember,
  loginAs,
  type SyncFixture,
  startSyncFixture,
} from '../sync/support/fixture.ts';
import { personalTables, rowCounts, twoSyncedPeople } from './support.ts';

const countRow = z.object({ n: z.number() });

/** Rows still referring to any of `connectionIds`, per table with a connection_id column. */
async function rowsOfConnections(fixture: SyncFixture, connectionIds: readonly number[]) {
  const left: Record<string, number> = {};
  for (const [table, owner] of await personalTables(fixture)) {
    const column = owner === 'id' ? undefined : (await columnsOf(fixture, table)).includes('connection_id');
    if (!column) continue;
    left[table] = await fixture.pool.oneFirst(sql.type(countRow)`
      SELECT count(*)::int AS n FROM ${sql.identifier([table])}
      WHERE connection_id = ANY(${sql.array(connectionIds, 'int8')})
    `);
  }
  return left;
}

async function columnsOf(fixture: SyncFixture, table: string): Promise<readonly string[]> {
  return fixture.pool.anyFirst(sql.type(z.object({ column_name: z.string() }))`
    SELECT column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table}
  `);
}

async function queuedJobsOf(fixture: SyncFixture, connectionId: number): Promise<number> {
  return fixture.pool.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM graphile_worker.jobs
    WHERE key ~ ${`^whoop_[a-z_]+:${connectionId}$`}
  `);
}

/** A sync waiting in the queue and a link request under way: work in flight for the person. */
async function workInFlight(fixture: SyncFixture, linked: LinkedMember, sessionId: string) {
  const request = await fixture.services.whoopSync.request({ userId: linked.userId, trigger: 'manual' });
  if (request.outcome !== 'queued') throw new Error(`no sync queued: ${request.outcome}`);
  await fixture.services.whoop.beginAuthorization({ userId: linked.userId, sessionId });
}

const hasLiveGrant = (fixture: SyncFixture, linked: LinkedMember) =>
  liveGrants(fixture.sim).some((grant) => grant.userId === linked.member.userId);

const zeroes = (counts: Record<string, number>) => Object.fromEntries(Object.keys(counts).map((k) => [k, 0]));

t.test(
  'deleting WHOOP data revokes at WHOOP first, removes every WHOOP row of the person and nothing else',
  async (t) => {
    const { fixture, alice, bob } = await twoSyncedPeople(t);
    await workInFlight(fixture, alice, 'alice-session');
    t.equal(await queuedJobsOf(fixture, alice.connectionId), 1, 'a sync is queued');
    const bobBefore = await rowCounts(fixture, bob.userId);
    const aliceBefore = await rowCounts(fixture, alice.userId);
    t.ok(hasLiveGrant(fixture, alice) && hasLiveGrant(fixture, bob), 'both grants live at WHOOP');

    const browser = await loginAs(fixture, alice);
    const account = await browser.get('/account');
    t.ok(
      parse(account.body).querySelector('a[href="/account/whoop-data/delete"]'),
      'linked from the Account page',
    );
    const confirm = await browser.get('/account/whoop-data/delete');
    t.equal(confirm.statusCode, 200);
    const page = parse(confirm.body);
    t.ok(page.querySelector('form[method="post"][action="/account/whoop-data/delete"] input[name="_csrf"]'));
    t.equal(page.querySelector('a.cancel')?.getAttribute('href'), '/account', 'Cancel goes back');
    t.equal(await queuedJobsOf(fixture, alice.connectionId), 1, 'the confirmation page changes nothing');

    const response = await browser.submit('/account/whoop-data/delete', '/account/whoop-data/delete', {});
    t.equal(response.statusCode, 303);
    t.equal(response.headers.location, '/account');
    const after = await browser.get('/account');
    t.equal(after.statusCode, 200, 'still signed in: the account stays');
    t.match(
      parse(after.body).querySelector('.flash')?.text,
      "Your WHOOP data is deleted and this app's access to your WHOOP account is revoked.",
    );

    t.notOk(hasLiveGrant(fixture, alice), "the person's grant is revoked at WHOOP");
    t.ok(hasLiveGrant(fixture, bob), "the other person's grant lives");
    const aliceAfter = await rowCounts(fixture, alice.userId);
    const kept = ['app_user', 'sleep_entry', 'workout_session', 'session'];
    for (const [table, count] of Object.entries(aliceAfter)) {
      if (kept.includes(table)) t.ok(count >= (aliceBefore[table] ?? 0) && count > 0, `${table} kept`);
      else t.equal(count, 0, `${table}: nothing of the person's WHOOP data is left`);
    }
    const left = await rowsOfConnections(fixture, [alice.connectionId]);
    t.same(left, zeroes(left), 'no row refers to the deleted connection');
    t.equal(await queuedJobsOf(fixture, alice.connectionId), 0, 'the queued sync is gone');
    t.same(await rowCounts(fixture, bob.userId), bobBefore, 'the other person is untouched');

    const again = await browser.get('/account/whoop-data/delete');
    t.match(again.body, 'There is no WHOOP data in your account.');
    const twice = await browser.submit('/account/whoop-data/delete', '/account/whoop-data/delete', {});
    t.equal(twice.statusCode, 303, 'deleting twice is harmless');
    t.match((await browser.get('/account')).body, 'There was no WHOOP data to delete.');
  },
);

t.test(
  'deleting the account removes the person and everything of theirs, signs them out everywhere',
  async (t) => {
    const { fixture, alice, bob } = await twoSyncedPeople(t);
    await workInFlight(fixture, alice, 'alice-session');
    const browser = await loginAs(fixture, alice);
    const otherDevice = await loginAs(fixture, alice);
    const bobBrowser = await loginAs(fixture, bob);
    const bobBefore = await rowCounts(fixture, bob.userId);

    const confirm = await browser.get('/account/delete');
    t.equal(confirm.statusCode, 200);
    const form = parse(confirm.body).querySelector('form[method="post"][action="/account/delete"]');
    t.ok(form?.querySelector('input[name="password"][type="password"]'), 'asks for the password');
    t.ok(form?.querySelector('input[name="_csrf"]'));
    t.equal(form?.querySelector('a.cancel')?.getAttribute('href'), '/account', 'Cancel goes back');

    const response = await browser.submit('/account/delete', '/account/delete', {
      password: 'correct horse battery',
    });
    t.equal(response.statusCode, 303);
    t.equal(response.headers.location, '/account/deleted');
    t.notOk(browser.cookies.has('sid'), 'the session cookie is cleared');
    const done = await browser.get('/account/deleted');
    t.equal(done.statusCode, 200);
    t.match(parse(done.body).querySelector('h1')?.text, 'Your account is deleted');
    t.notOk(parse(done.body).querySelector('.account'), 'nobody is signed in');

    for (const device of [browser, otherDevice]) {
      const page = await device.get('/account');
      t.equal(page.statusCode, 303, 'signed out on every device');
      t.match(page.headers.location, /^\/login/);
    }
    const left = await rowCounts(fixture, alice.userId);
    t.same(left, zeroes(left), 'no row of the person is left in any table');
    const byConnection = await rowsOfConnections(fixture, [alice.connectionId]);
    t.same(byConnection, zeroes(byConnection), 'no row refers to their connection');
    t.equal(await queuedJobsOf(fixture, alice.connectionId), 0, 'their queued sync is gone');
    t.notOk(hasLiveGrant(fixture, alice), 'revoked at WHOOP');

    t.ok(hasLiveGrant(fixture, bob), "the other person's grant lives");
    t.same(await rowCounts(fixture, bob.userId), bobBefore, 'the other person is untouched');
    t.equal((await bobBrowser.get('/account')).statusCode, 200, 'the other person stays signed in');
    const login = await browser.submit('/login', '/login', {
      email: alice.email,
      password: 'correct horse battery',
    });
    t.equal(login.statusCode, 401, 'the deleted account cannot log in');
  },
);

t.test('WHOOP out of reach: the data is deleted anyway and the page says access may remain', async (t) => {
  const fixture = await startSyncFixture(t, { env: { WHOOP_REQUEST_TIMEOUT_MS: '1000' } });
  const alice = await linkMember(fixture, fixture.sim.createMember({ days: 1 }));
  const bob = await linkMember(fixture, fixture.sim.createMember({ days: 1 }));
  fixture.sim.setFaults({ errorRate: 1, errorOn: ['data', 'token'], errorStatuses: [503] });

  const aliceBrowser = await loginAs(fixture, alice);
  const whoopData = await aliceBrowser.submit('/account/whoop-data/delete', '/account/whoop-data/delete', {});
  t.equal(whoopData.statusCode, 303);
  t.match(
    parse((await aliceBrowser.get('/account')).body).querySelector('.flash')?.text,
    "Your WHOOP data is deleted. WHOOP could not be reached to revoke this app's access",
  );
  const aliceLeft = await rowsOfConnections(fixture, [alice.connectionId]);
  t.same(aliceLeft, zeroes(aliceLeft), 'the WHOOP data is deleted');

  const bobBrowser = await loginAs(fixture, bob);
  const response = await bobBrowser.submit('/account/delete', '/account/delete', {
    password: 'correct horse battery',
  });
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, '/account/deleted?whoop=not-revoked');
  const done = await bobBrowser.get(String(response.headers.location));
  t.match(done.body, 'WHOOP could not be reached');
  const left = await rowCounts(fixture, bob.userId);
  t.same(left, zeroes(left), 'everything is deleted');
});

t.test('after a Disconnect, the kept history can be deleted too', async (t) => {
  const fixture = await startSyncFixture(t);
  const alice = await linkMember(fixture, fixture.sim.createMember({ days: 1 }));
  await fixture.services.whoop.disconnect({ userId: alice.userId });
  const browser = await loginAs(fixture, alice);
  const confirm = await browser.get('/account/whoop-data/delete');
  t.match(confirm.body, 'This removes, for good, everything this app holds from WHOOP');
  await browser.submit('/account/whoop-data/delete', '/account/whoop-data/delete', {});
  t.equal(
    parse((await browser.get('/account')).body)
      .querySelector('.flash')
      ?.text.trim(),
    'Your WHOOP data is deleted.',
  );
  const left = await rowsOfConnections(fixture, [alice.connectionId]);
  t.same(left, zeroes(left), 'nothing of the old link is left');
});
