import t from 'tap';
import { z } from 'zod';
import { createDataExport } from '../../src/services/data-rights/export.ts';
import { EXPORTED_TABLES, WITHHELD_TABLES } from '../../src/services/data-rights/tables.ts';
import { createDbPool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';
import { loginAs, startSyncFixture } from '../sync/support/fixture.ts';
import {
  asCsv,
  asJson,
  parseCsv,
  personalTables,
  rowsOf,
  schemaColumns,
  twoSyncedPeople,
  unzip,
} from './support.ts';

const textOf = (value: unknown) => (Buffer.isBuffer(value) ? value.toString('hex') : String(value));

t.test('the export holds every row of the person, in CSV and JSON, and nothing of anyone else', async (t) => {
  const { fixture, alice, bob } = await twoSyncedPeople(t);
  const browser = await loginAs(fixture, alice);
  const response = await browser.get('/account/export');
  t.equal(response.statusCode, 200);
  t.equal(response.headers['content-type'], 'application/zip');
  t.match(
    response.headers['content-disposition'],
    /^attachment; filename="health-tracker-data-\d{4}-\d{2}-\d{2}\.zip"$/,
  );
  t.equal(response.headers['cache-control'], 'no-store');
  const files = await unzip(response.rawPayload);
  t.ok(files.get('README.txt')?.includes('Not included: WHOOP access and refresh tokens'), 'a README');

  const schema = await schemaColumns(fixture);
  const manifest = JSON.parse(files.get('manifest.json') ?? '{}') as {
    files: { path: string; rows: number }[];
  };
  for (const spec of EXPORTED_TABLES) {
    const columns = (schema.get(spec.table) ?? []).filter((column) => !spec.withheld?.includes(column));
    const rows = await rowsOf(fixture, spec.table, alice.userId);
    t.ok(rows.length > 0, `${spec.table}: the person has rows to export`);
    const expected = rows.map((row) => Object.fromEntries(columns.map((c) => [c, asJson(row[c])])));

    const json = files.get(`${spec.folder}/${spec.table}.json`);
    t.same(JSON.parse(json ?? 'null'), expected, `${spec.table}.json holds exactly the person's rows`);

    const csv = parseCsv(files.get(`${spec.folder}/${spec.table}.csv`) ?? '');
    t.same(csv[0], columns, `${spec.table}.csv has a header row of every column`);
    t.same(
      csv.slice(1),
      rows.map((row) => columns.map((c) => asCsv(row[c]))),
      `${spec.table}.csv holds exactly the person's rows`,
    );
    for (const format of ['csv', 'json']) {
      const entry = manifest.files.find((file) => file.path === `${spec.folder}/${spec.table}.${format}`);
      t.equal(entry?.rows, rows.length, `the manifest counts ${spec.table}.${format}`);
    }
  }
  const softDeleted = JSON.parse(files.get('whoop/integration_sleep.json') ?? '[]') as {
    deleted_at: string | null;
  }[];
  t.ok(
    softDeleted.some((sleep) => sleep.deleted_at !== null),
    'a sleep WHOOP deleted is in, with its deletion time',
  );
  t.match(
    files.get('manual-logs/sleep_entry.csv'),
    /"Slept ""well"", woke once\r\nthen, again — 😴 alice-only-7f3a"/,
  );

  const everything = [...files.values()].join('\n');
  const bobAccount = await rowsOf(fixture, 'app_user', bob.userId);
  const foreign: string[] = [bob.email, 'bob-only-91c2', String(bobAccount[0]?.display_name)];
  for (const table of ['integration_sleep', 'integration_workout']) {
    for (const row of await rowsOf(fixture, table, bob.userId)) foreign.push(String(row.external_id));
  }
  for (const row of await rowsOf(fixture, 'integration_raw_event', bob.userId))
    foreign.push(textOf(row.content_hash));
  for (const value of foreign) t.notOk(everything.includes(value), `nothing of the other person: ${value}`);

  const secrets: string[] = ['scrypt$'];
  for (const table of Object.keys(WITHHELD_TABLES)) {
    for (const row of await rowsOf(fixture, table, alice.userId)) {
      for (const [column, value] of Object.entries(row)) {
        if (['ciphertext', 'wrapped_key', 'iv', 'auth_tag', 'state_hash', 'session_id_hash'].includes(column))
          secrets.push(textOf(value), Buffer.isBuffer(value) ? value.toString('base64') : '');
        if (table === 'session' && column === 'id') secrets.push(String(value));
      }
    }
  }
  t.ok(secrets.length > 5, 'the person has tokens and a session to leak');
  for (const secret of secrets.filter(Boolean))
    t.notOk(everything.includes(secret), 'no token, password hash or session id');
});

t.test("every table that holds a person's rows is exported or withheld on purpose", async (t) => {
  const fixture = await startSyncFixture(t);
  const covered = new Set([...EXPORTED_TABLES.map((spec) => spec.table), ...Object.keys(WITHHELD_TABLES)]);
  const tables = [...(await personalTables(fixture)).keys()];
  t.same(
    tables.filter((table) => !covered.has(table)),
    [],
    'add new tables to src/services/data-rights/tables.ts',
  );
  t.same(
    [...covered].filter((table) => !tables.includes(table)),
    [],
    'every listed table exists',
  );
});

t.test('the export streams: rows are read as the download is read', async (t) => {
  const fixture = await startSyncFixture(t);
  const user = await fixture.services.users.signUp({
    email: 'many@example.test',
    password: 'correct horse battery',
    displayName: 'Many Nights',
    timeZone: 'UTC',
  });
  // 2,000 nights with incompressible notes: about 2 MB of CSV.
  await fixture.pool.query(sql.typeAlias('void')`
    INSERT INTO sleep_entry (user_id, local_date, bed_at, wake_at, note)
    SELECT ${user.id}, date '2019-01-01' + n, timestamptz '2019-01-01T22:00:00Z' + n * interval '1 day',
           timestamptz '2019-01-02T06:00:00Z' + n * interval '1 day',
           (SELECT string_agg(md5(random()::text || n || k), '') FROM generate_series(1, 31) AS k)
    FROM generate_series(0, 1999) AS n
  `);
  let sleepPages = 0;
  const countingPool = await createDbPool(fixture.databaseUrl, {
    maximumPoolSize: 2,
    interceptors: [
      {
        name: 'count-sleep-pages',
        beforeQueryExecution: (_context, query) => {
          if (query.sql.includes('FROM "sleep_entry"')) sleepPages += 1;
          return null;
        },
      },
    ],
  });
  t.teardown(() => countingPool.end());
  const exporter = createDataExport({ pool: countingPool, now: () => new Date(), pageSize: 20 });
  const stream = await exporter.open(user, fixture.logs.logger);

  let received = 0;
  for await (const chunk of stream) {
    received += (chunk as Buffer).length;
    if (received >= 64 * 1024) break; // ends the stream: the client went away
  }
  t.ok(sleepPages >= 2, `pages were read as the download went (${sleepPages})`);
  t.ok(sleepPages < 30, `64 KB into a 2 MB file, at most a few pages were read of 100 (${sleepPages})`);
  const rows = await fixture.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM sleep_entry WHERE user_id = ${user.id}
  `);
  t.equal(rows, 2000);
});

t.test(
  'a database failure midway ends the download incomplete and is logged, never a silent short file',
  async (t) => {
    const fixture = await startSyncFixture(t);
    const user = await fixture.services.users.signUp({
      email: 'unlucky@example.test',
      password: 'correct horse battery',
      displayName: 'Unlucky',
      timeZone: 'UTC',
    });
    const failingPool = await createDbPool(fixture.databaseUrl, {
      maximumPoolSize: 2,
      interceptors: [
        {
          name: 'fail-sync-history',
          beforeQueryExecution: (_context, query) => {
            if (query.sql.includes('FROM "integration_sync_run"')) throw new Error('connection lost');
            return null;
          },
        },
      ],
    });
    t.teardown(() => failingPool.end());
    const exporter = createDataExport({ pool: failingPool, now: () => new Date() });
    const stream = await exporter.open(user, fixture.logs.logger);
    await t.rejects(async () => {
      for await (const _chunk of stream) {
        // read until it fails
      }
    }, /connection lost/);
    t.ok(
      fixture.logs
        .lines()
        .some((line) => line.msg === 'data export failed midway' && line.userId === user.id),
      'an error line for operators',
    );
  },
);
