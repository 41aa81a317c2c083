import type { Metrics } from '../../metrics.ts';

/** The counters the sync feeds (src/services/metrics.ts); optional so that benchmarks can leave them out. */
export type SyncMetrics = Pick<
  Metrics,
  | 'syncRunDuration'
  | 'syncRuns'
  | 'recordsSynced'
  | 'apiRequests'
  | 'apiErrors'
  | 'apiRateLimited'
  | 'webhooksReceived'
  | 'tokenRefreshes'
  | 'tokenRefreshFailures'
  | 'rateBudgetRemaining'
  | 'rateBudgetWait'
>;
