import t from 'tap';
import { z } from 'zod';
import type { DatabasePool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';
import { generateKeyringKey } from '../../src/services/token-vault/index.ts';
import { BrowserSession, signUp } from '../support/browser-session.ts';
import { keyringVault, linkWhoop, openStoredTokens, setUp } from './support.ts';

const columnRow = z.object({ schema: z.string(), table: z.string(), column: z.string(), type: z.string() });

/** Every text-like, json and bytea column of every table outside the system schemas, rendered as text. */
async function dumpDatabase(pool: DatabasePool): Promise<{ columns: string[]; cells: string[] }> {
  const columns = await pool.any(sql.type(columnRow)`
    SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS column, c.udt_name AS type
    FROM information_schema.columns c
    JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
    WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND tb.table_type = 'BASE TABLE'
      AND c.udt_name IN ('text', 'varchar', 'bpchar', 'citext', 'json', 'jsonb', 'bytea', '_text', '_varchar')
    ORDER BY 1, 2, 3
  `);
  const cells: string[] = [];
  for (const col of columns) {
    const values = await pool.anyFirst(sql.type(z.object({ value: z.unknown() }))`
      SELECT ${sql.identifier([col.column])} AS value FROM ${sql.identifier([col.schema, col.table])}
      WHERE ${sql.identifier([col.column])} IS NOT NULL
    `);
    for (const value of values) {
      if (Buffer.isBuffer(value)) {
        // The bytes as they are, and as they would look re-encoded.
        cells.push(
          value.toString('latin1'),
          value.toString('utf8'),
          value.toString('base64'),
          value.toString('hex'),
        );
      } else cells.push(typeof value === 'string' ? value : JSON.stringify(value));
    }
  }
  return { columns: columns.map((c) => `${c.schema}.${c.table}.${c.column}`), cells };
}

function forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    secret,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    // and a long slice, in case only part of it was stored
    secret.slice(8, 40),
  ];
}

t.test('after connect, no column of any table holds either token in any form', async (t) => {
  const keyring = generateKeyringKey('v1');
  const app = await setUp(t, { env: { TOKEN_ENCRYPTION_KEYS: keyring } });
  const browser = new BrowserSession(app.app);
  await signUp(browser, { email: 'dump@example.com' });
  await linkWhoop(browser, { whoopUserId: app.memberId });

  const tokens = await openStoredTokens(app, keyringVault(keyring));
  const access = tokens.find((row) => row.kind === 'access')?.token ?? '';
  const refresh = tokens.find((row) => row.kind === 'refresh')?.token ?? '';
  t.ok(access.length > 40 && refresh.length > 40, 'both tokens were issued and stored (sealed)');
  const profile = await fetch(`${app.sim.apiBaseUrl}/v2/user/profile/basic`, {
    headers: { authorization: `Bearer ${access}` },
  });
  t.equal(profile.status, 200, 'and they are the real ones');

  const { columns, cells } = await dumpDatabase(app.pool);
  for (const expected of [
    'public.integration_token.ciphertext',
    'public.integration_token.wrapped_key',
    'public.oauth_state.pkce_verifier_sealed',
    'public.session.data',
    'public.integration_connection.provider_account_name',
  ]) {
    t.ok(columns.includes(expected), `the dump covers ${expected}`);
  }
  t.ok(
    cells.some((cell) => cell.includes('Whitney Hoop')),
    'the dump does see stored values',
  );
  for (const [name, secret] of [
    ['access token', access],
    ['refresh token', refresh],
  ] as const) {
    const leaks = forms(secret).filter((form) => cells.some((cell) => cell.includes(form)));
    t.same(leaks, [], `the ${name} is in no column, in no encoding`);
  }
});
