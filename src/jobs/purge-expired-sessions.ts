import type { Task } from 'graphile-worker';
import type { SessionRepository } from '../services/sessions.ts';

export const PURGE_EXPIRED_SESSIONS = 'purge_expired_sessions';

// Takes no payload; idempotent: deleting expired rows twice deletes nothing more.
export function purgeExpiredSessionsTask(deps: { sessions: SessionRepository }): Task {
  return async (_payload, helpers) => {
    const purged = await deps.sessions.purgeExpired();
    if (purged > 0) helpers.logger.info(`purged ${purged} expired sessions`);
  };
}
