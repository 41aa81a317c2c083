-- Requests made while someone waits (Sync now, linking, disconnecting) may use at most a share of each
-- WHOOP rate window, so that people pressing buttons cannot starve everyone's scheduled syncs.
ALTER TABLE integration_rate_budget
  ADD COLUMN minute_interactive_used integer NOT NULL DEFAULT 0,
  ADD COLUMN day_interactive_used integer NOT NULL DEFAULT 0;
