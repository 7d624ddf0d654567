/* The run history store: sealed run directories ingested into SQLite (the
 * default, a file beside the runs) or PostgreSQL (a lab's server), and the
 * queries `rig history` answers from it: list, show, compare, trend, watch.
 *
 * The run directory stays the record; the store is derived from sealed runs
 * and can be rebuilt from them (`history_ingest_run_dir` on each).  It never
 * decides a run: a store that cannot be reached leaves the run pending in a
 * spool folder (history_pending_*), and history_sync forwards it later.
 * Library code: nothing here prints; errors come back as a negative errno
 * and a sentence in err.  Query results are jansson values the caller owns,
 * shaped as `rig history ... --json` prints them (docs/history.md). */
#ifndef RIG_HISTORY_H
#define RIG_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "spc.h"
#include "rig/base/runid.h"

struct history;
struct history_filter;

#define HISTORY_ENV "PUMPRIG_HISTORY"             /* the store when --db is not given */
#define HISTORY_DEFAULT_FILE "history.sqlite"     /* in the runs folder */
#define HISTORY_SPOOL_DIR ".history-pending"      /* in the runs folder */
#define HISTORY_RUN_ID_MAX RUN_ID_MAX

/* A string member of a JSON object (what history returns), "" when it is
 * absent or not a string. */
const char *history_jstr(const json_t *o, const char *key);

/* A run from a simulated bench is not verification evidence: the mark its
 * every appearance carries, from the history's bench_kind and clock:
 * "WIRE-SIMULATED", "SIMULATED" (also a run stored before the history kept
 * bench_kind whose clock was virtual), or "" for a real bench. */
const char *history_sim_mark(const char *bench_kind, const char *clock);

/* The store's text: db_text when given, else $PUMPRIG_HISTORY when set and
 * not empty, else "sqlite:<runs_dir>/history.sqlite".  Returns buf. */
const char *history_resolve(const char *db_text, const char *runs_dir, char *buf, size_t len);

/* Opens "sqlite:PATH" or "postgresql://..." ("postgres://" too; libpq's own
 * service and password files supply credentials), and brings its schema up
 * to date: every compiled-in migration not yet recorded in the store's
 * schema_migrations is applied in one transaction, in order, each once,
 * while every other writer waits.  A store whose schema is newer than this
 * program's is refused (-EPROTO); one that needs migrating but the user may
 * not change (a bench role) is refused with -EACCES, saying so. */
int history_open(const char *db_text, struct history **ret, char *err, size_t errlen);
void history_close(struct history *h);                /* NULL: nothing */
const char *history_engine(const struct history *h);  /* "sqlite", "postgresql" */
int history_schema_version(const struct history *h);  /* migrations recorded */
int history_schema_latest(void);                      /* migrations compiled in */

enum history_ingest_outcome {
	HISTORY_INGESTED,          /* a new run, or a new version of one (rejudged, noted) */
	HISTORY_ALREADY_PRESENT,   /* this run id with this manifest digest is stored */
	HISTORY_REFUSED,           /* the run is not fit to store: reason says why */
};

struct history_ingest_result {
	enum history_ingest_outcome outcome;
	char run_id[HISTORY_RUN_ID_MAX];
	char manifest_sha256[65];
	int version;               /* of this run id, from 1 (0 when refused) */
	char reason[512];          /* HISTORY_REFUSED: the reason, in words */
};

/* Reads run_dir's files only (run.json, results.json, SHA256SUMS, inputs/,
 * events.jsonl), checks its seal (the manifest, a signature when there is
 * one, and the station's seal journal: a run the journal holds other seals
 * of, none of them this manifest, is refused; one it knows nothing of is
 * stored, its runs row's seal_journal saying so) and stores it.  Returns 0 with the outcome in ret (a refusal is
 * an outcome, not an error), or a negative errno when the store failed:
 * then nothing was stored and the run should stay pending. */
int history_ingest_run_dir(struct history *h, const char *run_dir,
			   struct history_ingest_result *ret, char *err, size_t errlen);

/* The same for several runs in one transaction (one commit, one fsync):
 * backfill and sync; more than 512 go 512 to a transaction.  ret has n
 * entries.  A store error stores none of that transaction's runs (each
 * entry's outcome is then meaningless: keep them all pending). */
int history_ingest_run_dirs(struct history *h, const char *const *run_dirs, size_t n,
			    struct history_ingest_result *ret, char *err, size_t errlen);

/* After a bulk load (import, sync) of `stored` runs: when that is many
 * (HISTORY_BULK_RUNS or more), refreshes the planner's statistics of the
 * history's tables (PostgreSQL's ANALYZE, which its documentation asks for
 * after populating a database; autovacuum would do it within a minute or
 * so).  Advisory: a role that does not own the tables is skipped by the
 * server, and a failure changes nothing stored, so nothing is returned. */
#define HISTORY_BULK_RUNS 200
void history_after_bulk(struct history *h, size_t stored);

/* What ingest would store, as one JSON object (the columns of runs and the
 * rows of the other tables), without a store; refusal reason in reason
 * (-EBADMSG) for a run not fit to store.  For tests and `import --dry-run`. */
int history_read_run_dir(const char *run_dir, json_t **ret, char *reason, size_t reasonlen);

/* A run directory's run id (run.json's run_id, else derived from it: see
 * docs/history.md).  -ENOENT when dir has no readable run.json. */
int history_run_id_of_dir(const char *dir, char ret[HISTORY_RUN_ID_MAX]);

/* --- Nights -----------------------------------------------------------
 * What `rig nightly` ran on a bench (docs/nightly.md), from the night
 * directory's nightly.json: the night (plan, bench, start, end, status,
 * verdict) and its runs in order (job, repeat, run id, verdict, wall time,
 * retry).  A derived copy like the runs: the night directory stays the
 * record. */

/* A night directory: it has a nightly.json and no run.json. */
bool history_is_night_dir(const char *dir);

/* Stores night_dir's nightly.json (idempotent: one night per bench, plan
 * and start).  ret's run_id is the night's id (<start>-<plan id>), its
 * manifest_sha256 the SHA-256 of nightly.json; a nightly.json rig could
 * not have written is refused, with the reason.  Returns 0 with the
 * outcome, or the store's negative errno (nothing stored). */
int history_ingest_night_dir(struct history *h, const char *night_dir,
			     struct history_ingest_result *ret, char *err, size_t errlen);

/* Nights newest first (f: bench_id, since_utc and limit; NULL: all): an
 * array of objects with night_id, plan_id, bench_id, started, ended,
 * status, reason, verdict, exit_status, virtual_time, night_dir and runs
 * (job, repeat_index, sequence_id, device_serial, run_id, run_dir, verdict,
 * status, end_cause, duration_s, retry, retry_of, exit_status).  A device
 * or sequence in f is refused (-EINVAL): a night runs several. */
int history_nights(struct history *h, const struct history_filter *f, json_t **ret, char *err,
		   size_t errlen);

/* --- Store and forward ------------------------------------------------
 * The spool is a folder (HISTORY_SPOOL_DIR in the runs folder) holding one
 * small file per run waiting for the store, named after the run
 * directory's absolute path, created atomically: concurrent writers never
 * share a file, and a crash leaves either the whole marker or none. */

/* Marks run_dir pending (idempotent). */
int history_pending_add(const char *spool_dir, const char *run_dir);
/* Removes its mark (none there: 0). */
int history_pending_remove(const char *spool_dir, const char *run_dir);
/* The pending run directories, sorted; *ret a malloc'd array of malloc'd
 * strings.  A missing spool is an empty one. */
int history_pending_list(const char *spool_dir, char ***ret, size_t *ret_n);
void history_strv_free(char **v, size_t n);

/* Ingests run_dir (a night directory too: history_is_night_dir) into h
 * when h is not NULL, marking it pending first and
 * unmarking it once the store has it; a store error (or h NULL: the store
 * could not be opened) leaves it pending.  A refused run's mark moves to
 * spool/refused/ with its reason (sync does not try it again; a run
 * sealed again by `rig report` is marked pending again by the caller).
 * Returns 0 when stored (ret says how) or refused, the store's negative
 * errno when left pending. */
int history_ingest_or_queue(struct history *h, const char *spool_dir, const char *run_dir,
			    struct history_ingest_result *ret, char *err, size_t errlen);

struct history_sync_result {
	size_t ingested, already_present, refused, gone;   /* gone: the directory no longer exists */
};
/* Forwards every pending run, up to 64 in one transaction, and every
 * pending night (after the runs, one transaction each), unmarking them
 * (refused ones move to refused/) once committed; stops at the first store
 * error (that batch and the rest stay pending).  fn, when not NULL, is told
 * each run's outcome. */
typedef void (*history_sync_fn)(void *ctx, const char *run_dir,
				const struct history_ingest_result *res);
int history_sync(struct history *h, const char *spool_dir, history_sync_fn fn, void *ctx,
		 struct history_sync_result *ret, char *err, size_t errlen);

/* --- Queries ----------------------------------------------------------
 * A RUN is a run id or a run directory.  Every query reads the newest
 * version of each run. */

struct history_filter {
	const char *device_serial;   /* NULL: any */
	const char *sequence_id;
	const char *bench_id;
	const char *since_utc;       /* "YYYY-MM-DD" or a full UTC time: started at or after */
	size_t limit;                /* 0: no limit */
};

/* Every judged value (the measurement a check has a limit for) of every
 * check that names a requirement, of the newest version of each run, oldest
 * run first, of one device model (NULL or "": every model): an array of
 * objects with run_id, started, device_model, device_serial, clock,
 * sequence_id, requirement, check_verdict, measurement, value, unit,
 * limit_low, limit_high (null: none), check (its check's kind) and window
 * (the check's window, "" for none); runs that started in the same second
 * in the order they were first stored.  rig history trace builds its matrix
 * and its per-model statistics from them. */
int history_trace_rows(struct history *h, const char *device_model, json_t **ret, char *err,
		       size_t errlen);

/* Runs newest first: an array of objects with run_id, device_serial,
 * device_model, sequence_id, bench_id, started, ended, status, verdict,
 * clock, software, run_dir, versions. */
int history_list(struct history *h, const struct history_filter *f, json_t **ret, char *err,
		 size_t errlen);

/* One run: its identity, inputs, instruments, checks with measurements,
 * bench health and every stored version.  -ENOENT when not stored. */
int history_show(struct history *h, const char *run, json_t **ret, char *err, size_t errlen);

/* The run before run of the same device and sequence (by start time).
 * -ENOENT when there is none. */
int history_previous(struct history *h, const char *run, char ret_run_id[HISTORY_RUN_ID_MAX],
		     char *err, size_t errlen);

/* What changed from run_a to run_b: inputs (digests), software, firmware,
 * instruments and calibrations, and each measured value with
 * significant = |b - a| > sqrt(U_a^2 + U_b^2) (null when either U is
 * unknown). */
int history_compare(struct history *h, const char *run_a, const char *run_b, json_t **ret,
		    char *err, size_t errlen);

struct history_trend_query {
	const char *device_serial;   /* required */
	const char *check;           /* the check's kind: dose_accuracy, ... (required) */
	const char *window;          /* NULL: every window of that check */
	const char *measurement;     /* NULL: the check's primary value */
	const char *sequence_id;     /* NULL: every sequence */
};

/* The series (one per sequence, window and measurement that match), each
 * with its points in time order, its control chart and every rule that
 * holds at each monitored point (no confirmation: for a person reading the
 * chart), and the flags open now. */
int history_trend(struct history *h, const struct history_trend_query *q,
		  const struct spc_params *p, json_t **ret, char *err, size_t errlen);

/* Every flag open now, over every watched series (each check's values with
 * their own acceptance limit, per device and sequence, and the bench-health
 * figures, per bench and sequence): an array of objects with rule,
 * rule_text, series, runs, values, centre, sigma. */
int history_watch(struct history *h, const struct spc_params *p, json_t **ret, char *err,
		  size_t errlen);

/* Makes runs the control-chart baseline of their device and sequence (and
 * of their bench and sequence for the health figures), replacing the first
 * N runs or an earlier choice (which stays stored).  Runs of several devices
 * or sequences make one baseline each.  ret (may be NULL): the baselines
 * recorded.  -ENOENT naming a run that is not stored. */
int history_baseline_set(struct history *h, const char *const *runs, size_t n,
			 const char *set_by, json_t **ret, char *err, size_t errlen);

#endif
