// One batched upsert statement per page: rows travel as column arrays (sql.unnest), conflicts on
// (connection_id, external_id) update in place only when something changed, and the statement
// reports how many rows it inserted and updated, plus the local dates it touched (old and new).
import type { CommonQueryMethods, FragmentSqlToken, IdentifierSqlToken } from 'slonik';
import { z } from 'zod';
import { sql } from '../../db/sql.ts';

export interface Column {
  name: string;
  /** Postgres type of the unnest array */
  type: string;
}

/** A column computed in SQL rather than sent: `expression` may use `i` (the incoming row) and `join`'s aliases. */
export interface DerivedColumn {
  name: string;
  expression: FragmentSqlToken;
  /** false: written on insert and with any real change, but not itself a reason to update (default true) */
  compare?: boolean;
}

export interface TableSpec {
  table: string;
  columns: Column[];
  derived?: DerivedColumn[];
  /** extra FROM items after the incoming rows `i`, e.g. a LEFT JOIN */
  join?: FragmentSqlToken;
  /** the table has a local_date column whose old and new values are reported */
  hasLocalDate: boolean;
  /** more assignments on conflict, e.g. dropping a flag that depends on a changed column */
  extraSet?: FragmentSqlToken;
}

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
  /** external ids of inserted or updated rows */
  changedIds: string[];
  /** local dates of changed rows, before and after the change */
  touchedDates: string[];
}

const resultRow = z.object({
  inserted: z.number(),
  updated: z.number(),
  changed_ids: z.array(z.string()),
  touched_dates: z.array(z.string()),
});

const ident = (name: string) => sql.identifier([name]);
const list = (fragments: Array<FragmentSqlToken | IdentifierSqlToken>) =>
  sql.join(fragments, sql.fragment`, `);

type Cell = string | number | boolean | null;

function cell(value: unknown, type: string): Cell {
  if (value === undefined || value === null) return null;
  if (type === 'jsonb') return JSON.stringify(value);
  return value as Cell;
}

export async function upsertRows(
  db: CommonQueryMethods,
  spec: TableSpec,
  owner: { connectionId: number; userId: number; provider: string },
  rows: ReadonlyArray<Record<string, unknown>>,
): Promise<UpsertResult> {
  if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0, changedIds: [], touchedDates: [] };
  const sent = spec.columns.map((column) => column.name);
  const derived = spec.derived ?? [];
  const written = [...sent, ...derived.map((column) => column.name)];
  const compared = [
    ...sent.filter((name) => name !== 'external_id'),
    ...derived.filter((column) => column.compare !== false).map((column) => column.name),
  ];
  const tuples = rows.map((row) => spec.columns.map((column) => cell(row[column.name], column.type)));
  const table = ident(spec.table);
  const localDate = spec.hasLocalDate ? sql.fragment`t.local_date::text` : sql.fragment`NULL::text`;
  // Old dates matter too: a record that moved to another day leaves its old day to recompute.
  const previous = spec.hasLocalDate
    ? sql.fragment`
        SELECT t.external_id, t.local_date::text AS local_date
        FROM ${table} AS t JOIN i ON i.external_id = t.external_id
        WHERE t.connection_id = ${owner.connectionId}`
    : sql.fragment`SELECT NULL::text AS external_id, NULL::text AS local_date WHERE false`;

  const result = await db.one(sql.type(resultRow)`
    WITH i AS (
      SELECT ${list(sent.map((name) => sql.fragment`u.${ident(name)}`))}
      FROM ${sql.unnest(
        tuples,
        spec.columns.map((column) => column.type),
      )} AS u(${list(sent.map(ident))})
    ),
    previous AS (${previous}),
    upserted AS (
      INSERT INTO ${table} AS t (connection_id, user_id, provider, ${list(written.map(ident))})
      SELECT ${owner.connectionId}, ${owner.userId}, ${owner.provider},
        ${list([...sent.map((name) => sql.fragment`i.${ident(name)}`), ...derived.map((column) => column.expression)])}
      FROM i ${spec.join ?? sql.fragment``}
      ON CONFLICT (connection_id, external_id) DO UPDATE SET
        ${list(written.filter((name) => name !== 'external_id').map((name) => sql.fragment`${ident(name)} = EXCLUDED.${ident(name)}`))},
        ${spec.extraSet ? sql.fragment`${spec.extraSet},` : sql.fragment``}
        deleted_at = NULL,
        updated_at = now()
      WHERE (${list(compared.map((name) => sql.fragment`t.${ident(name)}`))})
          IS DISTINCT FROM (${list(compared.map((name) => sql.fragment`EXCLUDED.${ident(name)}`))})
        OR t.deleted_at IS NOT NULL
      RETURNING (t.xmax = 0) AS inserted, t.external_id, ${localDate} AS local_date
    )
    SELECT
      (SELECT count(*) FROM upserted WHERE inserted)::int AS inserted,
      (SELECT count(*) FROM upserted WHERE NOT inserted)::int AS updated,
      (SELECT coalesce(array_agg(external_id), '{}') FROM upserted) AS changed_ids,
      (SELECT coalesce(array_agg(DISTINCT d), '{}') FROM (
        SELECT local_date AS d FROM upserted
        UNION SELECT p.local_date FROM previous p JOIN upserted u ON u.external_id = p.external_id
      ) AS dates WHERE d IS NOT NULL) AS touched_dates
  `);
  return {
    inserted: result.inserted,
    updated: result.updated,
    unchanged: rows.length - result.inserted - result.updated,
    changedIds: result.changed_ids,
    touchedDates: result.touched_dates,
  };
}
