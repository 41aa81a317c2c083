// When connections sync on their own: SYNC_SCHEDULE (cron) in SYNC_TIMEZONE. graphile-worker's
// crontab only speaks UTC and has no "next run", so each connection keeps next_sync_at and a tick
// every minute enqueues the due ones, spaced out so that a large fleet never bursts past the
// per-minute budget at 06:00 sharp.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import type { Logger } from '../../logger.ts';
import { requestSync } from './requests.ts';

export interface ScheduleOptions {
  schedule: string;
  timeZone: string;
}

/** The first scheduled instant strictly after `after`. */
export function nextScheduledAt(options: ScheduleOptions, after: Date): Date {
  return CronExpressionParser.parse(options.schedule, { tz: options.timeZone, currentDate: after })
    .next()
    .toDate();
}

// A scheduled (incremental) sync makes about this many requests: profile, body, four collections
// of one page each, and a token refresh.
const REQUESTS_PER_SCHEDULED_SYNC = 7;

/** Gap between two scheduled syncs so that they use about half of the per-minute budget. */
export function spacingMs(perMinute: number): number {
  return Math.ceil((60_000 * REQUESTS_PER_SCHEDULED_SYNC) / Math.max(1, perMinute * 0.5));
}

const dueRow = z.object({ id: z.number() });

export interface TickResult {
  enqueued: number[];
  joined: number[];
}

export function createSyncScheduler(deps: {
  pool: DatabasePool;
  logger: Logger;
  schedule: ScheduleOptions;
  perMinute: number;
  provider: string;
}) {
  const { pool, logger, provider } = deps;
  const next = (after: Date) => nextScheduledAt(deps.schedule, after);

  return {
    nextAfter: next,

    /**
     * Enqueues a scheduled sync for every live connection whose next_sync_at has come, and moves
     * next_sync_at on to the following slot. Connections never scheduled get their first slot.
     */
    async tick(now: Date = new Date()): Promise<TickResult> {
      await pool.query(sql.typeAlias('void')`
        UPDATE integration_connection SET next_sync_at = ${sql.timestamp(next(now))}, updated_at = now()
        WHERE provider = ${provider} AND status IN ('connected', 'error') AND next_sync_at IS NULL
      `);
      const due = await pool.any(sql.type(dueRow)`
        SELECT id FROM integration_connection
        WHERE provider = ${provider} AND status IN ('connected', 'error', 'syncing')
          AND next_sync_at <= ${sql.timestamp(now)}
        ORDER BY next_sync_at, id
      `);
      const gap = spacingMs(deps.perMinute);
      const result: TickResult = { enqueued: [], joined: [] };
      for (const [index, connection] of due.entries()) {
        // One transaction per connection: a refused one (disconnected meanwhile) leaves the others be.
        const outcome = await pool.transaction(async (tx) => {
          const requested = await requestSync(tx, {
            connectionId: connection.id,
            trigger: 'scheduled',
            runAt: new Date(now.getTime() + result.enqueued.length * gap),
          });
          await tx.query(sql.typeAlias('void')`
            UPDATE integration_connection SET next_sync_at = ${sql.timestamp(next(now))}, updated_at = now()
            WHERE id = ${connection.id}
          `);
          return requested;
        });
        if (outcome.outcome === 'queued') result.enqueued.push(connection.id);
        if (outcome.outcome === 'joined') result.joined.push(connection.id);
        if (index === due.length - 1 && result.enqueued.length > 0) {
          logger.info(
            { enqueued: result.enqueued.length, joined: result.joined.length, gapMs: gap },
            'whoop sync tick',
          );
        }
      }
      return result;
    },
  };
}

export type SyncScheduler = ReturnType<typeof createSyncScheduler>;
