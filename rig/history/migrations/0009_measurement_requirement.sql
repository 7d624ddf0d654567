-- The requirement a measurement judges when it is not its check's (issue
-- 15: Ep(max) and Ep(min) against their own requirements, a bolus check's
-- lockout against the lockout's): NULL or '' is the check's requirement.
ALTER TABLE measurements ADD COLUMN requirement TEXT;
