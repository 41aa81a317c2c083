// Zod 4 schemas of WHOOP Developer API v2 payloads (see WHOOP-API.md).
// Strict about what a sync depends on (types, ids, timestamps, score_state); lenient where WHOOP is
// lenient: unknown keys pass through, optional numbers may be null or absent.
import { z } from 'zod';

export const SCORE_STATES = ['SCORED', 'PENDING_SCORE', 'UNSCORABLE'] as const;
export const scoreStateSchema = z.enum(SCORE_STATES);
export type ScoreState = z.infer<typeof scoreStateSchema>;

export const WHOOP_SCOPES = [
  'read:recovery',
  'read:cycles',
  'read:workout',
  'read:sleep',
  'read:profile',
  'read:body_measurement',
  'offline',
] as const;
export type WhoopScope = (typeof WHOOP_SCOPES)[number];

// Ranges are WHOOP's real ones (with room to spare), so that nothing reaches PostgreSQL or Intl that
// they would refuse: a record outside them is set aside with its error, and the rest of the page lands.
const EARLIEST = Date.parse('2000-01-01T00:00:00Z');
const LATEST = Date.parse('2100-01-01T00:00:00Z');
const timestamp = z.iso
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) >= EARLIEST && Date.parse(value) < LATEST, 'outside 2000-2099');
// Real offsets run from -12:00 to +14:00.
const timezoneOffset = z
  .string()
  .regex(/^(Z|[+-](0\d|1[0-4]):[0-5]\d)$/, 'expected +hh:mm, -hh:mm or Z, at most 14 hours');
const uuid = z.guid();
const userId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const intId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const INT4_MAX = 2_147_483_647;
const count = z.number().int().nonnegative().max(INT4_MAX);
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'contains a NUL character');
const finite = (min: number, max: number) => z.number().min(min).max(max);
const percent = finite(0, 100).nullish();
const heartRate = z.number().int().min(0).max(300);
const WEEK_MS = 7 * 86_400_000;
const millis = z.number().int().nonnegative().max(WEEK_MS);

// score is present only when SCORED: a union on score_state keeps that visible to the types.
function scored<const S extends z.core.$ZodLooseShape, Score extends z.ZodType>(base: S, score: Score) {
  return z.discriminatedUnion('score_state', [
    z.looseObject({ ...base, score_state: z.literal('SCORED'), score }),
    z.looseObject({ ...base, score_state: z.literal('PENDING_SCORE'), score: z.null().optional() }),
    z.looseObject({ ...base, score_state: z.literal('UNSCORABLE'), score: z.null().optional() }),
  ]);
}

export const profileSchema = z.looseObject({
  user_id: userId,
  email: text(320),
  first_name: text(200),
  last_name: text(200),
});
export type WhoopProfile = z.infer<typeof profileSchema>;

export const bodyMeasurementSchema = z.looseObject({
  height_meter: z.number().positive().max(3),
  weight_kilogram: z.number().positive().max(700),
  max_heart_rate: heartRate.positive(),
});
export type WhoopBodyMeasurement = z.infer<typeof bodyMeasurementSchema>;

export const cycleScoreSchema = z.looseObject({
  strain: finite(0, 21),
  kilojoule: finite(0, 1_000_000),
  average_heart_rate: heartRate,
  max_heart_rate: heartRate,
});

export const cycleSchema = scored(
  {
    id: intId,
    user_id: userId,
    created_at: timestamp,
    updated_at: timestamp,
    start: timestamp,
    // absent (or null) while the cycle is the current one
    end: timestamp.nullish(),
    timezone_offset: timezoneOffset,
  },
  cycleScoreSchema,
);
export type WhoopCycle = z.infer<typeof cycleSchema>;

export const sleepStageSummarySchema = z.looseObject({
  total_in_bed_time_milli: millis,
  total_awake_time_milli: millis,
  total_no_data_time_milli: millis,
  total_light_sleep_time_milli: millis,
  total_slow_wave_sleep_time_milli: millis,
  total_rem_sleep_time_milli: millis,
  sleep_cycle_count: count,
  disturbance_count: count,
});

export const sleepNeededSchema = z.looseObject({
  baseline_milli: z.number().int().min(-WEEK_MS).max(WEEK_MS),
  need_from_sleep_debt_milli: z.number().int().min(-WEEK_MS).max(WEEK_MS),
  need_from_recent_strain_milli: z.number().int().min(-WEEK_MS).max(WEEK_MS),
  // negative after a nap
  need_from_recent_nap_milli: z.number().int().min(-WEEK_MS).max(WEEK_MS),
});

export const sleepScoreSchema = z.looseObject({
  stage_summary: sleepStageSummarySchema,
  sleep_needed: sleepNeededSchema,
  respiratory_rate: finite(0, 100).nullish(),
  sleep_performance_percentage: percent,
  sleep_consistency_percentage: percent,
  sleep_efficiency_percentage: percent,
});

export const sleepSchema = scored(
  {
    id: uuid,
    cycle_id: intId,
    v1_id: z.number().int().max(Number.MAX_SAFE_INTEGER).nullish(),
    user_id: userId,
    created_at: timestamp,
    updated_at: timestamp,
    start: timestamp,
    end: timestamp,
    timezone_offset: timezoneOffset,
    nap: z.boolean(),
  },
  sleepScoreSchema,
);
export type WhoopSleep = z.infer<typeof sleepSchema>;

export const recoveryScoreSchema = z.looseObject({
  user_calibrating: z.boolean(),
  recovery_score: finite(0, 100),
  resting_heart_rate: finite(0, 300),
  hrv_rmssd_milli: finite(0, 10_000),
  spo2_percentage: percent,
  skin_temp_celsius: finite(-50, 60).nullish(),
});

// No id and no timezone_offset: a recovery is keyed by its cycle (and its sleep).
export const recoverySchema = scored(
  {
    cycle_id: intId,
    sleep_id: uuid,
    user_id: userId,
    created_at: timestamp,
    updated_at: timestamp,
  },
  recoveryScoreSchema,
);
export type WhoopRecovery = z.infer<typeof recoverySchema>;

export const zoneDurationsSchema = z.looseObject({
  zone_zero_milli: millis.nullish(),
  zone_one_milli: millis.nullish(),
  zone_two_milli: millis.nullish(),
  zone_three_milli: millis.nullish(),
  zone_four_milli: millis.nullish(),
  zone_five_milli: millis.nullish(),
});

export const workoutScoreSchema = z.looseObject({
  strain: finite(0, 21),
  average_heart_rate: heartRate,
  max_heart_rate: heartRate,
  kilojoule: finite(0, 1_000_000),
  // documented 0-100, observed 0-1 (1.0 for a full recording): see normalizePercentRecorded
  percent_recorded: z.number().min(0).max(100),
  distance_meter: finite(0, 10_000_000).nullish(),
  altitude_gain_meter: finite(-100_000, 100_000).nullish(),
  altitude_change_meter: finite(-100_000, 100_000).nullish(),
  zone_durations: zoneDurationsSchema,
});

export const workoutSchema = scored(
  {
    id: uuid,
    v1_id: z.number().int().max(Number.MAX_SAFE_INTEGER).nullish(),
    user_id: userId,
    created_at: timestamp,
    updated_at: timestamp,
    start: timestamp,
    end: timestamp,
    timezone_offset: timezoneOffset,
    sport_name: text(100),
    sport_id: z.number().int().min(-1).max(INT4_MAX).nullish(),
  },
  workoutScoreSchema,
);
export type WhoopWorkout = z.infer<typeof workoutSchema>;

export function collectionPageSchema<T extends z.ZodType>(record: T) {
  return z.looseObject({
    records: z.array(record),
    // a missing, null or empty next_token ends the listing
    next_token: z.string().nullish(),
  });
}
export const cyclePageSchema = collectionPageSchema(cycleSchema);
export const sleepPageSchema = collectionPageSchema(sleepSchema);
export const recoveryPageSchema = collectionPageSchema(recoverySchema);
export const workoutPageSchema = collectionPageSchema(workoutSchema);
export type WhoopPage<T> = { records: T[]; next_token?: string | null | undefined };

export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  // only when `offline` was granted (and, observed, only when the refresh asked for scope=offline)
  refresh_token: z.string().min(1).optional(),
  scope: z.string(),
  token_type: z.string().regex(/^bearer$/i),
});
export type WhoopTokenResponse = z.infer<typeof tokenResponseSchema>;

export const oauthErrorSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().optional(),
  error_hint: z.string().optional(),
  status_code: z.number().int().optional(),
});
export type WhoopOAuthError = z.infer<typeof oauthErrorSchema>;

export const WEBHOOK_EVENT_TYPES = [
  'workout.updated',
  'workout.deleted',
  'sleep.updated',
  'sleep.deleted',
  'recovery.updated',
  'recovery.deleted',
] as const;
export type WhoopWebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const webhookEventSchema = z.looseObject({
  user_id: userId,
  // for recovery events this is the SLEEP's id
  id: uuid,
  type: z.enum(WEBHOOK_EVENT_TYPES),
  trace_id: z.string().min(1).max(200),
});
export type WhoopWebhookEvent = z.infer<typeof webhookEventSchema>;

/** percent_recorded arrives as 0-100 (documented) or 0-1 (observed); returns 0-100. */
export function normalizePercentRecorded(value: number): number {
  return value <= 1 ? value * 100 : value;
}
