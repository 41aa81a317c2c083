// Progress on a 360 px wide phone: the 30-day and the 1-year charts fit the screen (no sideways
// scrolling), their axis labels stay legible and never overlap, and the Body section shows.
import t from 'tap';
import { z } from 'zod';
import { sql } from '../src/services/db/sql.ts';
import { localDateOf } from '../src/services/local-time.ts';
import { seedWhoopMember } from '../test/support/wearable-fixtures.ts';
import { launchBrowser, screenshot, startApp } from './support/harness.ts';

const TIME_ZONE = 'Europe/Lisbon';
const PHONE = { width: 360, height: 740 };

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  height: number;
}
interface ChartGeometry {
  id: string;
  svg: Box;
  xLabels: Box[];
  yLabels: Box[];
}

// Runs in the page (a string: this project's TypeScript has no DOM types). Axis labels are the SVG
// texts still displayed; y ticks are the ones centred on their line.
const MEASURE_CHARTS = `[...document.querySelectorAll('#progress-charts figure.chart')].map((figure) => {
  const box = (element) => {
    const rect = element.getBoundingClientRect();
    return { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom, height: rect.height };
  };
  const texts = [...figure.querySelectorAll('.chart-grid text')].filter((text) => getComputedStyle(text).display !== 'none');
  const isTick = (text) => text.getAttribute('dominant-baseline') === 'middle';
  return {
    id: figure.id,
    svg: box(figure.querySelector('svg.chart-svg')),
    xLabels: texts.filter((text) => !isTick(text)).map(box),
    yLabels: texts.filter(isTick).map(box),
  };
})`;

const overlaps = (a: Box, b: Box) =>
  a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

t.test('Progress on a 360 px phone: 30 days and a year fit, with legible axis labels', async (t) => {
  const { baseUrl, pool } = await startApp(t);
  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: TIME_ZONE, viewport: PHONE, deviceScaleFactor: 2 });

  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel(/^Password/).fill('analytical engine');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${baseUrl}/`);
  const userId = await pool.oneFirst(sql.type(z.object({ id: z.number() }))`
    SELECT id FROM app_user WHERE email = 'ada@example.com'
  `);
  const seed = await seedWhoopMember(pool, {
    userId,
    timeZone: TIME_ZONE,
    lastDate: localDateOf(new Date(), TIME_ZONE),
  });
  await pool.query(sql.typeAlias('void')`
    INSERT INTO integration_body_measurement
      (connection_id, user_id, provider, external_id, height_meters, weight_kilograms, max_heart_rate, measured_at)
    VALUES (${seed.connectionId}, ${userId}, 'whoop', 'member-ada', 1.68, 61.2, 188, now())
  `);

  for (const range of [30, 365]) {
    await t.test(`${range} days`, async (t) => {
      await page.goto(`${baseUrl}/progress?range=${range}`);
      t.equal(await page.locator('#progress-charts svg[role="img"]').count(), 6, 'six charts');
      const scrollWidth = await page.evaluate('document.documentElement.scrollWidth');
      t.ok(Number(scrollWidth) <= PHONE.width, `no sideways scrolling (page ${scrollWidth} px wide)`);

      const charts = (await page.evaluate(MEASURE_CHARTS)) as ChartGeometry[];
      t.equal(charts.length, 6);
      for (const chart of charts) {
        t.ok(chart.svg.left >= 0 && chart.svg.right <= PHONE.width, `${chart.id}: inside the screen's width`);
        t.ok(chart.xLabels.length >= 2, `${chart.id}: at least the first and last date on the axis`);
        for (const label of [...chart.xLabels, ...chart.yLabels]) {
          t.ok(
            label.left >= chart.svg.left - 0.5 && label.right <= chart.svg.right + 0.5,
            `${chart.id}: an axis label inside the chart`,
          );
          t.ok(label.height >= 10, `${chart.id}: axis text at least 10 px tall (${label.height.toFixed(1)})`);
        }
        const pairs = (labels: Box[]) =>
          labels.flatMap((a, i) => labels.slice(i + 1).map((b) => [a, b] as const));
        t.notOk(
          [...pairs(chart.xLabels), ...pairs(chart.yLabels)].some(([a, b]) => overlaps(a, b)),
          `${chart.id}: no two axis labels overlap`,
        );
      }
      if (range === 365)
        t.match(await page.locator('#chart-recovery .chart-caption').textContent(), /weekly averages/);
      t.equal(
        await page.locator('#body-measurements .body-weight').textContent(),
        '61.2 kg',
        'the Body section',
      );
      const body = await page.locator('#body-measurements').boundingBox();
      t.ok(body && body.x >= 0 && body.x + body.width <= PHONE.width, 'the Body section fits the width');
      await screenshot(page, `progress-phone-${range}`);
    });
  }
});
