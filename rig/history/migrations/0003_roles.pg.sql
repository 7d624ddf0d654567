-- Least privilege (PostgreSQL only; SQLite has no roles).  pumprig_bench may
-- add runs and baselines and read everything, never change or remove what
-- is there; pumprig_reviewer reads only.  Both are group roles without
-- login: a lab grants them to its login roles
-- (CREATE ROLE bench7 LOGIN IN ROLE pumprig_bench).  Roles belong to the
-- whole cluster, so another database may have made them already, perhaps at
-- this very moment: creating one that exists is not an error.
DO $$
BEGIN
  BEGIN
    CREATE ROLE pumprig_bench NOLOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  BEGIN
    CREATE ROLE pumprig_reviewer NOLOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
END
$$;

REVOKE ALL ON runs, run_inputs, instruments, checks, measurements, health, baselines,
  baseline_runs, series, points, schema_migrations, runs_current, run_versions, check_values, bench_health
  FROM PUBLIC;
GRANT SELECT, INSERT ON runs, run_inputs, instruments, checks, measurements, health,
  baselines, baseline_runs, series, points TO pumprig_bench;
GRANT SELECT ON schema_migrations, runs_current, run_versions, check_values, bench_health
  TO pumprig_bench;
GRANT SELECT ON runs, run_inputs, instruments, checks, measurements, health, baselines,
  baseline_runs, series, points, schema_migrations, runs_current, run_versions, check_values, bench_health
  TO pumprig_reviewer;
