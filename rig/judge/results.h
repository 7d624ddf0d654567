/* The judged outcome of a run, computed from the run directory alone
 * (inputs/, events.jsonl, samples.csv): a report can always be regenerated,
 * also for an aborted or crashed run. */
#ifndef RIG_RESULTS_H
#define RIG_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "rig/base/record.h"
#include "rig/base/rtime.h"
#include "rig/base/runid.h"
#include "rig/config/config.h"

enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_INCONCLUSIVE };
const char *verdict_name(enum verdict v);   /* "pass", "fail", "inconclusive" */

enum run_status {
	RUN_COMPLETED,    /* every step ran */
	RUN_ABORTED,      /* the engine stopped the run (fault, limit, signal) */
	RUN_INTERRUPTED,  /* the record ends without a run_end event (crash, power loss) */
};
const char *run_status_name(enum run_status s);

/* One measured quantity of a check, with where it came from. */
struct measurement {
	char name[48];                  /* "time_to_alarm", "Ep_max_2min", ... */
	double value;
	double u_expanded;              /* expanded uncertainty, k = 2; NAN if not evaluated */
	char unit[16];
	bool has_limit;
	double limit_low, limit_high;   /* +-INFINITY for a one-sided limit */
	enum verdict verdict;           /* against the limit, when it has one */
	char requirement[RIG_ID_MAX];   /* with a limit: what it judges (the check's unless
	                                   its own, as Ep(max) and Ep(min) have) */
	char source[256];
};

/* The longest budget source written is about 330 bytes (a flow window's
 * calibration term with READING_CAL_PAIR_WORDS and its figures); 192 cut
 * it mid-word in results.json and both reports. */
#define BUDGET_SOURCE_MAX 640

/* One term of an uncertainty budget: a standard uncertainty (k = 1) in the
 * unit of the quantity it is part of, and where it comes from.  A
 * quantity's expanded uncertainty is 2 * sqrt(sum of its terms squared). */
struct budget_term {
	char quantity[48];              /* the measurement: "dose_error", "Ep_max_2min" */
	char term[64];                  /* "balance readings at the window's ends" */
	double u;                       /* standard uncertainty, k = 1 */
	char unit[16];
	char source[BUDGET_SOURCE_MAX];
};

/* A requirement a check judges beyond its own, with its one criterion. */
struct criterion {
	char requirement[RIG_ID_MAX];
	char text[160];
};

#define CHECK_CRITERIA_MAX 4
#define CHECK_MEASUREMENTS_MAX 32
#define CURVE_POINTS_MAX 256
#define BUDGET_TERMS_MAX 80   /* a bolus check: 4 terms for each of 16 boluses, and more */

struct check_result {
	char check[32];                 /* "dose_accuracy", "step_timeout" */
	char requirement[RIG_ID_MAX];
	char window[RIG_ID_MAX];
	int seq_line;                   /* the check (or timed-out) step's line */
	bool has_measured;
	double measured;
	double u_expanded;              /* of measured, k = 2; NAN if not evaluated */
	char unit[16];
	double limit_low, limit_high;   /* acceptance: limit_low <= measured <= limit_high */
	char criterion[128];
	struct criterion more[CHECK_CRITERIA_MAX];  /* its other requirements (Ep(max), Ep(min)) */
	size_t n_more;
	enum verdict verdict;
	char explanation[512];          /* why this verdict, in words */
	char source[768];               /* where every number came from */
	/* dose_accuracy details */
	rig_ns t_begin_ns, t_end_ns;
	double mass_begin_g, mass_end_g, collected_g, evaporation_g;
	double delivered_ml, programmed_ml;
	size_t n_samples;               /* balance samples used inside the window */
	/* every quantity the check measured (the primary one included) */
	struct measurement m[CHECK_MEASUREMENTS_MAX];
	size_t n_m;
	/* flow_accuracy: the start-up curve (t from the period's start, Q_i),
	 * decimated to at most CURVE_POINTS_MAX points, and the rate set */
	double curve_t_s[CURVE_POINTS_MAX], curve_q_ml_per_h[CURVE_POINTS_MAX];
	size_t n_curve;
	double set_rate_ml_per_h;       /* flow_accuracy: the rate judged against (0: none) */
	/* how every limited measurement was judged (decision.c) */
	struct decision_rule rule;
	/* the uncertainty budgets of its judged quantities */
	struct budget_term budget[BUDGET_TERMS_MAX];
	size_t n_budget;
};

/* Something the instruments or the bench did that is not a verdict on the
 * pump: a negative step on the balance, a flow sensor disagreeing with the
 * balance, a gap in the samples. */
struct instrument_event {
	rig_ns t_ns;
	char role[16];
	char kind[32];                  /* "negative_mass_step", "flow_crosscheck" */
	char description[384];
};

#define INSTRUMENT_EVENTS_MAX 64
#define DAMAGED_ROWS_LISTED 8

/* Something that departed from the plan or the normal course of a run,
 * which a reviewer must weigh before accepting its verdict: an override
 * (an expired calibration used, a resumed gap, a run again in a night, an
 * operator's note), a fault, an abort, a gap, a timeout, a sampling
 * overrun, an instrument event, damaged rows (deviations.c). */
/* One measured condition of the run (conditions.c): every finite reading
 * of its role, from samples.csv. */
struct measured_condition {
	int role;                       /* ROLE_FLUID_TEMP ... ROLE_AIR_PRESSURE */
	size_t n;                       /* readings */
	double mean, sd, min, max;      /* in the role's unit (degC, %, kPa) */
	double u;                       /* standard uncertainty of the mean as the run's
	                                   condition: the calibration's (and its gain's)
	                                   and the readings' spread, combined */
	bool range_given;               /* inputs/bench.cfg conditions */
	double lo, hi;
	int range_line;
	size_t n_outside;               /* readings outside lo..hi */
	rig_ns first_outside_t_ns;
	double worst_outside;           /* the reading farthest outside */
};
#define MEASURED_CONDITIONS_MAX 4

struct deviation {
	char kind[32];                  /* "calibration_expired", "operator_note", ... */
	bool has_t;
	rig_ns t_ns;                    /* run time, when it has one */
	char text[512];
};

#define DEVIATIONS_MAX 96

/* A measure_evaporation period: what the balance did with the pump stopped
 * (evaporation and the balance's zero drift together). */
struct stopped_period {
	rig_ns begin_ns, end_ns;
	bool fitted;                    /* enough settled readings for a slope */
	double loss_g_per_h;            /* the balance's fall per hour (negative: it rose) */
	double u_g_per_h;               /* its standard uncertainty (the fit's) */
	size_t n_readings;
};

struct run_results {
	char sequence_id[RIG_ID_MAX];
	char sequence_title[RIG_TEXT_MAX];
	char sequence_version[RIG_ID_MAX];
	/* the sequence's protocol and the standards whose methods it follows */
	char protocol_id[RIG_ID_MAX];      /* "" when the sequence names none */
	char protocol_revision[RIG_ID_MAX];
	char standards[PROTOCOL_STANDARDS_MAX][RIG_ID_MAX];
	size_t n_standards;
	char bench_id[RIG_ID_MAX];
	/* "simulated" (every instrument in-process), "wire-simulated" (a wire
	 * simulator in lockstep) or "real": only a real bench's run is
	 * verification evidence */
	char bench_kind[16];
	char run_id[RUN_ID_MAX];        /* run.json run_id ("" in an older record) */
	char retry_of[128];             /* run.json retry_of: the run this one repeats */
	char device_model[RIG_ID_MAX];
	char device_serial[RIG_ID_MAX];
	enum run_status status;
	bool record_zstd;               /* the bench compresses an ended run's samples.csv */
	char end_reason[512];
	char end_cause[16];             /* not completed: "bench", "device", "operator",
	                                   "internal" (the root cause's), "interrupted" (no
	                                   run_end: a crash or power loss); "" when completed */
	char ended_utc[32];             /* run_end's wall-clock time; "" when interrupted */
	int bench_left_safe;            /* the last safe state's bench_safe: 1 or 0; -1 none */
	rig_ns end_t_ns;                /* last recorded time */
	size_t n_samples_total;
	size_t n_torn_lines;            /* incomplete trailing lines skipped */
	/* samples.csv rows rig could not have written (rig/base/record.h):
	 * counted, the first DAMAGED_ROWS_LISTED listed, never judged */
	size_t n_damaged_rows;
	struct {
		size_t line;                /* in samples.csv, from 1 (the header) */
		enum sample_damage damage;
	} damaged[DAMAGED_ROWS_LISTED];
	struct check_result *checks;
	size_t n_checks;
	enum verdict overall;           /* inconclusive when there is no check */
	/* the gravimetric chain used for every volume */
	double density_g_per_ml;
	char density_source[192];
	double ml_per_g;                /* buoyancy-corrected volume per gram read */
	double u_density_g_per_ml;      /* standard uncertainty of density_g_per_ml */
	double air_density_kg_per_m3;   /* the buoyancy correction's */
	double u_air_density_kg_per_m3;
	char air_density_source[192];
	/* the conditions the bench measured, in role order (none: not measured) */
	struct measured_condition conditions[MEASURED_CONDITIONS_MAX];
	size_t n_conditions;
	double evaporation_g_per_h;
	double u_evaporation_g_per_h;   /* standard uncertainty */
	char evaporation_source[256];
	struct stopped_period *stopped; /* every measure_evaporation period, in order */
	size_t n_stopped;
	struct instrument_event events[INSTRUMENT_EVENTS_MAX];
	size_t n_events;
	size_t n_events_dropped;        /* beyond INSTRUMENT_EVENTS_MAX */
	/* every deviation, in the order of the run (deviations.c) */
	struct deviation deviations[DEVIATIONS_MAX];
	size_t n_deviations;
	size_t n_deviations_dropped;    /* beyond DEVIATIONS_MAX */
};

/* Reads and judges a run directory.  Returns 0, or a negative errno with a
 * message in err when the directory cannot be read at all. */
int results_analyse(const char *run_dir, struct run_results **ret, char *err, size_t err_len);
void results_free(struct run_results *res);

/* Why nothing was judged, for every output to say so ("" when something
 * was): a sequence without check steps (and no step that timed out where
 * a timeout fails) gives no verdict, and its overall verdict is
 * inconclusive, not pass. */
const char *results_nothing_judged(const struct run_results *res);

/* Counts a damaged samples.csv row (listing the first few) for the outputs
 * to report; readers of the record call it for each one they skip. */
void results_damaged_row(struct run_results *res, size_t line_no, enum sample_damage damage);
/* "line 12 (negative time), line 40 (unknown role), ..." */
void results_damaged_text(const struct run_results *res, char *buf, size_t len);

/* A value against its limit by a decision rule (decision.c): fail outside
 * the limit; simple acceptance passes within it; guarded acceptance passes
 * only within it narrowed by w = r * U, and is inconclusive without U. */
enum verdict decision_judge(const struct decision_rule *rule, double value, double u_expanded,
			    double low, double high);
/* The rule in words, with the standard's clause and the device key. */
void decision_rule_text(const struct decision_rule *rule, char *buf, size_t len);
/* The measurement that decided a check which did not pass while its primary
 * value lies inside the primary limit (an occlusion alarmed in time but let
 * out too large a bolus); NULL when the primary value tells the verdict.
 * What a one-line result shows, so a FAIL never stands beside a value that
 * reads as a pass. */
const struct measurement *decision_deciding(const struct check_result *c);
/* The verdict on one requirement a check judges (its own or one of
 * c->more): the worst of the limited measurements judged as it (fail, then
 * inconclusive, then pass); -1 when none is. */
int decision_requirement_verdict(const struct check_result *c, const char *requirement);
/* The k-th requirement a check judges, 0 <= k <= c->n_more: its own first,
 * then those of c->more. */
static inline const char *check_requirement_at(const struct check_result *c, size_t k)
{
	return k == 0 ? c->requirement : c->more[k - 1].requirement;
}

/* The combined standard uncertainty of c's `quantity`: the root of the sum
 * of its budget terms' squares (0 without terms); twice it is the
 * expanded U. */
double budget_u(const struct check_result *c, const char *quantity);

/* words.c: names in a reader's words ("time to the occlusion alarm",
 * "Ep(max), P = 2 min", "calibration expired"); an unknown name comes back
 * as it is (measurement_words: with spaces for underscores). */
void measurement_words(const char *name, char *buf, size_t len);
const char *check_words(const char *check);
const char *deviation_words(const char *kind);

/* Whether the run's bench can give verification evidence: a real one. */
bool results_is_evidence(const struct run_results *res);
/* The verdict in words, the same in every output: "pass", "pass with
 * deviations", "fail", "inconclusive"; for a run that did not complete,
 * "fail (run aborted)", "inconclusive (run aborted)", and the same with
 * "(run interrupted)". */
const char *results_verdict_text(const struct run_results *res);

/* Exit status for the CLI: 3 if the run did not complete, else 1 if any
 * check failed or was inconclusive or there was no check, else 0. */
int results_exit_status(const struct run_results *res);

#endif
