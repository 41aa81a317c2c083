-- A different WHOOP account waiting for its person to confirm the switch (the old account's WHOOP data
-- is deleted on confirm). One per user and provider, bound to the session that started it, short-lived
-- and taken once. The new account's tokens are sealed by the token vault (never plaintext), bound to
-- this user and account; they never reach the session or a page.
CREATE TABLE integration_pending_switch (
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  provider text NOT NULL REFERENCES integration (provider),
  session_id_hash bytea NOT NULL,
  provider_account_id text NOT NULL,
  provider_account_name text NOT NULL,
  scopes text[] NOT NULL,
  access_sealed jsonb NOT NULL,
  access_expires_at timestamptz NOT NULL,
  refresh_sealed jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, provider)
);
CREATE INDEX integration_pending_switch_expires_at_idx ON integration_pending_switch (expires_at);
