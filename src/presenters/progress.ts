import type { ProgressData } from '../services/health-pages/index.ts';
import { buildChart, type ChartPoint, type ChartSpec, type ChartView } from './chart.ts';
import { duration, type Formatter, units } from './format.ts';

const HOUR_MS = 3_600_000;

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
  return specs.map((spec) => buildChart(spec, data.from, data.to, fmt));
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
