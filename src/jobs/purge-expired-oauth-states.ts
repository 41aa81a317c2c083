import type { Task } from 'graphile-worker';
import type { WhoopConnections } from '../services/whoop/connections.ts';

export const PURGE_EXPIRED_OAUTH_STATES = 'purge_expired_oauth_states';

// Takes no payload; idempotent. OAuth states live 10 minutes; expired ones are kept a day, then deleted.
export function purgeExpiredOAuthStatesTask(deps: {
  whoop: Pick<WhoopConnections, 'purgeExpiredStates'>;
}): Task {
  return async (_payload, helpers) => {
    const purged = await deps.whoop.purgeExpiredStates();
    if (purged > 0) helpers.logger.info(`purged ${purged} expired OAuth states`);
  };
}
