-- Whether a run can be verification evidence (issue 16): the kind of bench
-- it ran on, from results.json bench_kind ('simulated', 'wire-simulated' or
-- 'real'; '' in a run stored before this column, whose clock column still
-- says 'virtual' for a simulated bench), and the verdict in the report's
-- words ('pass with deviations', 'fail (run aborted)'; '' before).
ALTER TABLE runs ADD COLUMN bench_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN verdict_text TEXT NOT NULL DEFAULT '';
