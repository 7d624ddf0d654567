/* What a check is: the one interface the checks know.
 *
 * A check judges one `check` step of a sequence from the run's record.  The
 * reader (reader.c) streams every sample past every check once, so a check
 * keeps a bounded amount of state, whatever the length of the run:
 *
 *   init    once, before the samples, with the timeline known; allocates
 *           the check's own state (st->priv)
 *   sample  for every usable sample (settled balance readings, every other
 *           instrument's readings)
 *   judge   once, after the samples and the evaporation are known
 *   free    releases st->priv (accepts NULL)
 *
 * reader.c holds the one table of every check (checks[]), as drivers/backends.c does for
 * backends; a check knows this header, measure.c's helpers and the timeline,
 * never the reader. */
#ifndef RIG_JUDGE_CHECK_H
#define RIG_JUDGE_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "rig/analysis/gravimetric.h"
#include "rig/config/config.h"
#include "results.h"
#include "timeline.h"

/* One parsed line of samples.csv. */
struct sample {
	rig_ns t_ns;
	int role;                            /* enum rig_role, -1 if unknown */
	const char *quantity;                /* "mass", "flow", "pressure", ... */
	double value;
	uint32_t flags;
};

struct analysis_ctx {
	const struct sequence *seq;
	const struct bench *bench;
	const struct device *dev;
	const struct timeline *tl;
	struct run_results *res;
	double ml_per_g;
	double u_read_cal_g;                 /* balance calibration uncertainty (k = 1) */
	/* relative standard uncertainties every gravimetric result carries:
	 * the volume per gram (the fluid's and the air's density as the bench
	 * states them), the balance's span (its gain), rig's time base */
	double u_rel_factor, u_rel_span, u_rel_clock;
	/* the balance's reading noise with the pump stopped: the settled
	 * readings of every measure_evaporation period (second differences
	 * within each period), filled while the samples stream */
	struct noise_est stopped_noise;
	int stopped_noise_period;            /* the period the last reading fed was in */
};

struct check_priv;                           /* defined by each check */

/* The state of one check while samples stream past. */
struct check_state {
	const struct step *step;
	struct check_result *result;
	/* negative mass steps the reader saw inside the check's window: the
	 * balance is unusable there */
	size_t n_mass_steps;
	struct check_priv *priv;
	const struct check_ops *ops;        /* set by the reader */
};

struct check_ops {
	enum check_kind kind;
	int (*init)(struct analysis_ctx *ax, struct check_result *c, struct check_state *st);
	void (*sample)(struct analysis_ctx *ax, struct check_result *c, struct check_state *st,
		       const struct sample *s);
	void (*judge)(struct analysis_ctx *ax, struct check_result *c, struct check_state *st);
	void (*free)(struct check_priv *priv);
};

extern const struct check_ops check_dose_ops, check_flow_ops, check_occlusion_ops,
	check_battery_ops, check_bolus_ops, check_reservoir_ops;

/* reader.c: the check that judges `kind`, or NULL. */
const struct check_ops *check_ops_find(enum check_kind kind);

/* ------------------------------------------------- helpers (measure.c) -- */

/* the reading noise: struct noise_est (rig/analysis/gravimetric.h) */

/* The standard uncertainty (k = 1, g) of one balance reading at the end of
 * a window over which the pump ran at rate_ml_per_h, its own part: the
 * reading noise ne measured, and, when strokes come less often than
 * readings (so the noise does not hold them), what the line holds at that
 * instant (line_content_var(), with the bench's stated line_time_constant,
 * else up to a whole stroke).  The calibration's part belongs to a pair of
 * readings: reading_cal_pair_u_g(). */
double reading_u_g(const struct analysis_ctx *ax, const struct noise_est *ne,
		   double rate_ml_per_h);
/* The balance calibration's part (k = 1, g) of the difference of two
 * readings load_diff_g apart.  Its deviation from linearity is one curve:
 * two readings far apart in load deviate independently (sqrt(2) times the
 * stated calibration.uncertainty), two close together alike, their
 * difference no more than the curve's local slope times the load between
 * them, a slope the calibration certifies to its gain_uncertainty.  The
 * smaller of the two; the first alone when no gain uncertainty is stated.
 * (README, "Coverage of the stated uncertainties".) */
double reading_cal_pair_u_g(const struct analysis_ctx *ax, double load_diff_g);
/* Two readings' difference, k = 1, g: each reading_u_g() at the rate then
 * and reading_cal_pair_u_g() between them. */
double reading_pair_u_g(const struct analysis_ctx *ax, const struct noise_est *ne,
			double rate0_ml_per_h, double rate1_ml_per_h, double load_diff_g);
#define READING_CAL_PAIR_WORDS "the balance calibration between the two loads (the smaller " \
	"of sqrt(2) x calibration.uncertainty and gain_uncertainty x the load between them)"
/* The reading noise (1 sigma, g) the budgets use: measured with the pump
 * stopped (the measure_evaporation periods, at least STOPPED_NOISE_MIN second
 * differences), where nothing but the balance moves the readings; else the
 * window's own (ne), which the strokes and the balance's linearity along a
 * rising load inflate.  reading_noise_source() says which, in words. */
#define STOPPED_NOISE_MIN 15
double reading_noise_g(const struct analysis_ctx *ax, const struct noise_est *ne);
/* As reading_u_g, with the window's own reading noise (ne) whatever was
 * measured with the pump stopped: the flow check's observation windows. */
double reading_u_window_g(const struct analysis_ctx *ax, const struct noise_est *ne,
			  double rate_ml_per_h);
const char *reading_noise_source(const struct analysis_ctx *ax);

/* Adds a measurement to c and returns it (NULL when full). */
struct measurement *check_measure(struct check_result *c, const char *name, double value,
				  double u_expanded, const char *unit);
/* Sets a measurement's limits and judges it (simple acceptance: the
 * device's decision rule is applied to every limited measurement after the
 * check has judged, decision.c). */
void measure_limit(struct measurement *m, double low, double high);
/* Adds a requirement c judges beyond its own, with its criterion. */
void check_criterion(struct check_result *c, const char *requirement, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds a term (a standard uncertainty, k = 1, in unit) to the uncertainty
 * budget of c's measurement `quantity`, with where it comes from. */
void budget_add(struct check_result *c, const char *quantity, const char *term, double u,
		const char *unit, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* decision.c: judges every limited measurement of c by c->rule, gives each
 * its requirement (the check's unless its own), and makes a passing check
 * fail (or inconclusive) when one of them does not pass, saying why. */
void decision_apply(struct check_result *c);
/* deviations.c: every deviation of the run into res->deviations (run.json,
 * events.jsonl, notes.jsonl, and res's instrument events and damaged rows,
 * so after the checks are judged).  0 or a negative errno. */
int results_deviations(const char *run_dir, struct run_results *res);
/* Records an instrument event on the results. */
void results_event(struct run_results *res, rig_ns t_ns, const char *role, const char *kind,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The evaporation to add back over a check's window [t0, t1]: what the
 * balance lost with the pump stopped in the nearest measure_evaporation
 * period before the window and in the nearest after it (their
 * inverse-variance mean, its uncertainty widened by half of what their
 * difference exceeds their own scatter, as a change of unknown shape between them), or the
 * one there is, or, with none, the bench's stated correction with its
 * stated uncertainty and the balance's stated drift.  Before and after
 * disagreeing beyond three standard uncertainties is an instrument event
 * (stopped_loss_changed). */
struct evaporation_used {
	double e_g_per_h, u_g_per_h;
	int before, after;                   /* indices into res->stopped, or -1 */
	char source[200];                    /* where it came from, in words */
};
void evaporation_for(struct analysis_ctx *ax, const struct check_result *c, rig_ns t0,
		     rig_ns t1, struct evaporation_used *ret);
/* Adds the evaporation measurements (evaporation_before, _after, and the one
 * used, mg/h with U) to c. */
void evaporation_measure(struct check_result *c, const struct analysis_ctx *ax,
			 const struct evaporation_used *ev);

/* Requirement, +-tolerance limits and criterion of an accuracy check (dose
 * or flow): the step's tolerance and requirement, else the device's (its
 * flow_accuracy group's for a flow check, when it has one). */
void accuracy_limits(const struct analysis_ctx *ax, struct check_result *c,
		     const struct step *s, const char *quantity);
/* True, with the explanation set, when the check's window never completed. */
bool window_incomplete(struct check_result *c);

/* v as an explanation prints it with `decimals` places: a value that rounds
 * to zero is 0, so that "%+.3f" says +0.000, never -0.000. */
static inline double shown_value(double v, int decimals)
{
	return fabs(v) < 0.5 * pow(10, -decimals) ? 0.0 : v;
}

#endif
