import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import type { LocalDate } from '../local-time.ts';

const scoreState = z.enum(['SCORED', 'PENDING_SCORE', 'UNSCORABLE']);
export type ScoreState = z.infer<typeof scoreState>;

export const wearableSleepRow = z.object({
  id: z.number(),
  provider: z.string(),
  local_date: z.string(),
  start_at: z.date(),
  end_at: z.date(),
  utc_offset_minutes: z.number(),
  is_nap: z.boolean(),
  is_primary: z.boolean(),
  score_state: scoreState,
  in_bed_ms: z.number().nullable(),
  awake_ms: z.number().nullable(),
  light_ms: z.number().nullable(),
  deep_ms: z.number().nullable(),
  rem_ms: z.number().nullable(),
  asleep_ms: z.number().nullable(),
  performance_pct: z.number().nullable(),
  efficiency_pct: z.number().nullable(),
  consistency_pct: z.number().nullable(),
  respiratory_rate: z.number().nullable(),
  recovery_state: scoreState.nullable(),
  recovery_score: z.number().nullable(),
  hrv_rmssd_ms: z.number().nullable(),
  resting_heart_rate: z.number().nullable(),
});
export type WearableSleep = z.infer<typeof wearableSleepRow>;

export interface WearableNights {
  /** The primary sleep of each local date, newest first. */
  nights: WearableSleep[];
  /** Naps, newest first. */
  naps: WearableSleep[];
}

const durationMs = (sleep: WearableSleep) => sleep.end_at.getTime() - sleep.start_at.getTime();

/**
 * The primary sleep per local date: the one the sync engine marked primary, else (not yet marked)
 * the longest non-nap sleep of that date, which is how the engine defines it (DESIGN.md "Time").
 */
export function splitNights(rows: readonly WearableSleep[]): WearableNights {
  const byDate = new Map<string, WearableSleep>();
  const naps: WearableSleep[] = [];
  for (const row of rows) {
    if (row.is_nap) {
      naps.push(row);
      continue;
    }
    const current = byDate.get(row.local_date);
    const better =
      !current ||
      (row.is_primary && !current.is_primary) ||
      (row.is_primary === current.is_primary && durationMs(row) > durationMs(current));
    if (better) byDate.set(row.local_date, row);
  }
  const nights = [...byDate.values()].sort((a, b) => (a.local_date < b.local_date ? 1 : -1));
  return { nights, naps };
}

export function createWearableSleep(deps: { pool: DatabasePool }) {
  const { pool } = deps;
  return {
    /**
     * Every live sleep whose local date is within [from, to], with the recovery scored from it.
     * One query on (user_id, local_date); the recovery join uses the same index (a recovery's local
     * date is its sleep's).
     */
    async between(userId: number, from: LocalDate, to: LocalDate): Promise<WearableNights> {
      const rows = await pool.any(sql.type(wearableSleepRow)`
        SELECT s.id, s.provider, s.local_date, s.start_at, s.end_at, s.utc_offset_minutes, s.is_nap, s.is_primary,
               s.score_state, s.in_bed_ms, s.awake_ms, s.light_ms, s.deep_ms, s.rem_ms, s.asleep_ms,
               s.performance_pct, s.efficiency_pct, s.consistency_pct, s.respiratory_rate,
               r.score_state AS recovery_state, r.recovery_score, r.hrv_rmssd_ms, r.resting_heart_rate
        FROM integration_sleep s
        LEFT JOIN integration_recovery r
          ON r.user_id = s.user_id AND r.local_date = s.local_date AND r.connection_id = s.connection_id
         AND r.sleep_external_id = s.external_id AND r.deleted_at IS NULL
        WHERE s.user_id = ${userId} AND s.local_date BETWEEN ${from} AND ${to} AND s.deleted_at IS NULL
        ORDER BY s.local_date DESC, s.start_at DESC
      `);
      return splitNights(rows);
    },
  };
}

export type WearableSleepQueries = ReturnType<typeof createWearableSleep>;
