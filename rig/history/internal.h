/* Private to rig/history/: the backend interface (one per engine, listed in
 * store.c), the compiled-in migrations and the helpers the store's parts
 * share.  Nothing outside rig/history/ includes this. */
#ifndef RIG_HISTORY_INTERNAL_H
#define RIG_HISTORY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "history.h"

/* Every SQL migration file, compiled in by embed.cmake, in file-name order
 * ("0001_schema.sql", "0003_roles.pg.sql"), ending with { NULL, NULL }. */
struct history_migration {
	const char *name;
	const char *sql;
};
extern const struct history_migration history_migrations[];

/* Each backend defines its own connection state. */
struct history_db;

enum hist_val_type { HV_NULL, HV_TEXT, HV_INT, HV_REAL };

/* A statement parameter ($1, $2, ... in the SQL text). */
struct hist_val {
	enum hist_val_type type;
	const char *s;
	long long i;
	double d;
};

/* Rows as text, NULL for SQL NULL (both engines can give that; PostgreSQL's
 * float8 output is exact, SQLite's has 15 significant digits, more than
 * results.json's 10). */
struct hist_rows {
	size_t n_rows, n_cols;
	size_t *cell;                 /* row-major; 1 + offset into text, 0 for NULL */
	size_t n_cells, cell_cap;
	char *text;                   /* every cell's bytes, each ended by a NUL */
	size_t text_len, text_cap;
};

/* One arena per result, not a malloc per cell: a list of 10 000 runs is
 * 130 000 cells.  hist_rows_push adds the next cell (NULL for SQL NULL) in
 * row-major order; the caller counts the rows. */
int hist_rows_push(struct hist_rows *r, const char *s);
int hist_rows_append(struct hist_rows *dst, const struct hist_rows *src);
void hist_rows_free(struct hist_rows *r);
const char *hist_cell(const struct hist_rows *r, size_t row, size_t col);

struct history_backend {
	const char *name;                    /* "sqlite", "postgresql" */
	const char *const *prefixes;         /* what a store's text starts with; NULL-terminated */
	bool keep_prefix;                    /* hand the whole text to open (a libpq URI) */
	const char *id_type;                 /* the auto-numbered key, for @ID@ in migrations */
	const char *engine_suffix;           /* "NNNN_name.<suffix>.sql" applies to this engine only */
	const char *sql_has_version_table;   /* one row when schema_migrations exists */
	/* Optional: every watched series' first $1 and newest $2 points in one
	 * statement (rows: the series' 7 columns as in the table series, then
	 * part 'h' or 't', run_id, started_utc, value, run_pk, started_ns;
	 * ordered by series, part, time).  NULL: watch asks per series, which costs an engine in
	 * process (SQLite) nothing and a server one round trip each. */
	const char *sql_watch_bulk;
	/* A server (PostgreSQL): a statement is a round trip, and one
	 * aggregate joined beats a subquery per row (list); SQLite, in
	 * process, is the other way round. */
	bool server;
	/* Optional: refreshes the planner's statistics after a bulk load. */
	const char *sql_after_bulk;

	int (*open)(const char *target, struct history_db **ret, char *err, size_t errlen);
	void (*close)(struct history_db *db);
	/* SQL text without parameters, any number of statements. */
	int (*exec)(struct history_db *db, const char *sql, char *err, size_t errlen);
	/* One statement, parameters $1..$n; the rows into ret when not NULL. */
	int (*query)(struct history_db *db, const char *sql, const struct hist_val *p, size_t n,
		     struct hist_rows *ret, char *err, size_t errlen);
	/* A write transaction that excludes every other writer of the store
	 * until commit (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
	 * lock): used for migrations and nothing else. */
	int (*begin_exclusive)(struct history_db *db, char *err, size_t errlen);
	/* A write transaction for ingest: concurrent ingests may proceed. */
	int (*begin)(struct history_db *db, char *err, size_t errlen);
};

extern const struct history_backend history_backend_sqlite;
extern const struct history_backend history_backend_postgres;

struct history {
	const struct history_backend *be;
	struct history_db *db;
	int schema_version;
	char target[1024];                   /* the store's text, for messages */
};

/* Shorthands over h->be. */
int hist_exec(struct history *h, const char *sql, char *err, size_t errlen);
int hist_query(struct history *h, const char *sql, const struct hist_val *p, size_t n,
	       struct hist_rows *ret, char *err, size_t errlen);
int hist_commit(struct history *h, char *err, size_t errlen);
void hist_rollback(struct history *h);

static inline struct hist_val hv_text(const char *s)
{
	return (struct hist_val){ .type = s ? HV_TEXT : HV_NULL, .s = s };
}
static inline struct hist_val hv_int(long long i)
{
	return (struct hist_val){ .type = HV_INT, .i = i };
}
/* A double; not finite (results.json's null) is SQL NULL. */
struct hist_val hv_real(double d);

/* Locale-independent, checked conversions of a cell; NAN / false for NULL
 * or junk. */
double hist_cell_double(const struct hist_rows *r, size_t row, size_t col);
bool hist_cell_ll(const struct hist_rows *r, size_t row, size_t col, long long *ret);

/* errno-style codes shared by the backends' error mapping. */
void hist_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* query.c: a RUN (a run id or a run directory) to its newest stored version's
 * key and run id; -ENOENT, with err said, when the store does not have it. */
int hist_resolve_run(struct history *h, const char *run, long long *ret_pk,
		     char ret_id[HISTORY_RUN_ID_MAX], char *err, size_t errlen);
/* charts.c: the newest chosen baseline of every subject and sequence, as
 * rows (scope, subject, sequence_id, run_id, set_utc, set_by, baseline
 * key), ordered by scope, subject, sequence and run id. */
int hist_load_baselines(struct history *h, struct hist_rows *ret, char *err, size_t errlen);

#endif
