/* Store and forward: the spool of runs (and nights) waiting for the store.
 *
 * A run directory is never touched (a file added to a sealed run would be
 * ADDED to `rig verify`), so the mark lives in a spool folder beside the
 * runs: one file per run, named after the SHA-256 of the run directory's
 * absolute path and holding that path.  One file per run, written to a
 * temporary name, fsync'ed and renamed, so several processes (a run and a
 * `rig history sync` at once) never share a file, and a crash leaves
 * either the whole mark or none; marking twice is harmless.  The mark is
 * removed only after the store has committed the run (or already had it),
 * and ingest is idempotent, so a crash between the two costs one more
 * ingest that finds the run already present: nothing is lost or counted
 * twice, also with several benches writing into one PostgreSQL. */
#include "internal.h"
#include "rig/base/wholefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rig/seal/digest.h"

#define MARK_SUFFIX ".pending"
#define MARK_TEXT_MAX (2 * PATH_MAX + 1024)
#define REFUSED_DIR "refused"

static int mark_name(const char *run_dir, char abs[PATH_MAX], char name[64])
{
	char hex[DIGEST_HEX_LEN + 1];

	if (!realpath(run_dir, abs)) {
		/* a run directory gone since it was marked: its mark by its text */
		if (errno != ENOENT || strlen(run_dir) >= PATH_MAX)
			return -errno;
		snprintf(abs, PATH_MAX, "%s", run_dir);
	}
	digest_buf_sha256(abs, strlen(abs), hex);
	snprintf(name, 64, "%.32s" MARK_SUFFIX, hex);
	return 0;
}

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX], *p;

	if (strlen(dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Writes dir/name holding text, atomically and durably. */
static int write_atomic(const char *dir, const char *name, const char *text)
{
	int r = mkdir_p(dir);

	return r < 0 ? r : wholefile_replace(dir, name, text, strlen(text));
}

int history_pending_add(const char *spool_dir, const char *run_dir)
{
	char abs[PATH_MAX], name[64], text[PATH_MAX + 2];
	int r = mark_name(run_dir, abs, name);

	if (r < 0)
		return r;
	snprintf(text, sizeof(text), "%s\n", abs);
	return write_atomic(spool_dir, name, text);
}

static int remove_in(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int history_pending_remove(const char *spool_dir, const char *run_dir)
{
	char abs[PATH_MAX], name[64];
	int r = mark_name(run_dir, abs, name);

	return r < 0 ? r : remove_in(spool_dir, name);
}

/* Moves the mark to spool/refused/, with the reason. */
static int pending_refuse(const char *spool_dir, const char *run_dir, const char *reason)
{
	char abs[PATH_MAX], name[64], dir[PATH_MAX], *text = malloc(MARK_TEXT_MAX);
	int r = mark_name(run_dir, abs, name);

	if (!text)
		return -ENOMEM;
	if (r < 0 || (size_t)snprintf(dir, sizeof(dir), "%s/" REFUSED_DIR, spool_dir) >= sizeof(dir)) {
		free(text);
		return r < 0 ? r : -ENAMETOOLONG;
	}
	snprintf(text, MARK_TEXT_MAX, "%s\n%s\n", abs, reason);
	r = write_atomic(dir, name, text);
	free(text);
	return r < 0 ? r : remove_in(spool_dir, name);
}

void history_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int history_pending_list(const char *spool_dir, char ***ret, size_t *ret_n)
{
	DIR *d = opendir(spool_dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0, sl = strlen(MARK_SUFFIX);
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char path[PATH_MAX], line[PATH_MAX + 2];
		size_t len = strlen(e->d_name);
		FILE *f;

		if (e->d_name[0] == '.' || len <= sl || strcmp(e->d_name + len - sl, MARK_SUFFIX))
			continue;
		snprintf(path, sizeof(path), "%s/%s", spool_dir, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;   /* removed by a concurrent sync */
		if (!fgets(line, sizeof(line), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = cap ? 2 * cap : 16;
		}
		if (!(v[n] = strdup(line))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		history_strv_free(v, n);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*ret = v;
	*ret_n = n;
	return 0;
}

int history_ingest_or_queue(struct history *h, const char *spool_dir, const char *run_dir,
			    struct history_ingest_result *ret, char *err, size_t errlen)
{
	int r = history_pending_add(spool_dir, run_dir);

	*ret = (struct history_ingest_result){ .outcome = HISTORY_REFUSED };
	if (r < 0) {
		hist_errf(err, errlen, "%s: marking %s pending: %s", spool_dir, run_dir,
			  strerror(-r));
		return r;
	}
	if (!h) {
		hist_errf(err, errlen, "no store: %s stays pending in %s", run_dir, spool_dir);
		return -ENOTCONN;
	}
	r = history_is_night_dir(run_dir) ? history_ingest_night_dir(h, run_dir, ret, err, errlen) :
					     history_ingest_run_dir(h, run_dir, ret, err, errlen);
	if (r < 0)
		return r;
	if (ret->outcome == HISTORY_REFUSED)
		r = pending_refuse(spool_dir, run_dir, ret->reason);
	else
		r = history_pending_remove(spool_dir, run_dir);
	if (r < 0)
		hist_errf(err, errlen, "%s: %s", spool_dir, strerror(-r));
	return r;
}

#define SYNC_BATCH 64

/* After the unmark (or the move to refused/): counted and told. */
static int sync_done(const char *spool_dir, const char *dir, const struct history_ingest_result *res,
		     history_sync_fn fn, void *ctx, struct history_sync_result *ret, char *err,
		     size_t errlen)
{
	int u = res->outcome == HISTORY_REFUSED ? pending_refuse(spool_dir, dir, res->reason) :
						   history_pending_remove(spool_dir, dir);

	if (u < 0) {
		hist_errf(err, errlen, "%s: %s", spool_dir, strerror(-u));
		return u;
	}
	if (res->outcome == HISTORY_INGESTED)
		ret->ingested++;
	else if (res->outcome == HISTORY_ALREADY_PRESENT)
		ret->already_present++;
	else
		ret->refused++;
	if (fn)
		fn(ctx, dir, res);
	return 0;
}

int history_sync(struct history *h, const char *spool_dir, history_sync_fn fn, void *ctx,
		 struct history_sync_result *ret, char *err, size_t errlen)
{
	struct history_ingest_result res[SYNC_BATCH];
	const char *batch[SYNC_BATCH];
	char **dirs;
	size_t n, i = 0, k, m;
	int r = history_pending_list(spool_dir, &dirs, &n);

	*ret = (struct history_sync_result){ 0 };
	if (r < 0) {
		hist_errf(err, errlen, "%s: %s", spool_dir, strerror(-r));
		return r;
	}
	/* SYNC_BATCH runs to a transaction: a backlog of a week of nights
	 * costs a few commits, not one per run.  Nights after every run, so
	 * that a night is never stored before the runs it names. */
	while (i < n && r == 0) {
		for (m = 0; i < n && m < SYNC_BATCH; i++) {
			struct stat st;

			if (stat(dirs[i], &st) != 0 && errno == ENOENT) {
				/* moved or deleted since: nothing left to forward */
				ret->gone++;
				history_pending_remove(spool_dir, dirs[i]);
				continue;
			}
			if (history_is_night_dir(dirs[i]))
				continue;
			batch[m++] = dirs[i];
		}
		if (!m)
			continue;
		r = history_ingest_run_dirs(h, batch, m, res, err, errlen);
		for (k = 0; k < m && r == 0; k++)
			r = sync_done(spool_dir, batch[k], &res[k], fn, ctx, ret, err, errlen);
	}
	for (i = 0; i < n && r == 0; i++) {
		if (!history_is_night_dir(dirs[i]))
			continue;
		r = history_ingest_night_dir(h, dirs[i], &res[0], err, errlen);
		if (r == 0)
			r = sync_done(spool_dir, dirs[i], &res[0], fn, ctx, ret, err, errlen);
	}
	history_strv_free(dirs, n);
	history_after_bulk(h, ret->ingested);
	return r;
}
