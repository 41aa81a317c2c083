import type { Task } from 'graphile-worker';
import type { WhoopSync } from '../services/whoop/sync/index.ts';

export const WHOOP_SYNC_TICK = 'whoop_sync_tick';

// Takes no payload; idempotent: a connection already queued or running is joined, not enqueued again.
export function whoopSyncTickTask(deps: { whoopSync: Pick<WhoopSync, 'tick'> }): Task {
  return async () => {
    await deps.whoopSync.tick();
  };
}
