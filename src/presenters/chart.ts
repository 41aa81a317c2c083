import { addDays, daysBetween, type LocalDate } from '../services/local-time.ts';
import { type Formatter, providerName } from './format.ts';

// Server-drawn SVG charts: geometry here, markup in views/partials/chart.eta. No chart JavaScript.

export interface ChartPoint {
  date: LocalDate;
  value: number;
  /** A point that stands for several days (a week's average) covers `date` to `through`. */
  through?: LocalDate;
  /** How many measured days the point averages, when it covers several. */
  count?: number;
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
  /** Said under the title: how the points were made (weekly averages). */
  caption?: string;
}

export interface ChartMark {
  date: LocalDate;
  /** The last day the mark covers (the date itself for a daily point). */
  through: LocalDate;
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
  caption: string | null;
  summary: string;
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  marks: ChartMark[];
  linePath: string;
  yTicks: Array<{ y: number; label: string }>;
  /** `optional`: the middle label, dropped on narrow screens when the three would collide there. */
  xLabels: Array<{ x: number; label: string; anchor: 'start' | 'middle' | 'end'; optional: boolean }>;
}

const WIDTH = 640;
const HEIGHT = 220;
/**
 * The SVG scales to its card (width 100%), so on a 360 px phone one user unit is under half a pixel:
 * app.css draws the axis text at up to this many units there, and the plot leaves room for labels
 * that size.
 */
const LABEL_FONT_MAX = 26;
/** A generous width of `text` at LABEL_FONT_MAX in the UI's sans-serif (em widths of its glyph classes). */
function labelWidth(text: string): number {
  let ems = 0;
  for (const char of text) ems += /[ .,:]/.test(char) ? 0.32 : /[%mwMW]/.test(char) ? 0.95 : 0.64;
  return ems * LABEL_FONT_MAX;
}
const BOTTOM = HEIGHT - 34;
// Long ranges repeat a day of the month a year apart ("Mar 4" to "Mar 4"): they name the year.
const DATED_AXIS_DAYS = 120;

const round = (value: number) => Math.round(value * 10) / 10;

/** About four round steps (1, 2 or 5 times a power of ten) covering [low, high]. */
function niceScale(low: number, high: number): { low: number; high: number; step: number } {
  const span = high - low || Math.abs(high) || 1;
  const rough = span / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((factor) => factor * power >= rough) ?? 10) * power;
  return { low: Math.floor(low / step) * step, high: Math.ceil(high / step) * step || step, step };
}

/** "Mar 4" for a day, "Mar 3 to Mar 9" for a week. */
function spanLabel(point: ChartPoint, fmt: Formatter, day: (date: LocalDate) => string): string {
  return point.through && point.through !== point.date
    ? `${fmt.dayMonth(point.date)} to ${fmt.dayMonth(point.through)}`
    : day(point.date);
}

function summaryOf(spec: ChartSpec, from: LocalDate, to: LocalDate, days: number, fmt: Formatter): string {
  const period = `${days} days, ${fmt.dateMedium(from)} to ${fmt.dateMedium(to)}`;
  if (spec.points.length === 0) return `${spec.title}: no data in the last ${period}.`;
  // A weekly point is a mean of daily values; weighting by days measured keeps the average the daily one.
  const weight = (point: ChartPoint) => point.count ?? 1;
  const total = spec.points.reduce((sum, point) => sum + point.value * weight(point), 0);
  const average = total / spec.points.reduce((sum, point) => sum + weight(point), 0);
  const lowest = spec.points.reduce((a, b) => (b.value < a.value ? b : a));
  const highest = spec.points.reduce((a, b) => (b.value > a.value ? b : a));
  const latest = spec.points[spec.points.length - 1] as ChartPoint;
  const count = `${spec.points.length} ${spec.noun}${spec.points.length === 1 ? '' : 's'} with data`;
  const at = (point: ChartPoint) => (point.through ? 'in ' : 'on ') + spanLabel(point, fmt, fmt.dayMonth);
  return (
    `${spec.title} over the last ${period}: ${count}${spec.caption ? ` (${spec.caption})` : ''}. ` +
    `Average ${spec.format(average)}; ` +
    `lowest ${spec.format(lowest.value)} ${at(lowest)}; ` +
    `highest ${spec.format(highest.value)} ${at(highest)}; ` +
    `latest ${spec.format(latest.value)} ${at(latest)}.`
  );
}

export function buildChart(spec: ChartSpec, from: LocalDate, to: LocalDate, fmt: Formatter): ChartView {
  const days = daysBetween(from, to) + 1;
  const values = spec.points.map((point) => point.value);
  const dataLow = values.length ? Math.min(...values) : 0;
  const dataHigh = values.length ? Math.max(...values) : 1;
  const padding = spec.kind === 'line' ? Math.max((dataHigh - dataLow) * 0.15, 1) : 0;
  const scale = niceScale(
    spec.kind === 'bar' ? 0 : Math.max(spec.min ?? -Infinity, dataLow - padding),
    Math.min(spec.max ?? Infinity, dataHigh + padding),
  );
  const tickLabels: Array<{ value: number; label: string }> = [];
  for (let value = scale.low; value <= scale.high + scale.step / 2; value += scale.step) {
    tickLabels.push({ value, label: (spec.tickFormat ?? spec.format)(round(value * 100) / 100) });
  }
  // Room on the left for the longest tick label at the largest size app.css draws it.
  const widest = Math.max(...tickLabels.map((tick) => labelWidth(tick.label)));
  const plot = {
    left: Math.ceil(widest + 10),
    right: WIDTH - 12,
    top: 14,
    bottom: BOTTOM,
  };
  const slot = (plot.right - plot.left) / days;
  const yOf = (value: number) =>
    round(plot.bottom - ((value - scale.low) / (scale.high - scale.low)) * (plot.bottom - plot.top));
  const xOf = (date: LocalDate) => plot.left + (daysBetween(from, date) + 0.5) * slot;

  const marks = spec.points.map((point): ChartMark => {
    const through = point.through ?? point.date;
    const x = round((xOf(point.date) + xOf(through)) / 2);
    const width = round(Math.max(1, (daysBetween(point.date, through) + 1) * slot * 0.7));
    const y = yOf(point.value);
    return {
      date: point.date,
      through,
      value: point.value,
      label: spec.format(point.value),
      dateLabel: spanLabel(point, fmt, fmt.dateShort),
      x,
      barX: round(x - width / 2),
      y,
      width,
      height: round(plot.bottom - y),
    };
  });

  const yTicks = tickLabels.map((tick) => ({ y: yOf(tick.value), label: tick.label }));
  const axisDate = days > DATED_AXIS_DAYS ? fmt.dateMedium : fmt.dayMonth;
  const middle = addDays(from, Math.floor((days - 1) / 2));
  const first = axisDate(from);
  const centre = { x: round(xOf(middle)), label: axisDate(middle) };
  const crowded = plot.left + labelWidth(first) + labelWidth(centre.label) / 2 + 8 > centre.x;
  const xLabels: ChartView['xLabels'] = [
    { x: plot.left, label: first, anchor: 'start', optional: false },
    { ...centre, anchor: 'middle', optional: crowded },
    { x: plot.right, label: axisDate(to), anchor: 'end', optional: false },
  ];

  return {
    id: spec.id,
    title: spec.title,
    kind: spec.kind,
    provider: spec.provider,
    providerLabel: spec.provider ? providerName(spec.provider) : null,
    empty: spec.empty,
    caption: spec.caption ?? null,
    summary: summaryOf(spec, from, to, days, fmt),
    width: WIDTH,
    height: HEIGHT,
    plot,
    marks,
    // A missing day breaks the line: a drawn segment would claim values nobody measured.
    linePath: marks
      .map((mark, index) => {
        const previous = marks[index - 1];
        const joined = previous !== undefined && daysBetween(previous.through, mark.date) === 1;
        return `${joined ? 'L' : 'M'}${mark.x} ${mark.y}`;
      })
      .join(' '),
    yTicks,
    xLabels,
  };
}
