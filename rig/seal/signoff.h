/* Electronic signatures with meaning on a run (21 CFR 11.50, 11.70): who
 * signed (the printed name), when (UTC), what the signature means
 * (authored, reviewed, approved), made with the signer's own Ed25519 key and
 * bound to the record: the run's id, the SHA-256 of the manifest that was
 * in place when it was signed, and the SHA-256 of the record's raw files as
 * that manifest lists them.  A signature moved to another run names another
 * run and another record; one made before the record changed names a
 * record that is no longer there.
 *
 * The audit trail is signatures.jsonl in the run directory, one signature a
 * line, appended and never rewritten; the run is sealed again after each,
 * so the trail is itself under the manifest.  Formats: docs/integrity.md. */
#ifndef RIG_SEAL_SIGNOFF_H
#define RIG_SEAL_SIGNOFF_H

#include <stdbool.h>
#include <stddef.h>

#include "rig/base/bench.h"
#include "rig/base/runid.h"
#include "digest.h"
#include "manifest.h"
#include "signature.h"

#define SIGNOFF_NAME "signatures.jsonl"
#define SIGNOFF_MAX 64                 /* signatures a run may hold */
#define SIGNOFF_RUN_ID_MAX RUN_ID_MAX
#define SIGNOFF_LINE_MAX 4096

enum signoff_meaning {
	SIGNOFF_AUTHORED,
	SIGNOFF_REVIEWED,
	SIGNOFF_APPROVED,
	SIGNOFF__COUNT,
};

struct signoff {
	size_t n;                                   /* its line, from 1 */
	char utc[32];                               /* "2026-12-06T08:00:00Z" */
	char run_id[SIGNOFF_RUN_ID_MAX];            /* run.json's run_id */
	enum signoff_meaning meaning;
	char signer[RIG_TEXT_MAX];                  /* the printed name */
	char manifest_sha256[DIGEST_HEX_LEN + 1];   /* SHA256SUMS when it was signed */
	char record_sha256[DIGEST_HEX_LEN + 1];     /* the raw files it listed */
	unsigned char pk[SIG_PUBLIC_KEY_BYTES];
	char fingerprint[SIG_FINGERPRINT_LEN + 1];
	unsigned char sig[SIG_BYTES];
};

/* "authored", "reviewed", "approved"; -EINVAL for anything else. */
int signoff_meaning_parse(const char *text, enum signoff_meaning *ret);
const char *signoff_meaning_name(enum signoff_meaning m);

/* The record a signature is bound to: SHA-256 over the "<hex>  <path>\n"
 * lines of m's entries that are raw (manifest_path_derived() false) and not
 * the audit trail itself.  Reports regenerated after a signature (to show
 * it) do not change it; an edited sample does. */
void signoff_record_digest(const struct manifest *m, char ret[DIGEST_HEX_LEN + 1]);
/* The manifest in place in run_dir: its digest and its record's;
 * -ENOENT when the run is not sealed, another -errno when it does not read. */
int signoff_record_of(const char *run_dir, char ret_manifest[DIGEST_HEX_LEN + 1],
		      char ret_record[DIGEST_HEX_LEN + 1]);

/* Signs s (its fields but pk, fingerprint and sig filled in) with key. */
int signoff_sign(const struct sig_secret_key *key, struct signoff *s);

/* Whether a signature holds for the record in place: its key made it over
 * what its line says, it names this run (run_id, "" when the run has none)
 * and the record it signed is the one there now (record_hex, from
 * signoff_record_of; "" when there is none).  The one rule for rig verify,
 * the report and the history; rig verify also checks the manifest it
 * signed against the station's journal. */
enum signoff_status {
	SIGNOFF_VALID,
	SIGNOFF_ALTERED,            /* the signature does not match its line */
	SIGNOFF_OTHER_RUN,          /* made for another run */
	SIGNOFF_RECORD_CHANGED,     /* the raw files changed after it was made */
};
enum signoff_status signoff_status(const struct signoff *s, const char *run_id,
				   const char *record_hex);
/* "valid", "NOT VALID: altered", "NOT VALID: another run's",
 * "NOT VALID: record changed". */
const char *signoff_status_words(enum signoff_status st);

/* One line's JSON (malloc'd, no newline) and back (untrusted text):
 * -EBADMSG when it is not a signature line. */
int signoff_format_line(const struct signoff *s, char **ret);
int signoff_parse_line(const char *text, size_t len, struct signoff *ret);

/* Reads run_dir/signatures.jsonl: *ret (malloc'd) and *ret_n; none is 0
 * signatures.  -EBADMSG with the 1-based line in *ret_bad_line for a line
 * that is not a signature, a line number out of order, or more than
 * SIGNOFF_MAX. */
int signoff_load(const char *run_dir, struct signoff **ret, size_t *ret_n, size_t *ret_bad_line);
/* Appends s as one line in one write, forced to disk. */
int signoff_append(const char *run_dir, const struct signoff *s);

/* The same person: the same key, or the same name by name_skeleton() (case,
 * runs of white space, fullwidth forms, invisible characters and Cyrillic
 * or Greek look-alikes of Latin letters aside). */
bool signoff_same_person(const struct signoff *a, const struct signoff *b);

#endif
