/* What the lab's commands share with the commands that make runs: the run
 * history opened where the runs are, and a sealed run (or a night) stored in
 * it (store and forward: docs/history.md). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab.h"
#include "reports/reports.h"
#include "rig/base/text.h"

int lab_open_history(const char *db, const char *runs_dir, struct history **ret, char *err,
		     size_t errlen)
{
	*ret = NULL;
	/* the default SQLite file lives in the runs folder, which a first run
	 * may not have made yet */
	if (strncmp(db, "sqlite:", 7) == 0 && runs_dir && runs_dir[0] &&
	    strncmp(db + 7, runs_dir, strlen(runs_dir)) == 0 && mkdir(runs_dir, 0755) != 0 &&
	    errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot make the runs folder %s: %s", db, runs_dir,
			 strerror(errno));
		return -errno;
	}
	return history_open(db, ret, err, errlen);
}

int lab_history_store(const char *run_dir, const char *db_opt, bool quiet)
{
	char path[RIG_PATH_MAX];

	/* the runs folder: where this run directory lies */
	snprintf(path, sizeof(path), "%s", run_dir);
	return lab_history_store_in(run_dir, dirname(path), db_opt, quiet);
}

int lab_history_store_in(const char *run_dir, const char *runs, const char *db_opt, bool quiet)
{
	const char *what = history_is_night_dir(run_dir) ? "night" : "run";
	char db[RIG_PATH_MAX + 32], spool[RIG_PATH_MAX + 32], err[512] = "";
	struct history_ingest_result res;
	struct history *h = NULL;
	int r;

	history_resolve(db_opt, runs, db, sizeof(db));
	snprintf(spool, sizeof(spool), "%s/%s", runs, HISTORY_SPOOL_DIR);
	if (lab_open_history(db, runs, &h, err, sizeof(err)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		h = NULL;
		r = history_ingest_or_queue(NULL, spool, run_dir, &res, err, sizeof(err));
		fprintf(stderr, "rig: the run history cannot be reached (%s): the %s is %s; "
			"rig history sync stores it later\n", TERM_SAFE(why), what,
			r < 0 && r != -ENOTCONN ? "NOT marked pending either" : "pending");
		return 1;
	}
	r = history_ingest_or_queue(h, spool, run_dir, &res, err, sizeof(err));
	history_close(h);
	if (r < 0) {
		fprintf(stderr, "rig: the run history %s did not take the %s (%s): it is pending; "
			"rig history sync stores it later\n", TERM_SAFE(db), what, TERM_SAFE(err));
		return 1;
	}
	if (res.outcome == HISTORY_REFUSED) {
		fprintf(stderr, "rig: the run history %s refused the %s: %s\n", TERM_SAFE(db), what,
			TERM_SAFE(res.reason));
		return 1;
	}
	if (!quiet)
		fprintf(stderr, "rig: in the run history %s as %s, version %d\n", TERM_SAFE(db),
			TERM_SAFE(res.run_id), res.version);
	return 0;
}

int lab_write_documents(const struct run_results *res, const char *run_dir)
{
	return report_write_documents(res, run_dir);
}
