// The WHOOP connection of a user, composed from its parts (framework-free: routes, the internal API
// and jobs all use it): linking (connections/linking.ts), unlinking (connections/unlinking.ts),
// switching to another account (connections/account-switch.ts) and the card (connections/card.ts).
import { createAccountSwitch } from './connections/account-switch.ts';
import { createConnectionCard } from './connections/card.ts';
import { createConnectionCalls, type WhoopConnectionDeps } from './connections/context.ts';
import { createLinking } from './connections/linking.ts';
import { createUnlinking } from './connections/unlinking.ts';

export {
  AccountSwitchError,
  type AccountSwitchErrorCode,
  type AccountSwitchQuestion,
} from './connections/account-switch.ts';
export type { WhoopCard } from './connections/card.ts';
export { type ConnectionStatus, PROVIDER, type WhoopConnectionDeps } from './connections/context.ts';
export { LinkError, type LinkErrorCode } from './connections/errors.ts';
export type { LinkedConnection, SwitchAwaitingConfirmation } from './connections/linking.ts';
export { createPendingSwitches, type PendingSwitches } from './connections/pending-switches.ts';
export type { DisconnectResult } from './connections/unlinking.ts';

export function createWhoopConnections(deps: WhoopConnectionDeps) {
  const calls = createConnectionCalls(deps);
  const linking = createLinking(deps, calls);
  const { revokeAtWhoop, disconnect } = createUnlinking(deps, calls);
  return {
    ...linking,
    disconnect,
    ...createAccountSwitch(deps, { revokeAtWhoop }),
    card: createConnectionCard(deps),

    /** OAuth states expired a day ago, and held account switches the moment they expire. */
    async purgeExpiredStates(): Promise<number> {
      const [states, switches] = await Promise.all([
        deps.states.purgeExpired(),
        deps.pendingSwitches.purgeExpired(),
      ]);
      return states + switches;
    },
  };
}

export type WhoopConnections = ReturnType<typeof createWhoopConnections>;
