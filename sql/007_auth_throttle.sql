-- Login and sign-up throttling shared by every web process: attempts per client address in a fixed
-- window, and consecutive failed logins per account (keyed by a hash of the email, known or not) with
-- an exponential block. Rows are purged once their window and block have passed.
CREATE TABLE auth_throttle (
  key text PRIMARY KEY,
  hits integer NOT NULL DEFAULT 0,
  window_started_at timestamptz NOT NULL DEFAULT now(),
  failures integer NOT NULL DEFAULT 0,
  blocked_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
