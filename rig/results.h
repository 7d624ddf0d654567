/* The judged outcome of a run, computed from the run directory alone
 * (inputs/, events.jsonl, samples.csv): a report can always be regenerated,
 * also for an aborted or crashed run. */
#ifndef RIG_RESULTS_H
#define RIG_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "rtime.h"
#include "config.h"

enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_INCONCLUSIVE };
const char *verdict_name(enum verdict v);   /* "pass", "fail", "inconclusive" */

enum run_status {
	RUN_COMPLETED,    /* every step ran */
	RUN_ABORTED,      /* the engine stopped the run (fault, limit, signal) */
	RUN_INTERRUPTED,  /* the record ends without a run_end event (crash, power loss) */
};
const char *run_status_name(enum run_status s);

struct check_result {
	char check[32];                 /* "dose_accuracy", "step_timeout" */
	char requirement[RIG_ID_MAX];
	char window[RIG_ID_MAX];
	int seq_line;                   /* the check (or timed-out) step's line */
	bool has_measured;
	double measured;
	char unit[16];
	double limit_low, limit_high;   /* acceptance: limit_low <= measured <= limit_high */
	char criterion[128];
	enum verdict verdict;
	char explanation[512];          /* why this verdict, in words */
	char source[768];               /* where every number came from */
	/* dose_accuracy details */
	rig_ns t_begin_ns, t_end_ns;
	double mass_begin_g, mass_end_g, collected_g, evaporation_g;
	double delivered_ml, programmed_ml;
	size_t n_samples;               /* balance samples used inside the window */
};

struct run_results {
	char sequence_id[RIG_ID_MAX];
	char sequence_title[RIG_TEXT_MAX];
	char bench_id[RIG_ID_MAX];
	char device_model[RIG_ID_MAX];
	char device_serial[RIG_ID_MAX];
	enum run_status status;
	char end_reason[512];
	rig_ns end_t_ns;                /* last recorded time */
	size_t n_samples_total;
	size_t n_torn_lines;            /* incomplete trailing lines skipped */
	struct check_result *checks;
	size_t n_checks;
	enum verdict overall;
};

/* Reads and judges a run directory.  Returns 0, or a negative errno with a
 * message in err when the directory cannot be read at all. */
int results_analyse(const char *run_dir, struct run_results **ret, char *err, size_t err_len);
void results_free(struct run_results *res);

/* Exit status for the CLI: 3 if the run did not complete, else 1 if any
 * check failed or was inconclusive, else 0. */
int results_exit_status(const struct run_results *res);

#endif
