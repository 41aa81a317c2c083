// Unlinking: Disconnect destroys the tokens and keeps the connection row and every synced record
// (shown read-only on the pages for the dates before), and revokes the grant at WHOOP, best effort.
import { sql } from '../../db/sql.ts';
import type { LogSink as Logger } from '../../logger.ts';
import { WhoopApiError } from '../client.ts';
import type { SealedTokenRow } from '../token-store.ts';
import { type ConnectionCalls, lockConnection, type WhoopConnectionDeps } from './context.ts';

export interface DisconnectResult {
  /** false when there was no live link */
  wasLinked: boolean;
  /** WHOOP confirmed the revoke (failures are logged, not fatal) */
  revoked: boolean;
}

export function createUnlinking(deps: WhoopConnectionDeps, calls: ConnectionCalls) {
  const { pool, client, tokens } = deps;
  const { reserve, assertUser } = calls;

  /** Best effort: WHOOP's revoke ends the grant. An expired access token is refreshed once first. */
  async function revokeAtWhoop(
    connectionId: number,
    sealed: SealedTokenRow[],
    log: Logger,
  ): Promise<boolean> {
    if (!client) return false;
    const access = sealed.find((row) => row.kind === 'access');
    const refresh = sealed.find((row) => row.kind === 'refresh');
    try {
      if (access) {
        try {
          await reserve(log);
          await client.revokeAccess(await tokens.open(access));
          log.info({ connectionId }, 'whoop disconnect: access revoked at WHOOP');
          return true;
        } catch (error) {
          if (!(error instanceof WhoopApiError && error.status === 401 && refresh)) throw error;
          log.info({ connectionId }, 'whoop disconnect: access token no longer valid, refreshing to revoke');
        }
      }
      if (!refresh) {
        log.warn({ connectionId }, 'whoop disconnect: no token left to revoke with');
        return false;
      }
      await reserve(log);
      const renewed = await client.refreshTokens(await tokens.open(refresh));
      await reserve(log);
      await client.revokeAccess(renewed.accessToken);
      log.info({ connectionId }, 'whoop disconnect: access revoked at WHOOP');
      return true;
    } catch (error) {
      log.warn(
        { connectionId, err: error },
        'whoop disconnect: revoke at WHOOP failed (tokens destroyed here anyway)',
      );
      return false;
    }
  }

  return {
    revokeAtWhoop,

    /** Revokes at WHOOP (best effort), destroys the tokens, keeps the connection row and every synced record. */
    async disconnect(input: {
      userId: number;
      log?: Logger;
      requireUser?: boolean;
    }): Promise<DisconnectResult> {
      const log = input.log ?? deps.logger;
      if (input.requireUser) await assertUser(input.userId);
      const taken = await pool.transaction(async (tx) => {
        const connection = await lockConnection(tx, input.userId);
        if (!connection) return undefined;
        const sealed = await tokens.read(tx, connection.id);
        const deleted = await tokens.deleteAll(tx, connection.id);
        await tx.query(sql.typeAlias('void')`
          UPDATE integration_connection
          SET status = 'disconnected',
              disconnected_at = CASE WHEN status = 'disconnected' THEN disconnected_at ELSE now() END,
              next_sync_at = NULL, updated_at = now()
          WHERE id = ${connection.id}
        `);
        return { connection, sealed, deleted };
      });
      if (!taken || (taken.connection.status === 'disconnected' && taken.sealed.length === 0)) {
        log.info({ userId: input.userId }, 'whoop disconnect: nothing was linked');
        return { wasLinked: false, revoked: false };
      }
      const connectionId = taken.connection.id;
      log.info(
        { userId: input.userId, connectionId, tokensDeleted: taken.deleted },
        'whoop disconnect: tokens destroyed, connection marked disconnected',
      );
      const revoked = await revokeAtWhoop(connectionId, taken.sealed, log);
      return { wasLinked: true, revoked };
    },
  };
}

export type Unlinking = ReturnType<typeof createUnlinking>;
