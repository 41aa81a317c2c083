// The app-wide WHOOP request budget (100/minute, 10,000/day for all users together), kept in one
// Postgres row that every web and worker process shares. Each request reserves a slot first with one
// atomic UPDATE; responses correct the row from X-RateLimit-*; a 429 blocks everyone until the reset.
// Background work (scheduled syncs, backfills) leaves a tenth of each window to interactive work, and
// interactive work (Sync now, linking, disconnecting) may use at most half of each window, so neither
// can starve the other.
import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import type { Logger, LogSink } from '../logger.ts';
import type { RateLimitReport } from './rate-limit-headers.ts';
import { DayBudgetSpentError } from './sync/errors.ts';
import type { SyncMetrics } from './sync/metrics.ts';
import { wait } from './sync/wait.ts';

export type BudgetPriority = 'interactive' | 'background';

export interface RateBudgetOptions {
  pool: DatabasePool;
  logger: Logger;
  perMinute: number;
  perDay: number;
  provider?: string;
  /** a minute-window wait longer than this defers the sync like a spent day (default 2 minutes) */
  maxInlineWaitMs?: number;
  /** requests left per window after each reservation, and the time spent waiting */
  metrics?: Pick<SyncMetrics, 'rateBudgetRemaining' | 'rateBudgetWait'> | undefined;
}

export interface AcquireOptions {
  priority: BudgetPriority;
  signal?: AbortSignal | undefined;
  /** called before each wait for a window to reset */
  onWait?: (waitMs: number) => void;
  /** the caller's logger (a sync run's carries its request and run ids); default: the budget's */
  log?: LogSink | undefined;
}

const reservedRow = z.object({ minute_remaining: z.number(), day_remaining: z.number() });
const stateRow = z.object({
  blocked_ms: z.number(),
  minute_full: z.boolean(),
  minute_reset_ms: z.number(),
  day_full: z.boolean(),
  day_reset_ms: z.number(),
});

// Postgres interval arithmetic on the row's own columns, so that a concurrent update re-evaluates it.
const minuteFresh = sql.fragment`(now() >= minute_started_at + minute_window_ms * interval '1 millisecond')`;
const dayFresh = sql.fragment`(now() >= day_started_at + day_window_ms * interval '1 millisecond')`;
const msUntil = (instant: ReturnType<typeof sql.fragment>) =>
  sql.fragment`greatest(0, ceil(extract(epoch FROM (${instant} - now())) * 1000))::float8`;

export function createRateBudget(options: RateBudgetOptions) {
  const { pool, logger } = options;
  const provider = options.provider ?? 'whoop';
  const maxInlineWaitMs = options.maxInlineWaitMs ?? 120_000;
  const minuteLimit = sql.fragment`least(${options.perMinute}::int, coalesce(minute_limit_seen, ${options.perMinute}::int))`;
  const dayLimit = sql.fragment`least(${options.perDay}::int, coalesce(day_limit_seen, ${options.perDay}::int))`;

  function allowance(limit: ReturnType<typeof sql.fragment>, priority: BudgetPriority) {
    return priority === 'interactive' ? limit : sql.fragment`greatest(1, floor(${limit} * 0.9))`;
  }
  const interactiveShare = (limit: ReturnType<typeof sql.fragment>) =>
    sql.fragment`greatest(1, floor(${limit} * 0.5))`;
  // For background work the share check is always true.
  function shareLeft(priority: BudgetPriority) {
    if (priority !== 'interactive') return sql.fragment`true`;
    return sql.fragment`(${minuteFresh} OR minute_interactive_used < ${interactiveShare(minuteLimit)})
      AND (${dayFresh} OR day_interactive_used < ${interactiveShare(dayLimit)})`;
  }

  async function tryReserve(priority: BudgetPriority): Promise<boolean> {
    const mine = priority === 'interactive' ? 1 : 0;
    // RETURNING sees the row after the update: what is left of each window once this request is counted.
    const row = await pool.maybeOne(sql.type(reservedRow)`
      UPDATE integration_rate_budget SET
        minute_started_at = CASE WHEN ${minuteFresh} THEN now() ELSE minute_started_at END,
        minute_used = CASE WHEN ${minuteFresh} THEN 1 ELSE minute_used + 1 END,
        minute_interactive_used = CASE WHEN ${minuteFresh} THEN ${mine}::int ELSE minute_interactive_used + ${mine}::int END,
        day_started_at = CASE WHEN ${dayFresh} THEN now() ELSE day_started_at END,
        day_used = CASE WHEN ${dayFresh} THEN 1 ELSE day_used + 1 END,
        day_interactive_used = CASE WHEN ${dayFresh} THEN ${mine}::int ELSE day_interactive_used + ${mine}::int END,
        updated_at = now()
      WHERE provider = ${provider}
        AND (blocked_until IS NULL OR blocked_until <= now())
        AND (${minuteFresh} OR minute_used < ${allowance(minuteLimit, priority)})
        AND (${dayFresh} OR day_used < ${allowance(dayLimit, priority)})
        AND ${shareLeft(priority)}
      RETURNING greatest(0, ${minuteLimit} - minute_used)::int AS minute_remaining,
        greatest(0, ${dayLimit} - day_used)::int AS day_remaining
    `);
    if (!row) return false;
    options.metrics?.rateBudgetRemaining.set({ window: 'minute' }, row.minute_remaining);
    options.metrics?.rateBudgetRemaining.set({ window: 'day' }, row.day_remaining);
    return true;
  }

  async function state(priority: BudgetPriority) {
    return pool.maybeOne(sql.type(stateRow)`
      SELECT
        coalesce(${msUntil(sql.fragment`blocked_until`)}, 0)::float8 AS blocked_ms,
        (NOT ${minuteFresh} AND (minute_used >= ${allowance(minuteLimit, priority)}
          OR (${priority === 'interactive'}::boolean AND minute_interactive_used >= ${interactiveShare(minuteLimit)}))) AS minute_full,
        ${msUntil(sql.fragment`minute_started_at + minute_window_ms * interval '1 millisecond'`)} AS minute_reset_ms,
        (NOT ${dayFresh} AND (day_used >= ${allowance(dayLimit, priority)}
          OR (${priority === 'interactive'}::boolean AND day_interactive_used >= ${interactiveShare(dayLimit)}))) AS day_full,
        ${msUntil(sql.fragment`day_started_at + day_window_ms * interval '1 millisecond'`)} AS day_reset_ms
      FROM integration_rate_budget WHERE provider = ${provider}
    `);
  }

  /**
   * Aligns the row with what WHOOP reported: its window lengths and limits, and for the reported
   * window its end (never earlier than ours) and how many requests it counted (never fewer than ours).
   */
  async function reconcile(report: RateLimitReport): Promise<void> {
    const used = Math.max(
      0,
      (report.reported === 'minute' ? report.minute.limit : report.day.limit) - report.remaining,
    );
    const window = report.reported === 'minute' ? report.minute : report.day;
    const serverStart = sql.fragment`(now() + ${report.resetMs - window.windowMs}::float8 * interval '1 millisecond')`;
    const started =
      report.reported === 'minute' ? sql.fragment`minute_started_at` : sql.fragment`day_started_at`;
    const windowMs =
      report.reported === 'minute' ? sql.fragment`minute_window_ms` : sql.fragment`day_window_ms`;
    // A window that began after ours ended is one we never saw: take WHOOP's count as it is.
    const unseen = sql.fragment`(${serverStart} >= ${started} + ${windowMs} * interval '1 millisecond')`;
    const startValue = sql.fragment`CASE WHEN ${unseen} THEN ${serverStart} ELSE greatest(${started}, ${serverStart}) END`;
    const usedColumn = report.reported === 'minute' ? sql.fragment`minute_used` : sql.fragment`day_used`;
    const reportedLimit = report.reported === 'minute' ? report.minute.limit : report.day.limit;
    const usedValue = sql.fragment`CASE WHEN ${unseen} THEN ${used}::int ELSE greatest(${usedColumn}, ${used}::int) END`;
    const assignments =
      report.reported === 'minute'
        ? sql.fragment`minute_started_at = ${startValue}, minute_used = ${usedValue}`
        : sql.fragment`day_started_at = ${startValue}, day_used = ${usedValue}`;
    await pool.query(sql.typeAlias('void')`
      UPDATE integration_rate_budget SET
        ${assignments},
        minute_window_ms = ${report.minute.windowMs}, minute_limit_seen = ${report.minute.limit},
        day_window_ms = ${report.day.windowMs}, day_limit_seen = ${report.day.limit},
        updated_at = now()
      WHERE provider = ${provider} AND (
        -- Most responses change nothing worth a write: far from the limit, our counts are the higher.
        ${usedColumn} < ${used}::int OR ${unseen} OR ${report.remaining * 10 < reportedLimit}::boolean
        OR minute_window_ms <> ${report.minute.windowMs} OR minute_limit_seen IS DISTINCT FROM ${report.minute.limit}::int
        OR day_window_ms <> ${report.day.windowMs} OR day_limit_seen IS DISTINCT FROM ${report.day.limit}::int
      )
    `);
  }

  return {
    reconcile,

    /**
     * Reserves one request. Waits (without spinning) for the minute window or a 429 block to pass;
     * throws DayBudgetSpentError when the day window is spent or the wait would be too long.
     */
    async acquire(acquire: AcquireOptions): Promise<void> {
      for (;;) {
        if (await tryReserve(acquire.priority)) return;
        const current = await state(acquire.priority);
        if (!current) {
          // The row is gone (a crash empties the unlogged table): start afresh.
          await pool.query(sql.typeAlias('void')`
            INSERT INTO integration_rate_budget (provider) VALUES (${provider}) ON CONFLICT (provider) DO NOTHING
          `);
          continue;
        }
        if (current.day_full) throw new DayBudgetSpentError(new Date(Date.now() + current.day_reset_ms));
        const waitMs = Math.max(current.blocked_ms, current.minute_full ? current.minute_reset_ms : 0);
        if (waitMs > maxInlineWaitMs) throw new DayBudgetSpentError(new Date(Date.now() + waitMs));
        // Zero: the window reset between the two statements; try again at once.
        if (waitMs > 0) {
          acquire.onWait?.(waitMs);
          options.metrics?.rateBudgetWait.inc(waitMs / 1000);
          (acquire.log ?? logger).debug(
            { waitMs, priority: acquire.priority },
            'whoop rate budget: waiting for the window to reset',
          );
          await wait(waitMs, acquire.signal);
        }
      }
    },

    /** WHOOP answered 429: nobody sends again before its reset (one minute when it gave none). */
    async blockAfter429(report: RateLimitReport | undefined, log: LogSink = logger): Promise<void> {
      if (report) await reconcile(report);
      const resetMs = report?.resetMs ?? 60_000;
      await pool.query(sql.typeAlias('void')`
        UPDATE integration_rate_budget
        SET blocked_until = greatest(coalesce(blocked_until, now()), now() + ${resetMs}::float8 * interval '1 millisecond'),
            updated_at = now()
        WHERE provider = ${provider}
      `);
      log.warn(
        { resetMs, window: report?.reported },
        'whoop rate budget: 429 received, blocked until the reset',
      );
    },
  };
}

export type RateBudget = ReturnType<typeof createRateBudget>;
