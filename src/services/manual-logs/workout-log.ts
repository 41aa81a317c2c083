import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import { type LocalDate, localTimeOf, zonedDateTimeToInstant } from '../local-time.ts';
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
  text,
  timeField,
} from './fields.ts';

export const workoutSessionRow = z.object({
  id: z.number(),
  local_date: z.string(),
  start_at: z.date(),
  activity: z.string(),
  duration_minutes: z.number(),
  intensity: z.number().nullable(),
  note: z.string().nullable(),
});
export type WorkoutSession = z.infer<typeof workoutSessionRow>;

export interface WorkoutForm {
  date: string;
  startTime: string;
  activity: string;
  durationMinutes: string;
  intensity: string;
  note: string;
}

export const ACTIVITY_MAX = 100;
export const MAX_DURATION_MINUTES = 24 * 60;

const columns = sql.fragment`id, local_date, start_at, activity, duration_minutes, intensity, note`;

function workoutSchema(context: FormContext) {
  return z.object({
    date: dateField('date', context.today),
    startTime: timeField('start time'),
    activity: text
      .refine((value) => value !== '', 'Enter the activity, for example "Running".')
      .refine(
        (value) => value.length <= ACTIVITY_MAX,
        `Keep the activity to ${ACTIVITY_MAX} characters or fewer.`,
      ),
    durationMinutes: text
      .refine((value) => /^-?\d+$/.test(value), 'Enter the duration as a whole number of minutes.')
      .transform(Number)
      .refine((value) => value > 0, 'Duration must be more than 0 minutes.')
      .refine(
        (value) => value <= MAX_DURATION_MINUTES,
        `Duration can be at most ${MAX_DURATION_MINUTES} minutes (24 hours).`,
      ),
    intensity: scoreField('Intensity'),
    note: noteField,
  });
}

export function parseWorkoutForm(form: unknown, context: FormContext) {
  const parsed = parseForm(workoutSchema(context), form);
  if (!parsed.ok) return parsed;
  const { date, startTime, ...rest } = parsed.value;
  return {
    ok: true as const,
    value: { ...rest, localDate: date, startAt: zonedDateTimeToInstant(date, startTime, context.timeZone) },
  };
}

export function workoutFormOf(session: WorkoutSession, timeZone: string): WorkoutForm {
  return {
    date: session.local_date,
    startTime: localTimeOf(session.start_at, timeZone),
    activity: session.activity,
    durationMinutes: String(session.duration_minutes),
    intensity: session.intensity === null ? '' : String(session.intensity),
    note: session.note ?? '',
  };
}

export function createWorkoutLog(deps: { pool: DatabasePool; now: Clock }) {
  const { pool, now } = deps;

  async function find(userId: number, id: number): Promise<WorkoutSession | null> {
    return pool.maybeOne(sql.type(workoutSessionRow)`
      SELECT ${columns} FROM workout_session WHERE id = ${id} AND user_id = ${userId}
    `);
  }

  return {
    async listDay(userId: number, date: LocalDate): Promise<readonly WorkoutSession[]> {
      return pool.any(sql.type(workoutSessionRow)`
        SELECT ${columns} FROM workout_session
        WHERE user_id = ${userId} AND local_date = ${date}
        ORDER BY start_at
      `);
    },

    find,

    async create(owner: Owner, form: unknown): Promise<FormResult<WorkoutSession>> {
      const parsed = parseWorkoutForm(form, contextFor(owner, now()));
      if (!parsed.ok) return parsed;
      const v = parsed.value;
      const session = await pool.one(sql.type(workoutSessionRow)`
        INSERT INTO workout_session (user_id, local_date, start_at, activity, duration_minutes, intensity, note)
        VALUES (${owner.id}, ${v.localDate}, ${sql.timestamp(v.startAt)}, ${v.activity}, ${v.durationMinutes},
                ${v.intensity}, ${v.note})
        RETURNING ${columns}
      `);
      return { ok: true, value: session };
    },

    /** null when the session is not this person's (or does not exist): the caller answers 404. */
    async update(owner: Owner, id: number, form: unknown): Promise<FormResult<WorkoutSession> | null> {
      const parsed = parseWorkoutForm(form, contextFor(owner, now()));
      if (!parsed.ok) return (await find(owner.id, id)) ? parsed : null;
      const v = parsed.value;
      const session = await pool.maybeOne(sql.type(workoutSessionRow)`
        UPDATE workout_session
        SET local_date = ${v.localDate}, start_at = ${sql.timestamp(v.startAt)}, activity = ${v.activity},
            duration_minutes = ${v.durationMinutes}, intensity = ${v.intensity}, note = ${v.note}, updated_at = now()
        WHERE id = ${id} AND user_id = ${owner.id}
        RETURNING ${columns}
      `);
      return session ? { ok: true, value: session } : null;
    },

    async remove(userId: number, id: number): Promise<boolean> {
      const deleted = await pool.maybeOne(sql.type(z.object({ id: z.number() }))`
        DELETE FROM workout_session WHERE id = ${id} AND user_id = ${userId} RETURNING id
      `);
      return deleted !== null;
    },
  };
}

export type WorkoutLog = ReturnType<typeof createWorkoutLog>;
