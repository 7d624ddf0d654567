-- Views a lab's own tools can read directly (docs/history.md).

-- The newest version of every run.
CREATE VIEW runs_current AS
  SELECT r.* FROM runs r
  WHERE NOT EXISTS (SELECT 1 FROM runs n WHERE n.run_id = r.run_id AND n.id > r.id);

-- Every version of every run, numbered from 1 in the order they were ingested.
CREATE VIEW run_versions AS
  SELECT run_id, id AS run_pk, ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY id) AS version,
         manifest_sha256, sealed_utc, sealed_by, ingested_utc, verdict
  FROM runs;

-- Every measured value of the newest version of every run, with its series.
CREATE VIEW check_values AS
  SELECT r.run_id, r.started_utc, r.device_model, r.device_serial, r.sequence_id, r.bench_id,
         c.kind AS check_kind, c.check_window, c.requirement, c.verdict AS check_verdict,
         m.name AS measurement, m.value, m.u, m.unit, m.limit_low, m.limit_high, m.verdict
  FROM runs_current r
  JOIN checks c ON c.run_pk = r.id
  JOIN measurements m ON m.run_pk = c.run_pk AND m.check_idx = c.check_idx;

-- The bench-health figures of the newest version of every run.
CREATE VIEW bench_health AS
  SELECT r.run_id, r.started_utc, r.bench_id, r.sequence_id, r.device_serial,
         h.figure, h.check_window, h.value, h.u, h.unit, h.source
  FROM runs_current r
  JOIN health h ON h.run_pk = r.id;
