-- The run history: one row in runs per version of a sealed run (a run judged
-- again by `rig report` is a new version with a new manifest digest; earlier
-- versions stay).  Everything is append-only: no statement pumprig runs ever
-- updates or deletes a row, so the bench role needs only INSERT and SELECT.
-- Times are UTC text in ISO 8601 ("2026-12-06T03:51:57Z"), which sorts as
-- time does in both engines.  @ID@ is the engine's auto-numbered key
-- (rig/history/*.c substitutes it); everything else is the same SQL text
-- for SQLite and PostgreSQL.

CREATE TABLE runs (
  id @ID@,
  run_id TEXT NOT NULL,               -- run.json run_id, else derived (docs/history.md)
  manifest_sha256 TEXT NOT NULL,      -- SHA-256 of the run's SHA256SUMS as ingested
  ingested_utc TEXT NOT NULL,
  run_dir TEXT NOT NULL,              -- where it was ingested from (absolute)
  results_schema TEXT NOT NULL,
  software TEXT NOT NULL,
  host TEXT NOT NULL,
  operator TEXT NOT NULL,
  started_utc TEXT NOT NULL,
  ended_utc TEXT NOT NULL,            -- '' when the record has no end (interrupted)
  clock TEXT NOT NULL,                -- 'real' or 'virtual' (simulated bench)
  device_model TEXT NOT NULL,
  device_serial TEXT NOT NULL,
  device_firmware TEXT NOT NULL,
  sequence_id TEXT NOT NULL,
  sequence_version TEXT NOT NULL,
  sequence_sha256 TEXT NOT NULL,
  bench_id TEXT NOT NULL,
  status TEXT NOT NULL,               -- completed, aborted, interrupted
  end_reason TEXT NOT NULL,
  verdict TEXT NOT NULL,              -- the overall verdict: pass, fail, inconclusive
  end_s DOUBLE PRECISION,             -- run time at the end of the record
  samples BIGINT,
  sealed_utc TEXT NOT NULL,
  sealed_by TEXT NOT NULL,
  first_sealed_utc TEXT NOT NULL,
  sealed_after_the_fact TEXT NOT NULL,
  signed_by TEXT NOT NULL,            -- key fingerprint of a valid signature, else ''
  UNIQUE (run_id, manifest_sha256)
);
CREATE INDEX runs_by_run_id ON runs (run_id, id);
CREATE INDEX runs_by_started ON runs (started_utc);
CREATE INDEX runs_by_device ON runs (device_serial, sequence_id, started_utc);
CREATE INDEX runs_by_bench ON runs (bench_id, started_utc);
CREATE INDEX runs_by_sequence ON runs (sequence_id, started_utc);

-- The copies in inputs/ and their digests (run.json inputs_sha256).
CREATE TABLE run_inputs (
  run_pk BIGINT NOT NULL REFERENCES runs (id),
  name TEXT NOT NULL,                 -- sequence.cfg, bench.cfg, device.cfg
  sha256 TEXT NOT NULL,
  source_path TEXT NOT NULL,          -- the path rig was given (run.json inputs)
  PRIMARY KEY (run_pk, name)
);

-- The bench's instruments as inputs/bench.cfg declared them.
CREATE TABLE instruments (
  run_pk BIGINT NOT NULL REFERENCES runs (id),
  role TEXT NOT NULL,
  backend TEXT NOT NULL,
  model TEXT NOT NULL,
  serial TEXT NOT NULL,
  cal_date TEXT NOT NULL,             -- '' when the bench file gives none
  cal_due TEXT NOT NULL,
  cal_uncertainty TEXT NOT NULL,      -- as written, with its unit
  PRIMARY KEY (run_pk, role)
);

-- results.json checks[], in order.
CREATE TABLE checks (
  run_pk BIGINT NOT NULL REFERENCES runs (id),
  check_idx INTEGER NOT NULL,
  kind TEXT NOT NULL,                 -- dose_accuracy, flow_accuracy, occlusion, battery, step_timeout
  check_window TEXT NOT NULL,         -- '' for step_timeout
  requirement TEXT NOT NULL,
  sequence_line INTEGER,
  verdict TEXT NOT NULL,
  measured DOUBLE PRECISION,          -- NULL: could not be computed
  u DOUBLE PRECISION,                 -- expanded uncertainty, k = 2
  unit TEXT NOT NULL,
  limit_low DOUBLE PRECISION,         -- NULL: open side
  limit_high DOUBLE PRECISION,
  primary_measurement TEXT NOT NULL,  -- the measurement that is the check's value ('' if none)
  criterion TEXT NOT NULL,
  explanation TEXT NOT NULL,
  PRIMARY KEY (run_pk, check_idx)
);

-- results.json checks[].measurements[].
CREATE TABLE measurements (
  run_pk BIGINT NOT NULL REFERENCES runs (id),
  check_idx INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  value DOUBLE PRECISION,
  u DOUBLE PRECISION,
  unit TEXT NOT NULL,
  limit_low DOUBLE PRECISION,
  limit_high DOUBLE PRECISION,
  verdict TEXT NOT NULL,              -- '' for a quantity without its own acceptance
  PRIMARY KEY (run_pk, check_idx, idx)
);

-- The bench's own health figures, as the checks computed them: balance
-- noise and flow sensor minus balance per dose-accuracy window, the measured
-- evaporation, the pressure baseline where results.json has one.
CREATE TABLE health (
  run_pk BIGINT NOT NULL REFERENCES runs (id),
  figure TEXT NOT NULL,
  check_window TEXT NOT NULL,         -- '' for a figure of the whole run
  value DOUBLE PRECISION,
  u DOUBLE PRECISION,
  unit TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (run_pk, figure, check_window)
);

-- Control-chart baselines chosen with `rig history baseline set`; the newest
-- for a subject and sequence wins, earlier ones stay as the record.
CREATE TABLE baselines (
  id @ID@,
  scope TEXT NOT NULL CHECK (scope IN ('device', 'bench')),
  subject TEXT NOT NULL,              -- device serial or bench id
  sequence_id TEXT NOT NULL,
  set_utc TEXT NOT NULL,
  set_by TEXT NOT NULL
);
CREATE INDEX baselines_by_subject ON baselines (scope, subject, sequence_id, id);
CREATE TABLE baseline_runs (
  baseline_pk BIGINT NOT NULL REFERENCES baselines (id),
  run_id TEXT NOT NULL,
  PRIMARY KEY (baseline_pk, run_id)
);

-- The watched series and their points, written at ingest beside the rows
-- above (a copy, derived from them): each value with its own acceptance
-- limit per device and sequence, and each bench-health figure per bench and
-- sequence.  `rig history watch` reads a series' baseline and its newest
-- points through points_by_series instead of sorting every measurement.
CREATE TABLE series (
  scope TEXT NOT NULL CHECK (scope IN ('device', 'bench')),
  subject TEXT NOT NULL,              -- device serial or bench id
  sequence_id TEXT NOT NULL,
  check_kind TEXT NOT NULL,           -- the check's kind, or 'bench_health'
  check_window TEXT NOT NULL,
  measurement TEXT NOT NULL,          -- the measurement's or the figure's name
  unit TEXT NOT NULL,
  PRIMARY KEY (scope, subject, sequence_id, check_kind, check_window, measurement)
);
CREATE TABLE points (
  run_pk BIGINT NOT NULL REFERENCES runs (id),
  scope TEXT NOT NULL,
  subject TEXT NOT NULL,
  sequence_id TEXT NOT NULL,
  check_kind TEXT NOT NULL,
  check_window TEXT NOT NULL,
  measurement TEXT NOT NULL,
  run_id TEXT NOT NULL,
  started_utc TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_primary INTEGER NOT NULL,        -- 1: the check's own value (what trend shows by default)
  PRIMARY KEY (run_pk, scope, check_kind, check_window, measurement)
);
-- run_pk and value at the end make it covering: watch and trend read the
-- index alone, not a table page per point.
CREATE INDEX points_by_series ON points
  (scope, subject, sequence_id, check_kind, check_window, measurement, started_utc, run_id,
   run_pk, value);
