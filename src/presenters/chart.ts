import { addDays, daysBetween, type LocalDate } from '../services/local-time.ts';
import { type Formatter, providerName } from './format.ts';

// Server-drawn SVG charts: geometry here, markup in views/partials/chart.eta. No chart JavaScript.

export interface ChartPoint {
  date: LocalDate;
  value: number;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** What one point is, for the summary: "night", "day". */
  noun: string;
  kind: 'bar' | 'line';
  points: readonly ChartPoint[];
  format: (value: number) => string;
  /** Axis labels, when shorter than `format` ("5 h" rather than "5 h 0 min"). */
  tickFormat?: (value: number) => string;
  /** The provider the series comes from (badge), or null for manual logs. */
  provider: string | null;
  /** Axis floor and ceiling when the metric has natural bounds (percentages). */
  min?: number;
  max?: number;
  empty: string;
}

export interface ChartMark {
  date: LocalDate;
  value: number;
  label: string;
  dateLabel: string;
  x: number;
  /** Left edge of the bar centred on x. */
  barX: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartView {
  id: string;
  title: string;
  kind: 'bar' | 'line';
  provider: string | null;
  providerLabel: string | null;
  empty: string;
  summary: string;
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  marks: ChartMark[];
  linePath: string;
  yTicks: Array<{ y: number; label: string }>;
  xLabels: Array<{ x: number; label: string; anchor: 'start' | 'middle' | 'end' }>;
}

const WIDTH = 640;
const HEIGHT = 220;
const PLOT = { left: 56, right: WIDTH - 12, top: 12, bottom: HEIGHT - 28 };

const round = (value: number) => Math.round(value * 10) / 10;

/** About four round steps (1, 2 or 5 times a power of ten) covering [low, high]. */
function niceScale(low: number, high: number): { low: number; high: number; step: number } {
  const span = high - low || Math.abs(high) || 1;
  const rough = span / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((factor) => factor * power >= rough) ?? 10) * power;
  return { low: Math.floor(low / step) * step, high: Math.ceil(high / step) * step || step, step };
}

function summaryOf(spec: ChartSpec, from: LocalDate, to: LocalDate, days: number, fmt: Formatter): string {
  const period = `${days} days, ${fmt.dateMedium(from)} to ${fmt.dateMedium(to)}`;
  if (spec.points.length === 0) return `${spec.title}: no data in the last ${period}.`;
  const values = spec.points.map((point) => point.value);
  const average = values.reduce((sum, value) => sum + value, 0) / values.length;
  const lowest = spec.points.reduce((a, b) => (b.value < a.value ? b : a));
  const highest = spec.points.reduce((a, b) => (b.value > a.value ? b : a));
  const latest = spec.points[spec.points.length - 1] as ChartPoint;
  const count = `${spec.points.length} ${spec.noun}${spec.points.length === 1 ? '' : 's'} with data`;
  return (
    `${spec.title} over the last ${period}: ${count}. Average ${spec.format(average)}; ` +
    `lowest ${spec.format(lowest.value)} on ${fmt.dayMonth(lowest.date)}; ` +
    `highest ${spec.format(highest.value)} on ${fmt.dayMonth(highest.date)}; ` +
    `latest ${spec.format(latest.value)} on ${fmt.dayMonth(latest.date)}.`
  );
}

export function buildChart(spec: ChartSpec, from: LocalDate, to: LocalDate, fmt: Formatter): ChartView {
  const days = daysBetween(from, to) + 1;
  const slot = (PLOT.right - PLOT.left) / days;
  const values = spec.points.map((point) => point.value);
  const dataLow = values.length ? Math.min(...values) : 0;
  const dataHigh = values.length ? Math.max(...values) : 1;
  const padding = spec.kind === 'line' ? Math.max((dataHigh - dataLow) * 0.15, 1) : 0;
  const scale = niceScale(
    spec.kind === 'bar' ? 0 : Math.max(spec.min ?? -Infinity, dataLow - padding),
    Math.min(spec.max ?? Infinity, dataHigh + padding),
  );
  const yOf = (value: number) =>
    round(PLOT.bottom - ((value - scale.low) / (scale.high - scale.low)) * (PLOT.bottom - PLOT.top));
  const barWidth = round(Math.max(1, slot * 0.7));

  const marks = spec.points.map((point): ChartMark => {
    const x = round(PLOT.left + (daysBetween(from, point.date) + 0.5) * slot);
    const y = yOf(point.value);
    return {
      date: point.date,
      value: point.value,
      label: spec.format(point.value),
      dateLabel: fmt.dateShort(point.date),
      x,
      barX: round(x - barWidth / 2),
      y,
      width: barWidth,
      height: round(PLOT.bottom - y),
    };
  });

  const yTicks: ChartView['yTicks'] = [];
  for (let value = scale.low; value <= scale.high + scale.step / 2; value += scale.step) {
    yTicks.push({ y: yOf(value), label: (spec.tickFormat ?? spec.format)(round(value * 100) / 100) });
  }
  const middle = addDays(from, Math.floor((days - 1) / 2));
  const xLabels: ChartView['xLabels'] = [
    { x: PLOT.left, label: fmt.dayMonth(from), anchor: 'start' },
    {
      x: round(PLOT.left + (daysBetween(from, middle) + 0.5) * slot),
      label: fmt.dayMonth(middle),
      anchor: 'middle',
    },
    { x: PLOT.right, label: fmt.dayMonth(to), anchor: 'end' },
  ];

  return {
    id: spec.id,
    title: spec.title,
    kind: spec.kind,
    provider: spec.provider,
    providerLabel: spec.provider ? providerName(spec.provider) : null,
    empty: spec.empty,
    summary: summaryOf(spec, from, to, days, fmt),
    width: WIDTH,
    height: HEIGHT,
    plot: PLOT,
    marks,
    // A missing day breaks the line: a drawn segment would claim values nobody measured.
    linePath: marks
      .map((mark, index) => {
        const previous = marks[index - 1];
        const joined = previous !== undefined && daysBetween(previous.date, mark.date) === 1;
        return `${joined ? 'L' : 'M'}${mark.x} ${mark.y}`;
      })
      .join(' '),
    yTicks,
    xLabels,
  };
}
