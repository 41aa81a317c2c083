// Turns day plans into WHOOP v2 records as WHOOP would show them at instant `t`: records appear
// when they begin, grow while in progress, stay PENDING_SCORE until scored, and the current cycle
// has no `end` and a rising strain.
import type {
  ScoreState,
  WhoopBodyMeasurement,
  WhoopCycle,
  WhoopProfile,
  WhoopRecovery,
  WhoopSleep,
  WhoopWorkout,
} from '../services/whoop/schemas.ts';
import {
  currentDay,
  type DayPlan,
  type MemberSpec,
  memberNames,
  memberTraits,
  planDay,
  type SleepMix,
  type SleepPlan,
  type Traits,
  type WorkoutMix,
  type WorkoutPlan,
} from './plans.ts';
import { hashSeed, Prng } from './prng.ts';
import { HOUR_MS, iso, MINUTE_MS } from './time.ts';

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

export interface Stamp {
  createdAt: number;
  updatedAt: number;
}

export function sleepScore(mix: SleepMix, start: number, end: number, nap: boolean) {
  const inBed = Math.max(0, end - start);
  const noData = Math.min(mix.noDataMs, Math.floor(inBed * 0.1));
  const awake = Math.round(inBed * mix.awakeFrac);
  const asleep = Math.max(0, inBed - awake - noData);
  const slowWave = Math.round(asleep * mix.swsFrac);
  const rem = Math.round(asleep * mix.remFrac);
  const light = asleep - slowWave - rem;
  const need = mix.needBaseline + mix.needDebt + mix.needStrain + mix.needNap;
  return {
    stage_summary: {
      total_in_bed_time_milli: inBed,
      total_awake_time_milli: awake,
      total_no_data_time_milli: noData,
      total_light_sleep_time_milli: light,
      total_slow_wave_sleep_time_milli: slowWave,
      total_rem_sleep_time_milli: rem,
      sleep_cycle_count: Math.max(nap ? 0 : 1, Math.round(asleep / (90 * MINUTE_MS))),
      disturbance_count: Math.round((mix.disturbancesPerHour * inBed) / HOUR_MS),
    },
    sleep_needed: {
      baseline_milli: mix.needBaseline,
      need_from_sleep_debt_milli: mix.needDebt,
      need_from_recent_strain_milli: mix.needStrain,
      need_from_recent_nap_milli: mix.needNap,
    },
    respiratory_rate: mix.respiratoryRate,
    sleep_performance_percentage: mix.performanceNull
      ? null
      : Math.min(100, Math.round((asleep / need) * 100)),
    sleep_consistency_percentage: mix.consistency,
    sleep_efficiency_percentage: inBed > 0 ? round((asleep / inBed) * 100, 6) : 0,
  };
}

const ZONES = ['zero', 'one', 'two', 'three', 'four', 'five'] as const;

export function workoutScore(mix: WorkoutMix, start: number, end: number) {
  const duration = Math.max(0, end - start);
  const hours = duration / HOUR_MS;
  const zoneValues = mix.zoneFracs.map((f) => Math.floor(duration * f));
  // zone zero takes the rounding remainder so that the zones add up to the duration
  zoneValues[0] = duration - zoneValues.slice(1).reduce((a, b) => a + b, 0);
  const zone_durations = Object.fromEntries(ZONES.map((z, i) => [`zone_${z}_milli`, zoneValues[i] ?? 0]));
  const distance = mix.sport.speed !== null ? round(mix.sport.speed * (duration / 1000), 3) : null;
  const score: Record<string, unknown> = {
    strain: round(21 * (1 - Math.exp(-mix.sport.intensity * 0.9 * hours)), 4),
    average_heart_rate: mix.avgHr,
    max_heart_rate: mix.maxHr,
    kilojoule: round(mix.kjPerHour * hours, 3),
    percent_recorded: mix.percentRecorded,
  };
  if (mix.distance === 'value') score.distance_meter = distance;
  if (mix.distance === 'null') score.distance_meter = null;
  if (mix.altitudePerKm !== null && distance !== null) {
    score.altitude_gain_meter = round((distance / 1000) * mix.altitudePerKm, 3);
    score.altitude_change_meter = round((distance / 1000) * mix.altitudePerKm * 0.1, 3);
  }
  score.zone_durations = zone_durations;
  return score as WhoopWorkoutScore;
}
type WhoopWorkoutScore = Extract<WhoopWorkout, { score_state: 'SCORED' }>['score'];

export function buildSleep(
  spec: MemberSpec,
  plan: SleepPlan,
  end: number,
  state: ScoreState,
  stamp: Stamp,
): WhoopSleep {
  const base = {
    id: plan.id,
    cycle_id: plan.cycleId,
    v1_id: null,
    user_id: spec.userId,
    created_at: iso(stamp.createdAt),
    updated_at: iso(stamp.updatedAt),
    start: iso(plan.start),
    end: iso(end),
    timezone_offset: spec.timezoneOffset,
    nap: plan.nap,
  };
  if (state !== 'SCORED') return { ...base, score_state: state } satisfies WhoopSleep;
  return {
    ...base,
    score_state: 'SCORED',
    score: sleepScore(plan.mix, plan.start, end, plan.nap),
  } satisfies WhoopSleep;
}

export function buildWorkout(
  spec: MemberSpec,
  plan: WorkoutPlan,
  end: number,
  state: ScoreState,
  stamp: Stamp,
): WhoopWorkout {
  const base = {
    id: plan.id,
    v1_id: null,
    user_id: spec.userId,
    created_at: iso(stamp.createdAt),
    updated_at: iso(stamp.updatedAt),
    start: iso(plan.start),
    end: iso(end),
    timezone_offset: spec.timezoneOffset,
    sport_name: plan.mix.sport.name,
    sport_id: plan.mix.sport.id,
  };
  if (state !== 'SCORED') return { ...base, score_state: state } satisfies WhoopWorkout;
  return {
    ...base,
    score_state: 'SCORED',
    score: workoutScore(plan.mix, plan.start, end),
  } satisfies WhoopWorkout;
}

/** Score state and last change of an activity as seen at `t`. */
export function activityStatus(
  plan: SleepPlan | WorkoutPlan,
  t: number,
): { state: ScoreState; updatedAt: number } {
  if (plan.end > t) {
    const live = plan.kind === 'workout' && plan.scoredWhileInProgress;
    return { state: live ? 'SCORED' : 'PENDING_SCORE', updatedAt: t };
  }
  if (plan.kind === 'workout' && plan.scoredWhileInProgress) return { state: 'SCORED', updatedAt: plan.end };
  const scoredAt = plan.end + plan.scoreDelay;
  if (t >= scoredAt) return { state: plan.unscorable ? 'UNSCORABLE' : 'SCORED', updatedAt: scoredAt };
  return { state: 'PENDING_SCORE', updatedAt: plan.end };
}

export function sleepAt(spec: MemberSpec, plan: SleepPlan, t: number): WhoopSleep | undefined {
  if (t < plan.visibleFrom) return undefined;
  const { state, updatedAt } = activityStatus(plan, t);
  return buildSleep(spec, plan, Math.min(plan.end, t), state, { createdAt: plan.visibleFrom, updatedAt });
}

export function workoutAt(spec: MemberSpec, plan: WorkoutPlan, t: number): WhoopWorkout | undefined {
  if (t < plan.visibleFrom) return undefined;
  const { state, updatedAt } = activityStatus(plan, t);
  return buildWorkout(spec, plan, Math.min(plan.end, t), state, { createdAt: plan.visibleFrom, updatedAt });
}

export function buildRecovery(
  spec: MemberSpec,
  day: DayPlan,
  sleepId: string,
  state: ScoreState,
  stamp: Stamp,
): WhoopRecovery {
  const base = {
    cycle_id: day.cycleId,
    sleep_id: sleepId,
    user_id: spec.userId,
    created_at: iso(stamp.createdAt),
    updated_at: iso(Math.max(stamp.createdAt, stamp.updatedAt)),
  };
  if (state !== 'SCORED') return { ...base, score_state: state };
  const r = day.recovery;
  return {
    ...base,
    score_state: 'SCORED',
    score: {
      user_calibrating: r.calibrating,
      recovery_score: r.recoveryScore,
      resting_heart_rate: r.restingHr,
      hrv_rmssd_milli: r.hrv,
      spo2_percentage: r.spo2,
      skin_temp_celsius: r.skinTemp,
    },
  };
}

/** A recovery exists once its main sleep has ended; it follows the sleep's score state. */
export function recoveryAt(spec: MemberSpec, day: DayPlan, sleep: WhoopSleep | undefined, t: number) {
  if (!sleep || day.sleep.end > t) return undefined;
  return buildRecovery(spec, day, sleep.id, sleep.score_state, {
    createdAt: day.sleep.end,
    updatedAt: Date.parse(sleep.updated_at),
  });
}

export function cycleAt(spec: MemberSpec, day: DayPlan, t: number): WhoopCycle | undefined {
  if (t < day.start) return undefined;
  const ended = day.end <= t;
  const progress = Math.min(1, (Math.min(t, day.end) - day.start) / (day.end - day.start));
  return {
    id: day.cycleId,
    user_id: spec.userId,
    created_at: iso(day.start),
    updated_at: iso(ended ? day.end : t),
    start: iso(day.start),
    // the current cycle has no `end` key at all
    ...(ended ? { end: iso(day.end) } : {}),
    timezone_offset: spec.timezoneOffset,
    score_state: 'SCORED',
    score: {
      strain: round(day.cycle.strain * Math.sqrt(progress), 4),
      kilojoule: round(day.cycle.kilojoule * progress, 3),
      average_heart_rate: day.cycle.avgHr,
      max_heart_rate: day.cycle.maxHr,
    },
  };
}

export interface DayRecords {
  cycle?: WhoopCycle | undefined;
  sleeps: WhoopSleep[];
  recovery?: WhoopRecovery | undefined;
  workouts: WhoopWorkout[];
}

export function materializeDay(spec: MemberSpec, day: DayPlan, t: number): DayRecords {
  const main = sleepAt(spec, day.sleep, t);
  const sleeps = [main, ...day.naps.map((n) => sleepAt(spec, n, t))].filter((s) => s !== undefined);
  return {
    cycle: cycleAt(spec, day, t),
    sleeps,
    recovery: recoveryAt(spec, day, main, t),
    workouts: day.workouts.map((w) => workoutAt(spec, w, t)).filter((w) => w !== undefined),
  };
}

/** True once nothing on this day can change with time alone. */
export function dayIsSettled(day: DayPlan, t: number): boolean {
  if (day.end > t) return false;
  const activities: Array<SleepPlan | WorkoutPlan> = [day.sleep, ...day.naps, ...day.workouts];
  return activities.every(
    (a) => a.end <= t && (a.scoreDelay === Number.POSITIVE_INFINITY || a.end + a.scoreDelay <= t),
  );
}

export interface NewMemberInput {
  userId: number;
  seed: number;
  days: number;
  timezoneOffset: string;
  now: number;
  email?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  withNaps?: boolean | undefined;
  withBody?: boolean | undefined;
  inProgress?: boolean | undefined;
}

export function memberSpec(input: NewMemberInput): { spec: MemberSpec; traits: Traits } {
  const traits = memberTraits(input.seed);
  const names = memberNames(input.seed);
  const spec: MemberSpec = {
    userId: input.userId,
    seed: input.seed,
    email: input.email ?? `member${input.userId}@example.test`,
    firstName: input.firstName ?? names.firstName,
    lastName: input.lastName ?? names.lastName,
    timezoneOffset: input.timezoneOffset,
    withNaps: input.withNaps ?? true,
    withBody: input.withBody ?? true,
    firstDay: 0,
    liveWorkout: input.inProgress
      ? {
          id: new Prng(hashSeed(input.seed, 'live-id')).uuid(),
          start: input.now - 25 * MINUTE_MS,
          end: input.now + 35 * MINUTE_MS,
        }
      : undefined,
  };
  spec.firstDay = currentDay(spec, traits, input.now) - (input.days - 1);
  return { spec, traits };
}

export function profileOf(spec: MemberSpec): WhoopProfile {
  return { user_id: spec.userId, email: spec.email, first_name: spec.firstName, last_name: spec.lastName };
}

export function bodyOf(spec: MemberSpec, traits: Traits): WhoopBodyMeasurement | undefined {
  if (!spec.withBody) return undefined;
  return { height_meter: traits.heightM, weight_kilogram: traits.weightKg, max_heart_rate: traits.maxHr };
}

export interface MemberHistory {
  profile: WhoopProfile;
  body_measurement: WhoopBodyMeasurement | null;
  cycles: WhoopCycle[];
  sleeps: WhoopSleep[];
  recoveries: WhoopRecovery[];
  workouts: WhoopWorkout[];
}

/** The whole history of a new member as seen at `now`; pure, for tests and the store. */
export function generateHistory(input: NewMemberInput): MemberHistory {
  const { spec, traits } = memberSpec(input);
  const last = currentDay(spec, traits, input.now);
  const history: MemberHistory = {
    profile: profileOf(spec),
    body_measurement: bodyOf(spec, traits) ?? null,
    cycles: [],
    sleeps: [],
    recoveries: [],
    workouts: [],
  };
  for (let d = spec.firstDay; d <= last; d++) {
    const records = materializeDay(spec, planDay(spec, traits, d), input.now);
    if (records.cycle) history.cycles.push(records.cycle);
    if (records.recovery) history.recoveries.push(records.recovery);
    history.sleeps.push(...records.sleeps);
    history.workouts.push(...records.workouts);
  }
  // newest first, as the API and the store's ground truth list them
  const byStart = <T extends { start: string }>(a: T, b: T) => Date.parse(b.start) - Date.parse(a.start);
  history.cycles.sort(byStart);
  history.sleeps.sort(byStart);
  history.workouts.sort(byStart);
  history.recoveries.reverse();
  return history;
}
