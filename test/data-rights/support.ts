// Reading an export back (yauzl, a different library from the one that wrote it, and a CSV parser of
// our own), and reading the database the way the export should have: independently of src/.
import type { Test } from 'tap';
import yauzl from 'yauzl';
import { z } from 'zod';
import { sql } from '../../src/services/db/sql.ts';
import type { TestApp } from '../helper.ts';
import {
  type LinkedMember,
  linkMember,
  runSync,
  type SyncFixture,
  startSyncFixture,
} from '../sync/support/fixture.ts';

/** Every file of a ZIP, by path, as UTF-8 text. */
export function unzip(archive: Buffer): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(archive, { lazyEntries: true, strictFileNames: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const files = new Map<string, string>();
      zip.on('error', reject);
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('error', reject);
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** RFC 4180: records end in CRLF, fields with quotes, commas or line breaks are quoted. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += char;
  }
  if (field !== '' || record.length > 0) throw new Error('CSV does not end with CRLF');
  return records;
}

/** A value as the export should write it in JSON. */
export function asJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return value ?? null;
}

/** A value as the export should write it in CSV (before quoting). */
export function asCsv(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const columnRow = z.object({ table_name: z.string(), column_name: z.string() });

/** Columns per table of the migrated schema, in table order. */
export async function schemaColumns(app: TestApp): Promise<Map<string, string[]>> {
  const rows = await app.pool.any(sql.type(columnRow)`
    SELECT c.table_name, c.column_name FROM information_schema.columns AS c
    JOIN information_schema.tables AS t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = current_schema()
    ORDER BY c.table_name, c.ordinal_position
  `);
  const columns = new Map<string, string[]>();
  for (const row of rows)
    columns.set(row.table_name, [...(columns.get(row.table_name) ?? []), row.column_name]);
  return columns;
}

/** Tables that hold rows of a person: a user_id or a connection_id column (or the account table). */
export async function personalTables(app: TestApp): Promise<Map<string, 'user_id' | 'connection_id' | 'id'>> {
  const tables = new Map<string, 'user_id' | 'connection_id' | 'id'>([['app_user', 'id']]);
  for (const [table, columns] of await schemaColumns(app)) {
    if (columns.includes('user_id')) tables.set(table, 'user_id');
    else if (columns.includes('connection_id')) tables.set(table, 'connection_id');
  }
  return tables;
}

const anyRow = z.record(z.string(), z.unknown());

/** Every row of `userId` in `table`, ordered by id when there is one. */
export async function rowsOf(app: TestApp, table: string, userId: number) {
  const owner = (await personalTables(app)).get(table);
  const columns = (await schemaColumns(app)).get(table) ?? [];
  const filter =
    owner === 'id'
      ? sql.fragment`id = ${userId}`
      : owner === 'user_id'
        ? sql.fragment`user_id = ${userId}`
        : sql.fragment`connection_id IN (SELECT id FROM integration_connection WHERE user_id = ${userId})`;
  const order = columns.includes('id') ? sql.fragment`ORDER BY id` : sql.fragment``;
  return app.pool.any(sql.type(anyRow)`
    SELECT ${sql.join(
      columns.map((column) => sql.identifier([column])),
      sql.fragment`, `,
    )} FROM ${sql.identifier([table])} WHERE ${filter} ${order}
  `);
}

/** How many rows of `userId` each personal table holds. */
export async function rowCounts(app: TestApp, userId: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [...(await personalTables(app)).keys()].sort()) {
    counts[table] = (await rowsOf(app, table, userId)).length;
  }
  return counts;
}

export const NOTE = 'Slept "well", woke once\r\nthen, again — 😴';

/** Manual logs, a soft-deleted WHOOP sleep and (where the table exists) a webhook event of the person. */
async function addPersonalRows(fixture: SyncFixture, linked: LinkedMember, tag: string) {
  await fixture.pool.query(sql.typeAlias('void')`
    INSERT INTO sleep_entry (user_id, local_date, bed_at, wake_at, quality, note)
    VALUES (${linked.userId}, '2025-01-02', '2025-01-01T22:30:00Z', '2025-01-02T06:45:00Z', 4, ${`${NOTE} ${tag}`})
  `);
  await fixture.pool.query(sql.typeAlias('void')`
    INSERT INTO workout_session (user_id, local_date, start_at, activity, duration_minutes, intensity, note)
    VALUES (${linked.userId}, '2025-01-02', '2025-01-02T17:00:00Z', ${`Rowing, "easy" ${tag}`}, 45, 3, NULL)
  `);
  await fixture.pool.query(sql.typeAlias('void')`
    UPDATE integration_sleep SET deleted_at = now()
    WHERE id = (SELECT min(id) FROM integration_sleep WHERE connection_id = ${linked.connectionId})
  `);
  const tables = await personalTables(fixture);
  if (tables.has('integration_webhook_event')) {
    await fixture.pool.query(sql.typeAlias('void')`
      INSERT INTO integration_webhook_event (provider, connection_id, trace_id, event_type, record_id)
      VALUES ('whoop', ${linked.connectionId}, ${`trace-${tag}`}, 'sleep.updated', ${`record-${tag}`})
    `);
  }
}

/** Two people, each with manual logs and a linked, synced WHOOP member. */
export async function twoSyncedPeople(t: Test) {
  const fixture = await startSyncFixture(t);
  const alice = await linkMember(fixture, fixture.sim.createMember({ days: 4 }));
  const bob = await linkMember(fixture, fixture.sim.createMember({ days: 4 }));
  for (const linked of [alice, bob]) {
    t.equal(await runSync(fixture, linked.initialRunId), 'succeeded', 'the first sync succeeded');
  }
  await addPersonalRows(fixture, alice, 'alice-only-7f3a');
  await addPersonalRows(fixture, bob, 'bob-only-91c2');
  return { fixture, alice, bob };
}
