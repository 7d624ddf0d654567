-- Electronic signatures with meaning (rig sign; docs/integrity.md): the run
-- directory's audit trail, signatures.jsonl, kept in the history too, each
-- signature once (the first version of the run that carried it), never
-- updated or deleted.  valid: its Ed25519 signature checked, and it names
-- the run it came in, when it was ingested.

CREATE TABLE signatures (
  run_pk BIGINT NOT NULL REFERENCES runs (id),
  run_id TEXT NOT NULL,
  line INTEGER NOT NULL,              -- its line in signatures.jsonl, from 1
  utc TEXT NOT NULL,                  -- when it was signed
  meaning TEXT NOT NULL,              -- authored, reviewed, approved
  signer TEXT NOT NULL,               -- the printed name
  key_fingerprint TEXT NOT NULL,      -- sha256:<hex> of the signer's public key
  public_key TEXT NOT NULL,
  manifest_sha256 TEXT NOT NULL,      -- the SHA256SUMS it is bound to
  record_sha256 TEXT NOT NULL,        -- the raw files it is bound to
  signature TEXT NOT NULL,
  valid INTEGER NOT NULL,
  UNIQUE (run_id, line, signature)
);
CREATE INDEX signatures_by_signer ON signatures (signer, utc);
