export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const OFFSET_RE = /^(?:Z|([+-])(\d{2}):(\d{2}))$/;

export function isTimezoneOffset(value: string): boolean {
  const m = OFFSET_RE.exec(value);
  if (!m) return false;
  return m[1] === undefined || (Number(m[2]) <= 14 && Number(m[3]) < 60);
}

/** '+05:30' -> 330, '-10:00' -> -600, 'Z' -> 0. */
export function offsetMinutes(offset: string): number {
  const m = OFFSET_RE.exec(offset);
  if (!m) throw new Error(`invalid timezone offset ${offset}`);
  if (m[1] === undefined) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/** ISO-8601 UTC with milliseconds, as WHOOP sends it. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Days since 1970-01-01 of the local calendar date at `ms` for a member at `offsetMin`. */
export function localEpochDay(ms: number, offsetMin: number): number {
  return Math.floor((ms + offsetMin * MINUTE_MS) / DAY_MS);
}

/** UTC instant of local midnight starting the local date `epochDay`. */
export function localMidnight(epochDay: number, offsetMin: number): number {
  return epochDay * DAY_MS - offsetMin * MINUTE_MS;
}
