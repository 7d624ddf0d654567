/* Sealing and checking a run directory: the manifest (manifest.h) and its
 * optional Ed25519 signature (signature.h).  The rules, and what `rig run`,
 * `rig report`, `rig note` and `rig verify` do with them: docs/integrity.md. */
#ifndef RIG_INTEGRITY_H
#define RIG_INTEGRITY_H

#include <stdbool.h>
#include <stddef.h>
#include "manifest.h"
#include "signature.h"

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
};

/* Writes run_dir/SHA256SUMS over every file now in the directory, and the
 * signature when a key is given; the first sealing and any after-the-fact
 * reason of an existing manifest are carried over.  A signed run (a
 * signature there, or a manifest that says it was signed) is not sealed
 * again without a key, -EPERM, unless o->unsign: then the old signature is
 * removed and *ret_unsigned_stale set.  -EINVAL when the directory holds
 * something that is not a regular file or directory. */
int integrity_seal(const char *run_dir, const struct seal_opts *o, bool *ret_unsigned_stale);

#endif
