/* The two history engines a suite tests against: a SQLite file in a fresh
 * folder, and a database on a real PostgreSQL server that the suite starts
 * once (tools/pg-scratch: initdb in a scratch folder, unix socket, stopped
 * at the end). A PostgreSQL that cannot be started fails the PostgreSQL
 * tests with the reason; nothing is skipped.
 *
 * Include it in one suite's .c file only: it defines the suite's report
 * hooks. */
#ifndef TESTS_SCRATCH_STORES_H
#define TESTS_SCRATCH_STORES_H

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "helpers.h"
#include "rig/history/history.h"

static char scratch_pg_dir[512];

/* Starts the scratch PostgreSQL once for the whole suite, in the runner's
 * process; each test's process finds its URI (or why there is none) in its
 * environment. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char *dir = th_tmpdir(), *tool = th_src("tools/pg-scratch"), cmd[2048], out[4096];
	FILE *p;
	size_t n;
	int st;

	(void)set;
	snprintf(scratch_pg_dir, sizeof(scratch_pg_dir), "%s", dir);
	snprintf(cmd, sizeof(cmd), "%s start %s 2>&1", tool, dir);
	p = popen(cmd, "r");
	n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = '\0';
	st = p ? pclose(p) : -1;
	out[strcspn(out, "\n")] = '\0';
	if (st == 0 && strncmp(out, "postgresql://", 13) == 0) {
		setenv("TEST_PG_ADMIN", out, 1);
	} else {
		char why[4200];

		snprintf(why, sizeof(why), "%s start: exit status %d: %s", tool, st, out);
		setenv("TEST_PG_ADMIN", "", 1);
		setenv("TEST_PG_ERROR", why, 1);
	}
	free(dir);
	free(tool);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char *tool = th_src("tools/pg-scratch"), cmd[2048];

	(void)stats;
	snprintf(cmd, sizeof(cmd), "%s stop %s >/dev/null 2>&1 && rm -rf %s", tool, scratch_pg_dir,
		 scratch_pg_dir);
	if (scratch_pg_dir[0] && system(cmd) != 0)
		fprintf(stderr, "could not stop the scratch PostgreSQL in %s\n", scratch_pg_dir);
	free(tool);
}

/* The scratch server's administrative URI (its "pumprig" database). */
static inline const char *pg_admin(void)
{
	const char *admin = getenv("TEST_PG_ADMIN");

	cr_assert(admin && *admin, "the scratch PostgreSQL could not be started: %s",
		  getenv("TEST_PG_ERROR") ? getenv("TEST_PG_ERROR") : "the start hook did not run");
	return admin;
}

/* Runs one statement on uri; it must succeed. */
static inline void pg_exec(const char *uri, const char *sql)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *res;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	res = PQexec(c, sql);
	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
		  "%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
}

/* A fresh database on the scratch server. */
static inline char *pg_store(const char *name)
{
	const char *admin = pg_admin(), *q = strchr(admin, '?');
	char sql[256], *uri;

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
	pg_exec(admin, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	pg_exec(admin, sql);
	cr_assert_not_null(q);
	cr_assert_geq(asprintf(&uri, "postgresql:///%s%s", name, q), 0);
	return uri;
}

/* A SQLite store in a fresh folder. */
static inline char *sqlite_store(void)
{
	char *dir = th_tmpdir(), *uri;

	cr_assert_geq(asprintf(&uri, "sqlite:%s/history.sqlite", dir), 0);
	free(dir);
	return uri;
}

static inline struct history *open_store(const char *uri)
{
	struct history *h = NULL;
	char err[512] = "";

	cr_assert_eq(history_open(uri, &h, err, sizeof(err)), 0, "%s", err);
	return h;
}

/* Ingests one run directory and asserts the outcome; the result into ret
 * when not NULL. */
static inline void ingest(struct history *h, const char *dir, enum history_ingest_outcome want,
			  struct history_ingest_result *ret)
{
	struct history_ingest_result res;
	char err[512] = "";

	cr_assert_eq(history_ingest_run_dir(h, dir, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res.outcome, want, "%s: outcome %d, want %d (%s)", dir, res.outcome, want,
		     res.reason);
	if (ret)
		*ret = res;
}

#endif
