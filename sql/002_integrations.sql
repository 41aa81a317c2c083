-- Generic integration tables (seed ticket WHOOP-05). Provider-agnostic; WHOOP is one row of the catalog.
CREATE TABLE integration (
  provider text PRIMARY KEY CHECK (provider ~ '^[a-z][a-z0-9_]*$'),
  display_name text NOT NULL,
  scopes text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO integration (provider, display_name, scopes) VALUES (
  'whoop', 'WHOOP',
  ARRAY['read:recovery', 'read:cycles', 'read:workout', 'read:sleep', 'read:profile', 'read:body_measurement', 'offline']
);

-- One-time OAuth state: only a hash of the state value is stored.
CREATE TABLE oauth_state (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  state_hash bytea NOT NULL UNIQUE,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  session_id_hash bytea NOT NULL,
  provider text NOT NULL REFERENCES integration (provider),
  -- PKCE verifier sealed by the token vault (never plaintext).
  pkce_verifier_sealed jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz
);
CREATE INDEX oauth_state_expires_at_idx ON oauth_state (expires_at);

CREATE TABLE integration_connection (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  provider text NOT NULL REFERENCES integration (provider),
  -- The provider's account id (WHOOP member id), as text so every provider fits.
  provider_account_id text,
  provider_account_name text,
  status text NOT NULL DEFAULT 'disconnected'
    CHECK (status IN ('disconnected', 'connected', 'syncing', 'error', 'reauth_required')),
  scopes text[] NOT NULL DEFAULT '{}',
  connected_at timestamptz,
  disconnected_at timestamptz,
  last_sync_at timestamptz,
  last_sync_status text CHECK (last_sync_status IN ('succeeded', 'failed', 'partial')),
  last_sync_error text,
  next_sync_at timestamptz,
  watermarks jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- One connection per user and provider (one WHOOP account per user).
  CONSTRAINT integration_connection_user_provider_key UNIQUE (user_id, provider),
  CONSTRAINT integration_connection_live_needs_account
    CHECK (status = 'disconnected' OR provider_account_id IS NOT NULL)
);
-- One user per provider account among live links; a disconnected row keeps its history without blocking.
CREATE UNIQUE INDEX integration_connection_live_account_key
  ON integration_connection (provider, provider_account_id)
  WHERE status <> 'disconnected';
CREATE INDEX integration_connection_next_sync_idx
  ON integration_connection (next_sync_at)
  WHERE status IN ('connected', 'error');

-- Envelope-encrypted tokens: never plaintext.
CREATE TABLE integration_token (
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('access', 'refresh')),
  ciphertext bytea NOT NULL,
  iv bytea NOT NULL CHECK (length(iv) = 12),
  auth_tag bytea NOT NULL CHECK (length(auth_tag) = 16),
  wrapped_key bytea NOT NULL,
  key_provider text NOT NULL CHECK (key_provider IN ('kms', 'keyring')),
  key_id text NOT NULL,
  key_version text NOT NULL,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, kind)
);
CREATE INDEX integration_token_key_idx ON integration_token (key_provider, key_id, key_version);

-- Every payload fetched or received; a re-sync of unchanged data adds nothing.
CREATE TABLE integration_raw_event (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  resource_type text NOT NULL,
  external_id text NOT NULL,
  content_hash bytea NOT NULL,
  payload jsonb NOT NULL,
  validation_error text,
  received_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT integration_raw_event_content_key UNIQUE (connection_id, resource_type, external_id, content_hash)
);
