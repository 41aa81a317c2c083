import { type LocalDate, zoneOffsetMinutes } from '../services/local-time.ts';
import { dateFormat, LOCALE } from './date-formats.ts';

// Numbers and dates as people read them: one locale for now, the person's own time zone always.
export { LOCALE };

const numberFormats = new Map<number, Intl.NumberFormat>();
function decimal(value: number, maximumFractionDigits: number): string {
  let format = numberFormats.get(maximumFractionDigits);
  if (!format) {
    format = new Intl.NumberFormat(LOCALE, { maximumFractionDigits });
    numberFormats.set(maximumFractionDigits, format);
  }
  return format.format(value);
}

// WHOOP shows strain with one decimal always ("3.0"), on its 0-21 scale.
const strainFormat = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

// Calendar dates are zone-free: format them as that day in UTC so no zone can move them.
const atNoonUtc = (date: LocalDate) => new Date(`${date}T12:00:00Z`);

export function offsetLabel(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  return `${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
}

/** "7 h 32 min", "45 min": durations rounded to the minute. */
export function duration(ms: number): string {
  const totalMinutes = Math.round(ms / 60_000);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`;
}

export const units = {
  percent: (value: number) => `${decimal(value, 1)}%`,
  bpm: (value: number) => `${decimal(value, 1)} bpm`,
  millis: (value: number) => `${decimal(value, 1)} ms`,
  breaths: (value: number) => `${decimal(value, 1)} breaths/min`,
  strain: (value: number) => strainFormat.format(value),
  hours: (value: number) => `${decimal(value, 1)} h`,
  minutes: (value: number) => duration(value * 60_000),
  distance: (meters: number) =>
    meters >= 1000 ? `${decimal(meters / 1000, 2)} km` : `${decimal(meters, 0)} m`,
  score: (value: number) => `${value} of 5`,
};

const providerNames: Record<string, string> = { whoop: 'WHOOP' };
export function providerName(provider: string): string {
  return providerNames[provider] ?? provider;
}

// Built per request, but every formatter it uses comes from the shared cache (date-formats.ts).
export function formatterFor(timeZone: string) {
  const clockAtOffset = (instant: Date, offsetMinutes: number) =>
    dateFormat('time', offsetLabel(offsetMinutes)).format(instant);
  const offsetNote = (instant: Date, offsetMinutes: number) =>
    zoneOffsetMinutes(instant, timeZone) === offsetMinutes ? '' : `UTC${offsetLabel(offsetMinutes)}`;

  // A page names the same days again and again (six Progress charts label each of 90 days): each
  // label is formatted once per request.
  const calendarLabels = new Map<string, string>();
  const calendarDate = (style: 'dateFull' | 'dateMedium' | 'dateShort' | 'dayMonth', date: LocalDate) => {
    const key = `${style}${date}`;
    let label = calendarLabels.get(key);
    if (label === undefined) {
      label = dateFormat(style, 'UTC').format(atNoonUtc(date));
      calendarLabels.set(key, label);
    }
    return label;
  };

  return {
    ...units,
    duration,
    timeZone,
    dateFull: (date: LocalDate) => calendarDate('dateFull', date),
    dateMedium: (date: LocalDate) => calendarDate('dateMedium', date),
    dateShort: (date: LocalDate) => calendarDate('dateShort', date),
    dayMonth: (date: LocalDate) => calendarDate('dayMonth', date),
    /** Clock time in the person's zone. */
    time: (instant: Date) => dateFormat('time', timeZone).format(instant),
    dateTime: (instant: Date) => dateFormat('dateTime', timeZone).format(instant),
    /**
     * Clock time where a wearable record happened (its own offset), which is also what its local date
     * follows; the offset is shown when it differs from the person's zone at that moment (travel).
     */
    recordTime(instant: Date, offsetMinutes: number): string {
      const text = clockAtOffset(instant, offsetMinutes);
      const note = offsetNote(instant, offsetMinutes);
      return note ? `${text} (${note})` : text;
    },
    /** Clock time at the record's own offset, without the offset note (shown once per row instead). */
    recordClock: (instant: Date, offsetMinutes: number) => clockAtOffset(instant, offsetMinutes),
    /** "UTC+05:30" when a record's offset differs from the person's zone at that moment, else "". */
    offsetNote,
    iso: (instant: Date) => instant.toISOString(),
    providerName,
  };
}

export type Formatter = ReturnType<typeof formatterFor>;
