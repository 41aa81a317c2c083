import { type Runner, run, Logger as WorkerLogger } from 'graphile-worker';
import pg from 'pg';
import { buildTaskList, crontabFor } from './jobs/index.ts';
import type { Services } from './services/index.ts';
import type { Logger } from './services/logger.ts';

function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const child = logger.child({ component: 'worker', ...scope });
    const method =
      level === 'warning' ? 'warn' : level === 'error' ? 'error' : level === 'debug' ? 'debug' : 'info';
    child[method](meta ?? {}, message);
  });
}

export const WORKER_APPLICATION_NAME = 'health-tracker-worker';

export interface WorkerDeps {
  databaseUrl: string;
  services: Services;
  logger: Logger;
  concurrency?: number;
}

// Callers run the app migrations first: graphile-worker's own schema must come after them.
export async function startWorker(deps: WorkerDeps): Promise<Runner> {
  const concurrency = deps.concurrency ?? 4;
  // Our own pool: graphile-worker ends a pool it made without waiting and drops its error handler
  // first, so a database that stops right after (npm start's embedded one, or a restart) crashed the
  // process on an idle connection's error. This one keeps its handler and is ended, awaited, on stop.
  const pgPool = new pg.Pool({
    connectionString: deps.databaseUrl,
    max: Math.max(10, concurrency + 2),
    // Named, so that operators see the worker's connections in pg_stat_activity.
    application_name: WORKER_APPLICATION_NAME,
  });
  pgPool.on('error', (error) => {
    deps.logger.warn({ err: error, component: 'worker' }, 'worker database: an idle connection failed');
  });
  const runner = await run({
    pgPool,
    concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: workerLogger(deps.logger),
    taskList: buildTaskList(deps.services),
    crontab: crontabFor({ whoop: deps.services.whoopSync.enabled }),
  });
  // A worker killed mid-sync leaves its job locked for hours: hand such jobs to the live workers now.
  await deps.services.whoopSync.recoverInterrupted().catch((error: unknown) => {
    deps.logger.error({ err: error }, 'whoop sync: could not recover interrupted runs at start-up');
  });
  const stopRunner = runner.stop;
  runner.stop = async (reason?: string) => {
    await stopRunner(reason);
    await pgPool.end();
  };
  return runner;
}
