// A sync run from start to end: take the connection's slot, mark it Syncing, run the engine, and
// record how it ended on the run and on the connection (last/next sync). Also brings back runs whose
// worker died: the slot is a session-level advisory lock, so a killed process leaves it free while
// its graphile-worker job stays locked for hours; a restarted worker (or the tick) releases that job.
import { z } from 'zod';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import type { Logger } from '../../logger.ts';
import { emptyHttpStats, type HttpStats } from '../api-client.ts';
import { WhoopApiError, WhoopUnavailableError } from '../client.ts';
import type { SyncEngine, SyncTarget } from './engine.ts';
import {
  DayBudgetSpentError,
  NotSyncableError,
  ReauthRequiredError,
  WhoopUnauthorizedError,
} from './errors.ts';
import { SYNC_RUN_LOCK } from './locks.ts';
import type { SyncMetrics } from './metrics.ts';
import { planPass } from './plan.ts';
import { addSyncJob, JOB_KEY_PREFIX, SYNC_PRIORITY } from './requests.ts';
import {
  ACTIVE_STATUSES,
  type Domain,
  emptyCounts,
  type RunStatus,
  type SyncRun,
  type SyncRuns,
} from './runs.ts';

export interface JobInfo {
  jobId?: string | undefined;
  workerId?: string | undefined;
  /** from the job payload: the HTTP request that asked for the sync */
  requestId?: string | undefined;
  /** aborts when the worker shuts down */
  signal?: AbortSignal | undefined;
}

export type ExecuteOutcome = RunStatus | 'skipped';

/** Another process holds the connection's slot: the job is retried later by graphile-worker. */
export class SyncBusyError extends Error {
  override name = 'SyncBusyError';
}

const lockedRow = z.object({ locked: z.boolean() });
const targetRow = z.object({
  user_id: z.number(),
  provider_account_id: z.string(),
  watermarks: z.record(z.string(), z.string()),
  profile_read_at: z.date().nullable(),
  last_webhook_at: z.date().nullable(),
  covered_listed_at: z.date().nullable(),
});
const deadRow = z.object({ id: z.number(), worker_id: z.string() });
const idRow = z.object({ id: z.number() });

/** What the card says after a failed run (the run row keeps the technical message). */
export function failureMessage(error: unknown): string {
  if (error instanceof WhoopUnauthorizedError)
    return 'WHOOP refused the access token even after renewing it.';
  if (error instanceof WhoopApiError) return `WHOOP refused a request (HTTP ${error.status}).`;
  if (error instanceof WhoopUnavailableError) return 'WHOOP did not answer, or answered with errors.';
  return 'Something went wrong while storing the data.';
}

function partialMessage(domainErrors: Partial<Record<Domain, string>>, rejected: number): string {
  const parts = Object.entries(domainErrors).map(
    ([domain, message]) => `${domain.replace('_', ' ')}: ${message}`,
  );
  if (rejected > 0)
    parts.push(
      `${rejected} record${rejected === 1 ? '' : 's'} WHOOP sent could not be read and were kept aside`,
    );
  return parts.join('; ');
}

export function createSyncRunner(deps: {
  pool: DatabasePool;
  engine: SyncEngine;
  runs: SyncRuns;
  logger: Logger;
  nextSyncAfter: (after: Date) => Date;
  provider: string;
  /** webhooks silent this long: scheduled syncs read everything again */
  webhookSilenceMs: number;
  metrics?: SyncMetrics | undefined;
}) {
  const { pool, engine, runs } = deps;

  /** A run ended (not merely deferred): count it, with how long it took since it first started. */
  function ended(run: SyncRun, outcome: RunStatus) {
    const labels = { provider: deps.provider, trigger: run.trigger, outcome };
    deps.metrics?.syncRuns.inc(labels);
    const started = run.started_at?.getTime();
    if (started !== undefined) deps.metrics?.syncRunDuration.observe(labels, (Date.now() - started) / 1000);
  }

  async function claimConnection(run: SyncRun): Promise<Omit<SyncTarget, 'connectionId'> | undefined> {
    const row = await pool.maybeOne(sql.type(targetRow)`
      UPDATE integration_connection SET status = 'syncing', updated_at = now()
      WHERE id = ${run.connection_id} AND status IN ('connected', 'error', 'syncing') AND provider_account_id IS NOT NULL
      RETURNING user_id, provider_account_id, watermarks, profile_read_at, last_webhook_at, covered_listed_at
    `);
    if (!row) return undefined;
    const plan = planPass(
      run.trigger,
      {
        profileReadAt: row.profile_read_at,
        lastWebhookAt: row.last_webhook_at,
        coveredListedAt: row.covered_listed_at,
      },
      { now: Date.now(), webhookSilenceMs: deps.webhookSilenceMs },
    );
    return { userId: row.user_id, memberId: row.provider_account_id, watermarks: row.watermarks, plan };
  }

  /** Ends the run and settles the connection in one transaction (a live status only: never undoes a disconnect). */
  async function settle(
    run: SyncRun,
    outcome: { status: RunStatus; error: string | null; stats: HttpStats },
    connection: {
      status: 'connected' | 'error';
      lastStatus: 'succeeded' | 'partial' | 'failed';
      error: string | null;
    },
  ) {
    const next = deps.nextSyncAfter(new Date());
    await pool.transaction(async (tx) => {
      await runs.finish(tx, run.id, outcome);
      await tx.query(sql.typeAlias('void')`
        UPDATE integration_connection
        SET status = ${connection.status}, last_sync_at = now(), last_sync_status = ${connection.lastStatus},
            last_sync_error = ${connection.error}, next_sync_at = ${sql.timestamp(next)}, updated_at = now()
        WHERE id = ${run.connection_id} AND status IN ('connected', 'error', 'syncing')
      `);
    });
  }

  async function releaseSlot(connectionId: number) {
    await pool.query(sql.typeAlias('void')`
      UPDATE integration_connection SET status = 'connected', updated_at = now()
      WHERE id = ${connectionId} AND status = 'syncing'
    `);
  }

  async function executeHoldingSlot(runId: number, job: JobInfo): Promise<ExecuteOutcome> {
    const run = await runs.begin(runId, job);
    if (!run) return 'skipped';
    // Every line of the run (and of each WHOOP call it makes) carries the request that caused it.
    const log = deps.logger.child({
      component: 'sync',
      ...(run.request_id ? { reqId: run.request_id } : {}),
      syncRunId: run.id,
      connectionId: run.connection_id,
      trigger: run.trigger,
      ...(job.jobId ? { jobId: job.jobId } : {}),
    });
    const claimed = await claimConnection(run);
    const stats: HttpStats = {
      ...emptyHttpStats(),
      requests: run.http_requests,
      retries: run.http_retries,
      rateLimited: run.http_rate_limited,
      budgetWaits: run.budget_waits,
    };
    if (!claimed) {
      await runs.finish(pool, runId, {
        status: 'cancelled',
        error: 'the connection is not live any more',
        stats,
      });
      ended(run, 'cancelled');
      log.info('whoop sync: cancelled, the connection is not live');
      return 'cancelled';
    }
    const counts = { ...run.counts };
    log.info({ attempt: run.attempts, resumed: run.attempts > 1 }, 'whoop sync: started');
    try {
      const result = await engine.syncConnection(
        { connectionId: run.connection_id, ...claimed },
        {
          priority: run.trigger === 'manual' || run.trigger === 'internal' ? 'interactive' : 'background',
          stats,
          signal: job.signal,
          log,
          counts,
          progress: (db, domain) => runs.progress(db, runId, domain, counts[domain] ?? emptyCounts(), stats),
        },
      );
      const partial = result.rejected > 0 || Object.keys(result.domainErrors).length > 0;
      const status = partial ? 'partial' : 'succeeded';
      const message = partial ? partialMessage(result.domainErrors, result.rejected) : null;
      await settle(
        run,
        { status, error: message, stats },
        { status: 'connected', lastStatus: status, error: message },
      );
      ended(run, status);
      log.info({ status, counts, http: stats }, 'whoop sync: finished');
      return status;
    } catch (error) {
      return handleFailure(run, error, stats, job, log);
    }
  }

  async function handleFailure(
    run: SyncRun,
    error: unknown,
    stats: HttpStats,
    job: JobInfo,
    log: Logger,
  ): Promise<ExecuteOutcome> {
    if (job.signal?.aborted) {
      // Shutting down: the run waits, its job is retried by graphile-worker, and it resumes.
      await pool.query(sql.typeAlias('void')`
        UPDATE integration_sync_run SET status = 'queued', current_domain = NULL, updated_at = now() WHERE id = ${run.id}
      `);
      await releaseSlot(run.connection_id);
      log.info('whoop sync: interrupted by shutdown, will resume');
      throw error;
    }
    if (error instanceof DayBudgetSpentError) {
      // No spinning: the run sleeps in the queue until WHOOP's window resets, then resumes.
      await pool.transaction(async (tx) => {
        await runs.defer(tx, run.id, error.resumeAt, stats);
        await addSyncJob(
          tx,
          { connectionId: run.connection_id, runId: run.id, requestId: run.request_id ?? undefined },
          {
            priority: SYNC_PRIORITY[run.trigger],
            runAt: new Date(error.resumeAt.getTime() + 1000),
          },
        );
        await tx.query(sql.typeAlias('void')`
          UPDATE integration_connection SET status = 'connected', updated_at = now()
          WHERE id = ${run.connection_id} AND status = 'syncing'
        `);
      });
      log.warn({ resumeAt: error.resumeAt }, 'whoop sync: request budget spent, deferred until the reset');
      return 'deferred';
    }
    if (error instanceof NotSyncableError) {
      await runs.finish(pool, run.id, { status: 'cancelled', error: error.message, stats });
      ended(run, 'cancelled');
      log.info({ reason: error.message }, 'whoop sync: cancelled');
      return 'cancelled';
    }
    if (error instanceof ReauthRequiredError) {
      // The token layer already marked the connection Reconnect needed, in the refresh's transaction.
      await pool.transaction(async (tx) => {
        await runs.finish(tx, run.id, { status: 'failed', error: error.message, stats });
        await tx.query(sql.typeAlias('void')`
          UPDATE integration_connection SET last_sync_at = now(), updated_at = now() WHERE id = ${run.connection_id}
        `);
      });
      ended(run, 'failed');
      log.warn('whoop sync: stopped, the grant is dead (reconnect needed)');
      return 'failed';
    }
    const known =
      error instanceof WhoopUnavailableError ||
      error instanceof WhoopApiError ||
      error instanceof WhoopUnauthorizedError;
    if (known) log.warn({ err: error }, 'whoop sync: failed, the next run tries again');
    else log.error({ err: error }, 'whoop sync: failed unexpectedly');
    const technical = error instanceof Error ? error.message : String(error);
    try {
      await settle(
        run,
        { status: 'failed', error: technical, stats },
        { status: 'error', lastStatus: 'failed', error: failureMessage(error) },
      );
    } catch {
      // The database itself is failing: let graphile-worker retry the job; the run resumes then.
      throw error;
    }
    ended(run, 'failed');
    return 'failed';
  }

  return {
    /** Runs (or resumes) a queued run; 'skipped' when it had already ended. */
    async execute(runId: number, job: JobInfo = {}): Promise<ExecuteOutcome> {
      const run = await runs.find(runId);
      if (!run || !ACTIVE_STATUSES.includes(run.status)) return 'skipped';
      return pool.connect(async (session) => {
        const slot = await session.one(sql.type(lockedRow)`
          SELECT pg_try_advisory_lock(${SYNC_RUN_LOCK}::int, ${run.connection_id}::int) AS locked
        `);
        if (!slot.locked)
          throw new SyncBusyError(`connection ${run.connection_id} is syncing in another process`);
        try {
          return await executeHoldingSlot(runId, job);
        } finally {
          await session.query(sql.typeAlias('void')`
            SELECT FROM pg_advisory_unlock(${SYNC_RUN_LOCK}::int, ${run.connection_id}::int)
          `);
        }
      });
    },

    /**
     * Runs marked running whose slot nobody holds belong to a dead process: release the job its worker
     * still has locked, so that a live worker resumes it. Runs whose job is gone are closed as failed.
     */
    async recoverInterrupted(): Promise<{ resumed: number[]; closed: number[] }> {
      const dead = await pool.any(sql.type(deadRow)`
        SELECT r.id, r.worker_id
        FROM integration_sync_run AS r
        JOIN graphile_worker.jobs AS j ON j.id = r.job_id AND j.locked_by = r.worker_id
        WHERE r.status = 'running'
          AND NOT EXISTS (
            SELECT FROM pg_locks AS l
            WHERE l.locktype = 'advisory' AND l.objsubid = 2
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = ${SYNC_RUN_LOCK}::int::oid AND l.objid = r.connection_id::int::oid
          )
      `);
      const workers = [...new Set(dead.map((row) => row.worker_id))];
      if (workers.length > 0) {
        await pool.query(
          sql.typeAlias(
            'void',
          )`SELECT FROM graphile_worker.force_unlock_workers(${sql.array(workers, 'text')})`,
        );
        deps.logger.warn(
          { runs: dead.map((row) => row.id), workers },
          'whoop sync: released the jobs of dead workers',
        );
      }
      // Active runs without a job that can still run them (retries exhausted, deleted by hand).
      const closed = await pool.any(sql.type(idRow)`
        UPDATE integration_sync_run AS r
        SET status = 'failed', error = 'the sync job was lost; the next sync starts again', current_domain = NULL,
            finished_at = now(), updated_at = now()
        WHERE r.status IN ('queued', 'running', 'deferred') AND r.updated_at < now() - interval '5 minutes'
          AND NOT EXISTS (
            SELECT FROM graphile_worker.jobs AS j
            WHERE (j.key = ${JOB_KEY_PREFIX}::text || r.connection_id::text OR j.id = r.job_id)
              AND (j.locked_at IS NOT NULL OR j.attempts < j.max_attempts)
          )
        RETURNING r.id
      `);
      if (closed.length > 0) {
        await pool.query(sql.typeAlias('void')`
          UPDATE integration_connection SET status = 'connected', updated_at = now()
          WHERE status = 'syncing' AND NOT EXISTS (
            SELECT FROM integration_sync_run AS r
            WHERE r.connection_id = integration_connection.id AND r.status IN ('queued', 'running', 'deferred')
          )
        `);
        deps.logger.warn({ runs: closed.map((row) => row.id) }, 'whoop sync: closed runs whose job was lost');
      }
      return { resumed: dead.map((row) => row.id), closed: closed.map((row) => row.id) };
    },
  };
}

export type SyncRunner = ReturnType<typeof createSyncRunner>;
