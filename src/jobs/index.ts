import type { TaskList } from 'graphile-worker';
import type { Services } from '../services/index.ts';
import { PURGE_EXPIRED_OAUTH_STATES, purgeExpiredOAuthStatesTask } from './purge-expired-oauth-states.ts';
import { PURGE_EXPIRED_SESSIONS, purgeExpiredSessionsTask } from './purge-expired-sessions.ts';
import { WHOOP_SYNC_TASK, whoopSyncTask } from './whoop-sync.ts';
import { WHOOP_SYNC_TICK, whoopSyncTickTask } from './whoop-sync-tick.ts';

export function buildTaskList(services: Services): TaskList {
  return {
    [PURGE_EXPIRED_SESSIONS]: purgeExpiredSessionsTask({ sessions: services.sessions }),
    [PURGE_EXPIRED_OAUTH_STATES]: purgeExpiredOAuthStatesTask({ whoop: services.whoop }),
    [WHOOP_SYNC_TASK]: whoopSyncTask({ whoopSync: services.whoopSync }),
    [WHOOP_SYNC_TICK]: whoopSyncTickTask({ whoopSync: services.whoopSync }),
  };
}

// Crontab times are UTC (graphile-worker has no zone support).
export const crontab = [
  `17 * * * * ${PURGE_EXPIRED_SESSIONS}`,
  `47 * * * * ${PURGE_EXPIRED_OAUTH_STATES}`,
  // Every minute: enqueue the connections whose next_sync_at (SYNC_SCHEDULE in SYNC_TIMEZONE) has come.
  `* * * * * ${WHOOP_SYNC_TICK}`,
].join('\n');
