import type { TaskList } from 'graphile-worker';
import type { Services } from '../services/index.ts';
import { PURGE_EXPIRED_SESSIONS, purgeExpiredSessionsTask } from './purge-expired-sessions.ts';

export function buildTaskList(services: Services): TaskList {
  return {
    [PURGE_EXPIRED_SESSIONS]: purgeExpiredSessionsTask({ sessions: services.sessions }),
  };
}

// Crontab times are UTC (graphile-worker has no zone support).
export const crontab = [`17 * * * * ${PURGE_EXPIRED_SESSIONS}`].join('\n');
