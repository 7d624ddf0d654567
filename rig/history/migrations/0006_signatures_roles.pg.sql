-- The signatures table under the roles of 0003 (PostgreSQL only): the bench
-- adds, nobody changes or removes; the reviewer reads.
REVOKE ALL ON signatures FROM PUBLIC;
GRANT SELECT, INSERT ON signatures TO pumprig_bench;
GRANT SELECT ON signatures TO pumprig_reviewer;
