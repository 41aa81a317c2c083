// A member's life as a pure function of (seed, local date): what happens on each day, in full.
// The generator turns a plan into WHOOP records as seen at a given instant, so the same plan
// yields partial records while they are in progress and complete ones afterwards.
import { hashSeed, Prng } from './prng.ts';
import { SPORTS, type Sport } from './sports.ts';
import { HOUR_MS, localMidnight, MINUTE_MS, offsetMinutes } from './time.ts';

export interface MemberSpec {
  userId: number;
  seed: number;
  email: string;
  firstName: string;
  lastName: string;
  timezoneOffset: string;
  withNaps: boolean;
  withBody: boolean;
  /** local date (days since epoch) of the first cycle */
  firstDay: number;
  /** a workout that is under way when the member is created */
  liveWorkout?: { id: string; start: number; end: number } | undefined;
}

export interface Traits {
  bedtimeMin: number;
  sleepNeedMs: number;
  restingHr: number;
  hrvBase: number;
  maxHr: number;
  heightM: number;
  weightKg: number;
  sports: Sport[];
}

export interface SleepMix {
  awakeFrac: number;
  noDataMs: number;
  swsFrac: number;
  remFrac: number;
  disturbancesPerHour: number;
  needBaseline: number;
  needDebt: number;
  needStrain: number;
  needNap: number;
  respiratoryRate: number | null;
  consistency: number | null;
  performanceNull: boolean;
}

export interface WorkoutMix {
  sport: Sport;
  avgHr: number;
  maxHr: number;
  kjPerHour: number;
  percentRecorded: number;
  zoneFracs: number[];
  distance: 'value' | 'null' | 'absent';
  altitudePerKm: number | null;
}

interface ActivityPlan {
  id: string;
  start: number;
  end: number;
  /** when WHOOP first shows the record (its created_at) */
  visibleFrom: number;
  /** ms after `end` until scoring finishes; Infinity = stays PENDING_SCORE until rescored */
  scoreDelay: number;
  unscorable: boolean;
}

export interface SleepPlan extends ActivityPlan {
  kind: 'sleep';
  cycleId: number;
  nap: boolean;
  mix: SleepMix;
}

export interface WorkoutPlan extends ActivityPlan {
  kind: 'workout';
  mix: WorkoutMix;
  /** a live workout shows a growing score while it is still going on */
  scoredWhileInProgress: boolean;
}

export interface RecoveryMix {
  recoveryScore: number;
  restingHr: number;
  hrv: number;
  spo2: number | null;
  skinTemp: number | null;
  calibrating: boolean;
}

export interface DayPlan {
  epochDay: number;
  cycleId: number;
  start: number;
  end: number;
  cycle: { strain: number; kilojoule: number; avgHr: number; maxHr: number };
  sleep: SleepPlan;
  recovery: RecoveryMix;
  naps: SleepPlan[];
  workouts: WorkoutPlan[];
}

const FIRST_NAMES = ['Ada', 'Bruno', 'Chiara', 'Dev', 'Emeka', 'Freya', 'Goro', 'Hana', 'Ines', 'Jonas'];
const LAST_NAMES = ['Okafor', 'Lindqvist', 'Moreau', 'Sato', 'Ferreira', 'Kowalski', 'Nair', 'Brennan'];

export function memberNames(seed: number): { firstName: string; lastName: string } {
  const p = new Prng(hashSeed(seed, 'names'));
  return { firstName: p.pick(FIRST_NAMES), lastName: p.pick(LAST_NAMES) };
}

export function memberTraits(seed: number): Traits {
  const p = new Prng(hashSeed(seed, 'traits'));
  const sports = p.shuffle(SPORTS).slice(0, p.int(3, 5));
  return {
    bedtimeMin: p.int(-120, -30),
    sleepNeedMs: p.int(450, 510) * MINUTE_MS,
    restingHr: p.int(46, 64),
    hrvBase: p.float(35, 110, 2),
    maxHr: p.int(176, 201),
    heightM: p.float(1.55, 1.95, 4),
    weightKg: p.float(52, 102, 4),
    sports,
  };
}

export function cycleIdFor(userId: number, epochDay: number): number {
  // integer, unique per member and day, stable across runs
  return userId * 100_000 + (epochDay % 100_000);
}

/** Sleep onset of the night that ends on local date `epochDay`; it also starts that day's cycle. */
export function onsetOf(spec: MemberSpec, traits: Traits, epochDay: number): number {
  const p = new Prng(hashSeed(spec.seed, 'onset', epochDay));
  const minutes = traits.bedtimeMin + p.int(-60, 75);
  return localMidnight(epochDay, offsetMinutes(spec.timezoneOffset)) + minutes * MINUTE_MS + p.int(0, 59_999);
}

/** The local date whose cycle is under way at `now`. */
export function currentDay(spec: MemberSpec, traits: Traits, now: number): number {
  const offset = offsetMinutes(spec.timezoneOffset);
  let day = Math.floor((now + offset * MINUTE_MS) / (24 * HOUR_MS)) + 1;
  while (onsetOf(spec, traits, day) > now) day--;
  return day;
}

function finishPlan(p: Prng, start: number, end: number, stuckRate: number, unscorableRate: number) {
  const duration = end - start;
  const unscorable = p.chance(unscorableRate);
  const stuck = !unscorable && p.chance(stuckRate);
  return {
    visibleFrom: start + Math.min(p.int(2, 9) * MINUTE_MS, Math.floor(duration / 2)),
    scoreDelay: stuck ? Number.POSITIVE_INFINITY : p.int(5, 45) * MINUTE_MS + p.int(0, 59_999),
    unscorable,
  };
}

function sleepMix(p: Prng, traits: Traits, nap: boolean, dayIndex: number): SleepMix {
  return {
    awakeFrac: nap ? p.float(0.02, 0.1, 4) : p.float(0.05, 0.14, 4),
    noDataMs: p.chance(0.12) ? p.int(1, 18) * MINUTE_MS : 0,
    swsFrac: p.float(0.16, 0.25, 4),
    remFrac: nap ? p.float(0.05, 0.15, 4) : p.float(0.19, 0.27, 4),
    disturbancesPerHour: p.float(0.5, 2.5, 2),
    needBaseline: traits.sleepNeedMs,
    needDebt: nap ? 0 : p.int(0, 120) * MINUTE_MS,
    needStrain: nap ? 0 : p.int(0, 45) * MINUTE_MS,
    needNap: 0,
    respiratoryRate: p.chance(0.04) ? null : p.float(12.5, 17.5, 6),
    consistency: nap || dayIndex < 4 ? null : p.int(48, 96),
    performanceNull: nap || p.chance(0.04),
  };
}

function workoutMix(p: Prng, traits: Traits, sport: Sport): WorkoutMix {
  const avgHr = Math.round(
    traits.restingHr + (traits.maxHr - traits.restingHr) * (0.35 + sport.intensity * 0.3),
  );
  const raw = [p.float(0.02, 0.1, 3), 0.15, 0.3, 0.3 * sport.intensity, 0.15 * sport.intensity, 0.05];
  const total = raw.reduce((a, b) => a + b, 0);
  const partial = p.chance(0.15);
  return {
    sport,
    avgHr: avgHr + p.int(-6, 6),
    maxHr: Math.min(traits.maxHr, avgHr + p.int(15, 40)),
    kjPerHour: p.float(1200, 1600, 3) + sport.intensity * p.float(1200, 2200, 3),
    // observed scale: 1.0 for a full recording, a fraction of 1 otherwise
    percentRecorded: partial ? p.float(0.82, 0.99, 4) : 1,
    zoneFracs: raw.map((r) => r / total),
    distance: sport.speed !== null ? 'value' : p.chance(0.5) ? 'null' : 'absent',
    altitudePerKm: sport.outdoor && sport.speed !== null ? p.float(2, 25, 3) : null,
  };
}

export function planDay(spec: MemberSpec, traits: Traits, epochDay: number): DayPlan {
  const p = new Prng(hashSeed(spec.seed, 'day', epochDay));
  const dayIndex = epochDay - spec.firstDay;
  const offset = offsetMinutes(spec.timezoneOffset);
  const cycleId = cycleIdFor(spec.userId, epochDay);
  const start = onsetOf(spec, traits, epochDay);
  const end = onsetOf(spec, traits, epochDay + 1);

  // people wake at a local hour rather than after a fixed duration
  const wake = localMidnight(epochDay, offset) + p.int(345, 525) * MINUTE_MS + p.int(0, 59_999);
  const sleepEnd = Math.min(
    start + 570 * MINUTE_MS,
    Math.max(start + 300 * MINUTE_MS + p.int(0, 59_999), wake),
  );
  const sleep: SleepPlan = {
    kind: 'sleep',
    id: p.uuid(),
    cycleId,
    nap: false,
    start,
    end: sleepEnd,
    ...finishPlan(p, start, sleepEnd, 0.04, 0.02),
    mix: sleepMix(p, traits, false, dayIndex),
  };

  const naps: SleepPlan[] = [];
  const workouts: WorkoutPlan[] = [];
  const workoutCount = p.weighted([0.25, 0.4, 0.25, 0.1]);
  const wantNap = spec.withNaps && p.chance(0.2);
  const slots = workoutCount + (wantNap ? 1 : 0);
  if (slots > 0) {
    const windowStart = sleepEnd + 45 * MINUTE_MS;
    const windowEnd = end - 90 * MINUTE_MS;
    const slot = Math.floor((windowEnd - windowStart) / slots);
    const afternoon = localMidnight(epochDay, offset) + 14.5 * HOUR_MS;
    const napSlot = wantNap
      ? Math.min(slots - 1, Math.max(0, Math.floor((afternoon - windowStart) / slot)))
      : -1;
    for (let i = 0; i < slots; i++) {
      const slotStart = windowStart + i * slot;
      const nap = i === napSlot;
      const wanted = (nap ? p.int(20, 75) : p.int(20, 100)) * MINUTE_MS + p.int(0, 59_999);
      const duration = Math.min(wanted, Math.floor(slot * 0.8));
      const s = slotStart + p.int(0, slot - duration);
      const e = s + duration;
      if (nap) {
        const mix = sleepMix(p, traits, true, dayIndex);
        naps.push({
          kind: 'sleep',
          id: p.uuid(),
          cycleId,
          nap: true,
          start: s,
          end: e,
          ...finishPlan(p, s, e, 0.03, 0.03),
          mix,
        });
      } else {
        const mix = workoutMix(p, traits, p.pick(traits.sports));
        const finish = finishPlan(p, s, e, 0.03, 0.03);
        workouts.push({
          kind: 'workout',
          id: p.uuid(),
          start: s,
          end: e,
          ...finish,
          mix,
          scoredWhileInProgress: false,
        });
      }
    }
  }

  const live = spec.liveWorkout;
  if (live && live.start >= start && live.start < end) {
    const mix = workoutMix(new Prng(hashSeed(spec.seed, 'live')), traits, SPORTS[0] as Sport);
    mix.percentRecorded = 1;
    const overlapping = (w: { start: number; end: number }) => w.start < live.end && w.end > live.start;
    workouts.splice(0, workouts.length, ...workouts.filter((w) => !overlapping(w)));
    naps.splice(0, naps.length, ...naps.filter((n) => !overlapping(n)));
    workouts.push({
      kind: 'workout',
      id: live.id,
      start: live.start,
      end: live.end,
      visibleFrom: live.start,
      scoreDelay: 10 * MINUTE_MS,
      unscorable: false,
      mix,
      scoredWhileInProgress: true,
    });
  }

  const napMs = naps.reduce((sum, n) => sum + (n.end - n.start), 0);
  if (napMs > 0) sleep.mix.needNap = -Math.round(napMs * 0.6);

  const hrv = Math.round(traits.hrvBase * p.float(0.7, 1.3, 4) * 1e6) / 1e6;
  const restingHr = traits.restingHr + p.int(-4, 6);
  const recoveryScore = Math.round(
    50 + (hrv / traits.hrvBase - 1) * 130 - (restingHr - traits.restingHr) * 3,
  );
  const workoutStrain = workouts.reduce(
    (sum, w) => sum + w.mix.sport.intensity * ((w.end - w.start) / HOUR_MS) * 8,
    0,
  );
  return {
    epochDay,
    cycleId,
    start,
    end,
    cycle: {
      strain: Math.min(20.9, p.float(3.5, 8, 4) + workoutStrain * 0.6),
      kilojoule:
        p.float(6500, 9500, 3) +
        workouts.reduce((s, w) => s + w.mix.kjPerHour * ((w.end - w.start) / HOUR_MS), 0),
      avgHr: p.int(58, 76),
      maxHr: Math.max(p.int(110, 145), ...workouts.map((w) => w.mix.maxHr)),
    },
    sleep,
    recovery: {
      recoveryScore: Math.min(99, Math.max(1, recoveryScore + p.int(-8, 8))),
      restingHr,
      hrv,
      spo2: p.chance(0.1) ? null : p.float(94.5, 99, 4),
      skinTemp: p.chance(0.1) ? null : p.float(32.8, 35.2, 4),
      calibrating: dayIndex < 4,
    },
    naps,
    workouts,
  };
}
