// "Delete my WHOOP data" and "Delete my account". Both revoke at WHOOP first (the connections
// service's Disconnect: best effort, tokens destroyed here whatever WHOOP answers), then delete.
// WHOOP data is the person's WHOOP connection rows: every integration_* row of theirs hangs off one
// and goes with it (ON DELETE CASCADE), with the queued jobs that would sync it and any pending link
// request. The account is the app_user row, after its WHOOP data: everything else references it and
// cascades, sessions on every device included.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import type { LogSink as Logger } from '../logger.ts';

/** The provider this erasure is about (integration.provider). */
const PROVIDER = 'whoop';

const idRow = z.object({ id: z.number() });
const tableRow = z.object({ table_name: z.string() });
const existsRow = z.object({ exists: z.boolean() });
const keyRow = z.object({ key: z.string() });

/**
 * The WHOOP jobs about one connection, whatever the task: they are keyed `whoop_<task>:<connectionId>`
 * (sync/requests.ts's jobKeyOf, the webhook task likewise).
 */
const connectionJobKeys = (connectionId: number) => `^whoop_[a-z_]+:${connectionId}$`;

/** Tables other than the connections that hold WHOOP rows by user: found in the schema, not listed. */
async function userScopedIntegrationTables(db: CommonQueryMethods): Promise<readonly string[]> {
  return db.anyFirst(sql.type(tableRow)`
    SELECT c.table_name FROM information_schema.columns AS c
    JOIN information_schema.tables AS t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = current_schema() AND c.column_name = 'user_id'
      AND c.table_name LIKE 'integration\\_%' AND c.table_name <> 'integration_connection'
      AND EXISTS (
        SELECT FROM information_schema.columns AS p
        WHERE p.table_schema = c.table_schema AND p.table_name = c.table_name AND p.column_name = 'provider'
      )
    ORDER BY c.table_name
  `);
}

export interface ErasureDeps {
  pool: DatabasePool;
  logger: Logger;
  /** services.whoop.disconnect: revokes at WHOOP and destroys the tokens */
  disconnect: (input: { userId: number; log?: Logger }) => Promise<{ wasLinked: boolean; revoked: boolean }>;
  /** the password check of the login, so a wrong one counts toward the same account lockout */
  verifyPassword: (input: { userId: number; password: string }) => Promise<PasswordCheck>;
}

export type PasswordCheck =
  | { outcome: 'accepted' }
  | { outcome: 'refused' }
  | { outcome: 'throttled'; retryAfterSeconds: number };

/** What became of the grant at WHOOP: revoked, not revoked (WHOOP unreachable or refusing), or none was live. */
export type Revocation = 'revoked' | 'failed' | 'not_linked';

export interface WhoopErasure {
  /** WHOOP data existed (a connection row) and was deleted */
  deleted: boolean;
  revocation: Revocation;
}

export type AccountErasure =
  | { outcome: 'deleted'; revocation: Revocation }
  | Exclude<PasswordCheck, { outcome: 'accepted' }>;

export function createDataErasure(deps: ErasureDeps) {
  const { pool } = deps;

  async function eraseWhoopData(input: { userId: number; log?: Logger }): Promise<WhoopErasure> {
    const log = input.log ?? deps.logger;
    // Revoke first: once the rows are gone, nothing here could reach WHOOP for this person again.
    const disconnected = await deps.disconnect({ userId: input.userId, log });
    const revocation: Revocation = !disconnected.wasLinked
      ? 'not_linked'
      : disconnected.revoked
        ? 'revoked'
        : 'failed';
    const connectionIds = await pool.transaction(async (tx) => {
      const ids = await tx.anyFirst(sql.type(idRow)`
        SELECT id FROM integration_connection
        WHERE user_id = ${input.userId} AND provider = ${PROVIDER}
        FOR UPDATE
      `);
      for (const id of ids) {
        // A waiting job disappears; one under way is kept from retrying (graphile-worker's remove_job).
        for (const key of await tx.anyFirst(sql.type(keyRow)`
          SELECT key FROM graphile_worker.jobs WHERE key ~ ${connectionJobKeys(id)}
        `)) {
          await tx.query(sql.typeAlias('void')`SELECT FROM graphile_worker.remove_job(${key})`);
        }
      }
      // Rows kept per user rather than per connection (a pending account switch, say) do not cascade
      // from the connection: every integration_* table with a user and a provider is emptied of theirs.
      for (const table of await userScopedIntegrationTables(tx)) {
        await tx.query(sql.typeAlias('void')`
          DELETE FROM ${sql.identifier([table])} WHERE user_id = ${input.userId} AND provider = ${PROVIDER}
        `);
      }
      await tx.query(sql.typeAlias('void')`
        DELETE FROM integration_connection WHERE user_id = ${input.userId} AND provider = ${PROVIDER}
      `);
      await tx.query(sql.typeAlias('void')`
        DELETE FROM oauth_state WHERE user_id = ${input.userId} AND provider = ${PROVIDER}
      `);
      return ids;
    });
    log.info(
      { userId: input.userId, connectionIds, revocation },
      connectionIds.length > 0 ? 'whoop data deleted' : 'whoop data deletion: there was none',
    );
    return { deleted: connectionIds.length > 0, revocation };
  }

  return {
    eraseWhoopData,

    /** Whether there is WHOOP data to delete (a link, live or not, keeps its history). */
    async hasWhoopData(userId: number): Promise<boolean> {
      return pool.oneFirst(sql.type(existsRow)`
        SELECT EXISTS (
          SELECT FROM integration_connection WHERE user_id = ${userId} AND provider = ${PROVIDER}
        ) AS exists
      `);
    },

    /** Deletes the account and everything of it, once the password is confirmed. */
    async deleteAccount(input: { userId: number; password: string; log?: Logger }): Promise<AccountErasure> {
      const log = input.log ?? deps.logger;
      const check = await deps.verifyPassword({ userId: input.userId, password: input.password });
      if (check.outcome !== 'accepted') {
        log.info({ userId: input.userId, reason: check.outcome }, 'account deletion refused');
        return check;
      }
      const { revocation } = await eraseWhoopData({ userId: input.userId, log });
      await pool.query(sql.typeAlias('void')`DELETE FROM app_user WHERE id = ${input.userId}`);
      log.info({ userId: input.userId, revocation }, 'account deleted');
      return { outcome: 'deleted', revocation };
    },
  };
}

export type DataErasure = ReturnType<typeof createDataErasure>;
