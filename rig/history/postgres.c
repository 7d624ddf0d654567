/* The PostgreSQL backend, through libpq: a lab's shared store.
 *
 * The store's text is handed to libpq whole ("postgresql://host/db",
 * "postgresql:///db?host=/run/pg&service=lab"), so credentials come from
 * libpq's service and password files (~/.pg_service.conf, ~/.pgpass,
 * PGSERVICEFILE, PGPASSFILE), never from pumprig's own files.  Parameters
 * travel as text; doubles are formatted with 17 significant digits in the
 * C locale, so they come back exactly. */
#include "internal.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

/* pg_advisory_xact_lock key of the writer that migrates the schema. */
#define MIGRATION_LOCK_KEY "7075706d70726967"   /* "pumprig" in hex, as bigint */

struct history_db {
	PGconn *conn;
};

/* libpq prints NOTICEs on stderr by default; library code does not print. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void copy_message(const char *msg, char *err, size_t errlen)
{
	size_t len;

	hist_errf(err, errlen, "%s", msg && *msg ? msg : "unknown PostgreSQL error");
	/* libpq's messages end with a newline: one line for the caller */
	len = err && errlen ? strlen(err) : 0;
	while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
		err[--len] = '\0';
}

static int map_result(struct history_db *d, PGresult *res, char *err, size_t errlen)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	copy_message(res ? PQresultErrorMessage(res) : PQerrorMessage(d->conn), err, errlen);
	if (PQstatus(d->conn) != CONNECTION_OK)
		return -ECONNRESET;
	if (!state)
		return -EIO;
	if (strcmp(state, "42501") == 0)
		return -EACCES;                 /* insufficient_privilege */
	if (strcmp(state, "23505") == 0)
		return -EEXIST;                 /* unique_violation */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return -EAGAIN;                 /* serialization failure, deadlock */
	if (strncmp(state, "08", 2) == 0)
		return -ECONNRESET;
	if (strncmp(state, "53", 2) == 0)
		return -ENOSPC;                 /* insufficient resources */
	return -EIO;
}

static void be_close(struct history_db *d)
{
	if (!d)
		return;
	PQfinish(d->conn);
	free(d);
}

static int be_open(const char *target, struct history_db **ret, char *err, size_t errlen)
{
	struct history_db *d = calloc(1, sizeof(*d));
	PGresult *res;
	int r = 0;

	*ret = NULL;
	if (!d)
		return -ENOMEM;
	d->conn = PQconnectdb(target);
	if (!d->conn) {
		free(d);
		return -ENOMEM;
	}
	if (PQstatus(d->conn) != CONNECTION_OK) {
		copy_message(PQerrorMessage(d->conn), err, errlen);
		be_close(d);
		return -ECONNREFUSED;
	}
	PQsetNoticeProcessor(d->conn, quiet_notice, NULL);
	res = PQexec(d->conn, "SET client_min_messages = warning");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = map_result(d, res, err, errlen);
	PQclear(res);
	if (r < 0) {
		be_close(d);
		return r;
	}
	*ret = d;
	return 0;
}

static int be_exec(struct history_db *d, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(d->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
		r = map_result(d, res, err, errlen);
	PQclear(res);
	return r;
}

static int be_query(struct history_db *d, const char *sql, const struct hist_val *p, size_t n,
		    struct hist_rows *ret, char *err, size_t errlen)
{
	const char **values = NULL;
	char (*num)[32] = NULL;
	static locale_t c_locale;
	PGresult *res;
	ExecStatusType st;
	size_t i, row, col;
	int r = 0;

	if (ret)
		*ret = (struct hist_rows){ 0 };
	if (n > 65535)
		return -E2BIG;
	if (n) {
		values = calloc(n, sizeof(*values));
		num = calloc(n, sizeof(*num));
		if (!values || !num) {
			r = -ENOMEM;
			goto done;
		}
	}
	if (!c_locale)
		c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	for (i = 0; i < n; i++) {
		switch (p[i].type) {
		case HV_NULL:
			values[i] = NULL;
			break;
		case HV_TEXT:
			values[i] = p[i].s;
			break;
		case HV_INT:
			snprintf(num[i], sizeof(num[i]), "%lld", p[i].i);
			values[i] = num[i];
			break;
		default: {
			locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;

			snprintf(num[i], sizeof(num[i]), "%.17g", p[i].d);
			if (old)
				uselocale(old);
			values[i] = num[i];
			break;
		}
		}
	}
	res = PQexecParams(d->conn, sql, (int)n, NULL, values, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		r = map_result(d, res, err, errlen);
		PQclear(res);
		goto done;
	}
	if (ret && st == PGRES_TUPLES_OK) {
		ret->n_rows = (size_t)PQntuples(res);
		ret->n_cols = (size_t)PQnfields(res);
		for (row = 0; r == 0 && row < ret->n_rows; row++)
			for (col = 0; r == 0 && col < ret->n_cols; col++)
				r = hist_rows_push(ret, PQgetisnull(res, (int)row, (int)col) ?
							NULL : PQgetvalue(res, (int)row, (int)col));
		if (r < 0)
			hist_rows_free(ret);
	}
	PQclear(res);
done:
	free(values);
	free(num);
	return r;
}

static int be_begin_exclusive(struct history_db *d, char *err, size_t errlen)
{
	int r = be_exec(d, "BEGIN", err, errlen);

	if (r == 0)
		r = be_exec(d, "SELECT pg_advisory_xact_lock(x'" MIGRATION_LOCK_KEY "'::bigint)",
			    err, errlen);
	return r;
}

static int be_begin(struct history_db *d, char *err, size_t errlen)
{
	return be_exec(d, "BEGIN", err, errlen);
}

static const char *const prefixes[] = { "postgresql://", "postgres://", NULL };

const struct history_backend history_backend_postgres = {
	.name = "postgresql",
	.prefixes = prefixes,
	.keep_prefix = true,
	.id_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.engine_suffix = "pg",
	/* a scan of pg_class under the statement's snapshot, not to_regclass():
	 * the catalog caches of a session that waited for the migration lock
	 * need not show a table committed meanwhile */
	.sql_has_version_table = "SELECT 1 FROM pg_catalog.pg_tables WHERE tablename ="
				 " 'schema_migrations' AND schemaname = current_schema()",
	.sql_watch_bulk =
		"SELECT s.scope, s.subject, s.sequence_id, s.check_kind, s.check_window,"
		" s.measurement, s.unit, x.part, x.run_id, x.started_utc, x.value FROM series s"
		" CROSS JOIN LATERAL ("
		"  (SELECT 'h' AS part, p.run_id, p.started_utc, p.value FROM points p"
		"   WHERE p.scope = s.scope AND p.subject = s.subject AND p.sequence_id = s.sequence_id"
		"   AND p.check_kind = s.check_kind AND p.check_window = s.check_window"
		"   AND p.measurement = s.measurement AND NOT EXISTS (SELECT 1 FROM runs n"
		"   WHERE n.run_id = p.run_id AND n.id > p.run_pk)"
		"   ORDER BY p.started_utc, p.run_id LIMIT $1)"
		"  UNION ALL"
		"  (SELECT 't', p.run_id, p.started_utc, p.value FROM points p"
		"   WHERE p.scope = s.scope AND p.subject = s.subject AND p.sequence_id = s.sequence_id"
		"   AND p.check_kind = s.check_kind AND p.check_window = s.check_window"
		"   AND p.measurement = s.measurement AND NOT EXISTS (SELECT 1 FROM runs n"
		"   WHERE n.run_id = p.run_id AND n.id > p.run_pk)"
		"   ORDER BY p.started_utc DESC, p.run_id DESC LIMIT $2)) x"
		" ORDER BY 1, 2, 3, 4, 5, 6, 8, 10, 9",
	.open = be_open,
	.close = be_close,
	.exec = be_exec,
	.query = be_query,
	.begin_exclusive = be_begin_exclusive,
	.begin = be_begin,
};
