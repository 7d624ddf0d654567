/* Shared by the run-directory reader (rundata.c) and the checks
 * (check_*.c): the timeline of commands and events read from events.jsonl,
 * and the per-check streaming state fed from samples.csv. */
#ifndef RIG_RESULTS_INTERNAL_H
#define RIG_RESULTS_INTERNAL_H

#include <math.h>

#include "analysis/battery.h"
#include "analysis/dose.h"
#include "analysis/flow.h"
#include "analysis/gravimetric.h"
#include "config.h"
#include "results.h"

struct window {
	char name[RIG_ID_MAX];
	bool begun, ended;
	rig_ns begin_ns, end_ns;
};

struct t_flag {
	rig_ns t_ns;
	bool on;
	bool by_supervisor;
};

struct period {
	rig_ns begin_ns, end_ns;
};

/* What happened, from events.jsonl: few entries (one per command, edge or
 * mark), never one per sample. */
struct timeline {
	struct rate_change *rates;
	size_t n_rates, cap_rates;
	struct bolus_cmd *boluses;
	size_t n_boluses, cap_boluses;
	struct window *windows;
	size_t n_windows;
	struct check_result *timeouts;
	size_t n_timeouts;
	rig_ns *tares;
	size_t n_tares, cap_tares;
	struct period *evaporation;          /* measure_evaporation periods */
	size_t n_evaporation, cap_evaporation;
	struct t_flag *valve;                /* on = closed */
	size_t n_valve, cap_valve;
	struct t_flag *alarm_line;           /* on = rising edge, exact time */
	size_t n_alarm_line, cap_alarm_line;
	struct t_flag *pump_occlusion;       /* pump status: occlusion alarm on/off */
	size_t n_pump_occlusion, cap_pump_occlusion;
	struct t_flag *pump_low_battery;
	size_t n_pump_low_battery, cap_pump_low_battery;
	struct instrument_event *gaps;       /* sensors away and back (bench reconnect) */
	size_t n_gaps, cap_gaps;
	struct period *resume_gaps;          /* nothing recorded: a crash, then rig resume */
	size_t n_resume_gaps, cap_resume_gaps;
	bool ended;
	bool aborted;
	char end_reason[512];
	rig_ns last_t_ns;
	size_t torn;
};

/* One parsed line of samples.csv. */
struct sample {
	rig_ns t_ns;
	int role;                            /* enum rig_role, -1 if unknown */
	const char *quantity;                /* "mass", "flow", "pressure", ... */
	double value;
	uint32_t flags;
};

/* One line of samples.csv (t_ns,role,quantity,value,unit,flags; the
 * newline already removed), split in place.  Returns false for a line that
 * is not a complete sample (the header, a torn line).  Shared with the
 * report's plot reader so both read the record the same way. */
bool sample_line_parse(char *line, rig_ns *t_ns, char **role, char **qty, double *value,
		       uint32_t *flags);

struct analysis_ctx {
	const struct sequence *seq;
	const struct bench *bench;
	const struct device *dev;
	const struct timeline *tl;
	struct run_results *res;
	double ml_per_g;
	double e_g_per_h, u_e_g_per_h;       /* evaporation added back, and its u */
	double u_read_cal_g;                 /* balance calibration uncertainty (k = 1) */
};

/* Second differences of successive settled readings estimate the reading
 * noise whatever the (linear) trend: var(W[i+1] - 2 W[i] + W[i-1]) = 6 s^2. */
struct noise_est {
	size_t n;
	double w1, w2;                       /* the previous two readings */
	double sum_d2;
	size_t n_d;
};
void noise_add(struct noise_est *ne, double w);
double noise_sigma(const struct noise_est *ne);   /* 0 with fewer than 3 readings */

/* The state of one check while samples stream past. */
struct check_state {
	const struct step *step;
	/* dose_accuracy and occlusion: the balance at two instants */
	struct interp_at begin, end;
	size_t n_inside;
	struct noise_est noise;
	/* dose_accuracy: the flow sensor over the window */
	double flow_ml;
	rig_ns flow_covered_ns, flow_prev_t_ns;
	bool flow_have_prev;
	size_t flow_n;
	/* flow_accuracy */
	struct flow_state *flow, *startup;
	struct flow_cfg flow_cfg, startup_cfg;
	size_t startup_stride, startup_seen;
	struct check_result *result;
	/* occlusion */
	rig_ns t_close_ns, t_release_ns, t_alarm_ns;
	bool alarm_from_line;
	struct interp_at p_alarm;
	double p_peak_kpa;
	/* battery */
	struct battery_mode *modes;
	size_t n_modes;
	int last_mode;
	struct interp_at v_eri;
	/* any: a negative mass step inside the window makes the balance
	 * unusable there */
	size_t n_mass_steps;
};

#define MODE_IDLE (-1.0)
#define MODE_BOLUS (-2.0)

struct battery_mode {
	double rate_ml_per_h;                /* MODE_IDLE, MODE_BOLUS or the basal rate */
	struct charge_counter charge;
};

/* Adds a measurement to c and returns it (NULL when full). */
struct measurement *check_measure(struct check_result *c, const char *name, double value,
				  double u_expanded, const char *unit);
/* Sets a measurement's limits and judges it. */
void measure_limit(struct measurement *m, double low, double high);
/* Records an instrument event on the results. */
void results_event(struct run_results *res, rig_ns t_ns, const char *role, const char *kind,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Requirement, +-tolerance limits and criterion of an accuracy check (dose
 * or flow): the step's tolerance and requirement, else the device's. */
void accuracy_limits(const struct analysis_ctx *ax, struct check_result *c,
		     const struct step *s, const char *quantity);
/* True, with the explanation set, when the check's window never completed. */
bool window_incomplete(struct check_result *c);

/* Basal rate programmed at t, and whether a bolus is delivering at t. */
double timeline_rate_at(const struct timeline *tl, rig_ns t_ns);
bool timeline_bolus_at(const struct timeline *tl, rig_ns t_ns);

int check_dose_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st);
void check_dose_sample(struct analysis_ctx *ax, struct check_result *c, struct check_state *st,
		       const struct sample *s);
void check_dose_judge(struct analysis_ctx *ax, struct check_result *c, struct check_state *st);

int check_flow_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st);
void check_flow_sample(struct analysis_ctx *ax, struct check_result *c, struct check_state *st,
		       const struct sample *s);
void check_flow_judge(struct analysis_ctx *ax, struct check_result *c, struct check_state *st);

int check_occlusion_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st);
void check_occlusion_sample(struct analysis_ctx *ax, struct check_result *c,
			    struct check_state *st, const struct sample *s);
void check_occlusion_judge(struct analysis_ctx *ax, struct check_result *c,
			   struct check_state *st);

int check_battery_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st);
void check_battery_sample(struct analysis_ctx *ax, struct check_result *c,
			  struct check_state *st, const struct sample *s);
void check_battery_judge(struct analysis_ctx *ax, struct check_result *c,
			 struct check_state *st);

void check_state_free(struct check_state *st);

/* v as an explanation prints it with `decimals` places: a value that rounds
 * to zero is 0, so that "%+.3f" says +0.000, never -0.000. */
static inline double shown_value(double v, int decimals)
{
	return fabs(v) < 0.5 * pow(10, -decimals) ? 0.0 : v;
}

#endif
