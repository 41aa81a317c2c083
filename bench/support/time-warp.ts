// The app's clock cannot be faked (JavaScript's Date.now and PostgreSQL's now() both follow the wall),
// so bench/quota.ts moves the simulator's clock and makes the app's stored time-bearing state look as
// old as it would be: every instant the app later compares with "now" moves back by the same step.
import type { DatabasePool } from '../../src/services/db/pool.ts';
import { sql } from '../../src/services/db/sql.ts';

/** Everything the app decides "how long ago" from, moved `ms` into the past. */
export async function ageAppState(pool: DatabasePool, ms: number): Promise<void> {
  const step = sql.fragment`(${ms}::bigint * interval '1 millisecond')`;
  await pool.transaction(async (tx) => {
    await tx.query(sql.typeAlias('void')`
      UPDATE integration_token SET expires_at = expires_at - ${step}
    `);
    await tx.query(sql.typeAlias('void')`
      UPDATE integration_connection
      SET next_sync_at = next_sync_at - ${step},
          last_webhook_at = last_webhook_at - ${step},
          profile_read_at = profile_read_at - ${step},
          covered_listed_at = covered_listed_at - ${step},
          last_sync_at = last_sync_at - ${step},
          refresh_lease_until = refresh_lease_until - ${step}
    `);
    await tx.query(sql.typeAlias('void')`
      UPDATE integration_rate_budget
      SET minute_started_at = minute_started_at - ${step},
          day_started_at = day_started_at - ${step},
          blocked_until = blocked_until - ${step}
    `);
  });
}

/**
 * A run that ends sets next_sync_at from the wall clock (the next 06:00 or 18:00 after the real now);
 * on the warped timeline the next slot is the one after the simulator's now. `nextAfter` is the
 * app's own schedule (services.whoopSync.nextSyncAfter).
 */
export async function scheduleFromSimulatedNow(
  pool: DatabasePool,
  connectionIds: readonly number[],
  simNow: number,
  nextAfter: (after: Date) => Date,
): Promise<void> {
  const untilNext = nextAfter(new Date(simNow)).getTime() - simNow;
  await pool.query(sql.typeAlias('void')`
    UPDATE integration_connection SET next_sync_at = now() + ${untilNext}::bigint * interval '1 millisecond'
    WHERE id = ANY(${sql.array([...connectionIds], 'int8')})
  `);
}
