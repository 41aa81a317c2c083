// integration_pending_switch rows: a different WHOOP account's fresh grant, sealed by the token vault,
// held for OAUTH_STATE_TTL_MS while its person decides. Bound to user and session; taken once.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import type { TokenVault } from '../../token-vault/index.ts';
import type { WhoopTokens } from '../client.ts';
import { fromJson, OAUTH_STATE_TTL_MS, sealedJson, sha256, toJson } from '../oauth-states.ts';

export interface HeldAccount {
  memberId: string;
  memberName: string;
}

export interface PendingSwitch {
  account: HeldAccount;
  expiresAt: Date;
}

const pendingRow = z.object({
  provider_account_id: z.string(),
  provider_account_name: z.string(),
  expires_at: z.date(),
});

const takenRow = pendingRow.extend({
  scopes: z.array(z.string()),
  access_sealed: sealedJson,
  access_expires_at: z.date(),
  refresh_sealed: sealedJson.nullable(),
});

/** Bound to the user and the account: a sealed token copied to another row does not open. */
function pendingContext(userId: number, memberId: string, kind: 'access' | 'refresh') {
  return { connectionId: `pending_switch:${userId}:${memberId}`, kind };
}

export function createPendingSwitches(deps: {
  pool: DatabasePool;
  vault: TokenVault;
  provider: string;
  ttlMs?: number;
}) {
  const { pool, vault, provider } = deps;
  const ttlMs = deps.ttlMs ?? OAUTH_STATE_TTL_MS;

  return {
    /** Seals and holds the grant; a newer attempt replaces an older one (whose tokens are destroyed). */
    async hold(input: {
      userId: number;
      sessionId: string;
      account: HeldAccount;
      granted: WhoopTokens;
    }): Promise<void> {
      const { userId, account, granted } = input;
      const access = await vault.seal(
        granted.accessToken,
        pendingContext(userId, account.memberId, 'access'),
      );
      const refresh = granted.refreshToken
        ? await vault.seal(granted.refreshToken, pendingContext(userId, account.memberId, 'refresh'))
        : undefined;
      await pool.query(sql.typeAlias('void')`
        INSERT INTO integration_pending_switch
          (user_id, provider, session_id_hash, provider_account_id, provider_account_name, scopes,
           access_sealed, access_expires_at, refresh_sealed, expires_at)
        VALUES (
          ${userId}, ${provider}, ${sql.binary(sha256(input.sessionId))}, ${account.memberId},
          ${account.memberName}, ${sql.array(granted.scopes, 'text')}, ${sql.jsonb(toJson(access))},
          now() + ${sql.interval({ seconds: granted.expiresIn })},
          ${refresh ? sql.jsonb(toJson(refresh)) : null},
          now() + ${sql.interval({ seconds: Math.round(ttlMs / 1000) })}
        )
        ON CONFLICT (user_id, provider) DO UPDATE SET
          session_id_hash = EXCLUDED.session_id_hash, provider_account_id = EXCLUDED.provider_account_id,
          provider_account_name = EXCLUDED.provider_account_name, scopes = EXCLUDED.scopes,
          access_sealed = EXCLUDED.access_sealed, access_expires_at = EXCLUDED.access_expires_at,
          refresh_sealed = EXCLUDED.refresh_sealed, created_at = now(), expires_at = EXCLUDED.expires_at
      `);
    },

    /** The account waiting for this user in this session, unexpired (nothing sealed leaves here). */
    async find(input: { userId: number; sessionId: string }): Promise<PendingSwitch | undefined> {
      const row = await pool.maybeOne(sql.type(pendingRow)`
        SELECT provider_account_id, provider_account_name, expires_at FROM integration_pending_switch
        WHERE user_id = ${input.userId} AND provider = ${provider}
          AND session_id_hash = ${sql.binary(sha256(input.sessionId))} AND expires_at > now()
      `);
      return row
        ? {
            account: { memberId: row.provider_account_id, memberName: row.provider_account_name },
            expiresAt: row.expires_at,
          }
        : undefined;
    },

    /**
     * Takes the held grant (deleting its row) in the caller's transaction and opens its tokens: a
     * rollback puts it back. Undefined when nothing unexpired waits for this user in this session.
     */
    async take(
      db: CommonQueryMethods,
      input: { userId: number; sessionId: string },
    ): Promise<{ account: HeldAccount; tokens: WhoopTokens } | undefined> {
      const row = await db.maybeOne(sql.type(takenRow)`
        DELETE FROM integration_pending_switch
        WHERE user_id = ${input.userId} AND provider = ${provider}
          AND session_id_hash = ${sql.binary(sha256(input.sessionId))} AND expires_at > now()
        RETURNING provider_account_id, provider_account_name, expires_at, scopes, access_sealed,
                  access_expires_at, refresh_sealed
      `);
      if (!row) return undefined;
      const memberId = row.provider_account_id;
      const accessToken = await vault.open(
        fromJson(row.access_sealed),
        pendingContext(input.userId, memberId, 'access'),
      );
      const refreshToken = row.refresh_sealed
        ? await vault.open(fromJson(row.refresh_sealed), pendingContext(input.userId, memberId, 'refresh'))
        : undefined;
      const expiresIn = Math.max(0, Math.floor((row.access_expires_at.getTime() - Date.now()) / 1000));
      return {
        account: { memberId, memberName: row.provider_account_name },
        tokens: { accessToken, refreshToken, expiresIn, scopes: row.scopes },
      };
    },

    /** Destroys what waits for this user (any session); true when something did. */
    async discard(userId: number): Promise<boolean> {
      const result = await pool.query(sql.typeAlias('void')`
        DELETE FROM integration_pending_switch WHERE user_id = ${userId} AND provider = ${provider}
      `);
      return result.rowCount > 0;
    },

    /** Expired grants are deleted at once: nobody can take them, and they are tokens. */
    async purgeExpired(): Promise<number> {
      const result = await pool.query(sql.typeAlias('void')`
        DELETE FROM integration_pending_switch WHERE expires_at <= now()
      `);
      return result.rowCount;
    },
  };
}

export type PendingSwitches = ReturnType<typeof createPendingSwitches>;
