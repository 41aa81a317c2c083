// A member linked to WHOOP, in a real browser: Dashboard, Sleep, Progress (with htmx) and Exercises.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { addDays, localDateOf } from '../src/services/local-time.ts';
import { seedWhoopMember } from '../test/support/wearable-fixtures.ts';
import { captureState } from './support/axe.ts';
import { launchBrowser, startApp } from './support/harness.ts';

const TIME_ZONE = 'America/Chicago';

t.test('a WHOOP member goes through the health pages', async (t) => {
  const { baseUrl, pool } = await startApp(t);
  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: TIME_ZONE, viewport: { width: 1280, height: 900 } });

  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Name').fill('Grace Hopper');
  await page.getByLabel('Email').fill('grace@example.com');
  await page.getByLabel(/^Password/).fill('compiler compiler');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${baseUrl}/`);

  const userId = await pool.oneFirst(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM app_user WHERE email = 'grace@example.com'
  `);
  const today = localDateOf(new Date(), TIME_ZONE);
  await seedWhoopMember(pool, { userId, timeZone: TIME_ZONE, lastDate: today });

  // Dashboard: last night's WHOOP sleep with its recovery.
  await page.goto(`${baseUrl}/`);
  const sleepCard = page.locator('#today-sleep');
  t.equal(await sleepCard.locator('h2 .badge').textContent(), 'WHOOP', 'the sleep card has the WHOOP badge');
  const recovery = await pool.oneFirst(sql.type(z.object({ recovery_score: z.number() }))`
    SELECT recovery_score FROM integration_recovery WHERE user_id = ${userId} AND local_date = ${today}
  `);
  t.equal(
    await sleepCard.locator('.metric-recovery dd').textContent(),
    `${recovery}%`,
    'with the recovery score',
  );
  t.ok(await page.locator('#today-strain .metric-strain').isVisible(), "today's strain");
  await captureState(t, page, 'pages-dashboard');

  // Sleep: stages for each night.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sleep' }).click();
  await page.waitForURL(`${baseUrl}/sleep`);
  for (const stage of ['Light', 'Deep', 'REM', 'Awake']) {
    t.equal(
      await page.getByRole('columnheader', { name: stage, exact: true }).count(),
      2,
      `${stage} column for nights and naps`,
    );
  }
  const night = page.locator(`#wearable-nights tr[data-date="${today}"]`);
  const stored = await pool.one(sql.type(z.object({ deep_ms: z.number(), rem_ms: z.number() }))`
    SELECT deep_ms, rem_ms FROM integration_sleep WHERE user_id = ${userId} AND local_date = ${today} AND is_primary
  `);
  const asText = (ms: number) => {
    const minutes = Math.round(ms / 60_000);
    return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  };
  t.equal(await night.locator('.col-deep').textContent(), asText(stored.deep_ms), 'deep sleep of last night');
  t.equal(await night.locator('.col-rem').textContent(), asText(stored.rem_ms), 'REM sleep of last night');
  await captureState(t, page, 'pages-sleep');

  // Progress: SVG charts with one point per day with data; the range switch swaps the charts in place.
  const expectedPoints = async (days: number) =>
    pool.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM integration_sleep
      WHERE user_id = ${userId} AND is_primary AND score_state = 'SCORED' AND deleted_at IS NULL
        AND local_date BETWEEN ${addDays(today, -(days - 1))} AND ${today}
    `);
  await page.goto(`${baseUrl}/progress`);
  t.equal(await page.locator('#progress-charts svg[role="img"]').count(), 6, 'six charts');
  t.equal(
    await page.locator('#chart-sleep-duration svg .chart-mark').count(),
    await expectedPoints(30),
    'one bar per scored night in 30 days',
  );
  await captureState(t, page, 'pages-progress-30');
  // A full page load would lose this marker; an htmx swap keeps the page, and it.
  await page.evaluate('window.beforeSwitch = true');
  await page.getByRole('link', { name: 'Last 7 days' }).click();
  await page.waitForSelector('.range-switch a[aria-current="page"]:text("Last 7 days")');
  t.equal(
    await page.locator('#chart-sleep-duration svg .chart-mark').count(),
    await expectedPoints(7),
    'after the switch: one bar per scored night in 7 days',
  );
  t.equal(await page.evaluate('window.beforeSwitch'), true, 'only the charts were swapped, not the page');
  t.match(page.url(), /\/progress\?range=7$/, 'the address follows the range');
  await captureState(t, page, 'pages-progress-7');

  // Exercises: a day with a WHOOP workout, plus one logged by hand.
  const day = await pool.oneFirst(sql.type(z.object({ local_date: z.string() }))`
    SELECT local_date FROM integration_workout
    WHERE user_id = ${userId} AND deleted_at IS NULL AND score_state = 'SCORED' AND local_date < ${today}
    ORDER BY local_date DESC LIMIT 1
  `);
  await page.goto(`${baseUrl}/exercises?date=${day}`);
  await page.getByRole('link', { name: 'Log a workout' }).click();
  await page.getByLabel('Activity').fill('Stretching');
  await page.getByLabel('Start time').fill('12:15');
  await page.getByLabel(/^Duration/).fill('20');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(`${baseUrl}/exercises?date=${day}`);
  const sources = await page.locator('#day-workouts tbody tr .col-source .badge').allTextContents();
  t.ok(
    sources.includes('WHOOP') && sources.includes('Manual'),
    `both sources on ${day}: ${sources.join(', ')}`,
  );
  t.equal(
    await page.locator('#day-workouts tr[data-source="whoop"] a').count(),
    0,
    'no controls on WHOOP rows',
  );
  await captureState(t, page, 'pages-exercises');
});
