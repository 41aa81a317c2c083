-- Normalized, provider-agnostic wearable data. Each row is keyed by (connection, provider record id),
-- carries user and provider for direct page queries, its own UTC offset and the local date derived
-- from it (DESIGN.md "Time"), typed common metrics, and provider-specific fields in extras.
-- deleted_at marks records the provider deleted; pages ignore them.

CREATE TABLE integration_cycle (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  provider text NOT NULL REFERENCES integration (provider),
  external_id text NOT NULL,
  start_at timestamptz NOT NULL,
  end_at timestamptz,
  utc_offset_minutes integer NOT NULL,
  local_date date NOT NULL,
  score_state text NOT NULL CHECK (score_state IN ('SCORED', 'PENDING_SCORE', 'UNSCORABLE')),
  strain numeric,
  kilojoules numeric,
  average_heart_rate integer,
  max_heart_rate integer,
  extras jsonb NOT NULL DEFAULT '{}',
  provider_updated_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT integration_cycle_record_key UNIQUE (connection_id, external_id)
);
CREATE INDEX integration_cycle_user_date_idx ON integration_cycle (user_id, local_date DESC);

CREATE TABLE integration_sleep (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  provider text NOT NULL REFERENCES integration (provider),
  external_id text NOT NULL,
  cycle_external_id text,
  start_at timestamptz NOT NULL,
  end_at timestamptz NOT NULL,
  utc_offset_minutes integer NOT NULL,
  -- The local date of the sleep's END: a night belongs to the morning it ends.
  local_date date NOT NULL,
  is_nap boolean NOT NULL,
  is_primary boolean NOT NULL DEFAULT false,
  score_state text NOT NULL CHECK (score_state IN ('SCORED', 'PENDING_SCORE', 'UNSCORABLE')),
  in_bed_ms bigint,
  awake_ms bigint,
  no_data_ms bigint,
  light_ms bigint,
  deep_ms bigint,
  rem_ms bigint,
  asleep_ms bigint,
  sleep_cycle_count integer,
  disturbance_count integer,
  sleep_need_ms bigint,
  performance_pct numeric,
  consistency_pct numeric,
  efficiency_pct numeric,
  respiratory_rate numeric,
  extras jsonb NOT NULL DEFAULT '{}',
  provider_updated_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT integration_sleep_record_key UNIQUE (connection_id, external_id)
);
CREATE INDEX integration_sleep_user_date_idx ON integration_sleep (user_id, local_date DESC);
-- At most one primary sleep per user and local date.
CREATE UNIQUE INDEX integration_sleep_primary_key
  ON integration_sleep (connection_id, local_date) WHERE is_primary;

CREATE TABLE integration_recovery (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  provider text NOT NULL REFERENCES integration (provider),
  -- WHOOP recoveries have no id of their own: the key is their cycle id.
  external_id text NOT NULL,
  sleep_external_id text,
  -- Recovery has no offset of its own: start, end, offset and local date are its sleep's.
  start_at timestamptz,
  end_at timestamptz,
  utc_offset_minutes integer,
  local_date date,
  score_state text NOT NULL CHECK (score_state IN ('SCORED', 'PENDING_SCORE', 'UNSCORABLE')),
  recovery_score numeric,
  resting_heart_rate numeric,
  hrv_rmssd_ms numeric,
  spo2_pct numeric,
  skin_temp_celsius numeric,
  user_calibrating boolean,
  extras jsonb NOT NULL DEFAULT '{}',
  provider_updated_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT integration_recovery_record_key UNIQUE (connection_id, external_id)
);
CREATE INDEX integration_recovery_user_date_idx ON integration_recovery (user_id, local_date DESC);

CREATE TABLE integration_workout (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  provider text NOT NULL REFERENCES integration (provider),
  external_id text NOT NULL,
  start_at timestamptz NOT NULL,
  end_at timestamptz NOT NULL,
  utc_offset_minutes integer NOT NULL,
  -- The local date of the workout's START.
  local_date date NOT NULL,
  sport_name text NOT NULL,
  score_state text NOT NULL CHECK (score_state IN ('SCORED', 'PENDING_SCORE', 'UNSCORABLE')),
  strain numeric,
  kilojoules numeric,
  average_heart_rate integer,
  max_heart_rate integer,
  percent_recorded numeric CHECK (percent_recorded BETWEEN 0 AND 100),
  distance_meters numeric,
  altitude_gain_meters numeric,
  altitude_change_meters numeric,
  extras jsonb NOT NULL DEFAULT '{}',
  provider_updated_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT integration_workout_record_key UNIQUE (connection_id, external_id)
);
CREATE INDEX integration_workout_user_date_idx ON integration_workout (user_id, local_date DESC, start_at);

CREATE TABLE integration_body_measurement (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connection_id bigint NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  provider text NOT NULL REFERENCES integration (provider),
  -- WHOOP has one current measurement per member: the key is the member id.
  external_id text NOT NULL,
  height_meters numeric,
  weight_kilograms numeric,
  max_heart_rate integer,
  measured_at timestamptz NOT NULL,
  extras jsonb NOT NULL DEFAULT '{}',
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT integration_body_measurement_record_key UNIQUE (connection_id, external_id)
);
