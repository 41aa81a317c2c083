import type { WorkoutSession } from '../manual-logs/workout-log.ts';
import type { WearableWorkout } from './wearable-activity.ts';

/** One line of a day's workout list: sources side by side, never merged or de-duplicated. */
export type DayWorkout =
  | { source: 'manual'; startAt: Date; session: WorkoutSession }
  | { source: 'wearable'; startAt: Date; workout: WearableWorkout };

export function mergeDayWorkouts(
  sessions: readonly WorkoutSession[],
  workouts: readonly WearableWorkout[],
): DayWorkout[] {
  const lines: DayWorkout[] = [
    ...sessions.map((session) => ({ source: 'manual' as const, startAt: session.start_at, session })),
    ...workouts.map((workout) => ({ source: 'wearable' as const, startAt: workout.start_at, workout })),
  ];
  // Array.prototype.sort is stable: at the same instant, manual entries stay first.
  return lines.sort((a, b) => a.startAt.getTime() - b.startAt.getTime());
}
