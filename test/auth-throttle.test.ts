// Password guessing is throttled across every web process (issue 10, defect 4): per client address
// (which a client cannot forge with X-Forwarded-For), per account with a growing block, and passwords
// are hashed at OWASP's scrypt minimum, old hashes upgraded at the next login.
import { randomBytes, scryptSync } from 'node:crypto';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { createPasswordHasher, OWASP_SCRYPT_COST } from '../src/services/passwords.ts';
import { build } from './helper.ts';
import { BrowserSession, csrfTokenFrom, signUp } from './support/browser-session.ts';

type App = Awaited<ReturnType<typeof build>>['app'];

/** One login attempt from a client, as a browser would make it (form page first for the CSRF token). */
async function logIn(app: App, email: string, password: string, headers: Record<string, string> = {}) {
  const browser = new BrowserSession(app);
  const token = csrfTokenFrom((await browser.get('/login', headers)).body);
  return browser.post('/login', { _csrf: token, email, password }, headers);
}

t.test('the per-address limit is shared by every web process', async (t) => {
  const first = await build(t);
  const second = await build(t, { databaseUrl: first.databaseUrl });
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 11; attempt++) {
    const app = attempt % 2 === 0 ? first.app : second.app;
    statuses.push((await logIn(app, `guess-${attempt}@example.com`, 'wrong password')).statusCode);
  }
  t.same(statuses.slice(0, 10), Array(10).fill(401), 'ten attempts a minute, over both processes');
  t.equal(statuses[10], 429, 'the eleventh is refused, whichever process it reaches');
  const signUps: number[] = [];
  for (let attempt = 0; attempt < 11; attempt++) {
    const app = attempt % 2 === 0 ? second.app : first.app;
    signUps.push((await signUp(new BrowserSession(app), { email: `new-${attempt}@example.com` })).statusCode);
  }
  t.same(signUps.slice(0, 10), Array(10).fill(303), 'sign-up has ten a minute of its own');
  t.equal(signUps[10], 429, 'and the eleventh is refused too');
  const refused = await signUp(new BrowserSession(first.app), { email: 'late@example.com' });
  t.match(refused.body, /Too many attempts from your network/, 'saying why');
});

t.test('X-Forwarded-For does not dodge the limit', async (t) => {
  const direct = await build(t);
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 11; attempt++) {
    const forged = { 'x-forwarded-for': `198.51.100.${attempt}` };
    statuses.push(
      (await logIn(direct.app, `forged-${attempt}@example.com`, 'wrong password', forged)).statusCode,
    );
  }
  t.equal(statuses[10], 429, 'without a trusted proxy the header is ignored');

  const proxied = await build(t, { env: { TRUST_PROXY: '1' } });
  const behindProxy: number[] = [];
  for (let attempt = 0; attempt < 11; attempt++) {
    // The client forges the first entry; the proxy appends the address it saw.
    const headers = { 'x-forwarded-for': `198.51.100.${attempt}, 203.0.113.7` };
    behindProxy.push(
      (await logIn(proxied.app, `hop-${attempt}@example.com`, 'wrong password', headers)).statusCode,
    );
  }
  t.equal(behindProxy[10], 429, 'behind one proxy, the address it saw is the one counted');
  const other = await logIn(proxied.app, 'other@example.com', 'wrong password', {
    'x-forwarded-for': '203.0.113.8',
  });
  t.equal(other.statusCode, 401, 'another client behind the same proxy is not blocked');
});

t.test('repeated failures block the account with a growing delay, from any address', async (t) => {
  const { app, pool } = await build(t, { env: { TRUST_PROXY: '1' } });
  await signUp(new BrowserSession(app), { email: 'target@example.com' });
  const from = (n: number) => ({ 'x-forwarded-for': `203.0.113.${n}` });
  for (let attempt = 1; attempt <= 5; attempt++) {
    const failed = await logIn(app, 'target@example.com', `guess number ${attempt}`, from(attempt));
    t.equal(failed.statusCode, 401, `failure ${attempt}`);
  }
  const blocked = await logIn(app, 'target@example.com', 'correct horse battery', from(99));
  t.equal(blocked.statusCode, 429, 'even the right password waits while the account is blocked');
  t.match(blocked.body, /Too many failed attempts for this account/);
  const retryAfter = Number(blocked.headers['retry-after']);
  t.ok(retryAfter > 0 && retryAfter <= 30, `Retry-After ${retryAfter} s`);
  for (let attempt = 1; attempt <= 5; attempt++)
    await logIn(app, 'nobody@example.com', 'x'.repeat(12), from(attempt));
  t.equal(
    (await logIn(app, 'nobody@example.com', 'x'.repeat(12), from(98))).statusCode,
    429,
    'an unknown email is treated the same (nothing tells which accounts exist)',
  );

  // The block passes: the right password works and the streak starts over.
  await pool.query(
    sql.typeAlias('void')`UPDATE auth_throttle SET blocked_until = now() - interval '1 second'`,
  );
  const again = await logIn(app, 'target@example.com', 'guess after the block', from(50));
  t.equal(again.statusCode, 401, 'one more guess once the block has passed');
  const next = await logIn(app, 'target@example.com', 'correct horse battery', from(49));
  t.equal(next.statusCode, 429, 'and that failure blocks again, for longer');
  const longer = Number(next.headers['retry-after']);
  t.ok(longer > 30 && longer <= 60, `the next block is longer (${longer} s)`);
  await pool.query(
    sql.typeAlias('void')`UPDATE auth_throttle SET blocked_until = now() - interval '1 second'`,
  );
  t.equal((await logIn(app, 'target@example.com', 'correct horse battery', from(51))).statusCode, 303);
  t.equal(
    (await logIn(app, 'target@example.com', 'one wrong guess', from(52))).statusCode,
    401,
    'a successful login resets the streak',
  );
});

t.test('passwords use scrypt at OWASP strength; weaker hashes are upgraded at login', async (t) => {
  // The production default, not the test suites' cheap one.
  const { app, pool } = await build(t, { passwordCost: OWASP_SCRYPT_COST });
  await signUp(new BrowserSession(app), { email: 'new@example.com' });
  const hashOf = async (email: string) =>
    (
      await pool.one(sql.type(z.object({ password_hash: z.string() }))`
        SELECT password_hash FROM app_user WHERE email = ${email}
      `)
    ).password_hash;
  t.match(await hashOf('new@example.com'), /^scrypt\$32768\$8\$3\$/, 'N = 2^15, r = 8, p = 3');
  t.match(await createPasswordHasher().hash('x'), /^scrypt\$32768\$8\$3\$/, 'the default is OWASP strength');

  const salt = randomBytes(16);
  const weak = scryptSync('correct horse battery', salt, 32, { N: 2 ** 14, r: 8, p: 1 });
  const legacy = ['scrypt', 2 ** 14, 8, 1, salt.toString('base64'), weak.toString('base64')].join('$');
  await pool.query(sql.typeAlias('void')`
    INSERT INTO app_user (email, password_hash, display_name) VALUES ('old@example.com', ${legacy}, 'Old')
  `);
  t.equal((await logIn(app, 'old@example.com', 'correct horse battery')).statusCode, 303);
  t.match(await hashOf('old@example.com'), /^scrypt\$32768\$8\$3\$/, 'rehashed at the current strength');
  t.equal((await logIn(app, 'old@example.com', 'correct horse battery')).statusCode, 303, 'and still works');

  // Hashes of the earlier default (N = 2^17, p = 1: as much work, four times the memory) still open and stay.
  const earlierSalt = randomBytes(16);
  const earlier = scryptSync('correct horse battery', earlierSalt, 32, {
    N: 2 ** 17,
    r: 8,
    p: 1,
    maxmem: 256 * 1024 * 1024,
  });
  const earlierHash = [
    'scrypt',
    2 ** 17,
    8,
    1,
    earlierSalt.toString('base64'),
    earlier.toString('base64'),
  ].join('$');
  await pool.query(sql.typeAlias('void')`
    INSERT INTO app_user (email, password_hash, display_name) VALUES ('earlier@example.com', ${earlierHash}, 'Earlier')
  `);
  t.equal((await logIn(app, 'earlier@example.com', 'correct horse battery')).statusCode, 303);
  t.equal(await hashOf('earlier@example.com'), earlierHash, 'kept: it is not weaker');
});
