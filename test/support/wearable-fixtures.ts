// Realistic normalized WHOOP rows written straight into OUR database (what the sync engine would
// store), for page tests, the browser suite and the bench. Deterministic: the same options give the
// same rows. Each record carries its own UTC offset and the local date derived from it.
import { z } from 'zod';
import type { DatabasePool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';
import {
  addDays,
  type LocalDate,
  localDateAtOffset,
  zoneOffsetMinutes,
} from '../../src/services/local-time.ts';

export interface WhoopSeedOptions {
  userId: number;
  /** The member's home zone: every record not on a trip carries this zone's offset at that moment. */
  timeZone: string;
  /** The last local date with data (usually today in the member's zone). */
  lastDate: LocalDate;
  days?: number;
  /** Trips: nights (by the local date they end) spent at a fixed offset. */
  travel?: ReadonlyArray<{ date: LocalDate; offsetMinutes: number }>;
  /** A night whose sleep and recovery WHOOP has not scored yet. */
  pendingDate?: LocalDate | null;
  status?: 'connected' | 'syncing' | 'error' | 'reauth_required' | 'disconnected';
  memberId?: string;
  seed?: number;
}

export interface WhoopSeed {
  connectionId: number;
  firstDate: LocalDate;
  lastDate: LocalDate;
}

const SPORTS = ['Running', 'Cycling', 'Functional Fitness', 'Yoga', 'Swimming', 'Weightlifting'] as const;
// Metres per minute, roughly, for the sports that cover ground.
const PACE: Record<string, number> = { Running: 170, Cycling: 420, Swimming: 40 };

function distanceFor(sport: string, lengthMs: number, between: (low: number, high: number) => number) {
  const pace = PACE[sport];
  return pace ? Math.round((lengthMs / MINUTE) * pace * between(0.8, 1.2)) : null;
}
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Default trips: a Honolulu night (-10:00) and a Kolkata night (+05:30), both inside the last month. */
export function defaultTravel(lastDate: LocalDate) {
  return [
    { date: addDays(lastDate, -20), offsetMinutes: -600 },
    { date: addDays(lastDate, -12), offsetMinutes: 330 },
  ];
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The instant at which a clock at `offsetMinutes` shows `date` plus `minutesIntoDay`. */
function atOffset(date: LocalDate, minutesIntoDay: number, offsetMinutes: number): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) + (minutesIntoDay - offsetMinutes) * MINUTE);
}

type Row = Record<string, unknown>;

async function insertRows(pool: DatabasePool, table: string, rows: Row[], types: Record<string, string>) {
  if (rows.length === 0) return;
  const columns = Object.keys(types);
  const tuples = rows.map((row) =>
    columns.map((column) => {
      const value = row[column] ?? null;
      return value instanceof Date ? value.toISOString() : value;
    }),
  );
  await pool.query(sql.typeAlias('void')`
    INSERT INTO ${sql.identifier([table])} (${sql.join(
      columns.map((column) => sql.identifier([column])),
      sql.fragment`, `,
    )})
    SELECT * FROM ${sql.unnest(tuples, Object.values(types))}
  `);
}

const common = { connection_id: 'int8', user_id: 'int8', provider: 'text', external_id: 'text' };

/** A WHOOP connection for the user (status as given) and `days` days of sleeps, recoveries, cycles and workouts. */
export async function seedWhoopMember(pool: DatabasePool, options: WhoopSeedOptions): Promise<WhoopSeed> {
  const days = options.days ?? 365;
  const rand = random(options.seed ?? options.userId * 7919);
  const between = (low: number, high: number) => low + rand() * (high - low);
  const whole = (low: number, high: number) => Math.round(between(low, high));
  const tenth = (low: number, high: number) => Math.round(between(low, high) * 10) / 10;
  const status = options.status ?? 'connected';
  const memberId = options.memberId ?? `member-${options.userId}`;
  const travel = new Map(
    (options.travel ?? defaultTravel(options.lastDate)).map((t) => [t.date, t.offsetMinutes]),
  );
  const pendingDate = options.pendingDate === undefined ? addDays(options.lastDate, -3) : options.pendingDate;

  const connection = await pool.one(sql.type(z.object({ id: z.number() }))`
    INSERT INTO integration_connection
      (user_id, provider, provider_account_id, provider_account_name, status, scopes, connected_at, last_sync_at,
       last_sync_status, disconnected_at)
    VALUES (${options.userId}, 'whoop', ${memberId}, 'Test Member', ${status},
            ${sql.array(['read:sleep', 'read:recovery', 'read:cycles', 'read:workout', 'offline'], 'text')},
            now() - interval '1 year', now(), 'succeeded', ${status === 'disconnected' ? sql.fragment`now()` : null})
    ON CONFLICT (user_id, provider) DO UPDATE SET status = EXCLUDED.status, provider_account_id = EXCLUDED.provider_account_id
    RETURNING id
  `);
  const base = { connection_id: connection.id, user_id: options.userId, provider: 'whoop' };

  const sleeps: Row[] = [];
  const recoveries: Row[] = [];
  const cycles: Row[] = [];
  const workouts: Row[] = [];
  const firstDate = addDays(options.lastDate, -(days - 1));

  for (let index = 0; index < days; index += 1) {
    const date = addDays(firstDate, index);
    const noon = new Date(`${date}T12:00:00Z`);
    const offset = travel.get(date) ?? zoneOffsetMinutes(noon, options.timeZone);
    const pending = date === pendingDate;
    const key = `${options.userId}-${date}`;

    // The night ending on `date`: wake 06:00-07:45 local, 6.5-9 hours in bed.
    const wake = atOffset(date, whole(360, 465), offset);
    const inBed = whole(6.5 * 60, 9 * 60) * MINUTE;
    const bed = new Date(wake.getTime() - inBed);
    const awake = Math.round(inBed * between(0.04, 0.12));
    const asleep = inBed - awake;
    const deep = Math.round(asleep * between(0.15, 0.25));
    const rem = Math.round(asleep * between(0.18, 0.28));
    const light = asleep - deep - rem;
    const sleepId = `sleep-${key}`;
    sleeps.push({
      ...base,
      external_id: sleepId,
      cycle_external_id: `cycle-${key}`,
      start_at: bed,
      end_at: wake,
      utc_offset_minutes: offset,
      local_date: localDateAtOffset(wake, offset),
      is_nap: false,
      is_primary: true,
      score_state: pending ? 'PENDING_SCORE' : 'SCORED',
      ...(pending
        ? {}
        : {
            in_bed_ms: inBed,
            awake_ms: awake,
            no_data_ms: 0,
            light_ms: light,
            deep_ms: deep,
            rem_ms: rem,
            asleep_ms: asleep,
            sleep_cycle_count: whole(3, 6),
            disturbance_count: whole(2, 15),
            sleep_need_ms: whole(7.5 * 60, 9 * 60) * MINUTE,
            performance_pct: whole(55, 100),
            consistency_pct: whole(50, 95),
            efficiency_pct: tenth(82, 98),
            respiratory_rate: tenth(13.5, 17.5),
          }),
    });
    recoveries.push({
      ...base,
      external_id: `cycle-${key}`,
      sleep_external_id: sleepId,
      start_at: bed,
      end_at: wake,
      utc_offset_minutes: offset,
      local_date: localDateAtOffset(wake, offset),
      score_state: pending ? 'PENDING_SCORE' : 'SCORED',
      ...(pending
        ? {}
        : {
            recovery_score: whole(15, 99),
            resting_heart_rate: whole(46, 64),
            hrv_rmssd_ms: tenth(32, 110),
            spo2_pct: tenth(94, 99),
            skin_temp_celsius: tenth(33, 35),
            user_calibrating: false,
          }),
    });
    // Back to bed once a month: a second, shorter non-nap sleep the same date, never the primary one.
    if (index % 30 === 7) {
      const secondStart = new Date(wake.getTime() + 60 * MINUTE);
      const secondEnd = new Date(secondStart.getTime() + 95 * MINUTE);
      sleeps.push({
        ...base,
        external_id: `sleep-second-${key}`,
        start_at: secondStart,
        end_at: secondEnd,
        utc_offset_minutes: offset,
        local_date: localDateAtOffset(secondEnd, offset),
        is_nap: false,
        is_primary: false,
        score_state: 'SCORED',
        in_bed_ms: 95 * MINUTE,
        awake_ms: 10 * MINUTE,
        light_ms: 50 * MINUTE,
        deep_ms: 20 * MINUTE,
        rem_ms: 15 * MINUTE,
        asleep_ms: 85 * MINUTE,
        performance_pct: 20,
        efficiency_pct: 89.5,
        respiratory_rate: 15,
      });
    }
    // Naps: an afternoon one every ninth day.
    if (index % 9 === 4) {
      const start = atOffset(date, whole(13 * 60, 15 * 60), offset);
      const length = whole(20, 45) * MINUTE;
      const napPending = date === pendingDate || index === days - 1;
      sleeps.push({
        ...base,
        external_id: `nap-${key}`,
        start_at: start,
        end_at: new Date(start.getTime() + length),
        utc_offset_minutes: offset,
        local_date: localDateAtOffset(new Date(start.getTime() + length), offset),
        is_nap: true,
        is_primary: false,
        score_state: napPending ? 'PENDING_SCORE' : 'SCORED',
        ...(napPending
          ? {}
          : {
              in_bed_ms: length,
              awake_ms: 3 * MINUTE,
              light_ms: length - 13 * MINUTE,
              deep_ms: 6 * MINUTE,
              rem_ms: 4 * MINUTE,
              asleep_ms: length - 3 * MINUTE,
              performance_pct: whole(20, 60),
              efficiency_pct: tenth(80, 95),
              respiratory_rate: tenth(13.5, 17),
            }),
      });
    }
    // The physiological day (cycle) starts at wake-up; today's is still growing.
    const isToday = index === days - 1;
    cycles.push({
      ...base,
      external_id: `cycle-${key}`,
      start_at: wake,
      end_at: isToday ? null : new Date(wake.getTime() + between(15.5, 17.5) * HOUR),
      utc_offset_minutes: offset,
      local_date: localDateAtOffset(wake, offset),
      score_state: 'SCORED',
      strain: tenth(isToday ? 2 : 5, isToday ? 9 : 19),
      kilojoules: whole(7000, 13000),
      average_heart_rate: whole(58, 75),
      max_heart_rate: whole(130, 185),
    });
    // Workouts: an evening session most days, a morning one every sixth day; today has both, the
    // evening one not scored yet.
    const sessions: number[] = [];
    if (index % 6 === 0 || isToday) sessions.push(whole(6 * 60, 8 * 60));
    if (index % 3 !== 1 || isToday) sessions.push(whole(17 * 60, 19 * 60));
    for (const [number, minutes] of sessions.entries()) {
      const sport = SPORTS[whole(0, SPORTS.length - 1)] ?? 'Running';
      const start = atOffset(date, minutes, offset);
      const length = whole(25, 95) * MINUTE;
      const workoutPending = isToday && number === 1;
      workouts.push({
        ...base,
        external_id: `workout-${key}-${number}`,
        start_at: start,
        end_at: new Date(start.getTime() + length),
        utc_offset_minutes: offset,
        local_date: localDateAtOffset(start, offset),
        sport_name: sport,
        score_state: workoutPending ? 'PENDING_SCORE' : 'SCORED',
        ...(workoutPending
          ? {}
          : {
              strain: tenth(4, 17),
              kilojoules: whole(600, 3000),
              average_heart_rate: whole(110, 160),
              max_heart_rate: whole(160, 192),
              percent_recorded: 100,
              distance_meters: distanceFor(sport, length, between),
            }),
      });
    }
  }
  // A workout WHOOP deleted: kept in the table, never on a page.
  workouts.push({
    ...base,
    external_id: `workout-${options.userId}-deleted`,
    start_at: atOffset(options.lastDate, 12 * 60, zoneOffsetMinutes(new Date(), options.timeZone)),
    end_at: atOffset(options.lastDate, 13 * 60, zoneOffsetMinutes(new Date(), options.timeZone)),
    utc_offset_minutes: zoneOffsetMinutes(new Date(), options.timeZone),
    local_date: options.lastDate,
    sport_name: 'Deleted Sport',
    score_state: 'SCORED',
    strain: 9,
    deleted_at: new Date(),
  });

  await insertRows(pool, 'integration_sleep', sleeps, {
    ...common,
    cycle_external_id: 'text',
    start_at: 'timestamptz',
    end_at: 'timestamptz',
    utc_offset_minutes: 'int4',
    local_date: 'date',
    is_nap: 'bool',
    is_primary: 'bool',
    score_state: 'text',
    in_bed_ms: 'int8',
    awake_ms: 'int8',
    no_data_ms: 'int8',
    light_ms: 'int8',
    deep_ms: 'int8',
    rem_ms: 'int8',
    asleep_ms: 'int8',
    sleep_cycle_count: 'int4',
    disturbance_count: 'int4',
    sleep_need_ms: 'int8',
    performance_pct: 'numeric',
    consistency_pct: 'numeric',
    efficiency_pct: 'numeric',
    respiratory_rate: 'numeric',
  });
  await insertRows(pool, 'integration_recovery', recoveries, {
    ...common,
    sleep_external_id: 'text',
    start_at: 'timestamptz',
    end_at: 'timestamptz',
    utc_offset_minutes: 'int4',
    local_date: 'date',
    score_state: 'text',
    recovery_score: 'numeric',
    resting_heart_rate: 'numeric',
    hrv_rmssd_ms: 'numeric',
    spo2_pct: 'numeric',
    skin_temp_celsius: 'numeric',
    user_calibrating: 'bool',
  });
  await insertRows(pool, 'integration_cycle', cycles, {
    ...common,
    start_at: 'timestamptz',
    end_at: 'timestamptz',
    utc_offset_minutes: 'int4',
    local_date: 'date',
    score_state: 'text',
    strain: 'numeric',
    kilojoules: 'numeric',
    average_heart_rate: 'int4',
    max_heart_rate: 'int4',
  });
  await insertRows(pool, 'integration_workout', workouts, {
    ...common,
    start_at: 'timestamptz',
    end_at: 'timestamptz',
    utc_offset_minutes: 'int4',
    local_date: 'date',
    sport_name: 'text',
    score_state: 'text',
    strain: 'numeric',
    kilojoules: 'numeric',
    average_heart_rate: 'int4',
    max_heart_rate: 'int4',
    percent_recorded: 'numeric',
    distance_meters: 'numeric',
    deleted_at: 'timestamptz',
  });
  return { connectionId: connection.id, firstDate, lastDate: options.lastDate };
}

/** What a disconnect (or reconnect) does to the pages: only the status matters to them. */
export async function setWhoopStatus(
  pool: DatabasePool,
  userId: number,
  status: NonNullable<WhoopSeedOptions['status']>,
): Promise<void> {
  await pool.query(sql.typeAlias('void')`
    UPDATE integration_connection
    SET status = ${status}, disconnected_at = ${status === 'disconnected' ? sql.fragment`now()` : null}, updated_at = now()
    WHERE user_id = ${userId} AND provider = 'whoop'
  `);
}
