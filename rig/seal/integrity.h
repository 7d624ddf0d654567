/* Sealing and checking a run directory: the manifest (manifest.h) and its
 * optional Ed25519 signature (signature.h).  The rules, and what `rig run`,
 * `rig report`, `rig note` and `rig verify` do with them: docs/integrity.md. */
#ifndef RIG_INTEGRITY_H
#define RIG_INTEGRITY_H

#include <stdbool.h>
#include <stddef.h>
#include "manifest.h"
#include "signature.h"
#include "journal.h"

struct integrity_result {
	bool manifest_found;
	bool manifest_malformed;          /* unreadable as a manifest: nothing else was checked */
	size_t manifest_bad_line;
	size_t n_listed;                  /* files the manifest lists */
	size_t n_added, n_changed, n_missing;
	size_t n_not_regular;             /* found entries that are no regular file */
	bool sig_found;
	bool sig_malformed;
	size_t sig_bad_line;
	bool sig_valid;                   /* a well-formed signature that verifies */
	bool sig_other_key;               /* valid, but not by the expected key */
	bool sig_expected_missing;        /* no signature, and a public key was given or the
	                                     manifest says it was signed */
	char signed_by_key[80];           /* the manifest's word that it was signed, and by whom */
	char sig_fingerprint[SIG_FINGERPRINT_LEN + 1];
	char sealed_utc[32], sealed_by[64];
	char after_the_fact[256];         /* the manifest's sealed-after-the-fact reason */
};

/* Calls fn for every ADDED, CHANGED or MISSING file. */
typedef void (*integrity_change_fn)(void *ctx, enum manifest_change c, const char *path);

/* Checks run_dir against its manifest and signature.  Paths for which skip()
 * is true are not compared (skip may be NULL: every file).  expected_pk,
 * when not NULL, is the key the run must be signed with.  Returns 0 with the
 * findings in ret (see integrity_ok), or a negative errno when the directory
 * could not be read. */
int integrity_check(const char *run_dir, bool (*skip)(const char *path),
		    const unsigned char *expected_pk, integrity_change_fn fn, void *ctx,
		    struct integrity_result *ret);

/* Everything matched: a manifest, no difference, and a signature that is
 * valid (and by the expected key) when one is there or was demanded. */
bool integrity_ok(const struct integrity_result *res);

struct seal_opts {
	const char *sealed_by;                  /* "rig run", "rig report", "rig note" */
	const struct sig_secret_key *key;       /* NULL: unsigned */
	const char *after_the_fact;             /* why this run is sealed only now; NULL: it is not */
	bool first;                             /* rig run sealing its own record: an earlier
	                                           manifest (a report taken while it ran) is
	                                           replaced, its header not carried over */
	bool unsign;                            /* a signed run sealed again without a key:
	                                           asked for (--unsign), else refused */
	const char *journal;                    /* the station's seal journal (journal_station);
	                                           NULL: none */
	bool journal_make_dir;                  /* its folder may be created */
	const char *why;                        /* the journal's word for this seal: "end of run",
	                                           "re-judged", "note added", ... */
};

/* What integrity_seal did, besides its status. */
struct seal_outcome {
	bool unsigned_stale;        /* a signed run sealed again unsigned (--unsign) */
	bool journal_failed;        /* the error is the journal's (or identifying the run for
	                               it): no seal was made, the previous one stands */
	bool not_latest;            /* -ESTALE: the run's SHA256SUMS is not the seal the journal
	                               last recorded of this run; nothing was written */
	bool same_id_sealed;        /* -ESTALE: a run with this run's run_id and another run.json
	                               was sealed before (same_id); nothing was written */
	struct journal_seal same_id;
	struct journal_seal seal;   /* the journal line written */
	size_t n_seals;             /* the run's seals in the journal, this one included */
	struct journal_seal first;  /* the run's first seal (this one when n_seals is 1) */
};

/* Writes run_dir/SHA256SUMS over every file now in the directory, and the
 * signature when a key is given; the first sealing and any after-the-fact
 * reason of an existing manifest are carried over.  A signed run (a
 * signature there, or a manifest that says it was signed) is not sealed
 * again without a key, -EPERM, unless o->unsign: then the old signature is
 * removed and ret->unsigned_stale set.  -EINVAL when the directory holds
 * something that is not a regular file or directory.
 *
 * With o->journal, the journal is locked for the whole sealing: the
 * SHA256SUMS found must be the run's latest seal in it (none when it has
 * none), and no other run.json with the run's run_id may have been sealed,
 * else -ESTALE and nothing is written; the new seal is appended to
 * it.  Whatever fails once the seal files are touched (the journal line
 * included), the previous SHA256SUMS and signature are put back: a seal is
 * never left unjournalled, and never half made. */
int integrity_seal(const char *run_dir, const struct seal_opts *o, struct seal_outcome *ret);

/* ------------------------------------------------- against the journal -- */

enum journal_verdict {
	JOURNAL_MATCH,          /* SHA256SUMS is the run's latest seal in the journal */
	JOURNAL_UNSEALED,       /* no SHA256SUMS, and no seal of the run in the journal */
	JOURNAL_NONE,           /* there is no journal at the path */
	JOURNAL_GONE,           /* no SHA256SUMS, but the journal holds seals of the run */
	JOURNAL_UNKNOWN,        /* SHA256SUMS is in no line of the journal */
	JOURNAL_OTHER_RUN,      /* SHA256SUMS is journalled as another run's seal */
	JOURNAL_NOT_LATEST,     /* an earlier seal of the run: a later one is journalled */
};

struct journal_check {
	enum journal_verdict verdict;
	char run[JOURNAL_RUN_MAX];             /* "" when the run has no run.json */
	char run_id[RUN_ID_MAX];               /* run.json's run_id; "" none */
	char run_dir[RIG_PATH_MAX];            /* absolute */
	char manifest[DIGEST_HEX_LEN + 1];     /* SHA-256 of SHA256SUMS; "" when there is none */
	size_t match;                          /* its place among the run's seals (1-based); 0 */
	size_t unfollowed;                     /* the first seal of the run that replaced something
	                                          else than the seal before it (1-based); 0 none */
	bool dir_replaced;                     /* the folder's latest seal is another run's */
	struct journal_lookup l;               /* the run's seals, and what else was found */
};

/* Checks run_dir's SHA256SUMS against the journal at path (read under a
 * shared lock).  Returns 0 with the findings, or a negative errno when the
 * run directory or the journal cannot be read (-ENOENT for the run
 * directory; a missing journal is JOURNAL_NONE). */
int integrity_journal_check(const char *run_dir, const char *journal_path,
			    struct journal_check *ret);
/* The same for the history's ingest: the run's own seals and what names it
 * (journal_lookup_run), without the chain between every line.  A journal
 * of years read for each of thousands of runs cost 3 ms a run. */
int integrity_journal_check_run(const char *run_dir, const char *journal_path,
				struct journal_check *ret);
void integrity_journal_check_free(struct journal_check *c);

/* The journal vouches for the seal: JOURNAL_MATCH, every seal of the run
 * following the one before it, no broken line, the folder not another's,
 * no seal of another run.json with the run's run_id. */
bool integrity_journal_ok(const struct journal_check *c);

#endif
