-- Nights: what `rig nightly` ran on a bench, as its nightly.json says (the
-- night's own record stays the night directory; this is a derived copy, as
-- runs are).  The dashboard's "last night per bench" reads it.  A night is
-- one row however often it is stored (bench, plan, start); its runs are
-- named by run id, so a run still pending in a bench's spool is named here
-- before the store has it.  Append-only like the rest.

CREATE TABLE nights (
  id @ID@,
  night_id TEXT NOT NULL,             -- <UTC start, compact>-<plan id>: the night directory's name
  plan_id TEXT NOT NULL,
  plan_sha256 TEXT NOT NULL,
  bench_id TEXT NOT NULL,
  started_utc TEXT NOT NULL,
  ended_utc TEXT NOT NULL,
  status TEXT NOT NULL,               -- completed, cut short
  reason TEXT NOT NULL,               -- why it was cut short ('' when completed)
  verdict TEXT NOT NULL,              -- pass, fail or inconclusive, incomplete
  exit_status INTEGER NOT NULL,
  virtual_time INTEGER NOT NULL,      -- 1: a simulated bench in virtual time
  night_dir TEXT NOT NULL,            -- where it was stored from (absolute)
  nightly_sha256 TEXT NOT NULL,       -- SHA-256 of nightly.json as stored
  ingested_utc TEXT NOT NULL,
  UNIQUE (bench_id, plan_id, started_utc)
);
CREATE INDEX nights_by_bench ON nights (bench_id, started_utc);

-- nightly.json runs[], in the order they ran.
CREATE TABLE night_runs (
  night_pk BIGINT NOT NULL REFERENCES nights (id),
  idx INTEGER NOT NULL,
  job INTEGER NOT NULL,               -- the plan's job, from 1
  repeat_index INTEGER NOT NULL,      -- which of its repeats, from 1
  sequence_id TEXT NOT NULL,
  device_serial TEXT NOT NULL,
  run_id TEXT NOT NULL,               -- '' when the run left no run.json
  run_dir TEXT NOT NULL,              -- its folder's name in the runs folder
  verdict TEXT NOT NULL,              -- as the night saw it; the store's runs row is the record
  status TEXT NOT NULL,
  end_cause TEXT NOT NULL,            -- bench, device, operator or ''
  duration_s DOUBLE PRECISION,        -- wall time
  retry INTEGER NOT NULL,             -- 1: a run again after the bench let a run down
  retry_of TEXT NOT NULL,             -- the run id it ran again ('' when not a retry)
  exit_status INTEGER NOT NULL,
  PRIMARY KEY (night_pk, idx)
);
CREATE INDEX night_runs_by_run_id ON night_runs (run_id);

-- The nights under the same least privilege as every other table (0003):
-- the bench role adds and reads, the reviewer reads, PUBLIC nothing.
-- PostgreSQL only (SQLite has no roles): one migration, one number.
-- @only pg
REVOKE ALL ON nights, night_runs FROM PUBLIC;
GRANT SELECT, INSERT ON nights, night_runs TO pumprig_bench;
GRANT SELECT ON nights, night_runs TO pumprig_reviewer;
-- @only end
