// Shared by the page tests: a signed-in member, and reading numbers back out of rendered HTML.
import type { FastifyInstance } from 'fastify';
import { type HTMLElement, parse } from 'node-html-parser';
import type { Test } from 'tap';
import { z } from 'zod';
import type { DatabasePool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';
import { localDateOf } from '../../src/services/local-time.ts';
import { BrowserSession, csrfTokenFrom, signUp } from './browser-session.ts';

export interface Member {
  browser: BrowserSession;
  id: number;
  timeZone: string;
  today: string;
}

export async function signUpMember(
  app: FastifyInstance,
  pool: DatabasePool,
  options: { email: string; timeZone?: string },
): Promise<Member> {
  const browser = new BrowserSession(app);
  const timeZone = options.timeZone ?? 'UTC';
  const response = await signUp(browser, { email: options.email, timeZone });
  if (response.statusCode !== 303) throw new Error(`sign-up failed: ${response.statusCode}`);
  const row = await pool.one(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM app_user WHERE email = ${options.email}
  `);
  return { browser, id: row.id, timeZone, today: localDateOf(new Date(), timeZone) };
}

export async function page(
  member: Member,
  url: string,
): Promise<{ status: number; html: HTMLElement; body: string }> {
  const response = await member.browser.get(url);
  return { status: response.statusCode, html: parse(response.body), body: response.body };
}

/** Posts a form with a CSRF token taken from `tokenPage` (any page of this member's with a form). */
export async function postForm(
  member: Member,
  action: string,
  form: Record<string, string>,
  tokenPage = '/sleep/new',
) {
  const token = csrfTokenFrom((await member.browser.get(tokenPage)).body);
  return member.browser.post(action, { _csrf: token, ...form });
}

/** "7 h 32 min" or "45 min" -> minutes. */
export function minutesIn(text: string | undefined): number {
  const match = /(?:(\d+) h )?(\d+) min/.exec(text ?? '');
  if (!match) throw new Error(`no duration in "${text}"`);
  return Number(match[1] ?? 0) * 60 + Number(match[2]);
}

/** The first number in "87.5%", "52 bpm", "5.23 km", "1,234 m". */
export function numberIn(text: string | undefined): number {
  const match = /-?\d[\d,]*(?:\.\d+)?/.exec(text ?? '');
  if (!match) throw new Error(`no number in "${text}"`);
  return Number(match[0].replaceAll(',', ''));
}

export const roundTo = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
export const minutesOfMs = (ms: number) => Math.round(ms / 60_000);

export function textOf(root: HTMLElement | null | undefined, selector: string): string | undefined {
  return root?.querySelector(selector)?.text.trim();
}

export const sleepRow = z.object({
  id: z.number(),
  local_date: z.string(),
  is_nap: z.boolean(),
  score_state: z.string(),
  utc_offset_minutes: z.number(),
  asleep_ms: z.number().nullable(),
  in_bed_ms: z.number().nullable(),
  light_ms: z.number().nullable(),
  deep_ms: z.number().nullable(),
  rem_ms: z.number().nullable(),
  awake_ms: z.number().nullable(),
  performance_pct: z.number().nullable(),
  efficiency_pct: z.number().nullable(),
  respiratory_rate: z.number().nullable(),
  recovery_state: z.string().nullable(),
  recovery_score: z.number().nullable(),
  hrv_rmssd_ms: z.number().nullable(),
  resting_heart_rate: z.number().nullable(),
});

/** The stored sleeps the Sleep page must show, read back independently of the page queries. */
export function storedSleeps(
  pool: DatabasePool,
  userId: number,
  from: string,
  to: string,
  which: 'primary' | 'nap',
) {
  return pool.any(sql.type(sleepRow)`
    SELECT s.id, s.local_date, s.is_nap, s.score_state, s.utc_offset_minutes, s.asleep_ms, s.in_bed_ms, s.light_ms,
           s.deep_ms, s.rem_ms, s.awake_ms, s.performance_pct, s.efficiency_pct, s.respiratory_rate,
           r.score_state AS recovery_state, r.recovery_score, r.hrv_rmssd_ms, r.resting_heart_rate
    FROM integration_sleep s
    LEFT JOIN integration_recovery r
      ON r.sleep_external_id = s.external_id AND r.user_id = s.user_id AND r.deleted_at IS NULL
    WHERE s.user_id = ${userId} AND s.deleted_at IS NULL AND s.local_date BETWEEN ${from} AND ${to}
      AND ${which === 'primary' ? sql.fragment`s.is_primary` : sql.fragment`s.is_nap`}
    ORDER BY s.local_date DESC, s.start_at DESC
  `);
}

/** A row of the Sleep page's nights table shows exactly the stored night (and its recovery). */
/** A cell shows the stored value (as the page rounds it) with its unit, or says it was not recorded. */
function assertCell(
  t: Test,
  row: HTMLElement,
  selector: string,
  stored: number | null,
  expected: { read: (text: string | undefined) => number; shown: (value: number) => number; unit?: RegExp },
  label: string,
) {
  const text = textOf(row, selector);
  if (stored === null) {
    t.match(text, /not recorded/, `${label}: not recorded`);
    return;
  }
  t.equal(expected.read(text), expected.shown(stored), label);
  if (expected.unit) t.match(text, expected.unit, `${label} has its unit`);
}

const duration = { read: minutesIn, shown: minutesOfMs };
const tenths = (unit: RegExp) => ({ read: numberIn, shown: (value: number) => roundTo(value, 1), unit });

/** A row of the Sleep page's nights table shows exactly the stored night (and its recovery). */
export function assertNightRow(
  t: Test,
  row: HTMLElement | null | undefined,
  night: z.infer<typeof sleepRow>,
) {
  t.ok(row, `a row for ${night.local_date}`);
  if (!row) return;
  const on = (what: string) => `${night.local_date} ${what}`;
  t.equal(row.getAttribute('data-id'), String(night.id), on('is the primary sleep of that date'));
  if (night.score_state === 'SCORED') {
    assertCell(t, row, '.col-asleep', night.asleep_ms, duration, on('time asleep'));
    assertCell(t, row, '.col-in-bed', night.in_bed_ms, duration, on('in bed'));
    assertCell(t, row, '.col-light', night.light_ms, duration, on('light'));
    assertCell(t, row, '.col-deep', night.deep_ms, duration, on('deep'));
    assertCell(t, row, '.col-rem', night.rem_ms, duration, on('REM'));
    assertCell(t, row, '.col-awake', night.awake_ms, duration, on('awake'));
    assertCell(t, row, '.col-performance', night.performance_pct, tenths(/%$/), on('performance'));
    assertCell(t, row, '.col-efficiency', night.efficiency_pct, tenths(/%$/), on('efficiency'));
    assertCell(
      t,
      row,
      '.col-respiratory',
      night.respiratory_rate,
      tenths(/breaths\/min$/),
      on('respiratory rate'),
    );
  } else {
    const expected = night.score_state === 'PENDING_SCORE' ? 'Score pending' : 'Could not be scored';
    t.equal(textOf(row, '.col-sleep-score'), expected, on('sleep score state'));
  }
  if (night.recovery_state === 'SCORED') {
    assertCell(t, row, '.col-recovery', night.recovery_score, tenths(/%$/), on('recovery'));
    assertCell(t, row, '.col-hrv', night.hrv_rmssd_ms, tenths(/ ms$/), on('HRV'));
    assertCell(t, row, '.col-rhr', night.resting_heart_rate, tenths(/ bpm$/), on('resting heart rate'));
  } else if (night.recovery_state) {
    const expected = night.recovery_state === 'PENDING_SCORE' ? 'Score pending' : 'Could not be scored';
    t.equal(textOf(row, '.col-recovery'), expected, on('recovery score state'));
  } else {
    t.match(textOf(row, '.col-recovery'), /not recorded/, on('no recovery'));
  }
}
