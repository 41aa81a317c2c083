import t from 'tap';
import { z } from 'zod';
import type { DatabasePool } from '../src/services/db/pool.ts';
import { sql } from '../src/services/db/sql.ts';
import { build } from './helper.ts';

async function createUser(pool: DatabasePool, email: string): Promise<number> {
  return pool.oneFirst(sql.type(z.object({ id: z.number() }))`
    INSERT INTO app_user (email, password_hash, display_name) VALUES (${email}, 'x', 'User') RETURNING id
  `);
}

// The name of the constraint the database refused the statement with, or undefined if it was accepted.
async function refusedBy(statement: Promise<unknown>): Promise<string | undefined> {
  try {
    await statement;
    return undefined;
  } catch (error) {
    return (error as { constraint?: string }).constraint;
  }
}

function link(pool: DatabasePool, userId: number, accountId: string, status = 'connected') {
  return pool.query(sql.typeAlias('void')`
    INSERT INTO integration_connection (user_id, provider, provider_account_id, status)
    VALUES (${userId}, 'whoop', ${accountId}, ${status})
  `);
}

t.test('a second connection for the same user and provider is refused by the database', async (t) => {
  const { pool } = await build(t);
  const userId = await createUser(pool, 'one@example.com');
  await link(pool, userId, '1001');
  t.equal(await refusedBy(link(pool, userId, '1002')), 'integration_connection_user_provider_key');
});

t.test('the same WHOOP account cannot be linked to two users', async (t) => {
  const { pool } = await build(t);
  const first = await createUser(pool, 'first@example.com');
  const second = await createUser(pool, 'second@example.com');
  await link(pool, first, '2002');
  t.equal(await refusedBy(link(pool, second, '2002')), 'integration_connection_live_account_key');
});

t.test('a disconnected link keeps its history without blocking the account for someone else', async (t) => {
  const { pool } = await build(t);
  const first = await createUser(pool, 'old@example.com');
  const second = await createUser(pool, 'new@example.com');
  await link(pool, first, '3003', 'disconnected');
  await t.resolves(link(pool, second, '3003'));
});

t.test('the provider catalog is seeded with WHOOP and its scopes', async (t) => {
  const { pool } = await build(t);
  const whoop = await pool.one(sql.type(z.object({ display_name: z.string(), scopes: z.array(z.string()) }))`
    SELECT display_name, scopes FROM integration WHERE provider = 'whoop'
  `);
  t.equal(whoop.display_name, 'WHOOP');
  t.ok(whoop.scopes.includes('offline'));
  t.equal(whoop.scopes.length, 7);
});

t.test('token rows cannot be stored without their envelope parts', async (t) => {
  const { pool } = await build(t);
  const userId = await createUser(pool, 'tokens@example.com');
  await link(pool, userId, '4004');
  t.match(
    await refusedBy(
      pool.query(sql.typeAlias('void')`
      INSERT INTO integration_token (connection_id, kind, ciphertext, iv, auth_tag, wrapped_key, key_provider, key_id, key_version)
      SELECT id, 'access', '\\x00', '\\x00', '\\x00', '\\x00', 'keyring', 'local', 'v1' FROM integration_connection
    `),
    ),
    /^integration_token_(iv|auth_tag)_check$/,
  );
});
