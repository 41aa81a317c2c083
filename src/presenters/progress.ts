import type { BodyMeasurement, ProgressData } from '../services/health-pages/index.ts';
import { addDays, type LocalDate, localDateOf } from '../services/local-time.ts';
import { buildChart, type ChartPoint, type ChartSpec, type ChartView } from './chart.ts';
import { duration, type Formatter, LOCALE, units } from './format.ts';

const HOUR_MS = 3_600_000;
/** Ranges longer than this chart one point per week: a year of daily marks is 365 slivers per chart. */
export const WEEKLY_AFTER_DAYS = 90;
export const WEEKLY_CAPTION = 'weekly averages, Monday to Sunday';

/** The Monday of `date`'s week (ISO weeks start on Monday). */
function mondayOf(date: LocalDate): LocalDate {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(date, -((weekday + 6) % 7));
}

/**
 * One point per ISO week with data: the mean of that week's daily values, covering the week's days
 * inside [from, to] (the first and last weeks of a range can be partial).
 */
export function weeklyMeans(points: readonly ChartPoint[], from: LocalDate, to: LocalDate): ChartPoint[] {
  const weeks = new Map<LocalDate, { sum: number; count: number }>();
  for (const point of points) {
    const monday = mondayOf(point.date);
    const week = weeks.get(monday) ?? { sum: 0, count: 0 };
    week.sum += point.value;
    week.count += 1;
    weeks.set(monday, week);
  }
  return [...weeks]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([monday, week]) => {
      const sunday = addDays(monday, 6);
      return {
        date: monday < from ? from : monday,
        through: sunday > to ? to : sunday,
        value: week.sum / week.count,
        count: week.count,
      };
    });
}

function pointsOf<T extends { local_date: string }>(
  rows: readonly T[],
  value: (row: T) => number | null,
): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (const row of rows) {
    const measured = value(row);
    if (measured !== null) points.push({ date: row.local_date, value: measured });
  }
  return points;
}

const hoursText = (hours: number) => duration(hours * HOUR_MS);

/**
 * The Progress charts: WHOOP series when linked, the manual sleep log otherwise. After a Disconnect,
 * the earlier link's WHOOP series up to its last date, and the sleep log's durations after it.
 */
export function progressCharts(data: ProgressData, fmt: Formatter): ChartView[] {
  const specs: ChartSpec[] = data.linked
    ? wearableSpecs(data)
    : data.earlierThrough
      ? [
          ...wearableSpecs(data, 'No WHOOP data from the earlier link in this period.'),
          ...manualSpecs(data, 'chart-logged-sleep-duration'),
        ]
      : manualSpecs(data);
  const weekly = data.range > WEEKLY_AFTER_DAYS;
  return specs.map((spec) =>
    buildChart(
      weekly
        ? {
            ...spec,
            points: weeklyMeans(spec.points, data.from, data.to),
            noun: 'week',
            caption: WEEKLY_CAPTION,
          }
        : spec,
      data.from,
      data.to,
      fmt,
    ),
  );
}

function wearableSpecs(
  data: ProgressData,
  pending = 'Nothing scored in this period yet: data appears after WHOOP scores it and the next sync.',
): ChartSpec[] {
  const { nights, strain } = data;
  const provider = nights[0]?.provider ?? 'whoop';
  const scored = <T extends { score_state: string }>(rows: readonly T[]) =>
    rows.filter((row) => row.score_state === 'SCORED');
  const scoredNights = scored(nights);
  const recovered = nights.filter((night) => night.recovery_state === 'SCORED');
  return [
    {
      id: 'chart-sleep-duration',
      title: 'Time asleep',
      noun: 'night',
      kind: 'bar',
      points: pointsOf(scoredNights, (night) =>
        night.asleep_ms === null ? null : night.asleep_ms / HOUR_MS,
      ),
      format: hoursText,
      tickFormat: units.hours,
      provider,
      empty: pending,
    },
    {
      id: 'chart-sleep-performance',
      title: 'Sleep performance',
      noun: 'night',
      kind: 'line',
      points: pointsOf(scoredNights, (night) => night.performance_pct),
      format: units.percent,
      provider,
      min: 0,
      max: 100,
      empty: pending,
    },
    {
      id: 'chart-recovery',
      title: 'Recovery',
      noun: 'day',
      kind: 'bar',
      points: pointsOf(recovered, (night) => night.recovery_score),
      format: units.percent,
      provider,
      max: 100,
      empty: pending,
    },
    {
      id: 'chart-hrv',
      title: 'Heart rate variability (HRV)',
      noun: 'day',
      kind: 'line',
      points: pointsOf(recovered, (night) => night.hrv_rmssd_ms),
      format: units.millis,
      provider,
      min: 0,
      empty: pending,
    },
    {
      id: 'chart-resting-heart-rate',
      title: 'Resting heart rate',
      noun: 'day',
      kind: 'line',
      points: pointsOf(recovered, (night) => night.resting_heart_rate),
      format: units.bpm,
      provider,
      min: 0,
      empty: pending,
    },
    {
      id: 'chart-strain',
      title: 'Day strain',
      noun: 'day',
      kind: 'bar',
      points: pointsOf(scored(strain), (day) => day.strain),
      format: units.strain,
      provider,
      max: 21,
      empty: pending,
    },
  ];
}

function manualSpecs(data: ProgressData, id = 'chart-sleep-duration'): ChartSpec[] {
  // Several entries on one date (a night in two parts) add up to that night.
  const hoursByDate = new Map<string, number>();
  for (const entry of data.manualSleep) {
    const hours = (entry.wake_at.getTime() - entry.bed_at.getTime()) / HOUR_MS;
    hoursByDate.set(entry.local_date, (hoursByDate.get(entry.local_date) ?? 0) + hours);
  }
  const points = [...hoursByDate].map(([date, value]) => ({ date, value }));
  return [
    {
      id,
      title: 'Sleep duration',
      noun: 'night',
      kind: 'bar',
      points,
      format: hoursText,
      tickFormat: units.hours,
      provider: null,
      empty: 'No sleep logged in this period. Log a night on the Sleep page and it appears here.',
    },
  ];
}

const kilograms = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const meters = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const beats = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });

export interface BodyView {
  provider: string;
  /** What WHOOP has, each with its unit; a value WHOOP left empty is left out. */
  facts: Array<{ key: 'weight' | 'height' | 'max-heart-rate'; name: string; text: string }>;
  /** The date (the person's zone) a sync first saw these values: WHOOP gives no time of its own. */
  asOf: LocalDate;
}

export function bodyView(body: BodyMeasurement | null, fmt: Formatter): BodyView | null {
  if (!body) return null;
  const facts: BodyView['facts'] = [];
  if (body.weight_kilograms !== null)
    facts.push({ key: 'weight', name: 'Weight', text: `${kilograms.format(body.weight_kilograms)} kg` });
  if (body.height_meters !== null)
    facts.push({ key: 'height', name: 'Height', text: `${meters.format(body.height_meters)} m` });
  if (body.max_heart_rate !== null)
    facts.push({
      key: 'max-heart-rate',
      name: 'Max heart rate',
      text: `${beats.format(body.max_heart_rate)} bpm`,
    });
  return { provider: body.provider, facts, asOf: localDateOf(body.measured_at, fmt.timeZone) };
}
