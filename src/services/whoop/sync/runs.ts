// integration_sync_run rows: what a run is doing (live per-domain progress) and how it ended.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import type { HttpStats } from '../api-client.ts';

export const SYNC_TRIGGERS = ['initial', 'manual', 'scheduled', 'internal'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

export const RUN_STATUSES = [
  'queued',
  'running',
  'deferred',
  'succeeded',
  'partial',
  'failed',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running', 'deferred'];

export const DOMAINS = ['profile', 'body_measurement', 'cycle', 'sleep', 'recovery', 'workout'] as const;
export type Domain = (typeof DOMAINS)[number];

export const domainCounts = z.object({
  fetched: z.number(),
  inserted: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  rejected: z.number(),
  /** stored records the provider no longer lists (reconciliation) */
  deleted: z.number().optional(),
  done: z.boolean(),
  /** why the pass did not read this domain (e.g. read daily, covered by webhooks) */
  skipped: z.string().optional(),
  /** the start of the fetched window (collections) */
  since: z.string().optional(),
  error: z.string().optional(),
});
export type DomainCounts = z.infer<typeof domainCounts>;

export function emptyCounts(): DomainCounts {
  return { fetched: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0, done: false };
}

export const runRow = z.object({
  id: z.number(),
  connection_id: z.number(),
  trigger: z.enum(SYNC_TRIGGERS),
  request_id: z.string().nullable(),
  status: z.enum(RUN_STATUSES),
  counts: z.record(z.string(), domainCounts),
  current_domain: z.string().nullable(),
  error: z.string().nullable(),
  http_requests: z.number(),
  http_retries: z.number(),
  http_rate_limited: z.number(),
  budget_waits: z.number(),
  deferrals: z.number(),
  attempts: z.number(),
  resume_at: z.date().nullable(),
  queued_at: z.date(),
  started_at: z.date().nullable(),
  finished_at: z.date().nullable(),
});
export type SyncRun = z.infer<typeof runRow>;

export const runColumns = sql.fragment`
  id, connection_id, trigger, request_id, status, counts, current_domain, error, http_requests, http_retries,
  http_rate_limited, budget_waits, deferrals, attempts, resume_at, queued_at, started_at, finished_at
`;

const idRow = z.object({ id: z.number() });
const activeRow = z.object({
  id: z.number(),
  status: z.enum(RUN_STATUSES),
  request_id: z.string().nullable(),
});

const statsAssignments = (stats: HttpStats) => sql.fragment`
  http_requests = ${stats.requests}, http_retries = ${stats.retries},
  http_rate_limited = ${stats.rateLimited}, budget_waits = ${stats.budgetWaits}`;

export async function insertRun(
  db: CommonQueryMethods,
  input: { connectionId: number; trigger: SyncTrigger; requestId: string | undefined },
): Promise<number> {
  const row = await db.one(sql.type(idRow)`
    INSERT INTO integration_sync_run (connection_id, trigger, request_id)
    VALUES (${input.connectionId}, ${input.trigger}, ${input.requestId ?? null})
    RETURNING id
  `);
  return row.id;
}

export async function activeRun(db: CommonQueryMethods, connectionId: number) {
  return db.maybeOne(sql.type(activeRow)`
    SELECT id, status, request_id FROM integration_sync_run
    WHERE connection_id = ${connectionId} AND status IN ('queued', 'running', 'deferred')
  `);
}

export function createSyncRuns(pool: DatabasePool) {
  return {
    async find(runId: number): Promise<SyncRun | null> {
      return pool.maybeOne(
        sql.type(runRow)`SELECT ${runColumns} FROM integration_sync_run WHERE id = ${runId}`,
      );
    },

    /**
     * The run a worker is about to work on; undefined when it already ended (a duplicate delivery).
     * The request id the job payload carries fills in a run that has none.
     */
    async begin(
      runId: number,
      job: { jobId?: string | undefined; workerId?: string | undefined; requestId?: string | undefined },
    ) {
      return pool.maybeOne(sql.type(runRow)`
        UPDATE integration_sync_run
        SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()),
            request_id = coalesce(request_id, ${job.requestId ?? null}),
            resume_at = NULL, job_id = ${job.jobId ?? null}, worker_id = ${job.workerId ?? null}, updated_at = now()
        WHERE id = ${runId} AND status IN ('queued', 'running', 'deferred')
        RETURNING ${runColumns}
      `);
    },

    /** Live progress; written in the same transaction as the page it counts. */
    async progress(
      db: CommonQueryMethods,
      runId: number,
      domain: Domain,
      counts: DomainCounts,
      stats: HttpStats,
    ) {
      await db.query(sql.typeAlias('void')`
        UPDATE integration_sync_run
        SET counts = jsonb_set(counts, ${sql.array([domain], 'text')}, ${sql.jsonb(counts)}),
            current_domain = ${domain}, ${statsAssignments(stats)}, updated_at = now()
        WHERE id = ${runId}
      `);
    },

    async finish(
      db: CommonQueryMethods,
      runId: number,
      outcome: { status: RunStatus; error: string | null; stats: HttpStats },
    ) {
      await db.query(sql.typeAlias('void')`
        UPDATE integration_sync_run
        SET status = ${outcome.status}, error = ${outcome.error}, current_domain = NULL,
            ${statsAssignments(outcome.stats)}, finished_at = now(), updated_at = now()
        WHERE id = ${runId}
      `);
    },

    async defer(db: CommonQueryMethods, runId: number, resumeAt: Date, stats: HttpStats) {
      await db.query(sql.typeAlias('void')`
        UPDATE integration_sync_run
        SET status = 'deferred', resume_at = ${sql.timestamp(resumeAt)}, deferrals = deferrals + 1,
            current_domain = NULL, ${statsAssignments(stats)}, updated_at = now()
        WHERE id = ${runId}
      `);
    },

    /** The newest run of the user's WHOOP connection, for the card. */
    async latestForUser(userId: number, provider: string): Promise<SyncRun | null> {
      return pool.maybeOne(sql.type(runRow)`
        SELECT ${runColumns}
        FROM integration_sync_run
        WHERE connection_id = (SELECT id FROM integration_connection WHERE user_id = ${userId} AND provider = ${provider})
        ORDER BY id DESC LIMIT 1
      `);
    },
  };
}

export type SyncRuns = ReturnType<typeof createSyncRuns>;
