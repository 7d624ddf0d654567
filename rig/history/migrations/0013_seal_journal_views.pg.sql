-- PostgreSQL expands a view's r.* when the view is made: give runs_current
-- the column of 0012 (SQLite expands it each time it is read).
CREATE OR REPLACE VIEW runs_current AS
  SELECT r.* FROM runs r
  WHERE NOT EXISTS (SELECT 1 FROM runs n WHERE n.run_id = r.run_id AND n.id > r.id);
