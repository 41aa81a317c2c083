// WHOOP v2 records -> rows of the provider-agnostic integration_* tables (sql/004_wearable_data.sql).
// Pure functions. Local dates follow DESIGN.md "Time": a sleep's END, a workout's or cycle's START,
// each shifted by the record's own offset, never the server's zone. Recovery has no offset: the
// store takes start, end, offset and date from its sleep's row.
import {
  normalizePercentRecorded,
  type WhoopBodyMeasurement,
  type WhoopCycle,
  type WhoopRecovery,
  type WhoopSleep,
  type WhoopWorkout,
} from '../schemas.ts';

const MINUTE_MS = 60_000;

type Extras = Record<string, unknown>;

/** '+05:30' -> 330, '-10:00' -> -600, 'Z' -> 0 */
export function offsetMinutes(offset: string): number {
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(offset);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

/** The calendar date ('YYYY-MM-DD') of `instant` on a clock `offset` minutes from UTC. */
export function localDateAt(instant: string, offset: number): string {
  return new Date(Date.parse(instant) + offset * MINUTE_MS).toISOString().slice(0, 10);
}

const intOrNull = (value: number | null | undefined) =>
  value === null || value === undefined ? null : Math.round(value);
const numberOrNull = (value: number | null | undefined) =>
  value === null || value === undefined ? null : value;

/** Fields WHOOP adds later (the schemas let unknown keys through) are kept in extras. */
function unknownFields(record: Record<string, unknown>, known: readonly string[]): Extras {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !known.includes(key)));
}

export interface CycleRow {
  external_id: string;
  start_at: string;
  end_at: string | null;
  utc_offset_minutes: number;
  local_date: string;
  score_state: string;
  strain: number | null;
  kilojoules: number | null;
  average_heart_rate: number | null;
  max_heart_rate: number | null;
  extras: Extras;
  provider_updated_at: string;
}

const CYCLE_KEYS = [
  'id',
  'user_id',
  'created_at',
  'updated_at',
  'start',
  'end',
  'timezone_offset',
  'score_state',
  'score',
];

export function cycleRow(cycle: WhoopCycle): CycleRow {
  const offset = offsetMinutes(cycle.timezone_offset);
  const score = cycle.score_state === 'SCORED' ? cycle.score : undefined;
  return {
    external_id: String(cycle.id),
    start_at: cycle.start,
    end_at: cycle.end ?? null,
    utc_offset_minutes: offset,
    local_date: localDateAt(cycle.start, offset),
    score_state: cycle.score_state,
    strain: numberOrNull(score?.strain),
    kilojoules: numberOrNull(score?.kilojoule),
    average_heart_rate: intOrNull(score?.average_heart_rate),
    max_heart_rate: intOrNull(score?.max_heart_rate),
    extras: {
      timezone_offset: cycle.timezone_offset,
      created_at: cycle.created_at,
      ...unknownFields(cycle, CYCLE_KEYS),
    },
    provider_updated_at: cycle.updated_at,
  };
}

export interface SleepRow {
  external_id: string;
  cycle_external_id: string;
  start_at: string;
  end_at: string;
  utc_offset_minutes: number;
  local_date: string;
  is_nap: boolean;
  score_state: string;
  in_bed_ms: number | null;
  awake_ms: number | null;
  no_data_ms: number | null;
  light_ms: number | null;
  deep_ms: number | null;
  rem_ms: number | null;
  asleep_ms: number | null;
  sleep_cycle_count: number | null;
  disturbance_count: number | null;
  sleep_need_ms: number | null;
  performance_pct: number | null;
  consistency_pct: number | null;
  efficiency_pct: number | null;
  respiratory_rate: number | null;
  extras: Extras;
  provider_updated_at: string;
}

const SLEEP_KEYS = [
  'id',
  'cycle_id',
  'v1_id',
  'user_id',
  'created_at',
  'updated_at',
  'start',
  'end',
  'timezone_offset',
  'nap',
  'score_state',
  'score',
];

export function sleepRow(sleep: WhoopSleep): SleepRow {
  const offset = offsetMinutes(sleep.timezone_offset);
  const score = sleep.score_state === 'SCORED' ? sleep.score : undefined;
  const stages = score?.stage_summary;
  const need = score?.sleep_needed;
  return {
    external_id: sleep.id,
    cycle_external_id: String(sleep.cycle_id),
    start_at: sleep.start,
    end_at: sleep.end,
    utc_offset_minutes: offset,
    // A night belongs to the morning it ends.
    local_date: localDateAt(sleep.end, offset),
    is_nap: sleep.nap,
    score_state: sleep.score_state,
    in_bed_ms: stages?.total_in_bed_time_milli ?? null,
    awake_ms: stages?.total_awake_time_milli ?? null,
    no_data_ms: stages?.total_no_data_time_milli ?? null,
    light_ms: stages?.total_light_sleep_time_milli ?? null,
    deep_ms: stages?.total_slow_wave_sleep_time_milli ?? null,
    rem_ms: stages?.total_rem_sleep_time_milli ?? null,
    asleep_ms: stages
      ? stages.total_light_sleep_time_milli +
        stages.total_slow_wave_sleep_time_milli +
        stages.total_rem_sleep_time_milli
      : null,
    sleep_cycle_count: stages?.sleep_cycle_count ?? null,
    disturbance_count: stages?.disturbance_count ?? null,
    sleep_need_ms: need
      ? need.baseline_milli +
        need.need_from_sleep_debt_milli +
        need.need_from_recent_strain_milli +
        need.need_from_recent_nap_milli
      : null,
    performance_pct: numberOrNull(score?.sleep_performance_percentage),
    consistency_pct: numberOrNull(score?.sleep_consistency_percentage),
    efficiency_pct: numberOrNull(score?.sleep_efficiency_percentage),
    respiratory_rate: numberOrNull(score?.respiratory_rate),
    extras: {
      timezone_offset: sleep.timezone_offset,
      created_at: sleep.created_at,
      v1_id: sleep.v1_id ?? null,
      sleep_needed: need ?? null,
      ...unknownFields(sleep, SLEEP_KEYS),
    },
    provider_updated_at: sleep.updated_at,
  };
}

export interface RecoveryRow {
  external_id: string;
  sleep_external_id: string;
  score_state: string;
  recovery_score: number | null;
  resting_heart_rate: number | null;
  hrv_rmssd_ms: number | null;
  spo2_pct: number | null;
  skin_temp_celsius: number | null;
  user_calibrating: boolean | null;
  extras: Extras;
  provider_updated_at: string;
}

const RECOVERY_KEYS = ['cycle_id', 'sleep_id', 'user_id', 'created_at', 'updated_at', 'score_state', 'score'];

export function recoveryRow(recovery: WhoopRecovery): RecoveryRow {
  const score = recovery.score_state === 'SCORED' ? recovery.score : undefined;
  return {
    // WHOOP recoveries have no id: the cycle is the key.
    external_id: String(recovery.cycle_id),
    sleep_external_id: recovery.sleep_id,
    score_state: recovery.score_state,
    recovery_score: numberOrNull(score?.recovery_score),
    resting_heart_rate: numberOrNull(score?.resting_heart_rate),
    hrv_rmssd_ms: numberOrNull(score?.hrv_rmssd_milli),
    spo2_pct: numberOrNull(score?.spo2_percentage),
    skin_temp_celsius: numberOrNull(score?.skin_temp_celsius),
    user_calibrating: score?.user_calibrating ?? null,
    extras: { created_at: recovery.created_at, ...unknownFields(recovery, RECOVERY_KEYS) },
    provider_updated_at: recovery.updated_at,
  };
}

export interface WorkoutRow {
  external_id: string;
  start_at: string;
  end_at: string;
  utc_offset_minutes: number;
  local_date: string;
  sport_name: string;
  score_state: string;
  strain: number | null;
  kilojoules: number | null;
  average_heart_rate: number | null;
  max_heart_rate: number | null;
  percent_recorded: number | null;
  distance_meters: number | null;
  altitude_gain_meters: number | null;
  altitude_change_meters: number | null;
  extras: Extras;
  provider_updated_at: string;
}

const WORKOUT_KEYS = [
  'id',
  'v1_id',
  'user_id',
  'created_at',
  'updated_at',
  'start',
  'end',
  'timezone_offset',
  'sport_name',
  'sport_id',
  'score_state',
  'score',
];

export function workoutRow(workout: WhoopWorkout): WorkoutRow {
  const offset = offsetMinutes(workout.timezone_offset);
  const score = workout.score_state === 'SCORED' ? workout.score : undefined;
  return {
    external_id: workout.id,
    start_at: workout.start,
    end_at: workout.end,
    utc_offset_minutes: offset,
    local_date: localDateAt(workout.start, offset),
    sport_name: workout.sport_name,
    score_state: workout.score_state,
    strain: numberOrNull(score?.strain),
    kilojoules: numberOrNull(score?.kilojoule),
    average_heart_rate: intOrNull(score?.average_heart_rate),
    max_heart_rate: intOrNull(score?.max_heart_rate),
    // Documented 0-100, observed 0-1 (1.0 for a full recording).
    percent_recorded: score ? normalizePercentRecorded(score.percent_recorded) : null,
    distance_meters: numberOrNull(score?.distance_meter),
    altitude_gain_meters: numberOrNull(score?.altitude_gain_meter),
    altitude_change_meters: numberOrNull(score?.altitude_change_meter),
    extras: {
      timezone_offset: workout.timezone_offset,
      created_at: workout.created_at,
      v1_id: workout.v1_id ?? null,
      sport_id: workout.sport_id ?? null,
      zone_durations: score?.zone_durations ?? null,
      ...unknownFields(workout, WORKOUT_KEYS),
    },
    provider_updated_at: workout.updated_at,
  };
}

export interface BodyRow {
  external_id: string;
  height_meters: number;
  weight_kilograms: number;
  max_heart_rate: number;
  extras: Extras;
}

const BODY_KEYS = ['height_meter', 'weight_kilogram', 'max_heart_rate'];

/** WHOOP keeps one current measurement per member: the member id is its key. */
export function bodyRow(memberId: string, body: WhoopBodyMeasurement): BodyRow {
  return {
    external_id: memberId,
    height_meters: body.height_meter,
    weight_kilograms: body.weight_kilogram,
    max_heart_rate: Math.round(body.max_heart_rate),
    extras: unknownFields(body, BODY_KEYS),
  };
}
