// Asking for a sync. One run per connection at a time: the connection row is locked, an existing
// queued / running / deferred run is joined, otherwise a run row and its graphile-worker job are
// written in the caller's transaction (atomic with whatever caused the request, e.g. a new link).
// Jobs share a job_key and a queue_name per connection, so the queue runs them one after another.
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../../db/sql.ts';
import { activeRun, insertRun, type RunStatus, type SyncTrigger } from './runs.ts';

export const WHOOP_SYNC_TASK = 'whoop_sync';

/** graphile-worker runs lower numbers first: people waiting on a button go ahead of background work. */
export const SYNC_PRIORITY: Record<SyncTrigger, number> = {
  manual: -10,
  internal: -10,
  initial: 0,
  scheduled: 10,
};

// Failures the engine understands end the run without throwing; these attempts cover the rest (the
// database going away mid-run, a bug) and workers that die mid-run: a crash spends an attempt too,
// and a backfill must survive several of them (reliability/crash.test.ts kills its worker five times).
const MAX_JOB_ATTEMPTS = 10;

export type SyncRequestResult =
  | { outcome: 'queued'; runId: number }
  | { outcome: 'joined'; runId: number; status: RunStatus }
  | { outcome: 'refused'; status: string }
  /** the connection's last manual sync was too recent: another may start at `availableAt` */
  | { outcome: 'cooldown'; availableAt: Date };

export interface SyncRequest {
  connectionId: number;
  trigger: SyncTrigger;
  requestId?: string | undefined;
  /** default: now */
  runAt?: Date | undefined;
  /** a new run starts only this long after the connection's last manual one (joining is always fine) */
  cooldownMs?: number | undefined;
}

const connectionRow = z.object({ status: z.string() });
const jobRow = z.object({ id: z.number() });
const availableRow = z.object({ available_at: z.date() });

export const JOB_KEY_PREFIX = 'whoop_sync:';
export const jobKeyOf = (connectionId: number) => `${JOB_KEY_PREFIX}${connectionId}`;

export interface SyncJobPayload {
  connectionId: number;
  runId: number;
  /** the HTTP request that asked for the sync: its id follows the job into every log line */
  requestId?: string | undefined;
}

/** Adds (or, for a job not yet started, replaces) the connection's sync job. */
export async function addSyncJob(
  db: CommonQueryMethods,
  payload: SyncJobPayload,
  options: { priority: number; runAt?: Date | undefined },
): Promise<number> {
  const key = jobKeyOf(payload.connectionId);
  const row = await db.one(sql.type(jobRow)`
    SELECT (graphile_worker.add_job(
      identifier => ${WHOOP_SYNC_TASK},
      payload => ${sql.json({
        connectionId: payload.connectionId,
        runId: payload.runId,
        ...(payload.requestId ? { requestId: payload.requestId } : {}),
      })},
      queue_name => ${key},
      run_at => ${options.runAt ? sql.timestamp(options.runAt) : null}::timestamptz,
      max_attempts => ${MAX_JOB_ATTEMPTS},
      job_key => ${key},
      priority => ${options.priority}
    )).id
  `);
  return row.id;
}

/** Enqueues a sync of the connection, or joins the one already waiting or under way. */
export async function requestSync(db: CommonQueryMethods, request: SyncRequest): Promise<SyncRequestResult> {
  const connection = await db.maybeOne(sql.type(connectionRow)`
    SELECT status FROM integration_connection WHERE id = ${request.connectionId} FOR UPDATE
  `);
  if (!connection || !['connected', 'syncing', 'error'].includes(connection.status)) {
    return { outcome: 'refused', status: connection?.status ?? 'disconnected' };
  }
  const priority = SYNC_PRIORITY[request.trigger];
  const active = await activeRun(db, request.connectionId);
  if (active) {
    // A person waiting on a queued background run: bring that run forward. A running one cannot
    // change, and a deferred one waits for WHOOP's daily reset whoever asks.
    if (active.status === 'queued' && priority < SYNC_PRIORITY.scheduled) {
      await addSyncJob(
        db,
        { connectionId: request.connectionId, runId: active.id, requestId: active.request_id ?? undefined },
        { priority },
      );
    }
    return { outcome: 'joined', runId: active.id, status: active.status };
  }
  if (request.cooldownMs) {
    const recent = await db.maybeOne(sql.type(availableRow)`
      SELECT queued_at + ${request.cooldownMs}::float8 * interval '1 millisecond' AS available_at
      FROM integration_sync_run
      WHERE connection_id = ${request.connectionId} AND trigger = 'manual'
        AND queued_at + ${request.cooldownMs}::float8 * interval '1 millisecond' > now()
      ORDER BY id DESC LIMIT 1
    `);
    if (recent) return { outcome: 'cooldown', availableAt: recent.available_at };
  }
  const runId = await insertRun(db, {
    connectionId: request.connectionId,
    trigger: request.trigger,
    requestId: request.requestId,
  });
  await addSyncJob(
    db,
    { connectionId: request.connectionId, runId, requestId: request.requestId },
    { priority, runAt: request.runAt },
  );
  return { outcome: 'queued', runId };
}
