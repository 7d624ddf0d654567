-- A run's start to the nanosecond (run.json's started_unix_ns; NULL for runs
-- made before it was recorded): the runs of a simulated night start within
-- one second, and their order must be the order they were made, whatever
-- their run ids' random tails or the order their versions were stored.
-- Every list, chart and comparison orders by (started_utc, started_ns, then
-- the stored row).
ALTER TABLE runs ADD COLUMN started_ns BIGINT;
ALTER TABLE points ADD COLUMN started_ns BIGINT;
DROP INDEX points_by_series;
CREATE INDEX points_by_series ON points
  (scope, subject, sequence_id, check_kind, check_window, measurement, started_utc, started_ns,
   run_pk, run_id, value);
