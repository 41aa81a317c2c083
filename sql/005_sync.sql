-- Sync engine: one row per sync run, and the app-wide request budget every process shares.

CREATE TABLE integration_sync_run (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  trigger text NOT NULL CHECK (trigger IN ('initial', 'manual', 'scheduled', 'internal')),
  request_id text,
  -- queued -> running -> succeeded | partial | failed | cancelled; running -> deferred (the day's
  -- request budget is spent) -> running again after the reset.
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'deferred', 'succeeded', 'partial', 'failed', 'cancelled')),
  -- Per domain: {fetched, inserted, updated, unchanged, rejected, done, error?}.
  counts jsonb NOT NULL DEFAULT '{}',
  current_domain text,
  error text,
  -- HTTP figures for operators: requests sent, retries, 429s received, waits for the budget.
  http_requests integer NOT NULL DEFAULT 0,
  http_retries integer NOT NULL DEFAULT 0,
  http_rate_limited integer NOT NULL DEFAULT 0,
  budget_waits integer NOT NULL DEFAULT 0,
  deferrals integer NOT NULL DEFAULT 0,
  -- How many times a worker started this run (more than one after a crash or a deferral).
  attempts integer NOT NULL DEFAULT 0,
  -- The graphile-worker job and worker that last took the run: lets a restarted worker release a dead one's job.
  job_id bigint,
  worker_id text,
  resume_at timestamptz,
  queued_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX integration_sync_run_connection_idx ON integration_sync_run (connection_id, id DESC);
-- At most one run per connection that is waiting or under way: a second request joins it.
CREATE UNIQUE INDEX integration_sync_run_active_key
  ON integration_sync_run (connection_id) WHERE status IN ('queued', 'running', 'deferred');

-- WHOOP limits the whole app (all users together). Fixed windows anchored at their first request, as
-- WHOOP's headers describe them; lengths and limits are corrected from X-RateLimit-* as responses arrive.
-- UNLOGGED: every request writes this one row twice, and a commit need not wait for the disk for it.
-- A database crash empties it; the service recreates the row and WHOOP's headers re-teach it the counts.
CREATE UNLOGGED TABLE integration_rate_budget (
  provider text PRIMARY KEY REFERENCES integration (provider),
  minute_window_ms integer NOT NULL DEFAULT 60000 CHECK (minute_window_ms > 0),
  minute_started_at timestamptz NOT NULL DEFAULT '-infinity',
  minute_used integer NOT NULL DEFAULT 0,
  -- the provider's own limit as last announced (null until a response said so)
  minute_limit_seen integer,
  day_window_ms bigint NOT NULL DEFAULT 86400000 CHECK (day_window_ms > 0),
  day_started_at timestamptz NOT NULL DEFAULT '-infinity',
  day_used integer NOT NULL DEFAULT 0,
  day_limit_seen integer,
  -- after a 429: nobody sends before this instant
  blocked_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO integration_rate_budget (provider) VALUES ('whoop');
