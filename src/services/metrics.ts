import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import type { DatabasePool } from './db/pool.ts';
import { sql } from './db/sql.ts';

// Every label here has a small, fixed set of values: route patterns, enum-like states, domains.
// Never user ids, emails, URLs with ids, or tokens.

const jobStateRow = z.object({ state: z.string(), count: z.number() });
const connectionStatusRow = z.object({ provider: z.string(), status: z.string(), count: z.number() });
const lastSuccessRow = z.object({ provider: z.string(), seconds: z.number() });

export function createMetrics(deps: { pool: DatabasePool; buildCommit?: string | undefined }) {
  const { pool } = deps;
  const registry = new Registry();

  // Which build answers: one series per process, value 1 (join on it, or count versions during a rollout).
  new Gauge({
    name: 'build_info',
    help: 'The running build: version (package.json), Node.js version and commit (BUILD_COMMIT); always 1.',
    labelNames: ['version', 'node_version', 'commit'] as const,
    registers: [registry],
  }).set(
    { version: packageJson.version, node_version: process.version, commit: deps.buildCommit ?? 'unknown' },
    1,
  );

  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, which Prometheus' linter rejects (only counters end in _total).
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(name);
  }

  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route pattern, method and status class.',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const syncRunDuration = new Histogram({
    name: 'integration_sync_run_duration_seconds',
    help: 'Duration of finished sync runs by trigger and outcome.',
    labelNames: ['provider', 'trigger', 'outcome'] as const,
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const syncRuns = new Counter({
    name: 'integration_sync_runs_total',
    help: 'Finished sync runs by trigger and outcome.',
    labelNames: ['provider', 'trigger', 'outcome'] as const,
    registers: [registry],
  });
  const recordsSynced = new Counter({
    name: 'integration_records_synced_total',
    help: 'Records processed by sync, by domain and action (inserted, updated, unchanged, rejected).',
    labelNames: ['provider', 'domain', 'action'] as const,
    registers: [registry],
  });
  const apiRequests = new Counter({
    name: 'whoop_api_requests_total',
    help: 'Requests to the WHOOP API by endpoint pattern and HTTP status (0 for network errors).',
    labelNames: ['endpoint', 'status'] as const,
    registers: [registry],
  });
  const apiErrors = new Counter({
    name: 'whoop_api_errors_total',
    help: 'Failed WHOOP API calls by endpoint pattern and kind (server, network, timeout, client, invalid_record).',
    labelNames: ['endpoint', 'kind'] as const,
    registers: [registry],
  });
  const apiRateLimited = new Counter({
    name: 'whoop_api_rate_limited_total',
    help: 'HTTP 429 responses received from WHOOP.',
    registers: [registry],
  });
  const webhooksReceived = new Counter({
    name: 'whoop_webhooks_received_total',
    help: 'POSTs to /webhooks/whoop by outcome (accepted, duplicate, unknown_member, not_live, unknown_type, refused).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const tokenRefreshes = new Counter({
    name: 'whoop_token_refreshes_total',
    help: 'Successful access token refreshes.',
    registers: [registry],
  });
  const tokenRefreshFailures = new Counter({
    name: 'whoop_token_refresh_failures_total',
    help: 'Failed token refreshes by reason (invalid_grant: the grant is dead; transient: retried later; not_stored: WHOOP rotated the pair but it could not be stored).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const rateBudgetRemaining = new Gauge({
    name: 'whoop_rate_budget_remaining',
    help: 'Requests left in the shared WHOOP rate budget, by window (minute, day).',
    labelNames: ['window'] as const,
    registers: [registry],
  });
  const rateBudgetWait = new Counter({
    name: 'whoop_rate_budget_wait_seconds_total',
    help: 'Time spent waiting for the shared WHOOP rate budget.',
    registers: [registry],
  });

  new Gauge({
    name: 'worker_jobs',
    help: 'graphile-worker jobs by state (waiting, running, failed).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const rows = await pool.any(sql.type(jobStateRow)`
          SELECT state, count(*)::int AS count FROM (
            SELECT CASE
              WHEN attempts >= max_attempts THEN 'failed'
              WHEN locked_at IS NOT NULL THEN 'running'
              ELSE 'waiting'
            END AS state
            FROM graphile_worker.jobs
          ) AS jobs GROUP BY state
        `);
        for (const state of ['waiting', 'running', 'failed']) {
          this.set({ state }, rows.find((row) => row.state === state)?.count ?? 0);
        }
      } catch {
        // The worker schema appears once a worker has started; until then there is no queue to count.
      }
    },
  });

  new Gauge({
    name: 'integration_connections',
    help: 'Integration connections by provider and status.',
    labelNames: ['provider', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await pool.any(sql.type(connectionStatusRow)`
        SELECT provider, status, count(*)::int AS count FROM integration_connection GROUP BY provider, status
      `);
      for (const status of ['disconnected', 'connected', 'syncing', 'error', 'reauth_required']) {
        for (const provider of new Set(['whoop', ...rows.map((row) => row.provider)])) {
          const found = rows.find((row) => row.provider === provider && row.status === status);
          this.set({ provider, status }, found?.count ?? 0);
        }
      }
    },
  });

  // Per provider, the end of the newest run that succeeded on any connection; 0 when none ever did.
  // One index probe per connection (newest runs first), so a scrape stays cheap as history grows.
  new Gauge({
    name: 'integration_last_successful_sync_timestamp_seconds',
    help: 'Unix time the newest successful sync run (any connection) finished, by provider; 0 when none has.',
    labelNames: ['provider'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await pool.any(sql.type(lastSuccessRow)`
        SELECT connection.provider, coalesce(extract(epoch FROM max(last_run.finished_at)), 0)::float8 AS seconds
        FROM integration_connection AS connection
        CROSS JOIN LATERAL (
          SELECT run.finished_at FROM integration_sync_run AS run
          WHERE run.connection_id = connection.id AND run.status = 'succeeded'
          ORDER BY run.id DESC LIMIT 1
        ) AS last_run
        GROUP BY connection.provider
      `);
      for (const provider of new Set(['whoop', ...rows.map((row) => row.provider)])) {
        this.set({ provider }, rows.find((row) => row.provider === provider)?.seconds ?? 0);
      }
    },
  });

  return {
    registry,
    httpRequestDuration,
    syncRunDuration,
    syncRuns,
    recordsSynced,
    apiRequests,
    apiErrors,
    apiRateLimited,
    webhooksReceived,
    tokenRefreshes,
    tokenRefreshFailures,
    rateBudgetRemaining,
    rateBudgetWait,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
