import type { TaskList } from 'graphile-worker';
import type { Services } from '../services/index.ts';
import { PURGE_AUTH_THROTTLE, purgeAuthThrottleTask } from './purge-auth-throttle.ts';
import { PURGE_EXPIRED_OAUTH_STATES, purgeExpiredOAuthStatesTask } from './purge-expired-oauth-states.ts';
import { PURGE_EXPIRED_SESSIONS, purgeExpiredSessionsTask } from './purge-expired-sessions.ts';
import { WHOOP_SYNC_TASK, whoopSyncTask } from './whoop-sync.ts';
import { WHOOP_SYNC_TICK, whoopSyncTickTask } from './whoop-sync-tick.ts';
import { WHOOP_WEBHOOK_TASK, whoopWebhookTask } from './whoop-webhook.ts';

// With the WHOOP feature off, its tasks are not registered: WHOOP jobs left from before wait in the
// queue (no worker takes a task it does not know, so none fails) until the feature is on again.
export function buildTaskList(services: Services): TaskList {
  return {
    [PURGE_EXPIRED_SESSIONS]: purgeExpiredSessionsTask({ sessions: services.sessions }),
    [PURGE_EXPIRED_OAUTH_STATES]: purgeExpiredOAuthStatesTask({ whoop: services.whoop }),
    [PURGE_AUTH_THROTTLE]: purgeAuthThrottleTask({ authThrottle: services.authThrottle }),
    ...(services.whoopSync.enabled
      ? {
          [WHOOP_SYNC_TASK]: whoopSyncTask({ whoopSync: services.whoopSync }),
          [WHOOP_SYNC_TICK]: whoopSyncTickTask({ whoopSync: services.whoopSync }),
          [WHOOP_WEBHOOK_TASK]: whoopWebhookTask({ whoopSync: services.whoopSync }),
        }
      : {}),
  };
}

// Crontab times are UTC (graphile-worker has no zone support).
export function crontabFor(options: { whoop: boolean }): string {
  return [
    `17 * * * * ${PURGE_EXPIRED_SESSIONS}`,
    `47 * * * * ${PURGE_EXPIRED_OAUTH_STATES}`,
    `27 * * * * ${PURGE_AUTH_THROTTLE}`,
    // Every minute: enqueue the connections whose next_sync_at (SYNC_SCHEDULE in SYNC_TIMEZONE) has come.
    ...(options.whoop ? [`* * * * * ${WHOOP_SYNC_TICK}`] : []),
  ].join('\n');
}
