/* The PostgreSQL backend, through libpq: a lab's shared store.
 *
 * The store's text is handed to libpq whole ("postgresql://host/db",
 * "postgresql:///db?host=/run/pg&service=lab"), so credentials come from
 * libpq's service and password files (~/.pg_service.conf, ~/.pgpass,
 * PGSERVICEFILE, PGPASSFILE), never from pumprig's own files.  Parameters
 * travel as text; doubles are formatted with 17 significant digits in the
 * C locale, so they come back exactly.
 *
 * The store never holds a run up: every wait for the server is bounded.
 * libpq's blocking calls wait for ever on a server that accepts a connection
 * and never answers (one stopped, a stuck proxy, a lock someone holds, a
 * network gone quiet mid-statement), and a night would wait with them.  So
 * the connection is made and every statement run through libpq's
 * asynchronous calls, polling the socket with a deadline: connect_timeout as
 * libpq found it (the store's text, the service file, PGCONNECT_TIMEOUT),
 * else CONNECT_WAIT_S; each statement STATEMENT_WAIT_S, or
 * $PUMPRIG_HISTORY_TIMEOUT.  A wait that runs out drops the connection:
 * what was not committed is not stored, and the caller keeps the run
 * pending (a COMMIT whose answer was lost may have been stored: ingest is
 * idempotent, so the later sync finds it already present). */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libpq-fe.h>

/* pg_advisory_xact_lock key of the writer that migrates the schema. */
#define MIGRATION_LOCK_KEY "7075706d70726967"   /* "pumprig" in hex, as bigint */

#define CONNECT_WAIT_S 10        /* when libpq was given no connect_timeout */
#define STATEMENT_WAIT_S 60      /* the longest a statement may wait for an answer */
#define WAIT_MAX_S 86400
#define STATEMENT_WAIT_ENV "PUMPRIG_HISTORY_TIMEOUT"

struct history_db {
	PGconn *conn;
	int statement_wait_s;    /* 0: no limit */
	bool dropped;            /* a wait ran out and the connection was closed */
};

/* libpq prints NOTICEs on stderr by default; library code does not print. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void copy_message(const char *msg, char *err, size_t errlen)
{
	char line[1024];
	size_t o = 0, len;

	/* libpq's messages end with a newline, put a hint on a line of its own
	 * after a tab, and give one line per host tried: one line for the
	 * caller */
	if (!msg || !*msg)
		msg = "unknown PostgreSQL error";
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	for (size_t i = 0; i < len && o + 3 < sizeof(line); i++) {
		if (msg[i] == '\n' && i + 1 < len && msg[i + 1] == '\t') {
			line[o++] = ' ';
			i++;
		} else if (msg[i] == '\n') {
			line[o++] = ';';
			line[o++] = ' ';
		} else {
			line[o++] = msg[i];
		}
	}
	line[o] = '\0';
	hist_errf(err, errlen, "%s", line);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the connection's socket is ready for events, or until
 * deadline (mono_ms; negative: none).  0, -ETIMEDOUT or a negative errno. */
static int wait_socket(PGconn *c, short events, long long deadline)
{
	struct pollfd p = { .fd = PQsocket(c), .events = events };

	if (p.fd < 0)
		return -EBADF;
	for (;;) {
		long long left = deadline < 0 ? -1 : deadline - mono_ms();
		int n;

		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left < 0 ? -1 : left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* A number of seconds as libpq reads connect_timeout: 0 or below means no
 * limit, and less than 2 is 2.  -1 when text is not a whole number. */
static int wait_seconds(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end)
		return -1;
	return v <= 0 ? 0 : v < 2 ? 2 : v > WAIT_MAX_S ? WAIT_MAX_S : (int)v;
}

/* connect_timeout from wherever libpq found it, else CONNECT_WAIT_S. */
static int connect_wait_s(PGconn *c)
{
	PQconninfoOption *opts = PQconninfo(c), *o;
	int s = CONNECT_WAIT_S;

	for (o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val && *o->val &&
		    wait_seconds(o->val) >= 0)
			s = wait_seconds(o->val);
	PQconninfoFree(opts);
	return s;
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

static int be_exec(struct history_db *d, const char *sql, char *err, size_t errlen);

static void be_close(struct history_db *d)
{
	if (!d)
		return;
	PQfinish(d->conn);
	free(d);
}

/* The statement limit: $PUMPRIG_HISTORY_TIMEOUT when set, else
 * STATEMENT_WAIT_S.  -EINVAL, said, when it is not a number of seconds. */
static int statement_wait_s(int *ret, char *err, size_t errlen)
{
	const char *e = getenv(STATEMENT_WAIT_ENV);

	*ret = STATEMENT_WAIT_S;
	if (!e || !*e)
		return 0;
	*ret = wait_seconds(e);
	if (*ret < 0) {
		hist_errf(err, errlen, "%s=%s is not a number of seconds; allowed: a whole number, "
			  "0 for no limit", STATEMENT_WAIT_ENV, e);
		return -EINVAL;
	}
	return 0;
}

static int be_open(const char *target, struct history_db **ret, char *err, size_t errlen)
{
	struct history_db *d = calloc(1, sizeof(*d));
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	long long deadline;
	int r, wait_s;

	*ret = NULL;
	if (!d)
		return -ENOMEM;
	r = statement_wait_s(&d->statement_wait_s, err, errlen);
	if (r < 0) {
		free(d);
		return r;
	}
	d->conn = PQconnectStart(target);
	if (!d->conn) {
		free(d);
		return -ENOMEM;
	}
	wait_s = connect_wait_s(d->conn);
	deadline = wait_s ? mono_ms() + wait_s * 1000LL : -1;
	/* libpq's loop for a connection made without blocking: wait for what
	 * the last poll asked for, then poll again, until it is made or fails */
	while (PQstatus(d->conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	       st != PGRES_POLLING_FAILED) {
		r = wait_socket(d->conn, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
		if (r < 0) {
			if (r == -ETIMEDOUT)
				hist_errf(err, errlen, "no answer within %d s (libpq's connect_timeout, "
					  "%d s unless the store's text, the service file or "
					  "PGCONNECT_TIMEOUT gives one)", wait_s, CONNECT_WAIT_S);
			else
				hist_errf(err, errlen, "waiting for the server: %s", strerror(-r));
			be_close(d);
			return r;
		}
		st = PQconnectPoll(d->conn);
	}
	if (PQstatus(d->conn) != CONNECTION_OK) {
		copy_message(PQerrorMessage(d->conn), err, errlen);
		be_close(d);
		return -ECONNREFUSED;
	}
	PQsetNoticeProcessor(d->conn, quiet_notice, NULL);
	if (PQsetnonblocking(d->conn, 1) != 0) {
		copy_message(PQerrorMessage(d->conn), err, errlen);
		be_close(d);
		return -EIO;
	}
	r = be_exec(d, "SET client_min_messages = warning", err, errlen);
	if (r < 0) {
		be_close(d);
		return r;
	}
	*ret = d;
	return 0;
}

/* After a PQsend*: sends what it queued and collects every result, each
 * within the statement limit.  Returns the last result, or the first that
 * is an error; NULL (with *ret_r and err said) when the wait ran out (the
 * connection is dropped) or the connection broke. */
static PGresult *await_result(struct history_db *d, int *ret_r, char *err, size_t errlen)
{
	long long deadline = d->statement_wait_s ? mono_ms() + d->statement_wait_s * 1000LL : -1;
	PGresult *keep = NULL, *res;
	int f, r = 0;

	*ret_r = 0;
	while ((f = PQflush(d->conn)) == 1) {
		r = wait_socket(d->conn, POLLOUT | POLLIN, deadline);
		if (r < 0 || !PQconsumeInput(d->conn))
			goto lost;
	}
	if (f < 0)
		goto lost;
	for (;;) {
		while (PQisBusy(d->conn)) {
			r = wait_socket(d->conn, POLLIN, deadline);
			if (r < 0 || !PQconsumeInput(d->conn))
				goto lost;
		}
		res = PQgetResult(d->conn);
		if (!res)
			return keep;
		if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
			PQclear(res);
		} else {
			PQclear(keep);
			keep = res;
		}
	}
lost:
	PQclear(keep);
	if (r == -ETIMEDOUT) {
		hist_errf(err, errlen, "no answer from the server within %d s (%s, default %d s); "
			  "the connection was closed and nothing of this transaction is committed",
			  d->statement_wait_s, STATEMENT_WAIT_ENV, STATEMENT_WAIT_S);
		PQfinish(d->conn);
		d->conn = NULL;
		d->dropped = true;
		*ret_r = -ETIMEDOUT;
	} else {
		copy_message(r < 0 ? strerror(-r) : PQerrorMessage(d->conn), err, errlen);
		*ret_r = -ECONNRESET;
	}
	return NULL;
}

/* Whether the connection can take a statement; -ETIMEDOUT, said, once a
 * wait has run out on it. */
static int usable(struct history_db *d, char *err, size_t errlen)
{
	if (!d->dropped)
		return 0;
	hist_errf(err, errlen, "the connection was closed after the server did not answer "
		  "within %d s", d->statement_wait_s);
	return -ETIMEDOUT;
}

static int be_exec(struct history_db *d, const char *sql, char *err, size_t errlen)
{
	PGresult *res;
	ExecStatusType st;
	int r = usable(d, err, errlen);

	if (r < 0)
		return r;
	if (!PQsendQuery(d->conn, sql))
		return map_result(d, NULL, err, errlen);
	res = await_result(d, &r, err, errlen);
	if (!res)
		return r;
	st = PQresultStatus(res);
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
	r = usable(d, err, errlen);
	if (r < 0)
		goto done;
	if (!PQsendQueryParams(d->conn, sql, (int)n, NULL, values, NULL, NULL, 0)) {
		r = map_result(d, NULL, err, errlen);
		goto done;
	}
	res = await_result(d, &r, err, errlen);
	if (!res)
		goto done;
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
	.server = true,
	/* a scan of pg_class under the statement's snapshot, not to_regclass():
	 * the catalog caches of a session that waited for the migration lock
	 * need not show a table committed meanwhile */
	.sql_has_version_table = "SELECT 1 FROM pg_catalog.pg_tables WHERE tablename ="
				 " 'schema_migrations' AND schemaname = current_schema()",
	.sql_watch_bulk =
		"SELECT s.scope, s.subject, s.sequence_id, s.check_kind, s.check_window,"
		" s.measurement, s.unit, x.part, x.run_id, x.started_utc, x.value, x.run_pk,"
		" x.started_ns FROM series s"
		" CROSS JOIN LATERAL ("
		"  (SELECT 'h' AS part, p.run_id, p.started_utc, p.value, p.run_pk, p.started_ns"
		"   FROM points p"
		"   WHERE p.scope = s.scope AND p.subject = s.subject AND p.sequence_id = s.sequence_id"
		"   AND p.check_kind = s.check_kind AND p.check_window = s.check_window"
		"   AND p.measurement = s.measurement AND NOT EXISTS (SELECT 1 FROM runs n"
		"   WHERE n.run_id = p.run_id AND n.id > p.run_pk)"
		"   ORDER BY p.started_utc, p.started_ns, p.run_pk LIMIT $1)"
		"  UNION ALL"
		"  (SELECT 't', p.run_id, p.started_utc, p.value, p.run_pk, p.started_ns FROM points p"
		"   WHERE p.scope = s.scope AND p.subject = s.subject AND p.sequence_id = s.sequence_id"
		"   AND p.check_kind = s.check_kind AND p.check_window = s.check_window"
		"   AND p.measurement = s.measurement AND NOT EXISTS (SELECT 1 FROM runs n"
		"   WHERE n.run_id = p.run_id AND n.id > p.run_pk)"
		"   ORDER BY p.started_utc DESC, p.started_ns DESC, p.run_pk DESC LIMIT $2)) x"
		" ORDER BY 1, 2, 3, 4, 5, 6, 8, 10, 13, 12",
	/* the tables that grow with the runs (not baselines: a few rows) */
	.sql_after_bulk = "ANALYZE runs, run_inputs, instruments, checks, measurements, health,"
			  " series, points, nights, night_runs, signatures",
	.open = be_open,
	.close = be_close,
	.exec = be_exec,
	.query = be_query,
	.begin_exclusive = be_begin_exclusive,
	.begin = be_begin,
};
