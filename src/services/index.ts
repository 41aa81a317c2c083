import type { Config } from '../config.ts';
import { createAuthThrottle } from './auth-throttle.ts';
import { createDataRights } from './data-rights/index.ts';
import type { DatabasePool } from './db/pool.ts';
import { createHealthService } from './health.ts';
import { createHealthPages } from './health-pages/index.ts';
import type { Logger } from './logger.ts';
import { createSleepLog } from './manual-logs/sleep-log.ts';
import { createWorkoutLog } from './manual-logs/workout-log.ts';
import { createMetrics } from './metrics.ts';
import { createPasswordHasher } from './passwords.ts';
import { createSessionRepository } from './sessions.ts';
import { createSignIn } from './sign-in.ts';
import { createSyncHistory } from './sync-history.ts';
import { createTokenKeysFromConfig, type TokenKeys, tokenCryptoStatus } from './token-keys.ts';
import { createUserService } from './users.ts';
import { createWhoopClient } from './whoop/client.ts';
import {
  createPendingSwitches,
  createWhoopConnections,
  PROVIDER as WHOOP_PROVIDER,
} from './whoop/connections.ts';
import { createOAuthStates } from './whoop/oauth-states.ts';
import { createRateBudget } from './whoop/rate-budget.ts';
import { type WhoopSettings, whoopSettingsFromConfig } from './whoop/settings.ts';
import { createWhoopSync } from './whoop/sync/index.ts';
import { createTokenRotation } from './whoop/token-rotation.ts';
import { createTokenStore } from './whoop/token-store.ts';

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface ServiceDeps {
  config: Config;
  pool: DatabasePool;
  logger: Logger;
  /** Effective WHOOP endpoints and credentials (the simulator's in demo mode); default: from the config. */
  whoop?: WhoopSettings | undefined;
  /** Token keys; default: built from the config (plus `devKeyringSpec` outside production). */
  tokenKeys?: TokenKeys | undefined;
  devKeyringSpec?: string | undefined;
  /** scrypt's N for new password hashes; default (and always in production): OWASP's minimum */
  passwordCost?: number | undefined;
  /** The clock that decides "today" for manual logs and pages; default: the system clock. */
  now?: (() => Date) | undefined;
}

// The one place services are wired; web, worker and tests all build them here.
export function createServices(deps: ServiceDeps) {
  const { pool, logger, config } = deps;
  const tokenKeys =
    deps.tokenKeys ??
    createTokenKeysFromConfig(config.tokenEncryption, { devKeyringSpec: deps.devKeyringSpec });
  const whoopSettings = config.whoop.enabled ? (deps.whoop ?? whoopSettingsFromConfig(config)) : undefined;
  // Only src/services/whoop/** receives the vault's open(): nothing returned here hands out a token.
  const tokenStore = createTokenStore({ vault: tokenKeys.vault });
  const now = deps.now ?? (() => new Date());
  const sleepLog = createSleepLog({ pool, now });
  const workoutLog = createWorkoutLog({ pool, now });
  const metrics = createMetrics({ pool, buildCommit: config.buildCommit });
  const whoopClient = whoopSettings ? createWhoopClient({ settings: whoopSettings, metrics }) : undefined;
  // One WHOOP request budget for everything this process sends: syncs, code exchanges, revokes.
  const whoopBudget = createRateBudget({
    pool,
    logger,
    perMinute: config.sync.rateLimitPerMinute,
    perDay: config.sync.rateLimitPerDay,
    metrics,
  });
  const whoopSync = createWhoopSync({
    pool,
    logger,
    sync: config.sync,
    settings: whoopSettings,
    client: whoopClient,
    tokens: tokenStore,
    metrics,
    budget: whoopBudget,
  });
  const users = createUserService({ pool, passwords: createPasswordHasher({ cost: deps.passwordCost }) });
  const authThrottle = createAuthThrottle({ pool });
  const services = {
    users,
    authThrottle,
    signIn: createSignIn({ users, throttle: authThrottle }),
    sessions: createSessionRepository({ pool, ttlMs: SESSION_TTL_MS }),
    health: createHealthService({ pool }),
    sleepLog,
    workoutLog,
    healthPages: createHealthPages({ pool, now, whoopEnabled: config.whoop.enabled, sleepLog, workoutLog }),
    metrics,
    whoop: createWhoopConnections({
      pool,
      logger,
      settings: whoopSettings,
      client: whoopClient,
      states: createOAuthStates({ pool, vault: tokenKeys.vault }),
      pendingSwitches: createPendingSwitches({ pool, vault: tokenKeys.vault, provider: WHOOP_PROVIDER }),
      tokens: tokenStore,
      budget: whoopBudget,
      onLinked: whoopSync.onLinked,
    }),
    whoopSync,
    syncHistory: createSyncHistory({ pool }),
    tokenRotation: createTokenRotation({ pool, keys: tokenKeys, logger }),
    /** Whether new tokens can be sealed, and with what; the vault itself stays with src/services/whoop/**. */
    tokenCrypto: tokenCryptoStatus(tokenKeys),
    close: () => tokenKeys.close(),
  };
  return {
    ...services,
    dataRights: createDataRights({
      pool,
      logger,
      now,
      users,
      throttle: authThrottle,
      whoop: services.whoop,
    }),
  };
}

export type Services = ReturnType<typeof createServices>;
