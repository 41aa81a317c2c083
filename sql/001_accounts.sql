-- Accounts and web sessions.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE app_user (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email citext NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
  password_hash text NOT NULL,
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  time_zone text NOT NULL DEFAULT 'UTC',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE session (
  id text PRIMARY KEY,
  user_id bigint REFERENCES app_user (id) ON DELETE CASCADE,
  data jsonb NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_expires_at_idx ON session (expires_at);
CREATE INDEX session_user_id_idx ON session (user_id);
