-- Manual logs: what people enter by hand. Times are instants; the date is the user's local date.
CREATE TABLE sleep_entry (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  local_date date NOT NULL,
  bed_at timestamptz NOT NULL,
  wake_at timestamptz NOT NULL,
  quality smallint CHECK (quality BETWEEN 1 AND 5),
  note text CHECK (length(note) <= 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sleep_entry_wake_after_bed CHECK (wake_at > bed_at)
);
CREATE INDEX sleep_entry_user_date_idx ON sleep_entry (user_id, local_date DESC);

CREATE TABLE workout_session (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  local_date date NOT NULL,
  start_at timestamptz NOT NULL,
  activity text NOT NULL CHECK (length(activity) BETWEEN 1 AND 100),
  duration_minutes integer NOT NULL CHECK (duration_minutes > 0 AND duration_minutes <= 1440),
  intensity smallint CHECK (intensity BETWEEN 1 AND 5),
  note text CHECK (length(note) <= 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workout_session_user_date_idx ON workout_session (user_id, local_date DESC, start_at);
