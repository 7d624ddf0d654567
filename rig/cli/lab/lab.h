/* The lab's commands (rig/cli/lab/): those that work across runs, on the run
 * history (history.c) and a night of runs (nightly.c), and what they share
 * with the commands that make runs (lab.c). */
#ifndef RIG_CLI_LAB_H
#define RIG_CLI_LAB_H

#include <stdbool.h>
#include <stddef.h>

#include "rig/cli/cli.h"
#include "rig/history/history.h"
#include "rig/judge/results.h"

/* Opens the store named by db (history_resolve's text), creating the folder
 * of a SQLite file when it is the default one in the runs folder.  0, or a
 * negative errno with err said. */
int lab_open_history(const char *db, const char *runs_dir, struct history **ret, char *err,
		     size_t errlen);

/* After a run directory was sealed: stores it in the history named by
 * db_opt (--db; else $PUMPRIG_HISTORY; else the SQLite file in the run's
 * own runs folder, the directory it lies in).  A store that cannot be
 * reached leaves the run pending in the runs folder's spool for `rig history
 * sync`.  Says what happened on stderr (unless quiet, when all went well);
 * never changes what the run's exit status is.  Returns 0 when stored (or
 * already), 1 when left pending or refused. */
int lab_history_store(const char *run_dir, const char *db_opt, bool quiet);
/* The same for a run or a night directory of the runs folder runs (a
 * night lies in runs/nights/). */
int lab_history_store_in(const char *dir, const char *runs, const char *db_opt, bool quiet);

/* report.pdf and report.html of a judged run (report_write_documents). */
int lab_write_documents(const struct run_results *res, const char *run_dir);

/* rig validate PLAN: the judgement rig nightly makes before it starts;
 * prints what the night would run.  Returns the exit status. */
int nightly_validate(const char *plan_path, bool allow_expired);

/* rig history trace (trace.c): from history_trace_rows' rows, the
 * requirements x runs matrix and the per-model statistics, printed (or as
 * JSON) and written as out_dir/trace.pdf and trace.html.  Returns the exit
 * status. */
int lab_trace(const json_t *rows, const char *model, const char *out_dir, bool json);

#endif
