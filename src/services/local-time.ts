// Calendar dates ('YYYY-MM-DD') and wall-clock times ('HH:MM') in an IANA time zone, with Intl only.
// Dates stay strings end to end (the pool parses Postgres `date` as text), so no server zone leaks in.

export type LocalDate = string;

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

// Building a DateTimeFormat costs far more than using one; pages format hundreds of values per request.
const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(timeZone, formatter);
  }
  return formatter;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClockAt(instant: Date, timeZone: string): WallClock {
  const values: Record<string, number> = {};
  for (const part of partsFormatter(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') values[part.type] = Number(part.value);
  }
  return {
    year: values.year ?? 0,
    month: values.month ?? 0,
    day: values.day ?? 0,
    hour: values.hour ?? 0,
    minute: values.minute ?? 0,
    second: values.second ?? 0,
  };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The zone's offset from UTC at that instant, in minutes (east positive: +330 for Asia/Kolkata). */
export function zoneOffsetMinutes(instant: Date, timeZone: string): number {
  const wall = wallClockAt(instant, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / MINUTE_MS);
}

export function isLocalDate(value: string): boolean {
  const match = DATE_PATTERN.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function isLocalTime(value: string): boolean {
  return TIME_PATTERN.test(value);
}

/** The calendar date of an instant in a zone. */
export function localDateOf(instant: Date, timeZone: string): LocalDate {
  const wall = wallClockAt(instant, timeZone);
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}`;
}

/** The wall-clock 'HH:MM' of an instant in a zone. */
export function localTimeOf(instant: Date, timeZone: string): string {
  const wall = wallClockAt(instant, timeZone);
  return `${pad(wall.hour)}:${pad(wall.minute)}`;
}

/** The calendar date of an instant seen from a fixed UTC offset (how WHOOP records carry their zone). */
export function localDateAtOffset(instant: Date, offsetMinutes: number): LocalDate {
  return new Date(instant.getTime() + offsetMinutes * MINUTE_MS).toISOString().slice(0, 10);
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, (day ?? 1) + days)).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return Math.round((utcMidnight(to) - utcMidnight(from)) / DAY_MS);
}

// Charts call daysBetween for every point: numbers from the fixed 'YYYY-MM-DD' layout, not Date.parse.
function utcMidnight(date: LocalDate): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
}

/**
 * The instant at which the wall clock in `timeZone` shows `date` `time`.
 * Guess with the offset at the naive UTC reading, then correct once with the offset at the guess:
 * this settles every zone rule. A repeated time (fall-back night) takes its first occurrence; a time
 * skipped by a DST jump (02:30 on spring-forward day) lands as far after the jump as it was meant to
 * be after the last valid minute (03:30), as calendars and Temporal's "compatible" mode do.
 */
export function zonedDateTimeToInstant(date: LocalDate, time: string, timeZone: string): Date {
  const [year, month, day] = date.split('-').map(Number);
  const [hour, minute] = time.split(':').map(Number);
  const naive = Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour ?? 0, minute ?? 0);
  const offsetAtNaive = zoneOffsetMinutes(new Date(naive), timeZone);
  const firstGuess = naive - offsetAtNaive * MINUTE_MS;
  const corrected = naive - zoneOffsetMinutes(new Date(firstGuess), timeZone) * MINUTE_MS;
  const instant = new Date(corrected);
  if (localDateOf(instant, timeZone) === date && localTimeOf(instant, timeZone) === time) return instant;
  return new Date(Math.max(firstGuess, corrected));
}
