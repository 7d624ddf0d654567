/* Sealing and checking run directories.  See integrity.h. */
#include "rig/base/utc.h"
#include "integrity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rig/base/bench.h"
#include "rig/base/infile.h"
#include "rig/base/runid.h"
#include "rig/base/wholefile.h"
#include "notes.h"
#include "version.h"

/* Reads a small file whole (a signature); -ENOENT when absent, -EBADMSG for
 * what cannot be one (a link, no regular file, too large). */
static int read_text(const char *path, size_t max, char **ret, size_t *ret_len)
{
	int r = wholefile_read(path, max, true, ret, ret_len);

	return r == -ELOOP || r == -RIG_ENOTREG || r == -EFBIG ? -EBADMSG : r;
}

struct diff_ctx {
	struct integrity_result *res;
	integrity_change_fn fn;
	void *ctx;
};

static void count_change(void *p, enum manifest_change c, const char *path)
{
	struct diff_ctx *d = p;

	if (c == MANIFEST_ADDED)
		d->res->n_added++;
	else if (c == MANIFEST_CHANGED)
		d->res->n_changed++;
	else
		d->res->n_missing++;
	if (d->fn)
		d->fn(d->ctx, c, path);
}

int integrity_check(const char *run_dir, bool (*skip)(const char *path),
		    const unsigned char *expected_pk, integrity_change_fn fn, void *ctx,
		    struct integrity_result *ret)
{
	struct manifest listed, found;
	char path[RIG_PATH_MAX + 32], *text = NULL, *sig_text = NULL;
	size_t len = 0, sig_len = 0;
	struct diff_ctx d = { ret, fn, ctx };
	struct signature sig;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = manifest_load(run_dir, &listed, &text, &len, &ret->manifest_bad_line);
	if (r == -ENOENT)
		return 0;   /* never sealed: manifest_found stays false */
	ret->manifest_found = true;
	if (r == -EBADMSG || r == -EFBIG) {
		ret->manifest_malformed = true;
		return 0;
	}
	if (r < 0)
		return r;
	ret->n_listed = listed.n;
	snprintf(ret->sealed_utc, sizeof(ret->sealed_utc), "%s", listed.sealed_utc);
	snprintf(ret->sealed_by, sizeof(ret->sealed_by), "%s", listed.sealed_by);
	snprintf(ret->after_the_fact, sizeof(ret->after_the_fact), "%s", listed.after_the_fact);
	snprintf(ret->signed_by_key, sizeof(ret->signed_by_key), "%s", listed.signed_by_key);

	r = manifest_scan(run_dir, &found);
	if (r < 0)
		goto free_listed;
	for (size_t i = 0; i < found.n; i++)
		ret->n_not_regular += found.entries[i].not_regular;
	manifest_diff(&listed, &found, skip, count_change, &d);
	manifest_free(&found);

	snprintf(path, sizeof(path), "%s/%s", run_dir, MANIFEST_SIG_NAME);
	r = read_text(path, 4096, &sig_text, &sig_len);
	if (r == -ENOENT) {
		ret->sig_expected_missing = expected_pk != NULL || listed.signed_by_key[0];
		r = 0;
		goto free_listed;
	}
	ret->sig_found = true;
	if (r == -EBADMSG) {
		ret->sig_malformed = true;
		r = 0;
		goto free_listed;
	}
	if (r < 0)
		goto free_listed;
	if (sig_parse(sig_text, sig_len, &sig, &ret->sig_bad_line) < 0 ||
	    strcmp(sig.signed_file, MANIFEST_NAME) != 0) {
		ret->sig_malformed = true;
		goto free_sig;
	}
	snprintf(ret->sig_fingerprint, sizeof(ret->sig_fingerprint), "%s", sig.fingerprint);
	/* The signature covers the manifest's exact bytes, comments included. */
	ret->sig_valid = sig_check(&sig, text, len);
	ret->sig_other_key = (expected_pk && memcmp(expected_pk, sig.pk, SIG_PUBLIC_KEY_BYTES) != 0) ||
			     (listed.signed_by_key[0] && strcmp(listed.signed_by_key, sig.fingerprint) != 0);
free_sig:
	free(sig_text);
free_listed:
	free(text);
	manifest_free(&listed);
	return r;
}

bool integrity_ok(const struct integrity_result *res)
{
	return res->manifest_found && !res->manifest_malformed && res->n_added == 0 &&
	       res->n_changed == 0 && res->n_missing == 0 && !res->sig_expected_missing &&
	       (!res->sig_found || (res->sig_valid && !res->sig_malformed && !res->sig_other_key));
}

/* The seal files as they were before a seal that failed: written back (or
 * removed, when there were none).  The new signature goes first, so the old
 * manifest is never seen beside it. */
static void put_back(const char *run_dir, const char *text, size_t len, const char *sig,
		     size_t sig_len)
{
	char path[RIG_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", run_dir, MANIFEST_SIG_NAME);
	(void)unlink(path);
	if (text) {
		(void)wholefile_replace(run_dir, MANIFEST_NAME, text, len);
	} else {
		snprintf(path, sizeof(path), "%s/%s", run_dir, MANIFEST_NAME);
		(void)unlink(path);
	}
	if (sig)
		(void)wholefile_replace(run_dir, MANIFEST_SIG_NAME, sig, sig_len);
}

/* The journal's line for a seal just written. */
static void journal_line_of(struct journal_seal *s, const struct seal_opts *o, const char *utc,
			    const char *run, const char *run_id, const char *dir_abs,
			    const char *text, size_t len, const char *found_hex, const char *key,
			    bool unsigned_stale)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->utc, sizeof(s->utc), "%s", utc);
	snprintf(s->run, sizeof(s->run), "%s", run);
	snprintf(s->run_id, sizeof(s->run_id), "%s", run_id);
	snprintf(s->run_dir, sizeof(s->run_dir), "%s", dir_abs);
	digest_buf_sha256(text, len, s->manifest);
	snprintf(s->replaced, sizeof(s->replaced), "%s", found_hex);
	snprintf(s->key, sizeof(s->key), "%.*s", SIG_FINGERPRINT_LEN, key);
	snprintf(s->sealed_by, sizeof(s->sealed_by), "%s", o->sealed_by);
	snprintf(s->why, sizeof(s->why), "%s%s", o->why ? o->why : "",
		 unsigned_stale ? ", its signature removed (--unsign)" : "");
	if (gethostname(s->host, sizeof(s->host) - 1) != 0)
		snprintf(s->host, sizeof(s->host), "unknown");
	snprintf(s->software, sizeof(s->software), "pumprig %s", RIG_VERSION);
}

int integrity_seal(const char *run_dir, const struct seal_opts *o, struct seal_outcome *ret)
{
	struct manifest old, now;
	char path[RIG_PATH_MAX + 32], utc[32], *text = NULL, *sig_text = NULL;
	char *found = NULL, *found_sig = NULL, found_hex[DIGEST_HEX_LEN + 1] = "";
	char run[JOURNAL_RUN_MAX] = "", run_id[RUN_ID_MAX] = "", dir_abs[RIG_PATH_MAX] = "";
	size_t len = 0, sig_len = 0, found_len = 0, found_sig_len = 0, bad_line;
	struct journal *j = NULL;
	struct journal_lookup l = { 0 };
	bool had_old = false, touched = false, sig_there;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (o->journal) {
		/* Locked from here to the line written: two seals of one run
		 * cannot both replace the same one. */
		r = journal_run_key(run_dir, run);
		if (r == 0 && !realpath(run_dir, dir_abs))
			r = -errno;
		(void)run_id_read(run_dir, run_id);   /* "" for a run made before runs had one */
		if (r == 0)
			r = journal_open(o->journal, true, o->journal_make_dir, &j);
		if (r == 0)
			r = journal_lookup(j, run, run_id, NULL, NULL, &l);
		if (r < 0) {
			ret->journal_failed = true;
			goto free_old;
		}
	}
	had_old = !o->first && manifest_load(run_dir, &old, NULL, NULL, &bad_line) == 0;
	/* The seal files as found, exactly: what this seal replaces, and what
	 * is put back should it fail. */
	snprintf(path, sizeof(path), "%s/%s", run_dir, MANIFEST_NAME);
	r = read_text(path, MANIFEST_TEXT_MAX, &found, &found_len);
	if (r == 0)
		digest_buf_sha256(found, found_len, found_hex);
	else if (r != -ENOENT)
		snprintf(found_hex, sizeof(found_hex), "unreadable");   /* matches no seal */
	r = 0;
	snprintf(path, sizeof(path), "%s/%s", run_dir, MANIFEST_SIG_NAME);
	sig_there = access(path, F_OK) == 0;
	if (read_text(path, 4096, &found_sig, &found_sig_len) < 0)
		found_sig = NULL;
	/* A run.json edited by one byte is another run to the digest, and its
	 * first seal would be made as if it had never been sealed: its run id
	 * says it was. */
	ret->same_id_sealed = o->journal && l.same_id_found;
	if (ret->same_id_sealed) {
		ret->same_id = l.same_id;
		r = -ESTALE;
		goto free_old;
	}
	if (o->journal && strcmp(l.n_seals ? l.seals[l.n_seals - 1].manifest : "", found_hex) != 0) {
		ret->not_latest = true;
		r = -ESTALE;
		goto free_old;
	}
	r = manifest_scan(run_dir, &now);
	if (r < 0)
		goto free_old;
	for (size_t i = 0; i < now.n; i++)
		if (now.entries[i].not_regular) {
			r = -EINVAL;
			goto free_now;
		}
	rig_utc_now_iso(utc);
	snprintf(now.sealed_utc, sizeof(now.sealed_utc), "%s", utc);
	snprintf(now.sealed_by, sizeof(now.sealed_by), "%s (pumprig %s)", o->sealed_by, RIG_VERSION);
	if (had_old && old.first_sealed_utc[0]) {
		snprintf(now.first_sealed_utc, sizeof(now.first_sealed_utc), "%s", old.first_sealed_utc);
		snprintf(now.first_sealed_by, sizeof(now.first_sealed_by), "%s", old.first_sealed_by);
	} else if (had_old && old.sealed_utc[0]) {
		snprintf(now.first_sealed_utc, sizeof(now.first_sealed_utc), "%s", old.sealed_utc);
		snprintf(now.first_sealed_by, sizeof(now.first_sealed_by), "%s", old.sealed_by);
	}
	/* Once sealed after the fact, always: a later report does not make the
	 * record any more complete than it was. */
	if (had_old && old.after_the_fact[0])
		snprintf(now.after_the_fact, sizeof(now.after_the_fact), "%s", old.after_the_fact);
	else if (o->after_the_fact)
		snprintf(now.after_the_fact, sizeof(now.after_the_fact), "%s", o->after_the_fact);
	if (!o->key && !o->unsign && ((had_old && old.signed_by_key[0]) || sig_there)) {
		r = -EPERM;   /* it would quietly lose its signature */
		goto free_now;
	}
	if (o->key)
		sig_fingerprint(o->key->pk, now.signed_by_key);
	r = manifest_format(&now, &text, &len);
	if (r < 0)
		goto free_now;
	if (o->key) {
		r = sig_sign_format(o->key, MANIFEST_NAME, text, len, &sig_text, &sig_len);
		if (r < 0)
			goto free_text;
	}
	/* A signature of the old manifest would not match the new one: it goes
	 * first, so a crash in between leaves an unsigned seal, never a seal
	 * with a signature that does not fit. */
	touched = true;
	snprintf(path, sizeof(path), "%s/%s", run_dir, MANIFEST_SIG_NAME);
	if (unlink(path) == 0)
		ret->unsigned_stale = !o->key;
	else if (errno != ENOENT) {
		r = -errno;
		goto free_sig;
	}
	r = wholefile_replace(run_dir, MANIFEST_NAME, text, len);
	if (r == 0 && sig_text)
		r = wholefile_replace(run_dir, MANIFEST_SIG_NAME, sig_text, sig_len);
	if (r == 0 && j) {
		journal_line_of(&ret->seal, o, utc, run, run_id, dir_abs, text, len, found_hex,
				now.signed_by_key, ret->unsigned_stale);
		r = journal_append(j, &ret->seal);
		if (r < 0) {
			ret->journal_failed = true;
		} else {
			ret->n_seals = l.n_seals + 1;
			ret->first = l.n_seals ? l.seals[0] : ret->seal;
		}
	}
free_sig:
	free(sig_text);
free_text:
	free(text);
free_now:
	manifest_free(&now);
free_old:
	if (r < 0 && touched) {
		put_back(run_dir, found, found_len, found_sig, found_sig_len);
		ret->unsigned_stale = false;
	}
	journal_lookup_free(&l);
	journal_close(j);
	free(found);
	free(found_sig);
	if (had_old)
		manifest_free(&old);
	return r;
}

/* ------------------------------------------------- against the journal -- */

static int journal_check(const char *run_dir, const char *journal_path, bool run_alone,
			 struct journal_check *ret)
{
	char path[RIG_PATH_MAX + 32];
	struct journal *j;
	size_t at_dir = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!realpath(run_dir, ret->run_dir))
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", run_dir, MANIFEST_NAME);
	r = digest_file_sha256(path, ret->manifest);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r < 0)
		ret->manifest[0] = '\0';
	/* without run.json the run cannot be found by its key; what else the
	 * journal knows of its manifest and folder is still said */
	if (journal_run_key(run_dir, ret->run) < 0)
		ret->run[0] = '\0';
	(void)run_id_read(run_dir, ret->run_id);   /* "": none to look for */
	r = journal_open(journal_path, false, false, &j);
	if (r == -ENOENT) {
		ret->verdict = JOURNAL_NONE;
		return 0;
	}
	if (r < 0)
		return r;
	r = (run_alone ? journal_lookup_run : journal_lookup)(j, ret->run[0] ? ret->run : NULL,
							      ret->run_id, ret->run_dir,
							      ret->manifest[0] ? ret->manifest :
										 NULL, &ret->l);
	journal_close(j);
	if (r < 0)
		return r;
	for (size_t i = ret->l.n_seals; i > 0 && ret->manifest[0]; i--)
		if (!strcmp(ret->l.seals[i - 1].manifest, ret->manifest)) {
			ret->match = i;
			break;
		}
	if (!ret->manifest[0])
		ret->verdict = ret->l.n_seals ? JOURNAL_GONE : JOURNAL_UNSEALED;
	else if (ret->match && ret->match == ret->l.n_seals)
		ret->verdict = JOURNAL_MATCH;
	else if (ret->match)
		ret->verdict = JOURNAL_NOT_LATEST;
	else
		ret->verdict = ret->l.other_found ? JOURNAL_OTHER_RUN : JOURNAL_UNKNOWN;
	/* Each seal replaced the one before it, the first replaced none: a seal
	 * that replaced something else was made over a manifest rig did not
	 * write, or a line between them was taken out. */
	for (size_t i = 0; i < ret->l.n_seals; i++)
		if (strcmp(ret->l.seals[i].replaced, i ? ret->l.seals[i - 1].manifest : "") != 0) {
			ret->unfollowed = i + 1;
			break;
		}
	/* A run moved onto a folder where another run was sealed later than
	 * this one was there, as when two runs' folders are swapped. */
	for (size_t i = 0; i < ret->l.n_seals; i++)
		if (!strcmp(ret->l.seals[i].run_dir, ret->run_dir))
			at_dir = ret->l.seals[i].line;
	ret->dir_replaced = ret->l.n_other_at_dir > 0 && ret->l.other_at_dir.line > at_dir;
	return 0;
}

int integrity_journal_check(const char *run_dir, const char *journal_path,
			    struct journal_check *ret)
{
	return journal_check(run_dir, journal_path, false, ret);
}

int integrity_journal_check_run(const char *run_dir, const char *journal_path,
				struct journal_check *ret)
{
	return journal_check(run_dir, journal_path, true, ret);
}

void integrity_journal_check_free(struct journal_check *c)
{
	journal_lookup_free(&c->l);
}

bool integrity_journal_ok(const struct journal_check *c)
{
	return c->verdict == JOURNAL_MATCH && !c->unfollowed && !c->dir_replaced &&
	       !c->l.broken_line && !c->l.same_id_found;
}
