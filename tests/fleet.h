/* What tests/test_fleet.c needs beside the rig binary: a shell command's
 * output, the scratch PostgreSQL server (tools/pg-scratch) and statements on
 * it as its owner, and a file's text with words replaced. */
#ifndef RIG_TEST_FLEET_H
#define RIG_TEST_FLEET_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <libpq-fe.h>

#include "helpers.h"

/* Runs a shell command; returns what it printed (stdout and stderr) and its
 * exit status in *st. */
static char *sh(int *st, const char *fmt, ...)
{
	char *cmd, *out = NULL;
	size_t len = 0;
	va_list ap;
	FILE *p, *o;
	int c;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	o = open_memstream(&out, &len);
	p = popen(cmd, "r");
	cr_assert(p && o, "%s", cmd);
	while ((c = fgetc(p)) != EOF)
		fputc(c, o);
	*st = pclose(p);
	*st = WIFEXITED(*st) ? WEXITSTATUS(*st) : 128;
	fclose(o);
	free(cmd);
	return out;
}

/* tools/pg-scratch start|stop DIR; start returns the owner's text. */
static char *pg_scratch(const char *what, const char *dir)
{
	char *tool = th_src("tools/pg-scratch"), *out;
	int st;

	out = sh(&st, "%s %s %s 2>&1", tool, what, dir);
	cr_assert_eq(st, 0, "pg-scratch %s: %s", what, out);
	out[strcspn(out, "\n")] = '\0';
	if (!strcmp(what, "start"))
		cr_assert(!strncmp(out, "postgresql://", 13), "pg-scratch start: %s", out);
	free(tool);
	return out;
}

static void pg_exec(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *res;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, sql);
	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
		  "%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
}

/* One integer that a query gives. */
static long pg_count(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	long n;

	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* The text of a file with every `from` replaced by `to`. */
static char *replaced(const char *text, const char *from, const char *to)
{
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	const char *p;
	char *out, *o;

	for (p = text; (p = strstr(p, from)); p += fl)
		n++;
	out = malloc(strlen(text) + n * (tl > fl ? tl - fl : 0) + 1);
	cr_assert_not_null(out);
	for (o = out, p = text;;) {
		const char *q = strstr(p, from);

		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	return out;
}

#endif
