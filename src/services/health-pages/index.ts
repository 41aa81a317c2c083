import type { DatabasePool } from '../db/pool.ts';
import { addDays, type LocalDate, localDateOf } from '../local-time.ts';
import type { Clock, Owner } from '../manual-logs/fields.ts';
import type { SleepEntry, SleepLog } from '../manual-logs/sleep-log.ts';
import type { WorkoutLog } from '../manual-logs/workout-log.ts';
import { type BodyMeasurement, createBodyMeasurements } from './body.ts';
import { type DayWorkout, mergeDayWorkouts } from './day-workouts.ts';
import { createWearableActivity, type DailyStrain } from './wearable-activity.ts';
import { createWearableSleep, type WearableSleep } from './wearable-sleep.ts';
import { createWhoopLink, earlierThrough, type WhoopFreshness, whoopOn, whoopSpan } from './whoop-link.ts';

export type { BodyMeasurement } from './body.ts';
export type { DayWorkout } from './day-workouts.ts';
export type { WhoopFreshness } from './whoop-link.ts';

// 365: the whole backfill (a year), charted by week.
export const PROGRESS_RANGES = [7, 30, 90, 365] as const;
export type ProgressRange = (typeof PROGRESS_RANGES)[number];
export const SLEEP_PAGE_NIGHTS = 14;

export type TodaySleep =
  | { source: 'wearable'; night: WearableSleep | null }
  | { source: 'manual'; entries: readonly SleepEntry[] };

export interface DashboardData {
  today: LocalDate;
  /** WHOOP is linked now */
  linked: boolean;
  /** today shows WHOOP data (a live link, or the day of a Disconnect) */
  whoopToday: boolean;
  /** the last date of the earlier link's data, when today's WHOOP data comes from it */
  earlierThrough: LocalDate | null;
  sleep: TodaySleep;
  /** Today's cycle, when today shows WHOOP data and WHOOP has one. */
  strain: DailyStrain | null;
  workouts: DayWorkout[];
  /** How fresh the WHOOP data shown is (null: the page shows none) */
  freshness: WhoopFreshness | null;
}

export interface SleepPageData {
  linked: boolean;
  /** After a Disconnect: the last date of the earlier link's nights (shown read-only), else null */
  earlierThrough: LocalDate | null;
  from: LocalDate;
  to: LocalDate;
  today: LocalDate;
  nights: WearableSleep[];
  naps: WearableSleep[];
  /** The sleep log (not linked): every entry of these nights, the person's own to edit. */
  manual: readonly SleepEntry[];
  /** `until` of the page before (earlier nights) and after (later nights; null when this one ends today). */
  olderUntil: LocalDate;
  newerUntil: LocalDate | null;
  /** How fresh the WHOOP data shown is (null: the page shows none) */
  freshness: WhoopFreshness | null;
}

export interface ExercisesPageData {
  date: LocalDate;
  today: LocalDate;
  /** the last date of the earlier link's data, when this day's WHOOP workouts come from it */
  earlierThrough: LocalDate | null;
  workouts: DayWorkout[];
  /** How fresh the WHOOP data shown is (null: the page shows none) */
  freshness: WhoopFreshness | null;
}

export interface ProgressData {
  /** How fresh the WHOOP data shown is (null: the page shows none) */
  freshness: WhoopFreshness | null;
  range: ProgressRange;
  from: LocalDate;
  to: LocalDate;
  linked: boolean;
  /** After a Disconnect: the last date WHOOP series cover (the earlier link's), else null */
  earlierThrough: LocalDate | null;
  /** Primary sleep per night with its recovery (the dates that show WHOOP data), oldest first. */
  nights: WearableSleep[];
  strain: readonly DailyStrain[];
  /** Manual entries (the dates that do not show WHOOP data), oldest first. */
  manualSleep: SleepEntry[];
  /** WHOOP's current body measurement (the earlier link's after a Disconnect), or null when it has none. */
  body: BodyMeasurement | null;
}

const none: readonly never[] = [];
const minDate = (a: LocalDate, b: LocalDate) => (a < b ? a : b);
/** A page speaks of freshness only when it shows WHOOP data. */
const freshnessIf = (showsWhoop: boolean, freshness: WhoopFreshness | null) =>
  showsWhoop ? freshness : null;

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
  const bodyMeasurements = createBodyMeasurements({ pool });
  const todayFor = (owner: Owner) => localDateOf(now(), owner.time_zone);

  async function dayWorkouts(userId: number, date: LocalDate, withWhoop: boolean): Promise<DayWorkout[]> {
    const [sessions, workouts] = await Promise.all([
      workoutLog.listDay(userId, date),
      withWhoop ? activity.workoutsOn(userId, date) : none,
    ]);
    return mergeDayWorkouts(sessions, workouts);
  }

  return {
    todayFor,

    async dashboard(owner: Owner): Promise<DashboardData> {
      const today = todayFor(owner);
      const { shown, freshness } = await link.state(owner);
      const whoopToday = whoopOn(shown, today);
      const [sleep, strain, workouts] = await Promise.all([
        whoopToday
          ? wearableSleep
              .between(owner.id, today, today)
              .then(({ nights }): TodaySleep => ({ source: 'wearable', night: nights[0] ?? null }))
          : sleepLog
              .list(owner.id, today, today)
              .then((entries): TodaySleep => ({ source: 'manual', entries })),
        whoopToday ? activity.strainBetween(owner.id, today, today).then((rows) => rows[0] ?? null) : null,
        dayWorkouts(owner.id, today, whoopToday),
      ]);
      const linked = shown.kind === 'linked';
      return {
        today,
        linked,
        whoopToday,
        earlierThrough: earlierThrough(shown, today),
        sleep,
        strain,
        workouts,
        freshness: freshnessIf(whoopToday, freshness),
      };
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
      const { shown, freshness } = await link.state(owner);
      const span = whoopSpan(shown, from, to);
      const linked = shown.kind === 'linked';
      const [{ nights, naps }, manual] = await Promise.all([
        span ? wearableSleep.between(owner.id, span.from, span.to) : { nights: [], naps: [] },
        linked ? none : sleepLog.list(owner.id, from, to),
      ]);
      const earlier = span && shown.kind === 'earlier' ? shown.through : null;
      const showsWhoop = linked || (earlier !== null && (nights.length > 0 || naps.length > 0));
      const freshnessShown = freshnessIf(showsWhoop, freshness);
      return {
        linked,
        earlierThrough: earlier,
        from,
        to,
        today,
        nights,
        naps,
        manual,
        ...pages,
        freshness: freshnessShown,
      };
    },

    async exercises(owner: Owner, date: LocalDate | undefined): Promise<ExercisesPageData> {
      const today = todayFor(owner);
      const day = date ?? today;
      const { shown, freshness } = await link.state(owner);
      const withWhoop = whoopOn(shown, day);
      const workouts = await dayWorkouts(owner.id, day, withWhoop);
      return {
        date: day,
        today,
        earlierThrough: earlierThrough(shown, day),
        workouts,
        freshness: freshnessIf(withWhoop, freshness),
      };
    },

    /** The last `range` days, today included. */
    async progress(owner: Owner, range: ProgressRange): Promise<ProgressData> {
      const to = todayFor(owner);
      const from = addDays(to, -(range - 1));
      const { shown, freshness } = await link.state(owner);
      const linked = shown.kind === 'linked';
      const span = whoopSpan(shown, from, to);
      // Manual entries chart the dates after the WHOOP span (all of them when there is none).
      const manualFrom = span ? addDays(span.to, 1) : from;
      const [{ nights }, strain, manual, body] = await Promise.all([
        span ? wearableSleep.between(owner.id, span.from, span.to) : { nights: [] },
        span ? activity.strainBetween(owner.id, span.from, span.to) : none,
        manualFrom <= to ? sleepLog.list(owner.id, manualFrom, to) : none,
        shown.kind === 'none' ? null : bodyMeasurements.current(owner.id),
      ]);
      const earlier = span && shown.kind === 'earlier' ? shown.through : null;
      return {
        freshness: freshnessIf(span !== undefined, freshness),
        range,
        from,
        to,
        linked,
        earlierThrough: earlier,
        nights: nights.reverse(),
        strain,
        manualSleep: [...manual].reverse(),
        body,
      };
    },

    /** Whether `id` is one of this person's wearable workouts (which are read-only). */
    wearableWorkoutOwnedBy: (userId: number, id: number) => activity.workoutOwnedBy(userId, id),
  };
}

export type HealthPages = ReturnType<typeof createHealthPages>;
