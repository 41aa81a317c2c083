import type { DatabasePool } from '../db/pool.ts';
import { addDays, type LocalDate, localDateOf } from '../local-time.ts';
import type { Clock, Owner } from '../manual-logs/fields.ts';
import type { SleepEntry, SleepLog } from '../manual-logs/sleep-log.ts';
import type { WorkoutLog } from '../manual-logs/workout-log.ts';
import { type DayWorkout, mergeDayWorkouts } from './day-workouts.ts';
import { createWearableActivity, type DailyStrain } from './wearable-activity.ts';
import { createWearableSleep, type WearableSleep } from './wearable-sleep.ts';
import { createWhoopLink } from './whoop-link.ts';

export type { DayWorkout } from './day-workouts.ts';

export const PROGRESS_RANGES = [7, 30, 90] as const;
export type ProgressRange = (typeof PROGRESS_RANGES)[number];
export const SLEEP_PAGE_NIGHTS = 14;

export type TodaySleep =
  | { source: 'wearable'; night: WearableSleep | null }
  | { source: 'manual'; entries: readonly SleepEntry[] };

export interface DashboardData {
  today: LocalDate;
  linked: boolean;
  sleep: TodaySleep;
  /** Today's cycle, when WHOOP is linked and has one. */
  strain: DailyStrain | null;
  workouts: DayWorkout[];
}

export interface SleepPageData {
  linked: boolean;
  from: LocalDate;
  to: LocalDate;
  today: LocalDate;
  nights: WearableSleep[];
  naps: WearableSleep[];
  manual: readonly SleepEntry[];
  /** `until` of the page before (earlier nights) and after (later nights; null when this one ends today). */
  olderUntil: LocalDate;
  newerUntil: LocalDate | null;
}

export interface ExercisesPageData {
  date: LocalDate;
  today: LocalDate;
  workouts: DayWorkout[];
}

export interface ProgressData {
  range: ProgressRange;
  from: LocalDate;
  to: LocalDate;
  linked: boolean;
  /** Primary sleep per night with its recovery (WHOOP linked), oldest first. */
  nights: WearableSleep[];
  strain: readonly DailyStrain[];
  /** Manual entries (not linked), oldest first. */
  manualSleep: SleepEntry[];
}

const none: readonly never[] = [];
const minDate = (a: LocalDate, b: LocalDate) => (a < b ? a : b);

// Page-level reads: each page is a handful of indexed queries run side by side, never one per row.
export function createHealthPages(deps: {
  pool: DatabasePool;
  now: Clock;
  whoopEnabled: boolean;
  sleepLog: SleepLog;
  workoutLog: WorkoutLog;
}) {
  const { pool, now, sleepLog, workoutLog } = deps;
  const link = createWhoopLink({ pool, whoopEnabled: deps.whoopEnabled });
  const wearableSleep = createWearableSleep({ pool });
  const activity = createWearableActivity({ pool });
  const todayFor = (owner: Owner) => localDateOf(now(), owner.time_zone);

  async function dayWorkouts(userId: number, date: LocalDate, linked: boolean): Promise<DayWorkout[]> {
    const [sessions, workouts] = await Promise.all([
      workoutLog.listDay(userId, date),
      linked ? activity.workoutsOn(userId, date) : none,
    ]);
    return mergeDayWorkouts(sessions, workouts);
  }

  return {
    todayFor,

    async dashboard(owner: Owner): Promise<DashboardData> {
      const today = todayFor(owner);
      const linked = await link.isLinked(owner.id);
      const [sleep, strain, workouts] = await Promise.all([
        linked
          ? wearableSleep
              .between(owner.id, today, today)
              .then(({ nights }): TodaySleep => ({ source: 'wearable', night: nights[0] ?? null }))
          : sleepLog
              .list(owner.id, today, today)
              .then((entries): TodaySleep => ({ source: 'manual', entries })),
        linked ? activity.strainBetween(owner.id, today, today).then((rows) => rows[0] ?? null) : null,
        dayWorkouts(owner.id, today, linked),
      ]);
      return { today, linked, sleep, strain, workouts };
    },

    /** The SLEEP_PAGE_NIGHTS nights ending on `until` (default: today). */
    async sleep(owner: Owner, until: LocalDate | undefined): Promise<SleepPageData> {
      const today = todayFor(owner);
      const to = until && until < today ? until : today;
      const from = addDays(to, -(SLEEP_PAGE_NIGHTS - 1));
      const pages = {
        olderUntil: addDays(from, -1),
        newerUntil: to < today ? minDate(addDays(to, SLEEP_PAGE_NIGHTS), today) : null,
      };
      const linked = await link.isLinked(owner.id);
      if (linked) {
        const { nights, naps } = await wearableSleep.between(owner.id, from, to);
        return { linked, from, to, today, nights, naps, manual: none, ...pages };
      }
      const manual = await sleepLog.list(owner.id, from, to);
      return { linked, from, to, today, nights: [], naps: [], manual, ...pages };
    },

    async exercises(owner: Owner, date: LocalDate | undefined): Promise<ExercisesPageData> {
      const today = todayFor(owner);
      const day = date ?? today;
      const linked = await link.isLinked(owner.id);
      return { date: day, today, workouts: await dayWorkouts(owner.id, day, linked) };
    },

    /** The last `range` days, today included. */
    async progress(owner: Owner, range: ProgressRange): Promise<ProgressData> {
      const to = todayFor(owner);
      const from = addDays(to, -(range - 1));
      const linked = await link.isLinked(owner.id);
      if (linked) {
        const [{ nights }, strain] = await Promise.all([
          wearableSleep.between(owner.id, from, to),
          activity.strainBetween(owner.id, from, to),
        ]);
        return { range, from, to, linked, nights: nights.reverse(), strain, manualSleep: [] };
      }
      const manualSleep = [...(await sleepLog.list(owner.id, from, to))].reverse();
      return { range, from, to, linked, nights: [], strain: none, manualSleep };
    },

    /** Whether `id` is one of this person's wearable workouts (which are read-only). */
    wearableWorkoutOwnedBy: (userId: number, id: number) => activity.workoutOwnedBy(userId, id),
  };
}

export type HealthPages = ReturnType<typeof createHealthPages>;
