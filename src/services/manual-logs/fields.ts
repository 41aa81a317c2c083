import { z } from 'zod';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from '../form-text.ts';
import { isLocalDate, isLocalTime, type LocalDate, localDateOf } from '../local-time.ts';

export const NOTE_MAX = 1000;
const EARLIEST_DATE = '2000-01-01';

/** What every manual form is checked against: the person's zone and their "today". */
export interface FormContext {
  timeZone: string;
  today: LocalDate;
}

export type FormResult<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

// Form fields arrive as strings (or not at all); blank optional fields mean "not given". A field with
// control characters is refused first, whatever else it holds.
function trimmedText(multiline: boolean) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? value.trim() : ''),
    z.string().refine((value) => !hasControlCharacters(value, { multiline }), CONTROL_CHARACTER_MESSAGE),
  );
}

export const text = trimmedText(false);

export function dateField(label: string, today: LocalDate) {
  return text
    .refine((value) => value !== '', `Enter the ${label}.`)
    .refine((value) => value === '' || isLocalDate(value), `Enter the ${label} as YYYY-MM-DD.`)
    .refine(
      (value) => !isLocalDate(value) || value >= EARLIEST_DATE,
      `The ${label} must be in ${EARLIEST_DATE.slice(0, 4)} or later.`,
    )
    .refine(
      (value) => !isLocalDate(value) || value <= today,
      `The ${label} can't be after today (${today}).`,
    );
}

export function timeField(label: string) {
  return text
    .refine((value) => value !== '', `Enter the ${label}.`)
    .refine((value) => value === '' || isLocalTime(value), `Enter the ${label} as HH:MM (24-hour clock).`);
}

export function scoreField(label: string) {
  return text
    .refine((value) => value === '' || /^[1-5]$/.test(value), `${label} is a whole number from 1 to 5.`)
    .transform((value) => (value === '' ? null : Number(value)));
}

export const noteField = trimmedText(true)
  .refine((value) => value.length <= NOTE_MAX, `Keep the note to ${NOTE_MAX} characters or fewer.`)
  .transform((value) => (value === '' ? null : value));

/** First message per field, keyed by the form field's name. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??= issue.message;
  }
  return errors;
}

export function parseForm<T>(schema: z.ZodType<T>, form: unknown): FormResult<T> {
  const parsed = schema.safeParse(typeof form === 'object' && form !== null ? form : {});
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, errors: fieldErrors(parsed.error) };
}

/** Whose entry this is: forms are read in their zone. */
export interface Owner {
  id: number;
  time_zone: string;
}

export type Clock = () => Date;

export function contextFor(owner: Owner, now: Date): FormContext {
  return { timeZone: owner.time_zone, today: localDateOf(now, owner.time_zone) };
}
