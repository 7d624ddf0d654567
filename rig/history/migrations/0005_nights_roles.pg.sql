-- The nights (0004) under the same least privilege as every other table
-- (0003): the bench role adds and reads, the reviewer reads, PUBLIC nothing.
REVOKE ALL ON nights, night_runs FROM PUBLIC;
GRANT SELECT, INSERT ON nights, night_runs TO pumprig_bench;
GRANT SELECT ON nights, night_runs TO pumprig_reviewer;
