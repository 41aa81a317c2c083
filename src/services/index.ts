import type { Config } from '../config.ts';
import type { DatabasePool } from './db/pool.ts';
import { createHealthService } from './health.ts';
import type { Logger } from './logger.ts';
import { createSessionRepository } from './sessions.ts';
import { createUserService } from './users.ts';

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface ServiceDeps {
  config: Config;
  pool: DatabasePool;
  logger: Logger;
}

// The one place services are wired; web, worker and tests all build them here.
export function createServices(deps: ServiceDeps) {
  const { pool } = deps;
  return {
    users: createUserService({ pool }),
    sessions: createSessionRepository({ pool, ttlMs: SESSION_TTL_MS }),
    health: createHealthService({ pool }),
  };
}

export type Services = ReturnType<typeof createServices>;
