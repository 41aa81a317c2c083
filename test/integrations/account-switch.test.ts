// Linking a different WHOOP account than the one the history comes from: a confirmation page names both;
// confirming deletes every WHOOP row of the old account and links the new one; cancelling changes nothing.
import { parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import type { MemberSummary } from '../../src/whoop-sim/index.ts';
import { BrowserSession, csrfTokenFrom, signUp } from '../support/browser-session.ts';
import type { Teardown } from '../support/whoop-sim.ts';
import { runSync, type SyncFixture, startSyncFixture, waitForRunEnd } from '../sync/support/fixture.ts';
import { disconnect, integrationsCard, linkWhoop, userIdOf } from './support.ts';

const SWITCH = '/integrations/whoop/switch';
const tableRow = z.object({ table_name: z.string() });
const countRow = z.object({ n: z.number() });
const jsonRow = z.object({ row: z.string() });

/** Every table of the app's schema with a connection_id or user_id column. */
async function tablesReferencing(fixture: SyncFixture, column: 'connection_id' | 'user_id') {
  const tables = await fixture.pool.anyFirst(sql.type(tableRow)`
    SELECT table_name::text FROM information_schema.columns
    WHERE table_schema = 'public' AND column_name = ${column} ORDER BY table_name
  `);
  return [...tables];
}

/** Rows anywhere in those tables that reference the old connection or carry the old member's data. */
async function leftoversOf(fixture: SyncFixture, old: { connectionId: number; member: MemberSummary }) {
  const truth = fixture.sim.groundTruth(old.member.userId);
  const markers = [
    `"user_id": ${old.member.userId}`,
    `"provider_account_id": "${old.member.userId}"`,
    ...truth.sleeps.map((sleep) => sleep.id),
    ...truth.workouts.map((workout) => workout.id),
  ];
  const found: string[] = [];
  for (const table of await tablesReferencing(fixture, 'connection_id')) {
    const n = await fixture.pool.oneFirst(sql.type(countRow)`
      SELECT count(*)::int AS n FROM ${sql.identifier([table])} WHERE connection_id = ${old.connectionId}
    `);
    if (n > 0) found.push(`${table}: ${n} rows of the old connection`);
  }
  const tables = new Set([
    ...(await tablesReferencing(fixture, 'connection_id')),
    ...(await tablesReferencing(fixture, 'user_id')),
  ]);
  for (const table of tables) {
    const n = await fixture.pool.oneFirst(sql.type(countRow)`
      SELECT count(*)::int AS n FROM ${sql.identifier([table])} AS r
      WHERE EXISTS (SELECT FROM unnest(${sql.array(markers, 'text')}) AS m WHERE strpos(to_jsonb(r)::text, m) > 0)
    `);
    if (n > 0) found.push(`${table}: ${n} rows naming the old member or its records`);
  }
  return found;
}

/** The rows of every table that references a connection or a user (sessions aside), as text. */
async function snapshot(fixture: SyncFixture) {
  const tables = new Set([
    ...(await tablesReferencing(fixture, 'connection_id')),
    ...(await tablesReferencing(fixture, 'user_id')),
  ]);
  // Sessions carry the flash message; OAuth states record each Connect press; neither is WHOOP data.
  for (const skipped of ['session', 'oauth_state', 'auth_throttle']) tables.delete(skipped);
  const rows: Record<string, string[]> = {};
  for (const table of [...tables].sort()) {
    const found = await fixture.pool.anyFirst(sql.type(jsonRow)`
      SELECT to_jsonb(r)::text AS row FROM ${sql.identifier([table])} AS r ORDER BY 1
    `);
    rows[table] = [...found];
  }
  return rows;
}

async function linkAndSync(fixture: SyncFixture, browser: BrowserSession, member: MemberSummary) {
  const { callback } = await linkWhoop(browser, { whoopUserId: member.userId });
  if (callback.headers.location !== '/integrations')
    throw new Error(`callback -> ${callback.headers.location}`);
  return syncLatest(fixture);
}

async function syncLatest(fixture: SyncFixture) {
  const run = await fixture.pool.one(sql.type(z.object({ id: z.number(), connection_id: z.number() }))`
    SELECT id, connection_id FROM integration_sync_run ORDER BY id DESC LIMIT 1
  `);
  await runSync(fixture, run.id);
  const ended = await waitForRunEnd(fixture, run.id);
  if (ended.status !== 'succeeded') throw new Error(`sync ${ended.status}`);
  return run.connection_id;
}

async function switchPage(browser: BrowserSession) {
  const response = await browser.get(SWITCH);
  return { response, html: parse(response.body) };
}

async function setUpSwitch(t: Teardown) {
  const fixture = await startSyncFixture(t);
  const older = fixture.sim.createMember({ firstName: 'Olive', lastName: 'Older', days: 6 });
  const newer = fixture.sim.createMember({ firstName: 'Nina', lastName: 'Newer', days: 4 });
  const browser = new BrowserSession(fixture.app);
  await signUp(browser, { email: 'switcher@example.com' });
  const userId = await userIdOf(fixture, 'switcher@example.com');
  const oldConnectionId = await linkAndSync(fixture, browser, older);
  return { fixture, older, newer, browser, userId, oldConnectionId };
}

const userSleeps = (fixture: SyncFixture, userId: number) =>
  fixture.pool.any(sql.type(z.object({ connection_id: z.number(), external_id: z.string() }))`
    SELECT connection_id, external_id FROM integration_sleep WHERE user_id = ${userId} ORDER BY external_id
  `);

t.test('another account after a disconnect: confirm replaces the old WHOOP data with the new', async (t) => {
  const { fixture, older, newer, browser, userId, oldConnectionId } = await setUpSwitch(t);
  t.ok((await userSleeps(fixture, userId)).length > 0, 'the old account synced its history');
  await disconnect(browser);

  const { callback } = await linkWhoop(browser, { whoopUserId: newer.userId });
  t.equal(callback.statusCode, 303);
  t.equal(callback.headers.location, SWITCH, 'the callback asks before replacing anything');
  t.notMatch(callback.headers['set-cookie'] ?? '', /access|token/i);

  const { response, html } = await switchPage(browser);
  t.equal(response.statusCode, 200);
  t.equal(html.querySelector('.previous-account')?.text, 'Olive Older', 'names the old account');
  t.equal(html.querySelector('.previous-account-id')?.text, String(older.userId));
  t.equal(html.querySelector('.next-account')?.text, 'Nina Newer', 'names the new account');
  t.equal(html.querySelector('.next-account-id')?.text, String(newer.userId));
  const confirm = html.querySelector(`form[action="${SWITCH}"]`);
  t.equal(confirm?.querySelector('button')?.text, "Delete the old account's WHOOP data and link this one");
  t.ok(confirm?.querySelector('input[name="_csrf"]'), 'the confirm form carries a CSRF token');
  t.ok(html.querySelector(`form[action="${SWITCH}/cancel"] button`), 'and Cancel is a form too');
  for (const grant of fixture.sim.grants().filter((g) => g.userId === newer.userId)) {
    t.notMatch(response.body, grant.id, 'no grant of the new account on the page');
  }
  const held = await fixture.pool.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM integration_pending_switch WHERE user_id = ${userId}
  `);
  t.equal(held, 1, 'the new grant is held sealed in the database');
  t.equal((await userSleeps(fixture, userId))[0]?.connection_id, oldConnectionId, 'nothing replaced yet');

  // Without the CSRF token: refused, nothing changes.
  const forged = await browser.post(SWITCH, { replaces: String(older.userId) });
  t.equal(forged.statusCode, 403);

  const confirmed = await browser.post(SWITCH, {
    _csrf: csrfTokenFrom(confirm?.toString() ?? ''),
    replaces: confirm?.querySelector('input[name="replaces"]')?.getAttribute('value') ?? '',
  });
  t.equal(confirmed.statusCode, 303);
  t.equal(confirmed.headers.location, '/integrations');
  const card = await integrationsCard(browser);
  t.match(card.flash, /WHOOP is linked to Nina Newer\. The earlier account's WHOOP data was deleted/);
  t.equal(card.memberName, 'Nina Newer');

  const newConnectionId = await syncLatest(fixture);
  t.not(newConnectionId, oldConnectionId, 'a fresh connection');
  const sleeps = await userSleeps(fixture, userId);
  const newerSleeps = fixture.sim
    .groundTruth(newer.userId)
    .sleeps.map((sleep) => sleep.id)
    .sort();
  t.same(
    sleeps.map((sleep) => sleep.external_id),
    newerSleeps,
    "the new account's sleeps, and only those",
  );
  t.ok(sleeps.every((sleep) => sleep.connection_id === newConnectionId));
  t.same(
    await leftoversOf(fixture, { connectionId: oldConnectionId, member: older }),
    [],
    'nothing of the old account remains in any table',
  );
  const pending = await fixture.pool.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM integration_pending_switch
  `);
  t.equal(pending, 0, 'the held grant is gone');

  // One-time: the same confirmation again changes nothing and says why.
  const again = await browser.post(SWITCH, {
    _csrf: csrfTokenFrom(confirm?.toString() ?? ''),
    replaces: String(older.userId),
  });
  t.equal(again.headers.location, '/integrations');
  t.match((await integrationsCard(browser)).flash, /expired or was already answered\. Nothing was changed/);
  t.equal((await userSleeps(fixture, userId)).length, newerSleeps.length);
});

t.test('cancel destroys the held grant and leaves everything as it was', async (t) => {
  const { fixture, newer, browser, userId, oldConnectionId } = await setUpSwitch(t);
  await disconnect(browser);
  const before = await snapshot(fixture);

  const { callback } = await linkWhoop(browser, { whoopUserId: newer.userId });
  t.equal(callback.headers.location, SWITCH);
  const { html } = await switchPage(browser);
  const cancel = html.querySelector(`form[action="${SWITCH}/cancel"]`);
  t.equal(cancel?.querySelector('button')?.text, 'Cancel');
  const cancelled = await browser.post(`${SWITCH}/cancel`, {
    _csrf: csrfTokenFrom(cancel?.toString() ?? ''),
  });
  t.equal(cancelled.headers.location, '/integrations');
  const card = await integrationsCard(browser);
  t.match(card.flash, /Nothing was changed/);
  t.equal(card.status, 'disconnected', 'still disconnected, the old history kept');

  t.same(await snapshot(fixture), before, 'every row as it was (the held grant destroyed)');
  t.ok((await userSleeps(fixture, userId)).every((sleep) => sleep.connection_id === oldConnectionId));
  t.ok(
    fixture.sim.grants().some((grant) => grant.userId === newer.userId && !grant.revoked),
    "the new account's grant is not revoked at WHOOP (that would end all its tokens for this app)",
  );
  const gone = await browser.get(SWITCH);
  t.equal(gone.statusCode, 303, 'the question is gone: back to Integrations, never a dead end');
  t.equal(gone.headers.location, '/integrations');
});

t.test('switching from a live link revokes the old grant at WHOOP after deleting its data', async (t) => {
  const { fixture, older, newer, browser, userId, oldConnectionId } = await setUpSwitch(t);
  // A reconnect prompt (reauth_required) offers Connect while the old grant is still stored.
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_connection SET status = 'reauth_required' WHERE id = ${oldConnectionId}
  `);
  const { callback } = await linkWhoop(browser, { whoopUserId: newer.userId });
  t.equal(callback.headers.location, SWITCH);
  const { html } = await switchPage(browser);
  const confirm = html.querySelector(`form[action="${SWITCH}"]`);
  await browser.post(SWITCH, {
    _csrf: csrfTokenFrom(confirm?.toString() ?? ''),
    replaces: String(older.userId),
  });
  t.ok(
    fixture.sim
      .grants()
      .filter((grant) => grant.userId === older.userId)
      .every((grant) => grant.revoked),
    "the old account's grant is revoked at WHOOP",
  );
  await syncLatest(fixture);
  t.same(await leftoversOf(fixture, { connectionId: oldConnectionId, member: older }), []);
  t.ok((await userSleeps(fixture, userId)).length > 0);
});

t.test('a stale page: the link changed meanwhile, so nothing is deleted', async (t) => {
  const { fixture, older, newer, browser, userId, oldConnectionId } = await setUpSwitch(t);
  await disconnect(browser);
  await linkWhoop(browser, { whoopUserId: newer.userId });
  const { html } = await switchPage(browser);
  const confirm = html.querySelector(`form[action="${SWITCH}"]`);
  const response = await browser.post(SWITCH, {
    _csrf: csrfTokenFrom(confirm?.toString() ?? ''),
    replaces: String(older.userId + 1000),
  });
  t.equal(response.headers.location, '/integrations');
  t.match(
    (await integrationsCard(browser)).flash,
    /changed while this question was open\. Nothing was changed/,
  );
  t.ok((await userSleeps(fixture, userId)).every((sleep) => sleep.connection_id === oldConnectionId));
  const pending = await fixture.pool.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM integration_pending_switch
  `);
  t.equal(pending, 0, 'the held grant is destroyed: a refused switch does not stay open');
});
