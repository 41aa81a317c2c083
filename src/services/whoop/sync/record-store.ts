// Writes one fetched page: raw payloads (deduplicated by content hash), normalized rows (batched
// upserts), and for sleeps the primary flag of every touched local date. The caller runs it in one
// transaction with the run's progress, so a page is either fully stored or not at all.
import type { CommonQueryMethods, FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { sql } from '../../db/sql.ts';
import { contentHash, withoutNul } from './canonical-json.ts';
import { SYNC_WRITE_LOCK } from './locks.ts';
import { type TableSpec, type UpsertResult, upsertRows } from './upsert.ts';

export type ResourceType = 'profile' | 'body_measurement' | 'cycle' | 'sleep' | 'recovery' | 'workout';

export interface RawRecord {
  externalId: string;
  payload: unknown;
  /** set when the record failed its schema: it is kept raw, and nothing is normalized */
  validationError?: string | undefined;
}

export interface Owner {
  connectionId: number;
  userId: number;
  provider: string;
}

const col = (name: string, type: string) => ({ name, type });

const cycleSpec: TableSpec = {
  table: 'integration_cycle',
  hasLocalDate: true,
  columns: [
    col('external_id', 'text'),
    col('start_at', 'timestamptz'),
    col('end_at', 'timestamptz'),
    col('utc_offset_minutes', 'int4'),
    col('local_date', 'date'),
    col('score_state', 'text'),
    col('strain', 'numeric'),
    col('kilojoules', 'numeric'),
    col('average_heart_rate', 'int4'),
    col('max_heart_rate', 'int4'),
    col('extras', 'jsonb'),
    col('provider_updated_at', 'timestamptz'),
  ],
};

const sleepSpec: TableSpec = {
  table: 'integration_sleep',
  hasLocalDate: true,
  // A sleep that moved to another day is not that day's primary sleep yet: the recompute decides.
  extraSet: sql.fragment`is_primary = (t.is_primary AND t.local_date = EXCLUDED.local_date)`,
  columns: [
    col('external_id', 'text'),
    col('cycle_external_id', 'text'),
    col('start_at', 'timestamptz'),
    col('end_at', 'timestamptz'),
    col('utc_offset_minutes', 'int4'),
    col('local_date', 'date'),
    col('is_nap', 'bool'),
    col('score_state', 'text'),
    col('in_bed_ms', 'int8'),
    col('awake_ms', 'int8'),
    col('no_data_ms', 'int8'),
    col('light_ms', 'int8'),
    col('deep_ms', 'int8'),
    col('rem_ms', 'int8'),
    col('asleep_ms', 'int8'),
    col('sleep_cycle_count', 'int4'),
    col('disturbance_count', 'int4'),
    col('sleep_need_ms', 'int8'),
    col('performance_pct', 'numeric'),
    col('consistency_pct', 'numeric'),
    col('efficiency_pct', 'numeric'),
    col('respiratory_rate', 'numeric'),
    col('extras', 'jsonb'),
    col('provider_updated_at', 'timestamptz'),
  ],
};

function recoverySpec(connectionId: number): TableSpec {
  return {
    table: 'integration_recovery',
    hasLocalDate: true,
    columns: [
      col('external_id', 'text'),
      col('sleep_external_id', 'text'),
      col('score_state', 'text'),
      col('recovery_score', 'numeric'),
      col('resting_heart_rate', 'numeric'),
      col('hrv_rmssd_ms', 'numeric'),
      col('spo2_pct', 'numeric'),
      col('skin_temp_celsius', 'numeric'),
      col('user_calibrating', 'bool'),
      col('extras', 'jsonb'),
      col('provider_updated_at', 'timestamptz'),
    ],
    // Recovery has no time of its own: its sleep's instants, offset and local date (null until the
    // sleep is stored; the sleep's own write fills them in then).
    join: sql.fragment`LEFT JOIN integration_sleep AS s
      ON s.connection_id = ${connectionId} AND s.external_id = i.sleep_external_id`,
    derived: [
      { name: 'start_at', expression: sql.fragment`s.start_at` },
      { name: 'end_at', expression: sql.fragment`s.end_at` },
      { name: 'utc_offset_minutes', expression: sql.fragment`s.utc_offset_minutes` },
      { name: 'local_date', expression: sql.fragment`s.local_date` },
    ],
  };
}

const workoutSpec: TableSpec = {
  table: 'integration_workout',
  hasLocalDate: true,
  columns: [
    col('external_id', 'text'),
    col('start_at', 'timestamptz'),
    col('end_at', 'timestamptz'),
    col('utc_offset_minutes', 'int4'),
    col('local_date', 'date'),
    col('sport_name', 'text'),
    col('score_state', 'text'),
    col('strain', 'numeric'),
    col('kilojoules', 'numeric'),
    col('average_heart_rate', 'int4'),
    col('max_heart_rate', 'int4'),
    col('percent_recorded', 'numeric'),
    col('distance_meters', 'numeric'),
    col('altitude_gain_meters', 'numeric'),
    col('altitude_change_meters', 'numeric'),
    col('extras', 'jsonb'),
    col('provider_updated_at', 'timestamptz'),
  ],
};

const bodySpec: TableSpec = {
  table: 'integration_body_measurement',
  hasLocalDate: false,
  columns: [
    col('external_id', 'text'),
    col('height_meters', 'numeric'),
    col('weight_kilograms', 'numeric'),
    col('max_heart_rate', 'int4'),
    col('extras', 'jsonb'),
  ],
  // WHOOP gives no time: a measurement is dated when a sync first saw these values.
  derived: [{ name: 'measured_at', expression: sql.fragment`now()`, compare: false }],
};

export type NormalizedType = 'cycle' | 'sleep' | 'recovery' | 'workout' | 'body_measurement';

/** The columns a page of `type` is written with (also the benchmark's plain-insert baseline). */
export function specFor(type: NormalizedType, connectionId: number): TableSpec {
  if (type === 'cycle') return cycleSpec;
  if (type === 'sleep') return sleepSpec;
  if (type === 'recovery') return recoverySpec(connectionId);
  if (type === 'workout') return workoutSpec;
  return bodySpec;
}

/** Serializes the writes of one connection (recomputing primary sleeps must not interleave). */
export async function lockConnectionWrites(db: CommonQueryMethods, connectionId: number): Promise<void> {
  await db.query(sql.typeAlias('void')`
    SELECT FROM pg_advisory_xact_lock(${SYNC_WRITE_LOCK}::int, ${connectionId}::int)
  `);
}

/** Inserts raw payloads not stored before; returns how many were new. */
export async function storeRaw(
  db: CommonQueryMethods,
  connectionId: number,
  type: ResourceType,
  records: readonly RawRecord[],
): Promise<number> {
  if (records.length === 0) return 0;
  const tuples = records.map((record) => [
    record.externalId,
    contentHash(withoutNul(record.payload)),
    JSON.stringify(withoutNul(record.payload)),
    record.validationError ? withoutNul(record.validationError) : null,
  ]);
  const result = await db.query(sql.typeAlias('void')`
    INSERT INTO integration_raw_event (connection_id, resource_type, external_id, content_hash, payload, validation_error)
    SELECT ${connectionId}, ${type}, r.external_id, decode(r.content_hash, 'hex'), r.payload, r.validation_error
    FROM ${sql.unnest(tuples, ['text', 'text', 'jsonb', 'text'])} AS r(external_id, content_hash, payload, validation_error)
    ON CONFLICT ON CONSTRAINT integration_raw_event_content_key DO NOTHING
  `);
  return result.rowCount;
}

/** Upserts normalized rows (the last of duplicate ids wins) and keeps dependent rows in step. */
export async function storeNormalized(
  db: CommonQueryMethods,
  owner: Owner,
  type: NormalizedType,
  rows: ReadonlyArray<{ external_id: string }>,
): Promise<UpsertResult> {
  const unique = [...new Map(rows.map((row) => [row.external_id, row])).values()];
  const result = await upsertRows(db, specFor(type, owner.connectionId), owner, unique);
  if (type === 'sleep' && result.changedIds.length > 0) {
    await recomputePrimarySleep(db, owner.connectionId, result.touchedDates);
    await copySleepTimesToRecoveries(db, owner.connectionId, result.changedIds);
  }
  return result;
}

/** Primary sleep = the longest non-nap sleep of each local date; other sleeps of those dates are not. */
export async function recomputePrimarySleep(
  db: CommonQueryMethods,
  connectionId: number,
  dates: readonly string[],
) {
  if (dates.length === 0) return;
  const ranked = sql.fragment`
    SELECT id, (NOT is_nap AND deleted_at IS NULL AND row_number() OVER (
      PARTITION BY local_date
      ORDER BY (is_nap OR deleted_at IS NOT NULL), end_at - start_at DESC, start_at, external_id
    ) = 1) AS primary_now
    FROM integration_sleep
    WHERE connection_id = ${connectionId} AND local_date = ANY(${sql.array([...dates], 'date')})
  `;
  // Two statements: the unique "one primary per date" index must never see two at once.
  await db.query(sql.typeAlias('void')`
    UPDATE integration_sleep AS s SET is_primary = false, updated_at = now()
    FROM (${ranked}) AS r WHERE s.id = r.id AND s.is_primary AND NOT r.primary_now
  `);
  await db.query(sql.typeAlias('void')`
    UPDATE integration_sleep AS s SET is_primary = true, updated_at = now()
    FROM (${ranked}) AS r WHERE s.id = r.id AND NOT s.is_primary AND r.primary_now
  `);
}

/** A recovery takes its sleep's instants, offset and local date: follow the sleeps that changed. */
async function copySleepTimesToRecoveries(
  db: CommonQueryMethods,
  connectionId: number,
  sleepIds: readonly string[],
) {
  await db.query(sql.typeAlias('void')`
    UPDATE integration_recovery AS r
    SET start_at = s.start_at, end_at = s.end_at, utc_offset_minutes = s.utc_offset_minutes,
        local_date = s.local_date, updated_at = now()
    FROM integration_sleep AS s
    WHERE r.connection_id = ${connectionId} AND s.connection_id = ${connectionId}
      AND s.external_id = ANY(${sql.array([...sleepIds], 'text')})
      AND r.sleep_external_id = s.external_id
      AND (r.start_at, r.end_at, r.utc_offset_minutes, r.local_date)
        IS DISTINCT FROM (s.start_at, s.end_at, s.utc_offset_minutes, s.local_date)
  `);
}

export type DeletableType = 'cycle' | 'sleep' | 'recovery' | 'workout';

const TABLES: Record<DeletableType, string> = {
  cycle: 'integration_cycle',
  sleep: 'integration_sleep',
  recovery: 'integration_recovery',
  workout: 'integration_workout',
};

const deletedRow = z.object({ external_id: z.string(), local_date: z.string().nullable() });

/**
 * Marks live rows deleted (kept for audit, hidden everywhere), chosen by `where`. A deleted sleep
 * takes its recovery with it, and its date gets its primary sleep again. Returns the deleted ids.
 */
async function markDeletedWhere(
  db: CommonQueryMethods,
  connectionId: number,
  type: DeletableType,
  where: FragmentSqlToken,
): Promise<string[]> {
  const rows = await db.any(sql.type(deletedRow)`
    UPDATE ${sql.identifier([TABLES[type]])} AS t
    SET deleted_at = now(), updated_at = now()${type === 'sleep' ? sql.fragment`, is_primary = false` : sql.fragment``}
    WHERE t.connection_id = ${connectionId} AND t.deleted_at IS NULL AND ${where}
    RETURNING t.external_id, t.local_date::text AS local_date
  `);
  const ids = rows.map((row) => row.external_id);
  if (type === 'sleep' && ids.length > 0) {
    await markRecoveriesOfSleepsDeleted(db, connectionId, ids);
    const dates = [...new Set(rows.flatMap((row) => (row.local_date ? [row.local_date] : [])))];
    await recomputePrimarySleep(db, connectionId, dates);
  }
  return ids;
}

/** The provider deleted these records (by their external ids). */
export function markDeleted(
  db: CommonQueryMethods,
  connectionId: number,
  type: DeletableType,
  externalIds: readonly string[],
): Promise<string[]> {
  if (externalIds.length === 0) return Promise.resolve([]);
  return markDeletedWhere(
    db,
    connectionId,
    type,
    sql.fragment`t.external_id = ANY(${sql.array([...externalIds], 'text')})`,
  );
}

/** WHOOP names a recovery by its sleep's id in webhooks: the recoveries scored from these sleeps. */
export function markRecoveriesOfSleepsDeleted(
  db: CommonQueryMethods,
  connectionId: number,
  sleepIds: readonly string[],
): Promise<string[]> {
  return markDeletedWhere(
    db,
    connectionId,
    'recovery',
    sql.fragment`t.sleep_external_id = ANY(${sql.array([...sleepIds], 'text')})`,
  );
}

/**
 * After a complete listing of [since, now): live rows that start inside the window, were stored before
 * the listing began (`listedFrom`, database time: a webhook may store a newer record meanwhile), and
 * are not among the listed ids, are gone at the provider. Never call this after a partial listing.
 */
export function reconcileListing(
  db: CommonQueryMethods,
  connectionId: number,
  type: DeletableType,
  window: { since: Date; listedFrom: Date; listedIds: readonly string[] },
): Promise<string[]> {
  return markDeletedWhere(
    db,
    connectionId,
    type,
    sql.fragment`t.start_at >= ${sql.timestamp(window.since)}
      AND t.updated_at < ${sql.timestamp(window.listedFrom)}
      AND NOT (t.external_id = ANY(${sql.array([...window.listedIds], 'text')}))`,
  );
}
