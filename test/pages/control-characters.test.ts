// Invisible control characters (NUL above all, which PostgreSQL refuses in text) in any form field are
// a 422 with that field marked and nothing stored, never a 500 (issue 10, defect 10).
import { parse } from 'node-html-parser';
import t from 'tap';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import { build } from '../helper.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import { postForm, signUpMember } from '../support/health-pages.ts';

const HOSTILE = ['\u0000', '\u0007', '\u001b[31m', '\u007f'];
const countRow = z.object({ count: z.number() });

async function count(
  pool: Awaited<ReturnType<typeof build>>['pool'],
  table: 'app_user' | 'sleep_entry' | 'workout_session',
) {
  const tables = {
    app_user: sql.fragment`app_user`,
    sleep_entry: sql.fragment`sleep_entry`,
    workout_session: sql.fragment`workout_session`,
  };
  return (await pool.one(sql.type(countRow)`SELECT count(*)::int AS count FROM ${tables[table]}`)).count;
}

function fieldError(html: string, field: string) {
  return parse(html).querySelector(`#${field}-error`)?.text.trim() ?? '';
}

t.test('sign-up, login and account settings', async (t) => {
  for (const bad of HOSTILE) {
    // One app per character: the per-address limit on sign-up and login attempts is not under test.
    const { app, pool } = await build(t);
    const member = await signUpMember(app, pool, { email: 'member@example.com' });
    const label = JSON.stringify(bad);
    for (const [field, form] of [
      ['email', { email: `a${bad}@example.com`, displayName: 'Ann' }],
      ['displayName', { email: 'ann@example.com', displayName: `Ann${bad}` }],
      ['password', { email: 'ann@example.com', displayName: 'Ann', password: `correct horse${bad}` }],
    ] as const) {
      const response = await signUp(new BrowserSession(app), form);
      t.equal(response.statusCode, 422, `sign-up with ${label} in ${field}: 422`);
      t.match(fieldError(response.body, field), /control character/i, `sign-up marks ${field}`);
    }
    const login = await new BrowserSession(app).submit('/login', '/login', {
      email: `member${bad}@example.com`,
      password: 'correct horse battery',
    });
    t.equal(login.statusCode, 422, `login with ${label} in the email: 422`);
    t.match(fieldError(login.body, 'email'), /control character/i, 'login marks the email');
    const settings = await member.browser.submit('/account', '/account', {
      displayName: `Member${bad}`,
      timeZone: 'UTC',
    });
    t.equal(settings.statusCode, 422, `settings with ${label} in the name: 422`);
    t.match(fieldError(settings.body, 'displayName'), /control character/i, 'settings mark the name');
    t.equal(await count(pool, 'app_user'), 1, 'no account was created');
    const name = await pool.one(sql.type(z.object({ display_name: z.string() }))`
      SELECT display_name FROM app_user WHERE id = ${member.id}
    `);
    t.equal(name.display_name, 'Test Person', 'the name did not change');
  }
});

t.test('manual sleep and workout logs', async (t) => {
  const { app, pool } = await build(t);
  const member = await signUpMember(app, pool, { email: 'logs@example.com' });
  const sleep = { date: '2024-07-01', bedTime: '23:00', wakeTime: '07:00', quality: '4', note: 'ok' };
  const workout = {
    date: '2024-07-01',
    startTime: '18:00',
    activity: 'Run',
    durationMinutes: '40',
    intensity: '3',
    note: 'ok',
  };
  for (const bad of HOSTILE) {
    const label = JSON.stringify(bad);
    for (const field of ['note', 'date', 'bedTime'] as const) {
      const response = await postForm(member, '/sleep', { ...sleep, [field]: `${sleep[field]}${bad}` });
      t.equal(response.statusCode, 422, `sleep with ${label} in ${field}: 422`);
      t.not(fieldError(response.body, field), '', `the sleep form marks ${field}`);
    }
    for (const field of ['activity', 'note', 'durationMinutes'] as const) {
      const response = await postForm(
        member,
        '/exercises',
        { ...workout, [field]: `${workout[field]}${bad}` },
        '/exercises/new',
      );
      t.equal(response.statusCode, 422, `workout with ${label} in ${field}: 422`);
      t.not(fieldError(response.body, field), '', `the workout form marks ${field}`);
    }
  }
  t.equal(await count(pool, 'sleep_entry'), 0, 'no sleep stored');
  t.equal(await count(pool, 'workout_session'), 0, 'no workout stored');
  // A note may span lines and hold tabs: those are typed, not hostile.
  const multiline = await postForm(member, '/sleep', { ...sleep, note: 'woke up\r\n\tthen slept' });
  t.equal(multiline.statusCode, 303, 'line breaks and tabs in a note are kept');
});
