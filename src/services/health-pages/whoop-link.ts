import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';
import { type LocalDate, localDateOf } from '../local-time.ts';
import type { Owner } from '../manual-logs/fields.ts';

/**
 * Which dates the pages show WHOOP data for:
 * - `linked`: every date (a WHOOP connection that is not disconnected: a sync error or a needed re-auth
 *   still shows the history already synced);
 * - `earlier`: after a Disconnect, the dates up to and including the disconnect's local date in the
 *   person's zone, read-only and labelled as the earlier link's; later dates fall back to manual entries;
 * - `none`: never linked, or the WHOOP feature is off.
 */
export type WhoopShown = { kind: 'linked' } | { kind: 'earlier'; through: LocalDate } | { kind: 'none' };

/** Whether `date` shows WHOOP data. */
export function whoopOn(shown: WhoopShown, date: LocalDate): boolean {
  return shown.kind === 'linked' || (shown.kind === 'earlier' && date <= shown.through);
}

/** The part of [from, to] that shows WHOOP data, or undefined when none of it does. */
export function whoopSpan(
  shown: WhoopShown,
  from: LocalDate,
  to: LocalDate,
): { from: LocalDate; to: LocalDate } | undefined {
  if (shown.kind === 'linked') return { from, to };
  if (shown.kind === 'none' || from > shown.through) return undefined;
  return { from, to: to < shown.through ? to : shown.through };
}

/** The date the earlier link's data ends on, when `date` shows it; null otherwise (live link or manual). */
export function earlierThrough(shown: WhoopShown, date: LocalDate): LocalDate | null {
  return shown.kind === 'earlier' && date <= shown.through ? shown.through : null;
}

const linkRow = z.object({ status: z.string(), disconnected_at: z.date().nullable() });
const none: WhoopShown = Object.freeze({ kind: 'none' });
const linked: WhoopShown = Object.freeze({ kind: 'linked' });

export function createWhoopLink(deps: { pool: DatabasePool; whoopEnabled: boolean }) {
  const { pool, whoopEnabled } = deps;
  return {
    async shown(owner: Owner): Promise<WhoopShown> {
      if (!whoopEnabled) return none;
      const row = await pool.maybeOne(sql.type(linkRow)`
        SELECT status, disconnected_at FROM integration_connection
        WHERE user_id = ${owner.id} AND provider = 'whoop'
      `);
      if (!row) return none;
      if (row.status !== 'disconnected') return linked;
      if (!row.disconnected_at) return none;
      return { kind: 'earlier', through: localDateOf(row.disconnected_at, owner.time_zone) };
    },
  };
}
