import type { Task } from 'graphile-worker';
import type { AuthThrottle } from '../services/auth-throttle.ts';

export const PURGE_AUTH_THROTTLE = 'purge_auth_throttle';

// Takes no payload; idempotent: deleting spent counters twice deletes nothing more.
export function purgeAuthThrottleTask(deps: { authThrottle: AuthThrottle }): Task {
  return async (_payload, helpers) => {
    const purged = await deps.authThrottle.purgeExpired();
    if (purged > 0) helpers.logger.info(`purged ${purged} spent login throttle counters`);
  };
}
