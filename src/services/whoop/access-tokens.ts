// Valid access tokens for the sync engine. WHOOP rotates both tokens on every refresh and kills the
// old pair at once, so at most one refresh per connection may be in flight across every process:
// the refresh runs under a row lock on the connection (SELECT ... FOR UPDATE), re-reads the tokens
// once it holds the lock (another process may have refreshed meanwhile), and stores the new pair in
// the same transaction. Inside one process, callers for the same connection share one attempt, so
// waiters never hold more than one pool connection per process.
import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import type { Logger, LogSink } from '../logger.ts';
import { logCall, TOKEN_ENDPOINT } from './call-telemetry.ts';
import { type WhoopClient, WhoopOAuthError, type WhoopTokens, WhoopUnavailableError } from './client.ts';
import type { BudgetPriority, RateBudget } from './rate-budget.ts';
import { NotSyncableError, ReauthRequiredError } from './sync/errors.ts';
import type { SyncMetrics } from './sync/metrics.ts';
import { backoffMs, wait } from './sync/wait.ts';
import type { TokenStore } from './token-store.ts';

export const REAUTH_MESSAGE = 'WHOOP no longer accepts this link. Reconnect WHOOP to resume syncing.';

export interface AccessTokenOptions {
  pool: DatabasePool;
  tokens: TokenStore;
  client: WhoopClient;
  budget: RateBudget;
  logger: Logger;
  /** refresh ahead of expiry by this much (default 5 minutes) */
  marginMs?: number;
  /** refresh attempts after the first on 5xx / network errors (default 3) */
  maxRetries?: number;
  backoffBaseMs?: number;
  now?: () => number;
  metrics?: SyncMetrics | undefined;
}

export interface TokenRequestContext {
  priority: BudgetPriority;
  signal?: AbortSignal | undefined;
  /** counts the refresh as an HTTP request of the run */
  onRequest?: () => void;
  /** the caller's logger (a sync run's carries its request and run ids); default: the service's */
  log?: LogSink | undefined;
}

const LIVE_STATUSES = new Set(['connected', 'syncing', 'error']);
const lockedRow = z.object({ status: z.string() });

type RefreshOutcome = { token: string } | { reauth: string };
type EndpointResult =
  | { kind: 'tokens'; tokens: WhoopTokens; ambiguous: boolean }
  | { kind: 'refused'; refused: WhoopOAuthError; ambiguous: boolean };

export function createAccessTokens(options: AccessTokenOptions) {
  const { pool, tokens, client, budget, logger } = options;
  const marginMs = options.marginMs ?? 5 * 60_000;
  const maxRetries = options.maxRetries ?? 3;
  const baseMs = options.backoffBaseMs ?? 250;
  const now = options.now ?? Date.now;
  const inFlight = new Map<number, Promise<string>>();

  const fresh = (expiresAt: Date | null) => expiresAt !== null && expiresAt.getTime() > now() + marginMs;

  /** Calls WHOOP's token endpoint, retrying transient failures; never retries a refusal. */
  async function callTokenEndpoint(
    refreshToken: string,
    context: TokenRequestContext,
    reserve: () => Promise<void>,
  ): Promise<EndpointResult> {
    // A refresh whose answer we never saw may have rotated the tokens at WHOOP: a later invalid_grant
    // then says nothing certain about the grant, so it must not mark the link dead.
    let ambiguous = false;
    const log = context.log ?? logger;
    for (let attempt = 0; ; attempt++) {
      await reserve();
      context.onRequest?.();
      const startedAt = performance.now();
      // The WHOOP client counts the call; the line goes to the run's logger, which it does not know.
      const observe = (status: number | undefined, error?: unknown) => {
        logCall(log, {
          method: 'POST',
          endpoint: TOKEN_ENDPOINT,
          status,
          durationMs: Math.round(performance.now() - startedAt),
          attempt: attempt + 1,
          error,
        });
      };
      try {
        const tokens = await client.refreshTokens(refreshToken);
        observe(200);
        return { kind: 'tokens', tokens, ambiguous };
      } catch (error) {
        if (error instanceof WhoopOAuthError) {
          observe(error.status);
          return { kind: 'refused', refused: error, ambiguous };
        }
        if (!(error instanceof WhoopUnavailableError)) throw error;
        observe(error.status, error.status === undefined ? error : undefined);
        if (attempt >= maxRetries) {
          options.metrics?.tokenRefreshFailures.inc({ reason: 'transient' });
          throw error;
        }
        ambiguous = true;
        log.warn({ attempt, status: error.status }, 'whoop token refresh: transient failure, retrying');
        await wait(backoffMs(attempt, baseMs, 10_000), context.signal);
      }
    }
  }

  async function markReauth(db: CommonQueryMethods, connectionId: number) {
    await db.query(sql.typeAlias('void')`
      UPDATE integration_connection
      SET status = 'reauth_required', last_sync_status = 'failed', last_sync_error = ${REAUTH_MESSAGE},
          next_sync_at = NULL, updated_at = now()
      WHERE id = ${connectionId}
    `);
  }

  async function refreshUnderLock(
    connectionId: number,
    rejected: string | undefined,
    context: TokenRequestContext,
  ) {
    // The budget row must not stay locked for the length of a refresh, so its reservation runs on its
    // own connection; slonik refuses that inside the transaction's async context, hence the binding
    // to the context from before the transaction.
    const log = context.log ?? logger;
    const reserve = AsyncResource.bind(() =>
      budget.acquire({ priority: context.priority, signal: context.signal, log: context.log }),
    );
    const outcome = await pool.transaction(async (tx): Promise<RefreshOutcome> => {
      const row = await tx.maybeOne(sql.type(lockedRow)`
        SELECT status FROM integration_connection WHERE id = ${connectionId} FOR UPDATE
      `);
      if (!row || !LIVE_STATUSES.has(row.status)) throw new NotSyncableError(row?.status ?? 'disconnected');
      // Re-read under the lock: whoever held it before us may have refreshed already.
      const sealed = await tokens.read(tx, connectionId);
      const access = sealed.find((token) => token.kind === 'access');
      const refresh = sealed.find((token) => token.kind === 'refresh');
      if (access && fresh(access.expires_at)) {
        const current = await tokens.open(access);
        if (current !== rejected) return { token: current };
      }
      if (!refresh) {
        await markReauth(tx, connectionId);
        return { reauth: 'no refresh token is stored' };
      }
      const result = await callTokenEndpoint(await tokens.open(refresh), context, reserve);
      if (result.kind === 'tokens') {
        await tokens.save(tx, connectionId, result.tokens);
        options.metrics?.tokenRefreshes.inc();
        if (!result.tokens.refreshToken)
          log.warn({ connectionId }, 'whoop token refresh: no new refresh token');
        log.info(
          { connectionId, expiresIn: result.tokens.expiresIn },
          'whoop token refresh: new pair stored',
        );
        return { token: result.tokens.accessToken };
      }
      const { refused } = result;
      if (refused.error === 'invalid_grant' && !result.ambiguous) {
        options.metrics?.tokenRefreshFailures.inc({ reason: 'invalid_grant' });
        await markReauth(tx, connectionId);
        return { reauth: 'invalid_grant' };
      }
      // invalid_client is our configuration, and an invalid_grant after an unanswered attempt may be
      // our own rotation: neither proves the person's grant is dead. The next run tries again.
      options.metrics?.tokenRefreshFailures.inc({ reason: 'transient' });
      log.error(
        { connectionId, status: refused.status, error: refused.error, ambiguous: result.ambiguous },
        'whoop token refresh: refused',
      );
      throw new WhoopUnavailableError('token refresh', `refused with ${refused.error}`, refused.status);
    });
    if ('reauth' in outcome) {
      log.warn(
        { connectionId, reason: outcome.reauth },
        'whoop token refresh: the grant is dead, reconnect needed',
      );
      throw new ReauthRequiredError(REAUTH_MESSAGE);
    }
    return outcome.token;
  }

  /** One refresh attempt per connection per process at a time; later callers share it. */
  function refresh(
    connectionId: number,
    rejected: string | undefined,
    context: TokenRequestContext,
  ): Promise<string> {
    const pending = inFlight.get(connectionId);
    if (pending) return pending;
    const attempt = refreshUnderLock(connectionId, rejected, context).finally(() =>
      inFlight.delete(connectionId),
    );
    inFlight.set(connectionId, attempt);
    return attempt;
  }

  return {
    /** A token that stays valid for at least the margin (refreshed first if needed). */
    async current(connectionId: number, context: TokenRequestContext): Promise<string> {
      const sealed = await tokens.read(pool, connectionId);
      const access = sealed.find((token) => token.kind === 'access');
      if (access && fresh(access.expires_at)) return tokens.open(access);
      if (sealed.length === 0) throw new NotSyncableError('disconnected');
      return refresh(connectionId, undefined, context);
    },

    /** WHOOP refused `rejected` (401): a new token, unless someone else already replaced it. */
    replace(connectionId: number, rejected: string, context: TokenRequestContext): Promise<string> {
      return refresh(connectionId, rejected, context);
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
