import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import type { LocalDate } from '../local-time.ts';

const scoreState = z.enum(['SCORED', 'PENDING_SCORE', 'UNSCORABLE']);

export const wearableWorkoutRow = z.object({
  id: z.number(),
  provider: z.string(),
  local_date: z.string(),
  start_at: z.date(),
  end_at: z.date(),
  utc_offset_minutes: z.number(),
  sport_name: z.string(),
  score_state: scoreState,
  strain: z.number().nullable(),
  average_heart_rate: z.number().nullable(),
  max_heart_rate: z.number().nullable(),
  distance_meters: z.number().nullable(),
});
export type WearableWorkout = z.infer<typeof wearableWorkoutRow>;

export const dailyStrainRow = z.object({
  local_date: z.string(),
  score_state: scoreState,
  strain: z.number().nullable(),
  kilojoules: z.number().nullable(),
  average_heart_rate: z.number().nullable(),
  max_heart_rate: z.number().nullable(),
});
export type DailyStrain = z.infer<typeof dailyStrainRow>;

const workoutColumns = sql.fragment`
  id, provider, local_date, start_at, end_at, utc_offset_minutes, sport_name, score_state, strain,
  average_heart_rate, max_heart_rate, distance_meters
`;

export function createWearableActivity(deps: { pool: DatabasePool }) {
  const { pool } = deps;
  return {
    /** Workouts whose own local date (of their start, in their own offset) is `date`. */
    async workoutsOn(userId: number, date: LocalDate): Promise<readonly WearableWorkout[]> {
      return pool.any(sql.type(wearableWorkoutRow)`
        SELECT ${workoutColumns} FROM integration_workout
        WHERE user_id = ${userId} AND local_date = ${date} AND deleted_at IS NULL
        ORDER BY start_at
      `);
    },

    async workoutOwnedBy(userId: number, id: number): Promise<boolean> {
      const row = await pool.maybeOne(sql.type(z.object({ id: z.number() }))`
        SELECT id FROM integration_workout WHERE id = ${id} AND user_id = ${userId} AND deleted_at IS NULL
      `);
      return row !== null;
    },

    /** One cycle per local date (the latest started, should travel ever give a date two), oldest first. */
    async strainBetween(userId: number, from: LocalDate, to: LocalDate): Promise<readonly DailyStrain[]> {
      return pool.any(sql.type(dailyStrainRow)`
        SELECT DISTINCT ON (local_date) local_date, score_state, strain, kilojoules, average_heart_rate, max_heart_rate
        FROM integration_cycle
        WHERE user_id = ${userId} AND local_date BETWEEN ${from} AND ${to} AND deleted_at IS NULL
        ORDER BY local_date, start_at DESC
      `);
    },
  };
}

export type WearableActivityQueries = ReturnType<typeof createWearableActivity>;
