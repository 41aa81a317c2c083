// "Download my data": a ZIP with every row the person owns (tables.ts says which), each table as CSV
// for spreadsheets and JSON for programs, plus a README and a manifest of row counts. Streamed end to
// end: yazl pulls one file at a time, each file pulls keyset pages of rows as the client reads, and no
// page holds a database connection between reads, so a slow download costs neither memory nor the pool.
import { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import { localDateOf } from '../local-time.ts';
import type { LogSink as Logger } from '../logger.ts';
import { csvRecord, jsonRow } from './formats.ts';
import { EXPORTED_TABLES, type ExportedTable, type Ownership } from './tables.ts';

/** Rows per query: large enough to be quick, small enough that a page of raw payloads stays small. */
const DEFAULT_PAGE_SIZE = 250;

const columnRow = z.object({ table_name: z.string(), column_name: z.string() });
const anyRow = z.record(z.string(), z.unknown());
type Row = z.infer<typeof anyRow>;

export interface ExportOwner {
  id: number;
  time_zone: string;
}

export interface DataExportDeps {
  pool: DatabasePool;
  now: () => Date;
  pageSize?: number | undefined;
}

interface FileCount {
  path: string;
  table: string;
  rows: number;
}

function ownedBy(owner: Ownership, userId: number) {
  if (owner === 'account') return sql.fragment`id = ${userId}`;
  if (owner === 'user') return sql.fragment`user_id = ${userId}`;
  return sql.fragment`connection_id IN (SELECT id FROM integration_connection WHERE user_id = ${userId})`;
}

const README = `Health Tracker: your data

Every table that holds something of yours comes twice: as CSV (RFC 4180, a header row, UTF-8) for
spreadsheets and as JSON (an array of objects) for programs. Times are ISO 8601 in UTC; dates are
local calendar dates; bytes are hex. manifest.json lists the files and how many rows each holds.

account/       your account (name, email, time zone); the password hash is not included
manual-logs/   the sleep and workouts you entered by hand
whoop/         your WHOOP link (integration_connection), its sync history (integration_sync_run),
               every payload received from WHOOP (integration_raw_event), and the records made from
               them: cycles, sleeps, recoveries, workouts, body measurements. Records WHOOP deleted
               are included, with the time they were deleted (deleted_at).

Not included: WHOOP access and refresh tokens, your password hash and your web sessions.
`;

export function createDataExport(deps: DataExportDeps) {
  const { pool, now } = deps;
  const pageSize = deps.pageSize ?? DEFAULT_PAGE_SIZE;

  /** Each exported table's columns as the database has them now, in table order, minus the withheld. */
  async function exportedColumns(): Promise<Map<string, string[]>> {
    const rows = await pool.any(sql.type(columnRow)`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema()
        AND table_name = ANY(${sql.array(
          EXPORTED_TABLES.map((spec) => spec.table),
          'text',
        )})
      ORDER BY table_name, ordinal_position
    `);
    const columns = new Map<string, string[]>();
    for (const spec of EXPORTED_TABLES) {
      const withheld = new Set(spec.withheld ?? []);
      const names = rows
        .filter((row) => row.table_name === spec.table && !withheld.has(row.column_name))
        .map((row) => row.column_name);
      if (names.length === 0) continue;
      if (!names.includes('id')) throw new Error(`exported table ${spec.table} has no id column`);
      columns.set(spec.table, names);
    }
    return columns;
  }

  /** The person's rows of one table, page by page in id order; each page is one short query. */
  async function* pages(spec: ExportedTable, columns: readonly string[], userId: number) {
    const columnList = sql.join(
      columns.map((name) => sql.identifier([name])),
      sql.fragment`, `,
    );
    let after = 0;
    for (;;) {
      const page: readonly Row[] = await pool.any(sql.type(anyRow)`
        SELECT ${columnList} FROM ${sql.identifier([spec.table])}
        WHERE ${ownedBy(spec.owner, userId)} AND id > ${after}
        ORDER BY id LIMIT ${pageSize}
      `);
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = Number(page[page.length - 1]?.id);
    }
  }

  async function* csvFile(spec: ExportedTable, columns: readonly string[], userId: number, count: FileCount) {
    yield csvRecord(columns);
    for await (const page of pages(spec, columns, userId)) {
      count.rows += page.length;
      yield page.map((row) => csvRecord(columns.map((column) => row[column]))).join('');
    }
  }

  async function* jsonFile(
    spec: ExportedTable,
    columns: readonly string[],
    userId: number,
    count: FileCount,
  ) {
    yield '[';
    for await (const page of pages(spec, columns, userId)) {
      const separator = count.rows === 0 ? '\n' : ',\n';
      count.rows += page.length;
      yield separator + page.map((row) => jsonRow(row, columns)).join(',\n');
    }
    yield count.rows === 0 ? ']\n' : '\n]\n';
  }

  return {
    /** e.g. health-tracker-data-2025-03-14.zip, dated in the person's own time zone */
    fileNameFor(owner: ExportOwner): string {
      return `health-tracker-data-${localDateOf(now(), owner.time_zone)}.zip`;
    },

    /**
     * The archive of everything `owner` has, as a stream to pipe to the response. Rows are read as the
     * stream is read; an error after the start destroys the stream (the download ends incomplete).
     */
    async open(owner: ExportOwner, log: Logger): Promise<Readable> {
      const columns = await exportedColumns();
      const exportedAt = now();
      const zip = new ZipFile();
      const output = zip.outputStream as Readable;
      const counts: FileCount[] = [];
      let current: Readable | undefined;

      zip.on('error', (error: unknown) => {
        log.error({ err: error, userId: owner.id }, 'data export failed midway');
        output.destroy(error as Error);
      });
      // The client went away (or the archive is done): stop reading the database.
      output.on('close', () => current?.destroy());

      const addLazy = (path: string, chunks: () => AsyncIterable<string>) => {
        zip.addReadStreamLazy(path, { mtime: exportedAt }, (callback) => {
          current = Readable.from(chunks(), { objectMode: false });
          current.on('error', (error) => zip.emit('error', error));
          callback(null, current);
        });
      };

      zip.addBuffer(Buffer.from(README), 'README.txt', { mtime: exportedAt });
      for (const spec of EXPORTED_TABLES) {
        const tableColumns = columns.get(spec.table);
        if (!tableColumns) continue;
        const csv = { path: `${spec.folder}/${spec.table}.csv`, table: spec.table, rows: 0 };
        const json = { path: `${spec.folder}/${spec.table}.json`, table: spec.table, rows: 0 };
        counts.push(csv, json);
        addLazy(csv.path, () => csvFile(spec, tableColumns, owner.id, csv));
        addLazy(json.path, () => jsonFile(spec, tableColumns, owner.id, json));
      }
      // Written last, when every count is known.
      addLazy('manifest.json', async function* manifest() {
        yield `${JSON.stringify({ exportedAt: exportedAt.toISOString(), userId: owner.id, files: counts }, null, 2)}\n`;
      });
      zip.end();
      log.info({ userId: owner.id, tables: columns.size }, 'data export started');
      return output;
    },
  };
}

export type DataExport = ReturnType<typeof createDataExport>;
