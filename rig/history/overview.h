/* The whole store at once, for a generator that reads everything (the
 * dashboard, rig/dashboard/): the newest version of every run with its
 * checks; every watched series with its control chart, the rules that hold
 * at each point and the flags open now, judged as history_trend and
 * history_watch judge them; each bench's instruments and the runs they
 * served in; and the nights.  A handful of statements whatever the number
 * of runs: asking per device or per run would cost a PostgreSQL server a
 * round trip each.  Everything belongs to the overview; no string is NULL
 * (SQL NULL reads as ""). */
#ifndef RIG_HISTORY_OVERVIEW_H
#define RIG_HISTORY_OVERVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "history.h"
#include "spc.h"

#define HISTORY_OV_NONE ((size_t)-1)

struct history_ov_run {
	const char *run_id, *device_serial, *device_model, *device_firmware, *sequence_id,
		*sequence_version, *bench_id, *started, *ended, *status, *end_reason, *verdict,
		*clock, *software, *operator_name, *run_dir;
	const char *sim_mark;             /* history_sim_mark: "SIMULATED", ... or "" */
	const char *verdict_text;         /* the report's words: "pass with deviations", ...; "" before 0007 */
	double end_s;                     /* run time at its end; NAN when unknown */
	long long pk;                     /* the stored version's key */
	long long started_ns;             /* the start's nanoseconds; LLONG_MIN: not recorded */
	long long first_pk;               /* the run's first stored version's key */
	size_t first_check, n_checks;     /* its checks: checks[first_check ...] */
};

struct history_ov_check {
	size_t run;                       /* index into runs */
	int check_idx;
	const char *kind, *window, *requirement, *verdict, *unit;
	double measured, U, limit_low, limit_high;   /* NAN: not computed, or an open side */
};

struct history_ov_point {
	size_t run;                       /* index into runs */
	double value;
	double U, limit_low, limit_high;  /* the measurement's own; NAN: none */
	const char *verdict;              /* the measurement's; "" for a health figure */
	bool baseline;                    /* one of the chart's baseline points */
	unsigned rules;                   /* SPC_RULE_BIT()s holding here, unconfirmed */
};

struct history_ov_flag {
	enum spc_rule rule;
	size_t first, last;               /* the points of its pattern; last = n_points - 1 */
	int side;                         /* +1 above or rising, -1 below or falling */
};

struct history_ov_chart {
	bool bench;                       /* a bench-health figure: subject is the bench id */
	const char *subject, *sequence_id, *check, *window, *measurement, *unit;
	struct spc_chart chart;
	char baseline[160];               /* "first 8 runs", "chosen <UTC> by <who>" */
	bool baseline_chosen;             /* with rig history baseline set */
	struct history_ov_point *points;  /* in time order */
	size_t n_points;
	struct history_ov_flag flags[SPC_RULE_LAST];   /* open now, as history_watch says */
	size_t n_flags;
};

/* An instrument as a bench's runs declared it (bench file, inputs/): one
 * entry per role, model, serial and calibration, with the runs it served. */
struct history_ov_instrument {
	const char *bench_id, *role, *backend, *model, *serial, *cal_date, *cal_due,
		*cal_uncertainty;
	const char *first_seen, *last_seen;   /* the start of its first and newest run */
	size_t n_runs;
};

struct history_ov_night_run {
	int job, repeat_index, exit_status;
	const char *sequence_id, *device_serial, *run_id, *run_dir, *verdict, *status,
		*end_cause, *retry_of;
	double duration_s;                /* wall time; NAN when unknown */
	bool retry;
	size_t run;                       /* index into runs; HISTORY_OV_NONE: not stored */
};

struct history_ov_night {
	const char *night_id, *plan_id, *bench_id, *started, *ended, *status, *reason,
		*verdict, *night_dir;
	int exit_status;
	bool virtual_time;
	struct history_ov_night_run *runs;   /* in the order they ran */
	size_t n_runs;
};

struct history_overview {
	const char *engine;                  /* "sqlite", "postgresql" */
	struct history_ov_run *runs;         /* newest versions, in the order first stored */
	size_t n_runs;
	struct history_ov_check *checks;     /* grouped by run, in check order */
	size_t n_checks;
	struct history_ov_chart *charts;     /* by scope, subject, sequence, check, window,
						measurement, in the store's order */
	size_t n_charts;
	struct history_ov_instrument *instruments;   /* by bench and role */
	size_t n_instruments;
	struct history_ov_night *nights;     /* by bench (as strcmp orders), then start */
	size_t n_nights;
	void *priv;                          /* the rows the strings point into */
};

/* Reads it all; p as for history_watch.  0, or a negative errno with err
 * said (nothing to free). */
int history_overview(struct history *h, const struct spc_params *p,
		     struct history_overview **ret, char *err, size_t errlen);
void history_overview_free(struct history_overview *o);   /* NULL: nothing */

/* The run with that run id, or HISTORY_OV_NONE. */
size_t history_ov_find_run(const struct history_overview *o, const char *run_id);

/* The order runs were made in: by start, to the nanosecond where recorded,
 * then (runs from before) by their first stored version; never by a run
 * id's random tail.  <0, 0, >0 as strcmp. */
int history_ov_run_cmp(const struct history_ov_run *a, const struct history_ov_run *b);

#endif
