/* Opening a history store: the backend table, the store's text, and the
 * schema migrations.  See history.h. */
#include "rig/base/utc.h"
#include "internal.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every engine the store can live in; the store's text chooses. */
static const struct history_backend *const backends[] = {
	&history_backend_sqlite,
	&history_backend_postgres,
};

void hist_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void hist_rows_free(struct hist_rows *r)
{
	if (!r)
		return;
	free(r->cell);
	free(r->text);
	*r = (struct hist_rows){ 0 };
}

int hist_rows_push(struct hist_rows *r, const char *s)
{
	size_t len = s ? strlen(s) + 1 : 0;

	if (r->n_cells == r->cell_cap) {
		size_t cap = r->cell_cap ? 2 * r->cell_cap : 64;
		size_t *m = realloc(r->cell, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		r->cell = m;
		r->cell_cap = cap;
	}
	if (len && r->text_len + len > r->text_cap) {
		size_t cap = r->text_cap ? 2 * r->text_cap : 1024;
		char *m;

		while (cap < r->text_len + len)
			cap *= 2;
		m = realloc(r->text, cap);
		if (!m)
			return -ENOMEM;
		r->text = m;
		r->text_cap = cap;
	}
	if (!len) {
		r->cell[r->n_cells++] = 0;
		return 0;
	}
	memcpy(r->text + r->text_len, s, len);
	r->cell[r->n_cells++] = 1 + r->text_len;
	r->text_len += len;
	return 0;
}

int hist_rows_append(struct hist_rows *dst, const struct hist_rows *src)
{
	size_t i, n = src->n_rows * src->n_cols;
	int r;

	if (dst->n_rows && dst->n_cols != src->n_cols)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		r = hist_rows_push(dst, hist_cell(src, i / src->n_cols, i % src->n_cols));
		if (r < 0)
			return r;
	}
	dst->n_cols = src->n_cols;
	dst->n_rows += src->n_rows;
	return 0;
}

const char *hist_cell(const struct hist_rows *r, size_t row, size_t col)
{
	size_t c;

	if (row >= r->n_rows || col >= r->n_cols)
		return NULL;
	c = r->cell[row * r->n_cols + col];
	return c ? r->text + c - 1 : NULL;
}

struct hist_val hv_real(double d)
{
	if (!isfinite(d))
		return (struct hist_val){ .type = HV_NULL };
	return (struct hist_val){ .type = HV_REAL, .d = d };
}

double hist_cell_double(const struct hist_rows *r, size_t row, size_t col)
{
	const char *s = hist_cell(r, row, col);
	static locale_t c_locale;
	locale_t old;
	char *end;
	double v;

	if (!s || !*s)
		return NAN;
	if (!c_locale)
		c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	old = c_locale ? uselocale(c_locale) : (locale_t)0;
	errno = 0;
	v = strtod(s, &end);
	if (old)
		uselocale(old);
	if (*end || (errno == ERANGE && fabs(v) > 1))
		return NAN;
	return v;
}

bool hist_cell_ll(const struct hist_rows *r, size_t row, size_t col, long long *ret)
{
	const char *s = hist_cell(r, row, col);
	char *end;
	long long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno)
		return false;
	*ret = v;
	return true;
}

int hist_exec(struct history *h, const char *sql, char *err, size_t errlen)
{
	return h->be->exec(h->db, sql, err, errlen);
}

int hist_query(struct history *h, const char *sql, const struct hist_val *p, size_t n,
	       struct hist_rows *ret, char *err, size_t errlen)
{
	return h->be->query(h->db, sql, p, n, ret, err, errlen);
}

int hist_commit(struct history *h, char *err, size_t errlen)
{
	return h->be->exec(h->db, "COMMIT", err, errlen);
}

void hist_rollback(struct history *h)
{
	char ignored[8];

	h->be->exec(h->db, "ROLLBACK", ignored, sizeof(ignored));
}

const char *history_resolve(const char *db_text, const char *runs_dir, char *buf, size_t len)
{
	const char *env = getenv(HISTORY_ENV);

	if (db_text && *db_text)
		snprintf(buf, len, "%s", db_text);
	else if (env && *env)
		snprintf(buf, len, "%s", env);
	else
		snprintf(buf, len, "sqlite:%s/%s", runs_dir && *runs_dir ? runs_dir : "runs",
			 HISTORY_DEFAULT_FILE);
	return buf;
}

/* "0003_roles.pg.sql" -> 3, and whether it applies to be. */
static int migration_version(const char *name, const struct history_backend *be, bool *ret_applies)
{
	const char *dot = strchr(name, '.'), *under = strchr(name, '_');
	int v = 0;
	const char *p;

	if (!under || under == name)
		return -EINVAL;
	for (p = name; p < under; p++) {
		if (*p < '0' || *p > '9' || v > 99999)
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*ret_applies = true;
	if (dot && strcmp(dot, ".sql") != 0) {
		/* NNNN_name.<engine>.sql */
		size_t el = strlen(be->engine_suffix);

		*ret_applies = strncmp(dot + 1, be->engine_suffix, el) == 0 &&
			       strcmp(dot + 1 + el, ".sql") == 0;
	}
	return v;
}

int history_schema_latest(void)
{
	const struct history_migration *m;
	bool applies;
	int latest = 0, v;

	for (m = history_migrations; m->name; m++) {
		v = migration_version(m->name, &history_backend_sqlite, &applies);
		if (v > latest)
			latest = v;
	}
	return latest;
}

/* Keeps the lines between "-- @only ENGINE" and "-- @only end" for that
 * engine alone, in place; the marker lines go.  ENGINE must be one of
 * backends[]: a misspelt one would silently drop its block everywhere. */
static int engine_blocks(char *sql, const struct history_backend *be)
{
	static const char mark[] = "-- @only ";
	char *in = sql, *out = sql;
	bool inside = false, keep = true;

	while (*in) {
		char *eol = strchr(in, '\n');
		size_t len = eol ? (size_t)(eol - in) + 1 : strlen(in);

		if (strncmp(in, mark, sizeof(mark) - 1) == 0) {
			const char *name = in + sizeof(mark) - 1;
			size_t nl = len - (sizeof(mark) - 1) - (eol ? 1 : 0), i;
			bool known = false;

			if (nl == 3 && strncmp(name, "end", 3) == 0) {
				if (!inside)
					return -EINVAL;
				inside = false;
				keep = true;
			} else {
				if (inside)
					return -EINVAL;
				for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
					if (strlen(backends[i]->engine_suffix) == nl &&
					    strncmp(name, backends[i]->engine_suffix, nl) == 0)
						known = true;
				if (!known)
					return -EINVAL;
				inside = true;
				keep = strlen(be->engine_suffix) == nl &&
				       strncmp(name, be->engine_suffix, nl) == 0;
			}
		} else if (keep) {
			memmove(out, in, len);
			out += len;
		}
		in += len;
	}
	*out = '\0';
	return inside ? -EINVAL : 0;
}

/* The migration text for one engine: @ID@ replaced by the engine's key
 * type, the other engines' blocks left out.  NULL with errno set. */
static char *dialect(const char *sql, const struct history_backend *be)
{
	static const char token[] = "@ID@";
	size_t n = 0, tl = strlen(token), il = strlen(be->id_type), len;
	const char *p;
	char *out, *o;

	for (p = sql; (p = strstr(p, token)); p += tl)
		n++;
	len = strlen(sql) + n * il + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	for (o = out, p = sql;;) {
		const char *t = strstr(p, token);

		if (!t) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(t - p));
		o += t - p;
		memcpy(o, be->id_type, il);
		o += il;
		p = t + tl;
	}
	if (engine_blocks(out, be) < 0) {
		free(out);
		errno = EINVAL;
		return NULL;
	}
	return out;
}

static int read_version(struct history *h, int *ret, char *err, size_t errlen)
{
	struct hist_rows rows = { 0 };
	long long v = 0;
	int r;

	*ret = 0;
	r = hist_query(h, h->be->sql_has_version_table, NULL, 0, &rows, err, errlen);
	if (r < 0)
		return r;
	if (rows.n_rows == 0) {
		hist_rows_free(&rows);
		return 0;
	}
	hist_rows_free(&rows);
	r = hist_query(h, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0, &rows,
		       err, errlen);
	if (r < 0)
		return r;
	if (rows.n_rows == 1)
		hist_cell_ll(&rows, 0, 0, &v);
	hist_rows_free(&rows);
	*ret = (int)v;
	return 0;
}

static int migrate(struct history *h, char *err, size_t errlen)
{
	const struct history_migration *m;
	int latest = history_schema_latest(), current = h->schema_version, r;
	char now[32], msg[512];

	r = h->be->begin_exclusive(h->db, msg, sizeof(msg));
	if (r < 0)
		goto fail;
	/* Another process may have migrated while we waited for the lock. */
	r = read_version(h, &current, msg, sizeof(msg));
	if (r < 0)
		goto rollback;
	if (current >= latest) {
		h->schema_version = current;
		return hist_commit(h, err, errlen);
	}
	r = hist_exec(h, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_utc TEXT NOT NULL)",
		      msg, sizeof(msg));
	if (r < 0)
		goto rollback;
	rig_utc_now_iso(now);
	for (m = history_migrations; m->name; m++) {
		bool applies;
		int v = migration_version(m->name, h->be, &applies);

		if (v < 0) {
			hist_errf(msg, sizeof(msg), "migration %s: its name is not NNNN_name.sql",
				  m->name);
			r = -EINVAL;
			goto rollback;
		}
		if (v <= current)
			continue;
		if (applies) {
			char *sql = dialect(m->sql, h->be);

			if (!sql) {
				r = -errno;
				if (r == -EINVAL)
					hist_errf(msg, sizeof(msg), "migration %s: a \"-- @only\" "
						  "block is not \"-- @only pg\" or \"-- @only "
						  "sqlite\" up to \"-- @only end\"", m->name);
				goto rollback;
			}
			r = hist_exec(h, sql, msg, sizeof(msg));
			free(sql);
			if (r < 0)
				goto rollback;
		}
		/* Recorded in both engines, applied or not, so that version
		 * numbers mean the same schema everywhere. */
		r = hist_query(h, "INSERT INTO schema_migrations (version, name, applied_utc)"
				  " VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
			       (struct hist_val[]){ hv_int(v), hv_text(m->name), hv_text(now) }, 3,
			       NULL, msg, sizeof(msg));
		if (r < 0)
			goto rollback;
	}
	r = hist_commit(h, msg, sizeof(msg));
	if (r < 0)
		goto fail;
	h->schema_version = latest;
	return 0;

rollback:
	hist_rollback(h);
fail:
	if (r == -EACCES)
		hist_errf(err, errlen,
			  "%s: the store's schema is at version %d and this rig needs %d, but this "
			  "user may not change it (%s); have the store's owner open it once",
			  h->target, current, latest, msg);
	else
		hist_errf(err, errlen, "%s: migrating the schema to version %d: %s", h->target,
			  latest, msg);
	return r;
}

int history_open(const char *db_text, struct history **ret, char *err, size_t errlen)
{
	const struct history_backend *be = NULL;
	const char *target = NULL;
	struct history *h;
	char buf[1024], msg[512];
	size_t i;
	int r, current;

	*ret = NULL;
	db_text = history_resolve(db_text, NULL, buf, sizeof(buf));
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]) && !be; i++) {
		const char *const *p;

		for (p = backends[i]->prefixes; *p; p++) {
			if (strncmp(db_text, *p, strlen(*p)) == 0) {
				be = backends[i];
				target = be->keep_prefix ? db_text : db_text + strlen(*p);
				break;
			}
		}
	}
	if (!be) {
		hist_errf(err, errlen, "%s: not a history store; give sqlite:PATH or "
			  "postgresql://...", db_text);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->be = be;
	snprintf(h->target, sizeof(h->target), "%s", db_text);
	r = be->open(target, &h->db, msg, sizeof(msg));
	if (r < 0) {
		hist_errf(err, errlen, "%s: %s", db_text, msg);
		free(h);
		return r;
	}
	/* Only a store that is behind takes the writers' lock: a bench role
	 * opening an up-to-date store never needs more than SELECT. */
	r = read_version(h, &current, msg, sizeof(msg));
	if (r < 0) {
		hist_errf(err, errlen, "%s: reading the schema version: %s", db_text, msg);
		history_close(h);
		return r;
	}
	h->schema_version = current;
	if (current > history_schema_latest()) {
		hist_errf(err, errlen, "%s: the store's schema is at version %d, newer than this "
			  "rig knows (%d); use a newer rig", db_text, current,
			  history_schema_latest());
		history_close(h);
		return -EPROTO;
	}
	if (current < history_schema_latest()) {
		r = migrate(h, err, errlen);
		if (r < 0) {
			history_close(h);
			return r;
		}
	}
	*ret = h;
	return 0;
}

void history_close(struct history *h)
{
	if (!h)
		return;
	if (h->db)
		h->be->close(h->db);
	free(h);
}

void history_after_bulk(struct history *h, size_t stored)
{
	char err[256];

	/* without statistics a planner takes 10 000 fresh rows for an empty
	 * table: watch read 150 series in 0.5 s instead of 0.06 s */
	if (h && h->db && stored >= HISTORY_BULK_RUNS && h->be->sql_after_bulk)
		(void)h->be->exec(h->db, h->be->sql_after_bulk, err, sizeof(err));
}

const char *history_engine(const struct history *h)
{
	return h->be->name;
}

int history_schema_version(const struct history *h)
{
	return h->schema_version;
}
