/* The manifest of a run directory: the SHA-256 of every file in it (but the
 * manifest and its signature), in the format of GNU sha256sum, so that
 * `sha256sum -c SHA256SUMS` run inside the directory is a check independent
 * of pumprig.  Comment lines ("# key: value") say who sealed the run and
 * when; sha256sum ignores them.  docs/integrity.md describes the rules. */
#ifndef RIG_MANIFEST_H
#define RIG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include "digest.h"

#define MANIFEST_NAME "SHA256SUMS"
#define MANIFEST_SIG_NAME "SHA256SUMS.sig"
#define MANIFEST_TEXT_MAX (4u << 20)   /* a manifest larger than this is not ours */
#define MANIFEST_DEPTH_MAX 8           /* subdirectories deeper than this are refused */

struct manifest_entry {
	char *path;                        /* relative to the run directory, '/' separated */
	char hex[DIGEST_HEX_LEN + 1];      /* lowercase; "" for something not a regular file */
	bool not_regular;                  /* a symlink, fifo, device... found by a scan */
};

struct manifest {
	struct manifest_entry *entries;    /* sorted by path (byte order) */
	size_t n, cap;
	/* from the comment header; empty when absent */
	char sealed_utc[32];               /* "# sealed: 2026-11-25T10:00:00Z by rig run" */
	char sealed_by[64];
	char first_sealed_utc[32];         /* "# first-sealed: ... by ..." (kept on reseal) */
	char first_sealed_by[64];
	char after_the_fact[256];          /* "# sealed-after-the-fact: REASON" */
	char signed_by_key[80];            /* "# signed-by-key: sha256:HEX": this seal was
	                                      signed, so a missing signature is a finding */
};

void manifest_free(struct manifest *m);

/* Digests every file under run_dir (recursively; not MANIFEST_NAME,
 * MANIFEST_SIG_NAME or their temporary files at the top).  Files that are not
 * regular are listed with not_regular set.  Returns 0 or a negative errno. */
int manifest_scan(const char *run_dir, struct manifest *ret);

/* Parses manifest text (not NUL-terminated).  Rejects a malformed line, an
 * absolute path or one with "." or ".." components, an escaped name
 * (sha256sum's leading backslash) and a duplicate: -EBADMSG with the 1-based
 * line in *ret_line. */
int manifest_parse(const char *text, size_t len, struct manifest *ret, size_t *ret_line);

/* Reads run_dir/SHA256SUMS into ret (and its raw bytes, malloc'd, into
 * *ret_text when ret_text is not NULL).  -ENOENT when there is none. */
int manifest_load(const char *run_dir, struct manifest *ret, char **ret_text, size_t *ret_len,
		  size_t *ret_line);

/* The file's text: header comments, then "<hex>  <path>\n" per entry. */
int manifest_format(const struct manifest *m, char **ret_text, size_t *ret_len);

/* True for a path that may stand in a manifest (see manifest_parse). */
bool manifest_path_valid(const char *path);

/* True for a path (relative to the run directory) that the report writers
 * (reports/report_write_all) write again each time from the raw files:
 * `rig report` may replace such a file in a sealed run, and a signature's
 * record leaves it out; every other file is raw and must still match the
 * manifest (docs/integrity.md).  The one list: a writer that adds outputs
 * adds them here. */
bool manifest_path_derived(const char *path);

/* The derived files at the top of a run directory as they are, kept aside
 * (hard links in a folder beside it) while a command writes them again
 * (rig note, rig sign), so that when the new seal cannot be made they are
 * put back as the seal still in place lists them, a file that was not
 * there removed again, without writing any data (the seal may have failed
 * for a full disk).  manifest_derived_free removes what is kept. */
#define MANIFEST_DERIVED_TOP 6
struct manifest_derived {
	char dir[4096 + 64];                /* "" when nothing is kept */
	bool had[MANIFEST_DERIVED_TOP];
};
int manifest_derived_keep(const char *run_dir, struct manifest_derived *ret);
/* 0, or the first negative errno (it tries every file all the same). */
int manifest_derived_put_back(const char *run_dir, const struct manifest_derived *k);
void manifest_derived_free(struct manifest_derived *k);

enum manifest_change { MANIFEST_ADDED, MANIFEST_CHANGED, MANIFEST_MISSING };
const char *manifest_change_name(enum manifest_change c);   /* "ADDED" ... */

/* Calls fn for every difference between what the manifest lists and what a
 * scan found, in path order, skipping the paths for which skip() is true
 * (skip may be NULL).  Returns the number of differences. */
size_t manifest_diff(const struct manifest *listed, const struct manifest *found,
		     bool (*skip)(const char *path),
		     void (*fn)(void *ctx, enum manifest_change c, const char *path), void *ctx);

#endif
