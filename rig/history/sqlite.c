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
	size_t n_cache, evict;   /* evict: the next entry to replace when full */
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
	{
		/* $k (PostgreSQL's form, the SQL text both engines share) becomes
		 * a plain ? when the parameters appear as $1, $2, ... in order,
		 * else ?k.  SQLite looks a $k up by name, and even ?k by number,
		 * in a list: quadratic in a multi-row INSERT of thousands. */
		char *q = malloc(strlen(sql) + 1), *o = q;
		const char *c;
		bool quoted = false, in_order = true;
		unsigned long next = 1;

		if (!q)
			return -ENOMEM;
		for (c = sql; *c; c++) {
			if (*c == '\'')
				quoted = !quoted;
			else if (!quoted && *c == '$' && c[1] >= '0' && c[1] <= '9')
				in_order = in_order && strtoul(c + 1, NULL, 10) == next++;
		}
		quoted = false;
		for (c = sql; *c; c++) {
			if (*c == '\'')
				quoted = !quoted;
			if (!quoted && *c == '$' && c[1] >= '0' && c[1] <= '9') {
				*o++ = '?';
				if (in_order)
					while (c[1] >= '0' && c[1] <= '9')
						c++;
				continue;
			}
			*o++ = *c;
		}
		*o = '\0';
		rc = sqlite3_prepare_v2(d->db, q, -1, ret, NULL);
		free(q);
	}
	if (rc != SQLITE_OK)
		return map_error(d->db, rc, err, errlen);
	{
		/* kept, replacing the entries in turn once the cache is full, so
		 * that the many shapes of a batch INSERT do not crowd out the
		 * queries for good */
		size_t slot = d->n_cache < STMT_CACHE ? d->n_cache : d->evict;
		char *copy = strdup(sql);

		if (!copy)
			return 1;   /* not cached: the caller finalizes it */
		if (d->n_cache == STMT_CACHE) {
			sqlite3_finalize(d->cache[slot].stmt);
			free(d->cache[slot].sql);
			d->evict = (d->evict + 1) % STMT_CACHE;
		} else {
			d->n_cache++;
		}
		d->cache[slot].sql = copy;
		d->cache[slot].stmt = *ret;
		return 0;
	}
}

static int be_query(struct history_db *d, const char *sql, const struct hist_val *p, size_t n,
		    struct hist_rows *ret, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t i, ncols;
	int rc, r, owned;

	if (ret)
		*ret = (struct hist_rows){ 0 };
	owned = prepare(d, sql, &st, err, errlen);
	if (owned < 0)
		return owned;
	for (i = 0; i < n && (int)i < sqlite3_bind_parameter_count(st); i++) {
		int idx = (int)i + 1;

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
		for (i = 0; i < ncols; i++) {
			const unsigned char *t = sqlite3_column_text(st, (int)i);

			if ((!t && sqlite3_errcode(d->db) == SQLITE_NOMEM) ||
			    hist_rows_push(ret, (const char *)t) < 0) {
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
