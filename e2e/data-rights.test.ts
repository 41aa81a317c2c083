// QA checklist "Export" and "Delete": from the Account page a person downloads all their data as a
// ZIP, deletes their WHOOP data (the account stays), then deletes the account.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { unzip } from '../test/data-rights/support.ts';
import {
  type LinkedMember,
  linkMember,
  PASSWORD,
  runSync,
  type SyncFixture,
  startSyncFixture,
} from '../test/sync/support/fixture.ts';
import { captureState } from './support/axe.ts';
import { freePort, launchBrowser, logInInBrowser } from './support/harness.ts';

interface Setup {
  fixture: SyncFixture;
  linked: LinkedMember;
  page: Page;
  baseUrl: string;
}

const countRow = z.object({ n: z.number() });
const manifest = z.object({ files: z.array(z.object({ path: z.string(), rows: z.number() })) });

/** A person with a synced WHOOP link, logged in in Chromium. */
async function syncedPerson(t: Test): Promise<Setup> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const fixture = await startSyncFixture(t, { env: { PUBLIC_BASE_URL: baseUrl } });
  const member = fixture.sim.createMember({ firstName: 'Annie', lastName: 'Easley', days: 5 });
  const linked = await linkMember(fixture, member);
  t.equal(await runSync(fixture, linked.initialRunId), 'succeeded', 'the first sync ran');
  await fixture.app.listen({ host: '127.0.0.1', port });
  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: 'UTC', acceptDownloads: true });
  await logInInBrowser(page, baseUrl, { email: linked.email, password: PASSWORD });
  return { fixture, linked, page, baseUrl };
}

t.test('Download all your data: a ZIP with every table, counts matching the database', async (t) => {
  const { fixture, linked, page, baseUrl } = await syncedPerson(t);
  await page.goto(`${baseUrl}/account`);
  await captureState(t, page, 'account');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download all your data' }).click(),
  ]);
  t.match(download.suggestedFilename(), /^health-tracker-data-\d{4}-\d{2}-\d{2}\.zip$/);
  const files = await unzip(readFileSync(await download.path()));
  t.ok(files.has('README.txt'), 'a README');
  const listed = manifest.parse(JSON.parse(files.get('manifest.json') ?? '{}')).files;
  const sleeps = listed.find((file) => file.path.endsWith('/integration_sleep.csv'));
  const stored = await fixture.pool.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM integration_sleep WHERE user_id = ${linked.userId}
  `);
  t.ok(stored > 0, 'there are sleeps to export');
  t.equal(sleeps?.rows, stored, 'the manifest counts every stored sleep');
  t.ok(sleeps && files.has(sleeps.path), 'and the CSV is in the archive');
  t.notOk(
    [...files.values()].some((text) => /refresh_token|password_hash/.test(text)),
    'no tokens, no password hash',
  );
});

t.test('Delete your WHOOP data keeps the account; Delete your account ends it', async (t) => {
  const { fixture, linked, page, baseUrl } = await syncedPerson(t);
  const count = (table: 'integration_connection' | 'integration_sleep' | 'app_user') =>
    fixture.pool.oneFirst(sql.type(countRow)`
      SELECT count(*)::int AS n FROM ${sql.identifier([table])}
      WHERE ${sql.identifier([table === 'app_user' ? 'id' : 'user_id'])} = ${linked.userId}
    `);

  await page.goto(`${baseUrl}/account`);
  await page.getByRole('link', { name: 'Delete your WHOOP data' }).click();
  await page.waitForURL(`${baseUrl}/account/whoop-data/delete`);
  t.equal(await page.locator('h1').textContent(), 'Delete your WHOOP data');
  await captureState(t, page, 'delete-whoop-data-confirm');
  await page.getByRole('button', { name: 'Delete my WHOOP data' }).click();
  await page.waitForURL(`${baseUrl}/account`);
  t.match(
    await page.locator('.flash').textContent(),
    "Your WHOOP data is deleted and this app's access to your WHOOP account is revoked.",
  );
  await captureState(t, page, 'delete-whoop-data-done');
  t.equal(await count('integration_connection'), 0, 'no WHOOP link left');
  t.equal(await count('integration_sleep'), 0, 'no WHOOP sleep left');
  t.equal(await count('app_user'), 1, 'the account stays');
  t.equal(
    fixture.sim.grants().filter((grant) => grant.userId === linked.member.userId && !grant.revoked).length,
    0,
    'revoked at WHOOP',
  );
  await page.goto(`${baseUrl}/integrations`);
  t.equal(await page.locator('#whoop-card').getAttribute('data-status'), 'disconnected');

  await page.goto(`${baseUrl}/account`);
  await page.getByRole('link', { name: 'Delete your account' }).click();
  await page.waitForURL(`${baseUrl}/account/delete`);
  await captureState(t, page, 'delete-account-confirm');
  await page.getByLabel('Your password, to confirm').fill('not my password');
  await page.getByRole('button', { name: 'Delete my account' }).click();
  t.equal(
    await page.locator('#password-error').textContent(),
    'That is not your password. Nothing was deleted.',
  );
  t.equal(await count('app_user'), 1, 'a wrong password deletes nothing');
  await captureState(t, page, 'delete-account-wrong-password');
  await page.getByLabel('Your password, to confirm').fill(PASSWORD);
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.waitForURL(`${baseUrl}/account/deleted`);
  t.equal(await page.locator('h1').textContent(), 'Your account is deleted');
  await captureState(t, page, 'account-deleted');
  t.equal(await count('app_user'), 0, 'the account row is gone');
  await page.goto(`${baseUrl}/`);
  t.match(page.url(), /\/login/, 'signed out');
});
