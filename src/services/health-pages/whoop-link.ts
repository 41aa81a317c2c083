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

/**
 * How fresh the WHOOP data on the pages is, and whether the person must act.
 * `asOf` is when the newest sync run that read WHOOP (succeeded, or partly) ended: a failed run moves
 * integration_connection.last_sync_at too, so that column cannot say how old the data is.
 */
export interface WhoopFreshness {
  asOf: Date | null;
  /** the data is the earlier link's (WHOOP is disconnected) */
  earlier: boolean;
  /** `reauth_required`: only a reconnect resumes syncing; `sync_failed`: the last sync failed (it retries) */
  problem: 'reauth_required' | 'sync_failed' | null;
  /** why the last sync failed, in the words the Integrations card shows */
  lastSyncError: string | null;
}

export interface WhoopLinkState {
  shown: WhoopShown;
  /** null when WHOOP was never linked (or the feature is off): nothing to say */
  freshness: WhoopFreshness | null;
}

const linkRow = z.object({
  status: z.string(),
  disconnected_at: z.date().nullable(),
  last_sync_status: z.string().nullable(),
  last_sync_error: z.string().nullable(),
  as_of: z.date().nullable(),
});
type LinkRow = z.infer<typeof linkRow>;
const none: WhoopShown = Object.freeze({ kind: 'none' });
const linked: WhoopShown = Object.freeze({ kind: 'linked' });
const nothing: WhoopLinkState = Object.freeze({ shown: none, freshness: null });

function problemOf(row: LinkRow): WhoopFreshness['problem'] {
  if (row.status === 'reauth_required') return 'reauth_required';
  if (row.status === 'disconnected') return null;
  return row.status === 'error' || row.last_sync_status === 'failed' ? 'sync_failed' : null;
}

export function createWhoopLink(deps: { pool: DatabasePool; whoopEnabled: boolean }) {
  const { pool, whoopEnabled } = deps;

  async function state(owner: Owner): Promise<WhoopLinkState> {
    if (!whoopEnabled) return nothing;
    // The newest run first on (connection_id, id DESC): runs of a connection end in the order they began.
    const row = await pool.maybeOne(sql.type(linkRow)`
      SELECT c.status, c.disconnected_at, c.last_sync_status, c.last_sync_error,
             (SELECT r.finished_at FROM integration_sync_run r
              WHERE r.connection_id = c.id AND r.status IN ('succeeded', 'partial')
              ORDER BY r.id DESC LIMIT 1) AS as_of
      FROM integration_connection c
      WHERE c.user_id = ${owner.id} AND c.provider = 'whoop'
    `);
    if (!row) return nothing;
    const disconnected = row.status === 'disconnected';
    if (disconnected && !row.disconnected_at) return nothing;
    const shown: WhoopShown =
      disconnected && row.disconnected_at
        ? { kind: 'earlier', through: localDateOf(row.disconnected_at, owner.time_zone) }
        : linked;
    const problem = problemOf(row);
    return {
      shown,
      freshness: {
        asOf: row.as_of,
        earlier: disconnected,
        problem,
        lastSyncError: problem === 'sync_failed' ? row.last_sync_error : null,
      },
    };
  }

  return {
    state,
    async shown(owner: Owner): Promise<WhoopShown> {
      return (await state(owner)).shown;
    },
  };
}
