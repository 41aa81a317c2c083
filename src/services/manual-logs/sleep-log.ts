import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import { addDays, type LocalDate, localDateOf, localTimeOf, zonedDateTimeToInstant } from '../local-time.ts';
import {
  type Clock,
  contextFor,
  dateField,
  type FormContext,
  type FormResult,
  noteField,
  type Owner,
  parseForm,
  scoreField,
  timeField,
} from './fields.ts';

export const sleepEntryRow = z.object({
  id: z.number(),
  local_date: z.string(),
  bed_at: z.date(),
  wake_at: z.date(),
  quality: z.number().nullable(),
  note: z.string().nullable(),
});
export type SleepEntry = z.infer<typeof sleepEntryRow>;

/** The fields of the sleep form, as typed: the date is the morning the night ended. */
export interface SleepForm {
  date: string;
  bedTime: string;
  wakeTime: string;
  quality: string;
  note: string;
}

interface SleepValues {
  localDate: LocalDate;
  bedAt: Date;
  wakeAt: Date;
  quality: number | null;
  note: string | null;
}

// Longer than this is far likelier a typo (07:00 to 06:00) than a night: it is refused, not stored.
export const MAX_NIGHT_HOURS = 16;

const columns = sql.fragment`id, local_date, bed_at, wake_at, quality, note`;

function sleepSchema(context: FormContext) {
  return z.object({
    date: dateField('wake-up date', context.today),
    bedTime: timeField('bed time'),
    wakeTime: timeField('wake time'),
    quality: scoreField('Quality'),
    note: noteField,
  });
}

/**
 * Validates the form and places the night in the person's zone. A bed time later on the clock than the
 * wake time means the night crossed midnight: bed was on the day before the wake-up date.
 */
export function parseSleepForm(form: unknown, context: FormContext): FormResult<SleepValues> {
  const parsed = parseForm(sleepSchema(context), form);
  if (!parsed.ok) return parsed;
  const { date, bedTime, wakeTime, quality, note } = parsed.value;
  const bedDate = bedTime > wakeTime ? addDays(date, -1) : date;
  const bedAt = zonedDateTimeToInstant(bedDate, bedTime, context.timeZone);
  const wakeAt = zonedDateTimeToInstant(date, wakeTime, context.timeZone);
  const hours = (wakeAt.getTime() - bedAt.getTime()) / 3_600_000;
  if (hours <= 0) return { ok: false, errors: { wakeTime: 'Wake time must be after bed time.' } };
  if (hours > MAX_NIGHT_HOURS) {
    return {
      ok: false,
      errors: {
        wakeTime: `Wake time must be after bed time, at most ${MAX_NIGHT_HOURS} hours later. Check both times.`,
      },
    };
  }
  return { ok: true, value: { localDate: date, bedAt, wakeAt, quality, note } };
}

/** An entry as the form shows it, in the person's zone. */
export function sleepFormOf(entry: SleepEntry, timeZone: string): SleepForm {
  return {
    date: localDateOf(entry.wake_at, timeZone),
    bedTime: localTimeOf(entry.bed_at, timeZone),
    wakeTime: localTimeOf(entry.wake_at, timeZone),
    quality: entry.quality === null ? '' : String(entry.quality),
    note: entry.note ?? '',
  };
}

export function createSleepLog(deps: { pool: DatabasePool; now: Clock }) {
  const { pool, now } = deps;

  async function find(userId: number, id: number): Promise<SleepEntry | null> {
    return pool.maybeOne(sql.type(sleepEntryRow)`
      SELECT ${columns} FROM sleep_entry WHERE id = ${id} AND user_id = ${userId}
    `);
  }

  return {
    /** Entries whose wake-up date is within [from, to], newest first. */
    async list(userId: number, from: LocalDate, to: LocalDate): Promise<readonly SleepEntry[]> {
      return pool.any(sql.type(sleepEntryRow)`
        SELECT ${columns} FROM sleep_entry
        WHERE user_id = ${userId} AND local_date BETWEEN ${from} AND ${to}
        ORDER BY local_date DESC, wake_at DESC
      `);
    },

    find,

    async create(owner: Owner, form: unknown): Promise<FormResult<SleepEntry>> {
      const parsed = parseSleepForm(form, contextFor(owner, now()));
      if (!parsed.ok) return parsed;
      const v = parsed.value;
      const entry = await pool.one(sql.type(sleepEntryRow)`
        INSERT INTO sleep_entry (user_id, local_date, bed_at, wake_at, quality, note)
        VALUES (${owner.id}, ${v.localDate}, ${sql.timestamp(v.bedAt)}, ${sql.timestamp(v.wakeAt)}, ${v.quality}, ${v.note})
        RETURNING ${columns}
      `);
      return { ok: true, value: entry };
    },

    /** null when the entry is not this person's (or does not exist): the caller answers 404. */
    async update(owner: Owner, id: number, form: unknown): Promise<FormResult<SleepEntry> | null> {
      const parsed = parseSleepForm(form, contextFor(owner, now()));
      if (!parsed.ok) return (await find(owner.id, id)) ? parsed : null;
      const v = parsed.value;
      const entry = await pool.maybeOne(sql.type(sleepEntryRow)`
        UPDATE sleep_entry
        SET local_date = ${v.localDate}, bed_at = ${sql.timestamp(v.bedAt)}, wake_at = ${sql.timestamp(v.wakeAt)},
            quality = ${v.quality}, note = ${v.note}, updated_at = now()
        WHERE id = ${id} AND user_id = ${owner.id}
        RETURNING ${columns}
      `);
      return entry ? { ok: true, value: entry } : null;
    },

    /** false when there was no such entry of this person's. */
    async remove(userId: number, id: number): Promise<boolean> {
      const deleted = await pool.maybeOne(sql.type(z.object({ id: z.number() }))`
        DELETE FROM sleep_entry WHERE id = ${id} AND user_id = ${userId} RETURNING id
      `);
      return deleted !== null;
    },
  };
}

export type SleepLog = ReturnType<typeof createSleepLog>;
