// The state the Integrations card shows: status, member, dates, last and next sync, kept history.
import { z } from 'zod';
import type { DatabasePool } from '../../db/pool.ts';
import { sql } from '../../db/sql.ts';
import { type ConnectionStatus, connectionStatus, PROVIDER } from './context.ts';

export interface WhoopCard {
  status: ConnectionStatus;
  memberName: string | null;
  memberId: string | null;
  connectedAt: Date | null;
  disconnectedAt: Date | null;
  lastSyncAt: Date | null;
  lastSyncStatus: 'succeeded' | 'failed' | 'partial' | null;
  lastSyncError: string | null;
  nextSyncAt: Date | null;
  hasHistory: boolean;
}

const cardRow = z.object({
  status: connectionStatus,
  provider_account_name: z.string().nullable(),
  provider_account_id: z.string().nullable(),
  connected_at: z.date().nullable(),
  disconnected_at: z.date().nullable(),
  last_sync_at: z.date().nullable(),
  last_sync_status: z.enum(['succeeded', 'failed', 'partial']).nullable(),
  last_sync_error: z.string().nullable(),
  next_sync_at: z.date().nullable(),
  has_history: z.boolean(),
});

const neverLinked: WhoopCard = Object.freeze({
  status: 'disconnected',
  memberName: null,
  memberId: null,
  connectedAt: null,
  disconnectedAt: null,
  lastSyncAt: null,
  lastSyncStatus: null,
  lastSyncError: null,
  nextSyncAt: null,
  hasHistory: false,
});

export function createConnectionCard(deps: { pool: DatabasePool }) {
  const { pool } = deps;
  return async function card(userId: number): Promise<WhoopCard> {
    const row = await pool.maybeOne(sql.type(cardRow)`
      SELECT c.status, c.provider_account_name, c.provider_account_id, c.connected_at, c.disconnected_at,
             c.last_sync_at, c.last_sync_status, c.last_sync_error, c.next_sync_at,
             EXISTS (SELECT FROM integration_raw_event e WHERE e.connection_id = c.id) AS has_history
      FROM integration_connection c
      WHERE c.user_id = ${userId} AND c.provider = ${PROVIDER}
    `);
    if (!row) return { ...neverLinked };
    return {
      status: row.status,
      memberName: row.provider_account_name,
      memberId: row.provider_account_id,
      connectedAt: row.connected_at,
      disconnectedAt: row.disconnected_at,
      lastSyncAt: row.last_sync_at,
      lastSyncStatus: row.last_sync_status,
      lastSyncError: row.last_sync_error,
      nextSyncAt: row.next_sync_at,
      hasHistory: row.has_history,
    };
  };
}
