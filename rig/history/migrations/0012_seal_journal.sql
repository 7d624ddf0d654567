-- What the station's seal journal said of the run's seal when it was stored
-- (docs/history.md, "Ingest"): 'seal K of N of the run, line L of PATH', or
-- 'not found: ...' for a run the journal holds no seal of (sealed at another
-- station, or before the station kept a journal); '' for a run stored before
-- ingest checked the journal.  A run the journal holds other seals of is
-- refused, never stored.
ALTER TABLE runs ADD COLUMN seal_journal TEXT NOT NULL DEFAULT '';
