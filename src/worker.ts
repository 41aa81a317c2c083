import { type Runner, run, Logger as WorkerLogger } from 'graphile-worker';
import { buildTaskList, crontab } from './jobs/index.ts';
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
  return run({
    connectionString: deps.databaseUrl,
    concurrency: deps.concurrency ?? 4,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: workerLogger(deps.logger),
    taskList: buildTaskList(deps.services),
    crontab,
  });
}
