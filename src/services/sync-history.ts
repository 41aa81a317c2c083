// What happened when a connection synced, read from integration_sync_run: the person's own history
// page and the operators' status call. Read-only, framework-free; never reads a token, only when the
// stored ones expire. Run errors are classified into a small set of codes that the page turns into
// plain sentences (the stored text is technical and stays for operators).
import { z } from 'zod';
import type { DatabasePool } from './db/pool.ts';
import { sql } from './db/sql.ts';
import { type DomainCounts, domainCounts, RUN_STATUSES, SYNC_TRIGGERS } from './whoop/sync/runs.ts';

export const ERROR_CODES = [
  'reauth_required',
  'whoop_unavailable',
  'rate_limited',
  'quota_spent',
  'whoop_refused',
  'app_credentials',
  'different_account',
  'connection_changed',
  'job_lost',
  'partial_data',
  'unexpected',
] as const;
export type SyncErrorCode = (typeof ERROR_CODES)[number];

export interface SyncRunSummary {
  id: number;
  trigger: (typeof SYNC_TRIGGERS)[number];
  status: (typeof RUN_STATUSES)[number];
  requestId: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** from the first start to the end; null while it has not ended */
  durationMs: number | null;
  resumeAt: Date | null;
  counts: Partial<Record<string, DomainCounts>>;
  /** the stored (technical) message */
  error: string | null;
  /** what kind of failure, for people and dashboards; null when nothing went wrong */
  errorCode: SyncErrorCode | null;
  attempts: number;
  deferrals: number;
  http: { requests: number; retries: number; rateLimited: number; budgetWaits: number };
}

const runRow = z.object({
  id: z.number(),
  trigger: z.enum(SYNC_TRIGGERS),
  status: z.enum(RUN_STATUSES),
  request_id: z.string().nullable(),
  queued_at: z.date(),
  started_at: z.date().nullable(),
  finished_at: z.date().nullable(),
  resume_at: z.date().nullable(),
  counts: z.record(z.string(), domainCounts),
  error: z.string().nullable(),
  attempts: z.number(),
  deferrals: z.number(),
  http_requests: z.number(),
  http_retries: z.number(),
  http_rate_limited: z.number(),
  budget_waits: z.number(),
});
type RunRow = z.infer<typeof runRow>;

const runColumns = sql.fragment`
  r.id, r.trigger, r.status, r.request_id, r.queued_at, r.started_at, r.finished_at, r.resume_at, r.counts,
  r.error, r.attempts, r.deferrals, r.http_requests, r.http_retries, r.http_rate_limited, r.budget_waits
`;

const statusRow = z.object({
  user_exists: z.boolean(),
  connection_id: z.number().nullable(),
  status: z.string().nullable(),
  provider_account_id: z.string().nullable(),
  connected_at: z.date().nullable(),
  disconnected_at: z.date().nullable(),
  last_sync_at: z.date().nullable(),
  last_sync_status: z.string().nullable(),
  last_sync_error: z.string().nullable(),
  next_sync_at: z.date().nullable(),
  access_expires_at: z.date().nullable(),
  has_access_token: z.boolean(),
  has_refresh_token: z.boolean(),
});

/** Sorts a run's failure into a code; the patterns follow the messages the sync engine stores. */
export function classifyRunError(run: {
  status: string;
  error: string | null;
  counts: Partial<Record<string, DomainCounts>>;
}): SyncErrorCode | null {
  if (run.status === 'deferred') return 'quota_spent';
  const text = run.error ?? '';
  if (run.status === 'partial') return 'partial_data';
  if (run.status !== 'failed' && run.status !== 'cancelled') return null;
  if (/reconnect|invalid_grant|reauth/i.test(text)) return 'reauth_required';
  if (/daily WHOOP request budget|budget is spent/i.test(text)) return 'quota_spent';
  if (/rate limited|\b429\b/i.test(text)) return 'rate_limited';
  if (/invalid_client/i.test(text)) return 'app_credentials';
  if (/different WHOOP member/i.test(text)) return 'different_account';
  if (/connection is|not live/i.test(text)) return 'connection_changed';
  if (/job was lost/i.test(text)) return 'job_lost';
  if (/unavailable|timed? ?out|ECONN|network|socket/i.test(text)) return 'whoop_unavailable';
  if (/answered \d{3}/.test(text)) return 'whoop_refused';
  if (run.status === 'cancelled') return 'connection_changed';
  return 'unexpected';
}

function summary(row: RunRow): SyncRunSummary {
  const ended = row.finished_at !== null && row.started_at !== null;
  return {
    id: row.id,
    trigger: row.trigger,
    status: row.status,
    requestId: row.request_id,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: ended
      ? Math.max(0, (row.finished_at?.getTime() ?? 0) - (row.started_at?.getTime() ?? 0))
      : null,
    resumeAt: row.resume_at,
    counts: row.counts,
    error: row.error,
    errorCode: classifyRunError(row),
    attempts: row.attempts,
    deferrals: row.deferrals,
    http: {
      requests: row.http_requests,
      retries: row.http_retries,
      rateLimited: row.http_rate_limited,
      budgetWaits: row.budget_waits,
    },
  };
}

export interface ConnectionStatusReport {
  userId: number;
  provider: string;
  connectionId: number | null;
  status: string;
  whoopUserId: string | null;
  connectedAt: Date | null;
  disconnectedAt: Date | null;
  lastSync: { at: Date | null; status: string | null; error: string | null };
  nextSyncAt: Date | null;
  /** when the stored tokens stop working; never the tokens */
  tokens: { accessTokenExpiresAt: Date | null; accessTokenStored: boolean; refreshTokenStored: boolean };
  runs: SyncRunSummary[];
}

export const STATUS_RUNS = 10;
export const HISTORY_PAGE_SIZE = 50;

export function createSyncHistory(deps: { pool: DatabasePool; provider?: string }) {
  const { pool } = deps;
  const provider = deps.provider ?? 'whoop';

  const connectionOf = (userId: number) =>
    sql.fragment`(SELECT id FROM integration_connection WHERE user_id = ${userId} AND provider = ${provider})`;

  return {
    /** For operators: the connection's state and its last runs; null when there is no such user. */
    async status(userId: number): Promise<ConnectionStatusReport | null> {
      const row = await pool.one(sql.type(statusRow)`
        SELECT
          EXISTS (SELECT FROM app_user WHERE id = ${userId}) AS user_exists,
          c.id AS connection_id, c.status, c.provider_account_id, c.connected_at, c.disconnected_at,
          c.last_sync_at, c.last_sync_status, c.last_sync_error, c.next_sync_at,
          (SELECT expires_at FROM integration_token WHERE connection_id = c.id AND kind = 'access') AS access_expires_at,
          EXISTS (SELECT FROM integration_token WHERE connection_id = c.id AND kind = 'access') AS has_access_token,
          EXISTS (SELECT FROM integration_token WHERE connection_id = c.id AND kind = 'refresh') AS has_refresh_token
        FROM (SELECT 1) AS one
        LEFT JOIN integration_connection AS c ON c.user_id = ${userId} AND c.provider = ${provider}
      `);
      if (!row.user_exists) return null;
      const runs =
        row.connection_id === null
          ? []
          : await pool.any(sql.type(runRow)`
              SELECT ${runColumns} FROM integration_sync_run AS r
              WHERE r.connection_id = ${row.connection_id}
              ORDER BY r.id DESC LIMIT ${STATUS_RUNS}
            `);
      return {
        userId,
        provider,
        connectionId: row.connection_id,
        status: row.status ?? 'disconnected',
        whoopUserId: row.provider_account_id,
        connectedAt: row.connected_at,
        disconnectedAt: row.disconnected_at,
        lastSync: { at: row.last_sync_at, status: row.last_sync_status, error: row.last_sync_error },
        nextSyncAt: row.next_sync_at,
        tokens: {
          accessTokenExpiresAt: row.access_expires_at,
          accessTokenStored: row.has_access_token,
          refreshTokenStored: row.has_refresh_token,
        },
        runs: runs.map(summary),
      };
    },

    /** The person's own runs, newest first; `before` pages to older ones (a run id). */
    async forUser(
      userId: number,
      options: { before?: number | undefined; limit?: number | undefined } = {},
    ): Promise<{ runs: SyncRunSummary[]; olderBefore: number | null }> {
      const limit = Math.min(Math.max(options.limit ?? HISTORY_PAGE_SIZE, 1), HISTORY_PAGE_SIZE);
      const before = options.before ? sql.fragment`AND r.id < ${options.before}` : sql.fragment``;
      const rows = await pool.any(sql.type(runRow)`
        SELECT ${runColumns} FROM integration_sync_run AS r
        WHERE r.connection_id = ${connectionOf(userId)} ${before}
        ORDER BY r.id DESC LIMIT ${limit + 1}
      `);
      const page = rows.slice(0, limit).map(summary);
      const last = page[page.length - 1];
      return { runs: page, olderBefore: rows.length > limit && last ? last.id : null };
    },
  };
}

export type SyncHistory = ReturnType<typeof createSyncHistory>;
