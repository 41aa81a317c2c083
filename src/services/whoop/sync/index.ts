// The WHOOP sync service: request (or join) a sync, run queued syncs, the schedule tick, and what
// the card shows. Wired once in src/services/index.ts; jobs, routes and tests use it from there.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { Config } from '../../../config.ts';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import type { Logger } from '../../logger.ts';
import { createAccessTokens } from '../access-tokens.ts';
import { createWhoopApiClient } from '../api-client.ts';
import type { WhoopClient } from '../client.ts';
import { createRateBudget, type RateBudget } from '../rate-budget.ts';
import type { WhoopSettings } from '../settings.ts';
import type { TokenStore } from '../token-store.ts';
import { createSyncEngine } from './engine.ts';
import type { SyncMetrics } from './metrics.ts';
import { requestSync, type SyncRequestResult } from './requests.ts';
import { createSyncRunner, type JobInfo } from './runner.ts';
import { createSyncRuns, type SyncRun, type SyncTrigger } from './runs.ts';
import { createSyncScheduler } from './schedule.ts';
import { createWebhooks } from './webhooks.ts';

export interface WhoopSyncDeps {
  pool: DatabasePool;
  logger: Logger;
  sync: Config['sync'];
  /** undefined when WHOOP is not configured: requests are refused, runs fail */
  settings: WhoopSettings | undefined;
  client: WhoopClient | undefined;
  tokens: TokenStore;
  provider?: string;
  metrics?: SyncMetrics | undefined;
  /** the app-wide WHOOP request budget, shared with the link and disconnect calls; default: a new one */
  budget?: RateBudget | undefined;
}

const connectionRow = z.object({ id: z.number() });

export function createWhoopSync(deps: WhoopSyncDeps) {
  const { pool, logger, sync, metrics } = deps;
  const provider = deps.provider ?? 'whoop';
  const budget =
    deps.budget ??
    createRateBudget({
      pool,
      logger,
      perMinute: sync.rateLimitPerMinute,
      perDay: sync.rateLimitPerDay,
      provider,
      metrics,
    });
  const runs = createSyncRuns(pool);
  const scheduler = createSyncScheduler({
    pool,
    logger,
    schedule: { schedule: sync.schedule, timeZone: sync.timeZone },
    perMinute: sync.rateLimitPerMinute,
    provider,
  });
  const engine =
    deps.settings && deps.client
      ? createSyncEngine({
          pool,
          provider,
          api: createWhoopApiClient({
            settings: deps.settings,
            budget,
            timeoutMs: sync.requestTimeoutMs,
            metrics,
          }),
          tokens: createAccessTokens({
            pool,
            tokens: deps.tokens,
            client: deps.client,
            budget,
            logger,
            metrics,
            // One attempt (a timed-out call and the longest backoff) fits in a lease; each attempt
            // extends it, so a dead holder blocks the others for less than a minute by default.
            leaseMs: 2 * sync.requestTimeoutMs + 15_000,
          }),
          metrics,
          backfillDays: sync.backfillDays,
          lookbackDays: sync.lookbackDays,
        })
      : undefined;
  const runner = engine
    ? createSyncRunner({
        pool,
        engine,
        runs,
        logger,
        nextSyncAfter: scheduler.nextAfter,
        provider,
        webhookSilenceMs: sync.webhookSilenceMs,
        metrics,
      })
    : undefined;

  const webhooks = createWebhooks({
    pool,
    logger,
    provider,
    clientSecret: deps.settings?.clientSecret,
    engine: runner ? engine : undefined,
    metrics,
  });

  async function scheduleAfterLink(db: CommonQueryMethods, connectionId: number) {
    await db.query(sql.typeAlias('void')`
      UPDATE integration_connection SET next_sync_at = ${sql.timestamp(scheduler.nextAfter(new Date()))}
      WHERE id = ${connectionId}
    `);
  }

  return {
    /** False when the WHOOP feature is off (or WHOOP is not configured): nothing is scheduled or run. */
    enabled: runner !== undefined,
    /** The engine itself, for benchmarks and tests that drive passes directly. */
    engine,
    nextSyncAfter: scheduler.nextAfter,
    /** POST /webhooks/whoop and the whoop_webhook task */
    webhooks,

    /** Sync now: enqueue a sync of the user's WHOOP connection, or join the one waiting or running. */
    async request(input: {
      userId: number;
      trigger: SyncTrigger;
      requestId?: string | undefined;
      /** Sync now from the page: at most one new manual run per connection per this period */
      cooldownMs?: number | undefined;
    }): Promise<SyncRequestResult> {
      return pool.transaction(async (tx) => {
        const connection = await tx.maybeOne(sql.type(connectionRow)`
          SELECT id FROM integration_connection WHERE user_id = ${input.userId} AND provider = ${provider}
        `);
        if (!connection) return { outcome: 'refused', status: 'disconnected' } as const;
        return requestSync(tx, {
          connectionId: connection.id,
          trigger: input.trigger,
          requestId: input.requestId,
          cooldownMs: input.cooldownMs,
        });
      });
    },

    /**
     * Called in the transaction that links an account: the first (backfill) sync and the schedule.
     * `requestId`: the request that completed the link (the callback or the internal exchange).
     */
    async onLinked(
      db: CommonQueryMethods,
      connectionId: number,
      context: { requestId?: string | undefined } = {},
    ): Promise<SyncRequestResult> {
      await scheduleAfterLink(db, connectionId);
      return requestSync(db, { connectionId, trigger: 'initial', requestId: context.requestId });
    },

    /** Runs a queued sync (the whoop_sync task). */
    async execute(runId: number, job: JobInfo = {}) {
      if (!runner) throw new Error('WHOOP is not configured: nothing can sync');
      return runner.execute(runId, job);
    },

    /** The frequent tick: release runs of dead workers, then enqueue the connections that are due. */
    async tick(now?: Date) {
      // Off means off: nothing is enqueued that no worker would run. The schedule resumes when it is on.
      if (!runner) return { resumed: [], closed: [], enqueued: [], joined: [] };
      const recovered = runner ? await runner.recoverInterrupted() : { resumed: [], closed: [] };
      const scheduled = await scheduler.tick(now);
      return { ...recovered, ...scheduled };
    },

    async recoverInterrupted() {
      return runner ? runner.recoverInterrupted() : { resumed: [], closed: [] };
    },

    /** The newest run of the user's connection (progress while it runs, the result once it ended). */
    async latestRun(userId: number): Promise<SyncRun | null> {
      return runs.latestForUser(userId, provider);
    },

    findRun: (runId: number) => runs.find(runId),
  };
}

export type WhoopSync = ReturnType<typeof createWhoopSync>;
