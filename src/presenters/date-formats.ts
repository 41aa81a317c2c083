// Every Intl.DateTimeFormat a request uses comes from here, built once per (zone, style) and kept in a
// small LRU cache: each construction with a time zone keeps about 27 KB that garbage collection never
// returns (measured on Node 20 and 24), so building one per render leaks without bound.
export const LOCALE = 'en-US';

const STYLES = {
  time: { timeStyle: 'short' },
  dateTime: { dateStyle: 'medium', timeStyle: 'short' },
  // calendar dates are formatted as that day in UTC (see format.ts)
  dateFull: { dateStyle: 'full' },
  dateMedium: { dateStyle: 'medium' },
  dateShort: { weekday: 'short', month: 'short', day: 'numeric' },
  dayMonth: { month: 'short', day: 'numeric' },
} as const satisfies Record<string, Intl.DateTimeFormatOptions>;

export type DateStyle = keyof typeof STYLES;

// Zones in use are few (people's zones, WHOOP offsets): a bound keeps a hostile variety from growing it.
const CAPACITY = 256;
const cache = new Map<string, Intl.DateTimeFormat>();
let constructed = 0;

/** The formatter for `style` in `timeZone` (an IANA zone or an offset such as "+05:30"). */
export function dateFormat(style: DateStyle, timeZone: string): Intl.DateTimeFormat {
  const key = `${style}|${timeZone}`;
  const cached = cache.get(key);
  if (cached) {
    // Most recently used last: the first key is the one to drop.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const format = new Intl.DateTimeFormat(LOCALE, { ...STYLES[style], timeZone });
  constructed += 1;
  cache.set(key, format);
  if (cache.size > CAPACITY) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return format;
}

/** How many formatters were built since the process started (a test guards that renders build none). */
export function dateFormatsConstructed(): number {
  return constructed;
}

/** An instant for a template: machine-readable and in words, in the person's zone. */
export function instantView(date: Date | null, timeZone: string): { iso: string; text: string } | null {
  if (!date) return null;
  return { iso: date.toISOString(), text: dateFormat('dateTime', timeZone).format(date) };
}
