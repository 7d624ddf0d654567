/* The SQLite backend: the embedded default, one file beside the runs.
 *
 * WAL journal (readers never wait for the writer) with synchronous = FULL:
 * once a commit returns the run is on disk, because the caller then removes
 * its pending mark (NORMAL could lose the last commits at a power cut and
 * the run would be neither stored nor pending).  Writers from several
 * processes on one machine queue behind busy_timeout.  Prepared statements
 * are kept per SQL text, so ingesting thousands of runs parses each
 * statement once. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#define STMT_CACHE 32
#define BUSY_TIMEOUT_MS 30000

struct history_db {
	sqlite3 *db;
	struct {
		char *sql;           /* a copy of the text it was prepared from */
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
	size_t n_cache;
};

static int map_error(sqlite3 *db, int rc, char *err, size_t errlen)
{
	int ext = db ? sqlite3_extended_errcode(db) : rc;

	hist_errf(err, errlen, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return ext == SQLITE_CONSTRAINT_FOREIGNKEY ? -EINVAL : -EEXIST;
	default:
		return -EIO;
	}
}

static void be_close(struct history_db *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n_cache; i++) {
		sqlite3_finalize(d->cache[i].stmt);
		free(d->cache[i].sql);
	}
	sqlite3_close(d->db);
	free(d);
}

static int be_exec(struct history_db *d, const char *sql, char *err, size_t errlen)
{
	int rc = sqlite3_exec(d->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : map_error(d->db, rc, err, errlen);
}

static int be_open(const char *path, struct history_db **ret, char *err, size_t errlen)
{
	struct history_db *d;
	int rc, r;

	*ret = NULL;
	if (!*path) {
		hist_errf(err, errlen, "no file named after sqlite:");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &d->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = map_error(d->db, rc, err, errlen);
		be_close(d);
		return r;
	}
	sqlite3_busy_timeout(d->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(d->db, 1);
	r = be_exec(d, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		       " PRAGMA foreign_keys = ON;", err, errlen);
	if (r < 0) {
		be_close(d);
		return r;
	}
	*ret = d;
	return 0;
}

static int prepare(struct history_db *d, const char *sql, sqlite3_stmt **ret, char *err,
		   size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < d->n_cache; i++) {
		if (strcmp(d->cache[i].sql, sql) == 0) {
			*ret = d->cache[i].stmt;
			return 0;
		}
	}
	rc = sqlite3_prepare_v2(d->db, sql, -1, ret, NULL);
	if (rc != SQLITE_OK)
		return map_error(d->db, rc, err, errlen);
	if (d->n_cache < STMT_CACHE && (d->cache[d->n_cache].sql = strdup(sql))) {
		d->cache[d->n_cache].stmt = *ret;
		d->n_cache++;
		return 0;
	}
	return 1;   /* not cached: the caller finalizes it */
}

static int be_query(struct history_db *d, const char *sql, const struct hist_val *p, size_t n,
		    struct hist_rows *ret, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t i, cap = 0, ncols;
	int rc, r, owned;
	char name[24];

	if (ret)
		*ret = (struct hist_rows){ 0 };
	owned = prepare(d, sql, &st, err, errlen);
	if (owned < 0)
		return owned;
	/* $k in the text (PostgreSQL's form) is a named parameter to SQLite. */
	for (i = 0; i < n; i++) {
		int idx;

		snprintf(name, sizeof(name), "$%zu", i + 1);
		idx = sqlite3_bind_parameter_index(st, name);
		if (idx == 0)
			continue;
		switch (p[i].type) {
		case HV_NULL: rc = sqlite3_bind_null(st, idx); break;
		case HV_TEXT: rc = sqlite3_bind_text(st, idx, p[i].s, -1, SQLITE_STATIC); break;
		case HV_INT: rc = sqlite3_bind_int64(st, idx, p[i].i); break;
		default: rc = sqlite3_bind_double(st, idx, p[i].d); break;
		}
		if (rc != SQLITE_OK) {
			r = map_error(d->db, rc, err, errlen);
			goto done;
		}
	}
	ncols = (size_t)sqlite3_column_count(st);
	if (ret)
		ret->n_cols = ncols;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!ret)
			continue;
		if (ret->n_rows == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			char **cells = realloc(ret->cells, ncap * (ncols ? ncols : 1) * sizeof(*cells));

			if (!cells) {
				r = -ENOMEM;
				goto done;
			}
			ret->cells = cells;
			cap = ncap;
		}
		for (i = 0; i < ncols; i++) {
			const unsigned char *t = sqlite3_column_text(st, (int)i);
			char **cell = &ret->cells[ret->n_rows * ncols + i];

			*cell = t ? strdup((const char *)t) : NULL;
			if (t && !*cell) {
				while (i-- > 0)
					free(ret->cells[ret->n_rows * ncols + i]);
				r = -ENOMEM;
				goto done;
			}
		}
		ret->n_rows++;
	}
	r = rc == SQLITE_DONE ? 0 : map_error(d->db, rc, err, errlen);
done:
	if (r < 0 && ret)
		hist_rows_free(ret);
	if (owned)
		sqlite3_finalize(st);
	else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return r;
}

static int be_begin_exclusive(struct history_db *d, char *err, size_t errlen)
{
	return be_exec(d, "BEGIN IMMEDIATE", err, errlen);
}

static const char *const prefixes[] = { "sqlite:", NULL };

const struct history_backend history_backend_sqlite = {
	.name = "sqlite",
	.prefixes = prefixes,
	.keep_prefix = false,
	.id_type = "INTEGER PRIMARY KEY",     /* the rowid: never reused, nothing is deleted */
	.engine_suffix = "sqlite",
	.sql_has_version_table =
		"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
	.open = be_open,
	.close = be_close,
	.exec = be_exec,
	.query = be_query,
	.begin_exclusive = be_begin_exclusive,
	.begin = be_begin_exclusive,          /* SQLite has one writer at a time anyway */
};
