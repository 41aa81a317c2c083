import { parse } from 'node-html-parser';
import t, { type Test } from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { build } from '../helper.ts';
import { BrowserSession, csrfTokenFrom, signUp } from '../support/browser-session.ts';

const PASSWORD = 'correct horse battery';

async function signedIn(t: Test, env: Record<string, string> = {}) {
  const app = await build(t, { env });
  const browser = new BrowserSession(app.app);
  const response = await signUp(browser, { email: 'careful@example.com', password: PASSWORD });
  if (response.statusCode !== 303) throw new Error(`sign-up answered ${response.statusCode}`);
  return { ...app, browser };
}

async function accountExists(pool: Awaited<ReturnType<typeof build>>['pool']): Promise<boolean> {
  return pool.oneFirst(sql.type(z.object({ exists: z.boolean() }))`
    SELECT EXISTS (SELECT FROM app_user WHERE email = 'careful@example.com') AS exists
  `);
}

const heading = (html: string) => parse(html).querySelector('h1')?.text.trim();
const fieldError = (html: string) => parse(html).querySelector('#password-error')?.text.trim();

t.test('export and deletion need a signed-in person', async (t) => {
  const { app } = await build(t);
  const visitor = new BrowserSession(app);
  for (const url of ['/account/export', '/account/whoop-data/delete', '/account/delete']) {
    const page = await visitor.get(url);
    t.equal(page.statusCode, 303, `GET ${url} sends to the login`);
    t.equal(page.headers.location, `/login?next=${encodeURIComponent(url)}`);
  }
  const htmx = await visitor.get('/account/export', { 'hx-request': 'true' });
  t.equal(htmx.statusCode, 401, 'htmx is told to log in');
  for (const action of ['/account/whoop-data/delete', '/account/delete']) {
    const withoutToken = await visitor.post(action, { password: PASSWORD });
    t.equal(withoutToken.statusCode, 403, `POST ${action} without a CSRF token is refused`);
    const withToken = await visitor.submit('/login', action, { password: PASSWORD });
    t.equal(withToken.statusCode, 303, `POST ${action} with a visitor's token sends to the login`);
    t.match(withToken.headers.location, /^\/login/);
  }
});

t.test('a wrong CSRF token is refused with a clear page and deletes nothing', async (t) => {
  const { browser, pool } = await signedIn(t);
  for (const action of ['/account/whoop-data/delete', '/account/delete']) {
    const response = await browser.post(action, { _csrf: 'forged', password: PASSWORD });
    t.equal(response.statusCode, 403, action);
    t.equal(heading(response.body), 'Request refused');
    t.match(response.body, 'This form has expired or was not sent from this site.');
  }
  t.ok(await accountExists(pool), 'the account is still there');
  t.equal((await browser.get('/account')).statusCode, 200, 'still signed in');
});

t.test('a wrong password keeps the account, says so, and locks out after repeated tries', async (t) => {
  const { browser, pool } = await signedIn(t);
  const attempts: Array<[string, string]> = [
    ['', 'empty'],
    ['not my password', 'wrong'],
    ['x'.repeat(5000), 'overlong'],
  ];
  for (const [password, what] of attempts) {
    const response = await browser.submit('/account/delete', '/account/delete', { password });
    t.equal(response.statusCode, 422, `${what} password: 422`);
    t.equal(fieldError(response.body), 'That is not your password. Nothing was deleted.');
    t.ok(parse(response.body).querySelector('input#password[aria-invalid="true"]'), 'the field is marked');
  }
  t.ok(await accountExists(pool), 'the account is still there');

  // The login's lockout: five failures are free, then each further try waits.
  let response = await browser.submit('/account/delete', '/account/delete', { password: 'wrong again' });
  response = await browser.submit('/account/delete', '/account/delete', { password: 'and again' });
  t.equal(response.statusCode, 422, 'the fifth failure is still answered');
  response = await browser.submit('/account/delete', '/account/delete', { password: PASSWORD });
  t.equal(response.statusCode, 429, 'then even the right password waits');
  t.ok(Number(response.headers['retry-after']) > 0, 'with Retry-After');
  t.match(
    parse(response.body).querySelector('.form-error')?.text,
    /Too many wrong passwords for this account/,
  );
  t.ok(await accountExists(pool), 'the account is still there');
});

t.test('with the WHOOP feature off, the data pages still work', async (t) => {
  const { browser, pool } = await signedIn(t, { FEATURE_WHOOP_INTEGRATION: 'false' });
  const account = await browser.get('/account');
  t.ok(parse(account.body).querySelector('a[href="/account/export"]'), 'the Account page links the export');
  t.match(account.body, 'Download all your data');
  const confirm = await browser.get('/account/whoop-data/delete');
  t.match(confirm.body, 'There is no WHOOP data in your account.');
  const done = await browser.post('/account/whoop-data/delete', { _csrf: csrfTokenFrom(confirm.body) });
  t.equal(done.statusCode, 303);
  t.match((await browser.get('/account')).body, 'There was no WHOOP data to delete.');
  t.equal((await browser.get('/account/export')).statusCode, 200, 'the export downloads');
  const deleted = await browser.get('/account/deleted');
  t.equal(deleted.statusCode, 303, 'the "deleted" page sends a signed-in person back');
  t.equal(deleted.headers.location, '/account');
  const gone = await browser.submit('/account/delete', '/account/delete', { password: PASSWORD });
  t.equal(gone.headers.location, '/account/deleted');
  t.notOk(await accountExists(pool), 'the account is deleted');
});
