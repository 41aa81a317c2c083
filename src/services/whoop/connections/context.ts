// What the linking, unlinking and account-switch modules share: their dependencies, the rows they
// lock, and the calls that spend the shared WHOOP request budget while someone waits.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import type { LogSink as Logger } from '../../logger.ts';
import type { WhoopClient } from '../client.ts';
import type { OAuthStates } from '../oauth-states.ts';
import type { RateBudget } from '../rate-budget.ts';
import type { WhoopSettings } from '../settings.ts';
import { DayBudgetSpentError } from '../sync/errors.ts';
import type { TokenStore } from '../token-store.ts';
import { LinkError, nothingLinked } from './errors.ts';
import type { PendingSwitches } from './pending-switches.ts';

export const PROVIDER = 'whoop';

export type ConnectionStatus = 'disconnected' | 'connected' | 'syncing' | 'error' | 'reauth_required';
export const connectionStatus = z.enum(['disconnected', 'connected', 'syncing', 'error', 'reauth_required']);

export interface WhoopConnectionDeps {
  pool: DatabasePool;
  logger: Logger;
  settings: WhoopSettings | undefined;
  client: WhoopClient | undefined;
  states: OAuthStates;
  tokens: TokenStore;
  /** A different account's tokens, sealed, while its person decides whether to switch. */
  pendingSwitches: PendingSwitches;
  /** the app-wide request budget: link-time calls and revokes spend it like syncs do */
  budget: RateBudget;
  /** Runs in the transaction that stores a link: the sync engine enqueues the first sync there. */
  onLinked?:
    | ((
        db: CommonQueryMethods,
        connectionId: number,
        context: { requestId?: string | undefined },
      ) => Promise<unknown>)
    | undefined;
}

export const lockedConnection = z.object({
  id: z.number(),
  status: connectionStatus,
  provider_account_id: z.string().nullable(),
  provider_account_name: z.string().nullable(),
});
export type LockedConnection = z.infer<typeof lockedConnection>;
export const idRow = z.object({ id: z.number() });
export const existsRow = z.object({ exists: z.boolean() });

/** The user's WHOOP connection, locked until the transaction ends. */
export function lockConnection(db: CommonQueryMethods, userId: number) {
  return db.maybeOne(sql.type(lockedConnection)`
    SELECT id, status, provider_account_id, provider_account_name FROM integration_connection
    WHERE user_id = ${userId} AND provider = ${PROVIDER}
    FOR UPDATE
  `);
}

/** Whether another user holds a live link to this WHOOP account. */
export async function linkedElsewhere(
  db: CommonQueryMethods,
  userId: number,
  whoopUserId: string,
): Promise<boolean> {
  const found = await db.one(sql.type(existsRow)`
    SELECT EXISTS (
      SELECT FROM integration_connection
      WHERE provider = ${PROVIDER} AND provider_account_id = ${whoopUserId}
        AND status <> 'disconnected' AND user_id <> ${userId}
    ) AS exists
  `);
  return found.exists;
}

export function createConnectionCalls(deps: WhoopConnectionDeps) {
  const { pool, client, budget } = deps;
  return {
    /** A slot of the shared budget for a call made while someone waits (link, disconnect). */
    async reserve(log: Logger): Promise<void> {
      try {
        await budget.acquire({ priority: 'interactive', log });
      } catch (error) {
        if (!(error instanceof DayBudgetSpentError)) throw error;
        log.warn({ resumeAt: error.resumeAt }, 'whoop: the shared request budget is spent');
        throw new LinkError(
          'budget_spent',
          `WHOOP's request limit for this app is used up until ${error.resumeAt.toISOString().slice(11, 16)} UTC. ${nothingLinked} Try again then.`,
        );
      }
    },

    requireClient(): WhoopClient {
      if (!client) throw new LinkError('not_configured', 'WHOOP is not configured on this server.');
      return client;
    },

    async assertUser(userId: number): Promise<void> {
      const found = await pool.one(sql.type(existsRow)`
        SELECT EXISTS (SELECT FROM app_user WHERE id = ${userId}) AS exists
      `);
      if (!found.exists) throw new LinkError('unknown_user', `There is no user ${userId}.`);
    },
  };
}

export type ConnectionCalls = ReturnType<typeof createConnectionCalls>;
