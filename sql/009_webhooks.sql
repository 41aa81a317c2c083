-- WHOOP webhooks: every verified event of a live connection, deduplicated on WHOOP's trace id, and
-- processed by a job. Per connection: when the last webhook arrived (a silent one restores the full
-- schedule), and when profile/body and the webhook-covered collections were last read in full.
CREATE TABLE integration_webhook_event (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider text NOT NULL REFERENCES integration (provider),
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  trace_id text NOT NULL CHECK (length(trace_id) BETWEEN 1 AND 200),
  event_type text NOT NULL CHECK (event_type ~ '^(sleep|workout|recovery)\.(updated|deleted)$'),
  -- the record's id as WHOOP sent it (for recovery events: its sleep's id)
  record_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  -- what processing did: stored, deleted, gone (WHOOP no longer has it), skipped (connection not live)
  outcome text,
  CONSTRAINT integration_webhook_event_trace_key UNIQUE (provider, trace_id)
);
CREATE INDEX integration_webhook_event_connection_idx ON integration_webhook_event (connection_id, id DESC);

ALTER TABLE integration_connection
  ADD COLUMN last_webhook_at timestamptz,
  -- profile and body measurement are read at most daily
  ADD COLUMN profile_read_at timestamptz,
  -- while webhooks flow, sleep, recovery and workouts are listed (and reconciled) at most daily
  ADD COLUMN covered_listed_at timestamptz;
