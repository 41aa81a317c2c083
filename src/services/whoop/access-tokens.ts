// Valid access tokens for the sync engine. WHOOP rotates both tokens on every refresh and kills the
// old pair the moment it answers, so the pair it returns must never be lost, and at most one refresh
// per connection may be in flight across every process:
// - a lease on the connection row (owner, expiry), taken and released in short statements, serialises
//   refreshes; no transaction or row lock is held while WHOOP or KMS is called, so Disconnect, Sync
//   now and Reconnect never wait on a refresh, and a crashed holder's lease simply expires;
// - the budget slot is reserved and the data keys are fetched before WHOOP is asked, so nothing that
//   can fail on the network stands between WHOOP's answer and the write of the new pair;
// - that write is retried while the pair is in memory; it only lands on a live connection: after a
//   Disconnect the new pair is revoked at WHOOP instead of stored.
// Inside one process, callers for the same connection share one attempt.
import { randomUUID } from 'node:crypto';
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
import type { SealedPair, TokenStore } from './token-store.ts';

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
  /** how long a refresh attempt may hold the connection's lease before another process may take over (default 2 minutes) */
  leaseMs?: number;
  /** attempts to store a new pair before giving up on it (default 6) */
  persistAttempts?: number;
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

const LIVE_STATUSES = ['connected', 'syncing', 'error'];
const LIVE = sql.fragment`status = ANY(${sql.array(LIVE_STATUSES, 'text')})`;
const idRow = z.object({ id: z.number() });
const statusRow = z.object({ status: z.string() });
const heldRow = z.object({ held: z.boolean() });

type EndpointResult =
  | { kind: 'tokens'; tokens: WhoopTokens; ambiguous: boolean }
  | { kind: 'refused'; refused: WhoopOAuthError; ambiguous: boolean };

export function createAccessTokens(options: AccessTokenOptions) {
  const { pool, tokens, client, budget, logger } = options;
  const marginMs = options.marginMs ?? 5 * 60_000;
  const maxRetries = options.maxRetries ?? 3;
  const baseMs = options.backoffBaseMs ?? 250;
  const leaseMs = options.leaseMs ?? 120_000;
  const persistAttempts = options.persistAttempts ?? 6;
  const now = options.now ?? Date.now;
  const inFlight = new Map<number, Promise<string>>();

  const fresh = (expiresAt: Date | null) => expiresAt !== null && expiresAt.getTime() > now() + marginMs;

  /** The current access token when it is fresh and not the one WHOOP just refused. */
  async function usableToken(connectionId: number, rejected: string | undefined) {
    const sealed = await tokens.read(pool, connectionId);
    if (sealed.length === 0) throw new NotSyncableError('disconnected');
    const access = sealed.find((token) => token.kind === 'access');
    if (access && fresh(access.expires_at)) {
      const current = await tokens.open(access);
      if (current !== rejected) return { token: current, sealed };
    }
    return { token: undefined, sealed };
  }

  async function takeLease(connectionId: number, owner: string): Promise<'taken' | 'busy'> {
    const taken = await pool.maybeOne(sql.type(idRow)`
      UPDATE integration_connection
      SET refresh_lease_owner = ${owner},
          refresh_lease_until = now() + ${leaseMs}::float8 * interval '1 millisecond'
      WHERE id = ${connectionId} AND ${LIVE}
        AND (refresh_lease_until IS NULL OR refresh_lease_until <= now())
      RETURNING id
    `);
    if (taken) return 'taken';
    const row = await pool.maybeOne(sql.type(statusRow)`
      SELECT status FROM integration_connection WHERE id = ${connectionId}
    `);
    if (!row || !LIVE_STATUSES.includes(row.status))
      throw new NotSyncableError(row?.status ?? 'disconnected');
    return 'busy';
  }

  /** Keeps the lease for another period; false once the connection was disconnected meanwhile. */
  async function extendLease(connectionId: number, owner: string): Promise<boolean> {
    const row = await pool.maybeOne(sql.type(idRow)`
      UPDATE integration_connection
      SET refresh_lease_until = now() + ${leaseMs}::float8 * interval '1 millisecond'
      WHERE id = ${connectionId} AND ${LIVE} AND refresh_lease_owner = ${owner}
      RETURNING id
    `);
    return row !== null;
  }

  async function releaseLease(connectionId: number, owner: string, log: LogSink) {
    try {
      await pool.query(sql.typeAlias('void')`
        UPDATE integration_connection SET refresh_lease_owner = NULL, refresh_lease_until = NULL
        WHERE id = ${connectionId} AND refresh_lease_owner = ${owner}
      `);
    } catch (error) {
      // It expires on its own: the next refresh waits at most one lease period.
      log.warn({ connectionId, err: error }, 'whoop token refresh: lease not released');
    }
  }

  /** Another process is refreshing: wait until its lease is gone, then look at the tokens again. */
  async function waitForHolder(connectionId: number, context: TokenRequestContext) {
    // Polled: the holder may be another process, and its lease ends by expiry if it died.
    for (let attempt = 0; ; attempt++) {
      await wait(Math.min(1_000, 50 * 2 ** attempt), context.signal);
      const row = await pool.maybeOne(sql.type(heldRow)`
        SELECT coalesce(refresh_lease_until > now(), false) AS held
        FROM integration_connection WHERE id = ${connectionId}
      `);
      if (!row?.held) return;
    }
  }

  /** Calls WHOOP's token endpoint, retrying transient failures; never retries a refusal. */
  async function callTokenEndpoint(
    connectionId: number,
    refreshToken: string,
    context: TokenRequestContext,
    owner: string,
  ): Promise<EndpointResult> {
    // A refresh whose answer we never saw may have rotated the tokens at WHOOP: a later invalid_grant
    // then says nothing certain about the grant, so it must not mark the link dead.
    let ambiguous = false;
    const log = context.log ?? logger;
    for (let attempt = 0; ; attempt++) {
      // The first slot was reserved before the lease was taken.
      if (attempt > 0) {
        await budget.acquire({ priority: context.priority, signal: context.signal, log: context.log });
        if (!(await extendLease(connectionId, owner))) throw new NotSyncableError('disconnected');
      }
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
      WHERE id = ${connectionId} AND ${LIVE}
    `);
  }

  /** Stores the new pair on a live connection; false when it was disconnected meanwhile. */
  async function persistPair(connectionId: number, pair: SealedPair): Promise<boolean> {
    return pool.transaction(async (tx) => {
      const live = await tx.maybeOne(sql.type(idRow)`
        UPDATE integration_connection SET refresh_lease_owner = NULL, refresh_lease_until = NULL
        WHERE id = ${connectionId} AND ${LIVE}
        RETURNING id
      `);
      if (!live) return false;
      await tokens.writePair(tx, connectionId, pair);
      return true;
    });
  }

  /** Retries the write while the pair is in memory: losing it would lose the grant. */
  async function persistWithRetries(
    connectionId: number,
    owner: string,
    pair: SealedPair,
    context: TokenRequestContext,
  ) {
    const log = context.log ?? logger;
    for (let attempt = 0; ; attempt++) {
      try {
        // Nobody may take over (and refresh with the spent token) while this pair waits to be stored.
        if (attempt > 0) await extendLease(connectionId, owner).catch(() => false);
        return await persistPair(connectionId, pair);
      } catch (error) {
        if (attempt + 1 >= persistAttempts) {
          options.metrics?.tokenRefreshFailures.inc({ reason: 'not_stored' });
          log.error(
            { connectionId, err: error, attempts: attempt + 1 },
            'whoop token refresh: the new pair could not be stored; the link will need a reconnect',
          );
          throw error;
        }
        log.warn(
          { connectionId, err: error, attempt },
          'whoop token refresh: storing the new pair failed, retrying',
        );
        // No abort signal here: a shutting-down worker still stores what WHOOP already rotated.
        await wait(backoffMs(attempt, baseMs, 5_000));
      }
    }
  }

  /** Disconnected while WHOOP was answering: end the pair it just issued rather than keep it. */
  async function revokeOrphanedPair(connectionId: number, access: string, context: TokenRequestContext) {
    const log = context.log ?? logger;
    try {
      await budget.acquire({ priority: 'interactive', signal: context.signal, log: context.log });
      await client.revokeAccess(access);
      log.info({ connectionId }, 'whoop token refresh: disconnected meanwhile, new pair revoked at WHOOP');
    } catch (error) {
      log.warn({ connectionId, err: error }, 'whoop token refresh: disconnected meanwhile, revoke failed');
    }
  }

  async function refreshHoldingLease(
    connectionId: number,
    rejected: string | undefined,
    context: TokenRequestContext,
    owner: string,
  ): Promise<string> {
    const log = context.log ?? logger;
    // Whoever held the lease before us may have refreshed already.
    const { token, sealed } = await usableToken(connectionId, rejected);
    if (token) return token;
    const refresh = sealed.find((row) => row.kind === 'refresh');
    if (!refresh) {
      await markReauth(pool, connectionId);
      log.warn(
        { connectionId, reason: 'no refresh token is stored' },
        'whoop token refresh: reconnect needed',
      );
      throw new ReauthRequiredError(REAUTH_MESSAGE);
    }
    const sealer = await tokens.prepareSeal(connectionId);
    let result: EndpointResult;
    try {
      result = await callTokenEndpoint(connectionId, await tokens.open(refresh), context, owner);
    } catch (error) {
      sealer.discard();
      throw error;
    }
    if (result.kind === 'tokens') {
      const stored = await persistWithRetries(connectionId, owner, sealer.seal(result.tokens), context);
      if (!stored) {
        await revokeOrphanedPair(connectionId, result.tokens.accessToken, context);
        throw new NotSyncableError('disconnected');
      }
      options.metrics?.tokenRefreshes.inc();
      if (!result.tokens.refreshToken)
        log.warn({ connectionId }, 'whoop token refresh: no new refresh token');
      log.info({ connectionId, expiresIn: result.tokens.expiresIn }, 'whoop token refresh: new pair stored');
      return result.tokens.accessToken;
    }
    sealer.discard();
    const { refused } = result;
    if (refused.error === 'invalid_grant' && !result.ambiguous) {
      options.metrics?.tokenRefreshFailures.inc({ reason: 'invalid_grant' });
      await markReauth(pool, connectionId);
      log.warn(
        { connectionId, reason: 'invalid_grant' },
        'whoop token refresh: the grant is dead, reconnect needed',
      );
      throw new ReauthRequiredError(REAUTH_MESSAGE);
    }
    // invalid_client is our configuration, and an invalid_grant after an unanswered attempt may be
    // our own rotation: neither proves the person's grant is dead. The next run tries again.
    options.metrics?.tokenRefreshFailures.inc({ reason: 'transient' });
    log.error(
      { connectionId, status: refused.status, error: refused.error, ambiguous: result.ambiguous },
      'whoop token refresh: refused',
    );
    throw new WhoopUnavailableError('token refresh', `refused with ${refused.error}`, refused.status);
  }

  async function refreshAcrossProcesses(
    connectionId: number,
    rejected: string | undefined,
    context: TokenRequestContext,
  ): Promise<string> {
    for (;;) {
      const { token } = await usableToken(connectionId, rejected);
      if (token) return token;
      // The slot comes first: nobody holds the lease while waiting for the budget.
      await budget.acquire({ priority: context.priority, signal: context.signal, log: context.log });
      const owner = randomUUID();
      if ((await takeLease(connectionId, owner)) === 'busy') {
        await waitForHolder(connectionId, context);
        continue;
      }
      try {
        return await refreshHoldingLease(connectionId, rejected, context, owner);
      } finally {
        await releaseLease(connectionId, owner, context.log ?? logger);
      }
    }
  }

  /** One refresh attempt per connection per process at a time; later callers share it. */
  function refresh(
    connectionId: number,
    rejected: string | undefined,
    context: TokenRequestContext,
  ): Promise<string> {
    const pending = inFlight.get(connectionId);
    if (pending) return pending;
    const attempt = refreshAcrossProcesses(connectionId, rejected, context).finally(() =>
      inFlight.delete(connectionId),
    );
    inFlight.set(connectionId, attempt);
    return attempt;
  }

  return {
    /** A token that stays valid for at least the margin (refreshed first if needed). */
    async current(connectionId: number, context: TokenRequestContext): Promise<string> {
      const { token } = await usableToken(connectionId, undefined);
      return token ?? refresh(connectionId, undefined, context);
    },

    /** WHOOP refused `rejected` (401): a new token, unless someone else already replaced it. */
    replace(connectionId: number, rejected: string, context: TokenRequestContext): Promise<string> {
      return refresh(connectionId, rejected, context);
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
