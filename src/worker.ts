import { type Runner, run, Logger as WorkerLogger } from 'graphile-worker';
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

export interface WorkerDeps {
  databaseUrl: string;
  services: Services;
  logger: Logger;
  concurrency?: number;
}

// Callers run the app migrations first: graphile-worker's own schema must come after them.
export async function startWorker(deps: WorkerDeps): Promise<Runner> {
  const runner = await run({
    connectionString: deps.databaseUrl,
    concurrency: deps.concurrency ?? 4,
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
  return runner;
}
