/* The Monte Carlo of the uncertainty budgets: see coverage.h. */
#define _GNU_SOURCE
#include "coverage.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/sim/model.h"
#include "rig/analysis/gravimetric.h"
#include "rig/config/config.h"
#include "rig/engine/engine.h"
#include "rig/engine/rundir.h"
#include "rig/judge/results.h"

/* ------------------------------------------------------------- draws -- */

/* The draws of one run: splitmix64 and Box-Muller, apart from the
 * simulator's own generators (which the run's seed also seeds). */
struct draw {
	uint64_t x;
};

static double draw_uniform(struct draw *g)
{
	uint64_t z = (g->x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) * 0x1.0p-53;
}

/* Box-Muller, its two uniforms drawn in a stated order (the operands of a
 * product are evaluated in an order C leaves to the compiler) */
static double draw_gauss(struct draw *g)
{
	double u1 = draw_uniform(g), u2 = draw_uniform(g);

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* The shortest period of the balance's deviation from linearity (model.c's
 * four sinusoids, periods P x 1, 1.618, 2.618, 4.236, standard deviation
 * over loads the stated reading uncertainty u) for which the curve's local
 * slope stays, in rms, within the sensitivity the calibration states (its
 * gain uncertainty): d(lin)/d(load) has rms u 2 pi / P sqrt(sum 1/r_k^2 / 4)
 * = 0.629 u 2 pi / P.  A curve with shorter periods would contradict the
 * certificate's own sensitivity: a stopped balance losing 0.3 mg/h would
 * read a slope several percent off.  A calibration that states no gain
 * uncertainty gets the 5 mg this tool drew before. */
static double linearity_period_min_g(const struct calibration *scale)
{
	if (!(scale->gain_u_rel > 0))
		return 5e-3;
	return 0.6292 * 2 * M_PI * scale->uncertainty / scale->gain_u_rel;
}

/* Every error the budgets name, drawn from what the bench file states of
 * it, made the simulated bench's true physics.  The stated file itself is
 * what the run records and the analysis reads. */
static void draw_errors(const struct bench *stated, struct bench *b, uint64_t seed)
{
	const struct calibration *scale = &stated->instrument[ROLE_SCALE].cal;
	const struct calibration *flow = &stated->instrument[ROLE_FLOW].cal;
	const struct calibration *pres = &stated->instrument[ROLE_PRESSURE].cal;
	const struct calibration *power = &stated->instrument[ROLE_POWER].cal;
	struct sim_cfg *s = &b->sim;
	struct draw g = { seed * UINT64_C(0x2545F4914F6CDD1D) + 17 };
	double half;

	s->seed = seed;
	if (stated->density_given) {
		s->fluid_density_g_per_ml = stated->density_g_per_ml +
					    stated->density_u_g_per_ml * draw_gauss(&g);
		s->fluid_temperature_c = NAN;
	} else {
		s->fluid_temperature_c = stated->fluid_temperature_c +
					 stated->fluid_temperature_u_k * draw_gauss(&g);
		s->fluid_density_g_per_ml = water_density_kg_per_m3(s->fluid_temperature_c) / 1000;
	}
	s->air_density_g_per_ml = fmax(0, stated->air_density_g_per_ml +
					      stated->air_density_u_g_per_ml * draw_gauss(&g));
	/* the balance: its span from the stated gain uncertainty; its stated
	 * reading uncertainty as a deviation from linearity whose value at a
	 * load (a random phase of a periodic curve) has that standard
	 * deviation (the model's `linearity` is that standard deviation over
	 * loads: model.c); its zero drift */
	s->scale_span_rel = scale->gain_u_rel * draw_gauss(&g);
	s->scale_linearity_g = scale->uncertainty;
	/* the bench states no scale for its linearity curve: the shortest
	 * period anywhere from 5 to 100 mg (log-uniform), so the budget's
	 * readings, independent at a window's two ends, are tested over
	 * every load difference, not at one that happens to correlate them */
	s->scale_linearity_period_g = linearity_period_min_g(scale) * exp(log(20.0) * draw_uniform(&g));
	s->scale_drift_g_per_h = scale->drift_u_per_h * draw_gauss(&g);
	/* evaporation: rectangular about the stated correction */
	half = sqrt(3) * stated->evaporation_u_g_per_h;
	s->evaporation_g_per_h = fmax(0, stated->evaporation_g_per_h + half * (2 * draw_uniform(&g) - 1));
	s->flow_offset_ml_per_h = flow->uncertainty * draw_gauss(&g);
	s->flow_gain_rel = flow->gain_u_rel * draw_gauss(&g);
	s->pressure_offset_kpa = pres->uncertainty * draw_gauss(&g);
	s->pressure_gain_rel = pres->gain_u_rel * draw_gauss(&g);
	s->current_offset_ua = power->uncertainty * draw_gauss(&g);
	s->current_gain_rel = power->gain_u_rel * draw_gauss(&g);
	s->clock_error_rel = stated->clock_u_rel * draw_gauss(&g);
	/* A bench that measures its conditions: each sensor off by its stated
	 * calibration uncertainty, and the true air anywhere a lab keeps it
	 * (its CIPM-2007 density the balance's true buoyancy), so what the
	 * budget takes from the readings is tested, not the file's statement.
	 * Drawn last: a bench without them draws as before. */
	for (int role = 0; role < ROLE__COUNT; role++)
		if (role_is_condition((enum rig_role)role) && stated->instrument[role].present)
			s->cond_offset[role] = stated->instrument[role].cal.uncertainty *
					       draw_gauss(&g);
	if (stated->instrument[ROLE_AIR_TEMP].present && stated->instrument[ROLE_HUMIDITY].present &&
	    stated->instrument[ROLE_AIR_PRESSURE].present) {
		s->air_given = true;
		s->air_temperature_c = 18 + 8 * draw_uniform(&g);
		s->air_humidity_pct = 25 + 50 * draw_uniform(&g);
		s->air_pressure_kpa = 95 + 8 * draw_uniform(&g);
		s->air_density_g_per_ml = air_density_cipm2007_kg_per_m3(
			s->air_temperature_c, s->air_pressure_kpa, s->air_humidity_pct,
			CO2_MOLE_FRACTION_DEFAULT) / 1000;
	}
}

/* ----------------------------------------------------- the observer -- */

struct snap {
	rig_ns t_ns;                 /* run time */
	struct sim_truth tr;
};

struct mark {
	char window[RIG_ID_MAX];
	bool begin;
	size_t i;                    /* its snapshot */
	double rate_ml_per_h;        /* the basal rate set then */
};

struct valve {
	bool closed;
	size_t i;
};

struct obs {
	struct snap *v;
	size_t n, cap;
	struct mark marks[32];
	size_t n_marks;
	struct valve valves[8];
	size_t n_valves;
	double bolus_ml[32];         /* the boluses the pump took (not primes), in order */
	size_t n_boluses;
	/* the reservoir: the first refill, and the first statuses after it
	 * showing the reservoir low and empty (their snapshots; SIZE_MAX: none) */
	size_t refill_i, low_i, empty_i;
	double rate_ml_per_h;
	bool oom;
};

static void observe(void *ctx, rig_ns t_ns, const char *what, const json_t *fields,
		    struct sim_model *sim)
{
	struct obs *ob = ctx;
	struct snap s = { .t_ns = t_ns };

	if (!sim || ob->oom)
		return;
	/* the physics does not depend on how often it is advanced */
	sim_model_advance(sim, t_ns);
	sim_model_truth(sim, &s.tr);
	if (ob->n > 0 && ob->v[ob->n - 1].t_ns == t_ns) {
		ob->v[ob->n - 1] = s;   /* the state after everything done at t */
	} else {
		if (ob->n == ob->cap) {
			size_t cap = ob->cap ? 2 * ob->cap : 4096;
			struct snap *v = realloc(ob->v, cap * sizeof(*v));

			if (!v) {
				ob->oom = true;
				return;
			}
			ob->v = v;
			ob->cap = cap;
		}
		ob->v[ob->n++] = s;
	}
	if (!strcmp(what, "rate") && fields) {
		ob->rate_ml_per_h = json_number_value(json_object_get(fields, "rate_ml_per_h"));
	} else if (!strcmp(what, "mark") && fields && ob->n_marks < 32) {
		struct mark *m = &ob->marks[ob->n_marks++];

		snprintf(m->window, sizeof(m->window), "%s",
			 json_string_value(json_object_get(fields, "window")) ?: "");
		m->begin = !strcmp(json_string_value(json_object_get(fields, "edge")) ?: "", "begin");
		m->i = ob->n - 1;
		m->rate_ml_per_h = ob->rate_ml_per_h;
	} else if (!strcmp(what, "bolus") && fields && ob->n_boluses < 32 &&
		   strcmp(json_string_value(json_object_get(fields, "kind")) ?: "", "prime")) {
		ob->bolus_ml[ob->n_boluses++] = json_number_value(json_object_get(fields, "volume_ml"));
	} else if (!strcmp(what, "refill") && ob->refill_i == SIZE_MAX) {
		ob->refill_i = ob->n - 1;
	} else if (!strcmp(what, "pump_alarms") && fields && ob->refill_i != SIZE_MAX) {
		if (ob->low_i == SIZE_MAX && json_is_true(json_object_get(fields, "reservoir_low")))
			ob->low_i = ob->n - 1;
		if (ob->empty_i == SIZE_MAX && json_is_true(json_object_get(fields, "reservoir_empty")))
			ob->empty_i = ob->n - 1;
	} else if (!strcmp(what, "valve") && fields && ob->n_valves < 8 &&
		   !json_object_get(fields, "by")) {
		struct valve *v = &ob->valves[ob->n_valves++];

		v->closed = !strcmp(json_string_value(json_object_get(fields, "state")) ?: "", "closed");
		v->i = ob->n - 1;
	}
}

/* The truth at run time t: the snapshot taken then (every instrument read
 * takes one), or NULL. */
static const struct sim_truth *truth_at(const struct obs *ob, rig_ns t_ns)
{
	size_t lo = 0, hi = ob->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ob->v[mid].t_ns < t_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ob->n && ob->v[lo].t_ns == t_ns ? &ob->v[lo].tr : NULL;
}

static const struct mark *mark_of(const struct obs *ob, const char *window, bool begin)
{
	for (size_t i = 0; i < ob->n_marks; i++)
		if (!strcmp(ob->marks[i].window, window) && ob->marks[i].begin == begin)
			return &ob->marks[i];
	return NULL;
}

/* --------------------------------------------------------- comparing -- */

static const struct measurement *measured(const struct check_result *c, const char *name)
{
	for (size_t i = 0; i < c->n_m; i++)
		if (!strcmp(c->m[i].name, name))
			return &c->m[i];
	return NULL;
}

static void emit(FILE *out, const char *label, const struct check_result *c, const char *name,
		 double truth)
{
	const struct measurement *m = measured(c, name);

	if (!m || !isfinite(truth))
		return;
	fprintf(out, "M\t%s\t%s\t%s\t%.17g\t%.17g\t%.17g\n", label, name, m->unit, m->value,
		m->u_expanded, truth);
}

static const struct check_result *check_of(const struct run_results *res, const char *kind)
{
	for (size_t i = 0; i < res->n_checks; i++)
		if (!strcmp(res->checks[i].check, kind))
			return &res->checks[i];
	return NULL;
}

/* What the balance loses with the pump stopped, per hour of run time, in mg:
 * the true evaporation as the balance reads it (conventional mass, its span)
 * less its zero drift. */
static double true_loss_mg_per_h(const struct bench *b)
{
	const struct sim_cfg *s = &b->sim;
	double rho_a = s->air_density_g_per_ml, rho_w = s->fluid_density_g_per_ml;
	double conventional = (1 - rho_a / rho_w) / (1 - rho_a / 8.0);

	return (s->evaporation_g_per_h * conventional * (1 + s->scale_span_rel) -
		s->scale_drift_g_per_h) / (1 + s->clock_error_rel) * 1e3;
}

static void compare_dose(FILE *out, const char *label, const struct run_results *res,
			 const struct obs *ob, const struct bench *b)
{
	const struct check_result *c = check_of(res, "dose_accuracy");
	const struct measurement *prog;
	const struct mark *mb, *me;
	double v, k, p;

	if (!c || !(prog = measured(c, "programmed")) || !(mb = mark_of(ob, c->window, true)) ||
	    !(me = mark_of(ob, c->window, false)))
		return;
	v = ob->v[me->i].tr.pumped_ml - ob->v[mb->i].tr.pumped_ml;
	/* what was programmed over the window's true length */
	k = (ob->v[me->i].tr.t_true_s - ob->v[mb->i].tr.t_true_s) /
	    rig_ns_to_s(ob->v[me->i].t_ns - ob->v[mb->i].t_ns);
	p = prog->value * k;
	emit(out, label, c, "dose_error", 100 * (v - p) / p);
	emit(out, label, c, "delivered", v);
	emit(out, label, c, "flow_sensor_minus_balance", 0);
	emit(out, label, c, "evaporation", true_loss_mg_per_h(b));
}

static void compare_flow(FILE *out, const struct run_results *res, const struct obs *ob,
			 const struct sequence *seq)
{
	const struct check_result *c = check_of(res, "flow_accuracy");
	const struct step *st = NULL;
	const struct mark *mb, *me;
	const struct sim_truth *tb, *te;
	double r;
	char name[48];

	if (!c || !(mb = mark_of(ob, c->window, true)) || !(me = mark_of(ob, c->window, false)))
		return;
	for (size_t i = 0; i < seq->n_steps; i++)
		if (seq->steps[i].kind == STEP_CHECK && seq->steps[i].check == CHECK_FLOW_ACCURACY)
			st = &seq->steps[i];
	tb = &ob->v[mb->i].tr;
	te = &ob->v[me->i].tr;
	r = mb->rate_ml_per_h;
	emit(out, "flow", c, "A",
	     100 * ((te->pumped_ml - tb->pumped_ml) / (r * (te->t_true_s - tb->t_true_s) / 3600) - 1));
	if (!st)
		return;
	/* every window of P on the grid of S from the period's start, as the
	 * analysis lays it (flow.h), on the true flow out of the line into the
	 * vessel: what the trumpet curve describes (the flow the patient gets).
	 * The pump's own strokes counted whole in a window would differ from it
	 * by up to a stroke (0.8 % of a 2 min window at 0.9 mL/h), which the
	 * line's compliance smooths before any balance or patient sees it;
	 * A, over the whole period, keeps the pump's delivery */
	for (size_t w = 0; w < st->n_obs_windows; w++) {
		rig_ns s_ns = st->sample_interval_ns, p_ns = st->obs_window_ns[w];
		double hi = -INFINITY, lo = INFINITY;

		for (rig_ns t0 = ob->v[mb->i].t_ns; t0 + p_ns <= ob->v[me->i].t_ns; t0 += s_ns) {
			const struct sim_truth *a = truth_at(ob, t0), *z = truth_at(ob, t0 + p_ns);
			double x;

			if (!a || !z)
				return;   /* no snapshot on the grid: no truth to compare */
			x = 100 * ((z->outflow_ml - a->outflow_ml) /
				   (r * (z->t_true_s - a->t_true_s) / 3600) - 1);
			hi = fmax(hi, x);
			lo = fmin(lo, x);
		}
		snprintf(name, sizeof(name), "Ep_max_%gmin", rig_ns_to_s(p_ns) / 60);
		emit(out, "flow", c, name, hi);
		snprintf(name, sizeof(name), "Ep_min_%gmin", rig_ns_to_s(p_ns) / 60);
		emit(out, "flow", c, name, lo);
	}
}

static void compare_occlusion(FILE *out, const struct run_results *res, const struct obs *ob,
			      const struct sequence *seq)
{
	const struct check_result *c = check_of(res, "occlusion");
	const struct valve *closed = NULL, *open = NULL;
	const struct sim_truth *t0, *t1, *s1;
	rig_ns bw = 0;

	for (size_t i = 0; i < ob->n_valves; i++) {
		if (ob->valves[i].closed && !closed)
			closed = &ob->valves[i];
		else if (!ob->valves[i].closed && closed && !open)
			open = &ob->valves[i];
	}
	for (size_t i = 0; i < seq->n_steps; i++)
		if (seq->steps[i].kind == STEP_CHECK && seq->steps[i].check == CHECK_OCCLUSION)
			bw = seq->steps[i].bolus_window_ns;
	if (!c || !closed || !open)
		return;
	t0 = &ob->v[closed->i].tr;
	t1 = &ob->v[open->i].tr;
	emit(out, "occlusion", c, "time_to_alarm", t1->alarm_rise_t_true_s - t0->t_true_s);
	emit(out, "occlusion", c, "pressure_at_alarm", t1->alarm_rise_kpa);
	/* the release lets out what the line held above its flowing state: what
	 * passed the valve over the bolus window less what the pump pumped */
	s1 = truth_at(ob, ob->v[open->i].t_ns + bw);
	if (s1)
		emit(out, "occlusion", c, "released_bolus",
		     (s1->outflow_ml - t1->outflow_ml) - (s1->pumped_ml - t1->pumped_ml));
}

static void compare_battery(FILE *out, const struct run_results *res, const struct obs *ob,
			    const struct bench *b, const struct device *dev)
{
	const struct check_result *c = check_of(res, "battery");
	const struct sim_cfg *s = &b->sim;
	const struct mark *mb, *me;
	double q_stroke, per_ml, q_day, years;

	if (!c || !(mb = mark_of(ob, c->window, true)) || !(me = mark_of(ob, c->window, false)))
		return;
	/* charge per mL: what the strokes in the window drew over what they moved */
	q_stroke = s->stroke_charge_mah;
	per_ml = q_stroke * (double)(ob->v[me->i].tr.strokes - ob->v[mb->i].tr.strokes) /
		 (ob->v[me->i].tr.pumped_ml - ob->v[mb->i].tr.pumped_ml);
	/* the reference regimen over a true day: the quiescent draw and the
	 * strokes the pump makes for the reference rate (its own rate error) */
	q_day = s->quiescent_current_ua * 24 / 1000 +
		q_stroke * dev->reference_rate_ml_per_h * 24 * (1 + s->rate_error_pct / 100) /
			s->stroke_volume_ml;
	years = (dev->battery_capacity_mah / q_day - rig_ns_to_s(dev->replacement_reserve_ns) / 86400) /
		365.25;
	emit(out, "battery", c, "mean_current_idle", s->quiescent_current_ua);
	emit(out, "battery", c, "charge_per_ml", per_ml);
	emit(out, "battery", c, "charge_per_day", q_day);
	emit(out, "battery", c, "years_to_replacement", years);
}

/* Each bolus the pump took is a count of strokes: its volume (times 1 + the
 * pump's bolus error) in whole strokes, whatever the basal rate did beside
 * it; the bolus check must weigh that, the basal it takes away being
 * uncertain by the pump's own accuracy. */
static void compare_bolus(FILE *out, const struct run_results *res, const struct obs *ob,
			  const struct bench *b)
{
	const struct check_result *c = check_of(res, "bolus_accuracy");
	const struct sim_cfg *s = &b->sim;
	double sum = 0, worst_truth = NAN, worst = -1;
	size_t n = 0;
	char name[48];

	if (!c)
		return;
	for (size_t i = 0; i < ob->n_boluses; i++) {
		const struct measurement *m;
		double v = ob->bolus_ml[i];
		double strokes = round(v * (1 + s->bolus_error_pct / 100) / s->stroke_volume_ml);
		double truth = 100 * (strokes * s->stroke_volume_ml - v) / v;

		snprintf(name, sizeof(name), "bolus_%zu_error", i + 1);
		if (!(m = measured(c, name)))
			break;
		emit(out, "bolus", c, name, truth);
		sum += truth;
		n++;
		if (fabs(m->value) > worst) {
			worst = fabs(m->value);
			worst_truth = truth;
		}
	}
	if (n == 0)
		return;
	emit(out, "bolus", c, "bolus_error_worst", worst_truth);
	emit(out, "bolus", c, "bolus_error_mean", sum / (double)n);
}

/* The reservoir: the pump's reading is off the truth by its own error less
 * what the refill truly put in beyond what it was told (the strokes' scatter
 * since, a fraction of a uL, is left out); at each alarm the reservoir truly
 * held what the model held then. */
static void compare_reservoir(FILE *out, const struct run_results *res, const struct obs *ob,
			      const struct bench *b, const struct device *dev)
{
	const struct check_result *c = check_of(res, "reservoir");
	const struct sim_cfg *s = &b->sim;
	double reading = s->reservoir_error_ml - s->refill_error_ml;

	if (!c || ob->refill_i == SIZE_MAX)
		return;
	emit(out, "reservoir", c, "reading_error_after_refill", reading);
	emit(out, "reservoir", c, "reading_error_worst", reading);
	if (ob->low_i != SIZE_MAX)
		emit(out, "reservoir", c, "low_alarm_volume_error",
		     ob->v[ob->low_i].tr.reservoir_ml - dev->low_alarm_ml);
	if (ob->empty_i != SIZE_MAX)
		emit(out, "reservoir", c, "empty_alarm_volume", ob->v[ob->empty_i].tr.reservoir_ml);
}

/* -------------------------------------------------------------- runs -- */

static const struct {
	unsigned bit;
	const char *file, *label;
} seq_defs[] = {
	{ COV_DOSE_MIN, "sequences/dose-accuracy-min.cfg", "dose_min" },
	{ COV_DOSE_NOMINAL, "sequences/dose-accuracy.cfg", "dose_nominal" },
	{ COV_DOSE_MAX, "sequences/dose-accuracy-max.cfg", "dose_max" },
	{ COV_FLOW, "sequences/trumpet.cfg", "flow" },
	{ COV_OCCLUSION, "sequences/occlusion.cfg", "occlusion" },
	{ COV_BATTERY, "sequences/battery.cfg", "battery" },
	{ COV_BOLUS, "sequences/bolus.cfg", "bolus" },
	{ COV_RESERVOIR, "sequences/reservoir.cfg", "reservoir" },
};
#define N_SEQ (sizeof(seq_defs) / sizeof(seq_defs[0]))

struct loaded {
	struct sequence *seq[N_SEQ];
	struct bench *bench;
	struct device *dev;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void run_one(const struct cov_opts *o, const struct loaded *ld, size_t k, unsigned run,
		    FILE *out)
{
	static volatile sig_atomic_t never;
	struct bench *b = malloc(sizeof(*b));
	char dir[] = "/tmp/pumprig-coverage-XXXXXX", run_dir[sizeof(dir) + 8], err[1024];
	struct obs ob = { .rate_ml_per_h = 0, .refill_i = SIZE_MAX, .low_i = SIZE_MAX,
			  .empty_i = SIZE_MAX };
	struct run_results *res = NULL;
	char *argv[] = { "bench_coverage", NULL };
	int r;

	if (!b || !mkdtemp(dir)) {
		fprintf(out, "F\t%s\tcannot make a scratch directory\n", seq_defs[k].label);
		free(b);
		return;
	}
	memcpy(b, ld->bench, sizeof(*b));
	draw_errors(ld->bench, b, o->seed + run);
	if (o->no_linearity)
		b->sim.scale_linearity_g = 0;
	{
		/* a pump as a bench meets one: its rate off by anything within its
		 * accuracy tolerance.  The budgets that take a programmed basal
		 * away (a bolus's, the released bolus's) name that error; and the
		 * strokes then fall at no fixed phase against the balance's
		 * readings, so a line-content term is tested, not cancelled by a
		 * phase the sequence happens to fix */
		struct draw g = { (o->seed + run) * UINT64_C(0x9E3779B97F4A7C15) + 101 };

		b->sim.rate_error_pct = ld->dev->accuracy_tolerance_pct * (2 * draw_uniform(&g) - 1);
	}
	if (seq_defs[k].bit == COV_RESERVOIR) {
		/* the refill's weighing within its stated uncertainty; the pump's
		 * own reading off by anything within +-0.3 mL */
		struct draw g = { (o->seed + run) * UINT64_C(0x9E3779B97F4A7C15) + 211 };
		double mass_u = 0;

		for (size_t i = 0; i < ld->seq[k]->n_steps; i++)
			if (ld->seq[k]->steps[i].kind == STEP_REFILL)
				mass_u = ld->seq[k]->steps[i].mass_u_g;
		b->sim.refill_error_ml = mass_u * ld->bench->ml_per_g * draw_gauss(&g);
		b->sim.reservoir_error_ml = 0.3 * (2 * draw_uniform(&g) - 1);
	}
	fprintf(out, "D\t%s\trun %u (seed %llu): water %.3f degC, air %.4f kg/m3, evaporation "
		"%.4f mg/h, balance span %+.2e, drift %+.4f mg/h, flow %+.5f mL/h %+.3f %%, "
		"pressure %+.3f kPa %+.3f %%, current %+.3f uA %+.3f %%, clock %+.1f ppm\n",
		seq_defs[k].label, run, (unsigned long long)(o->seed + run), b->sim.fluid_temperature_c,
		b->sim.air_density_g_per_ml * 1e3, b->sim.evaporation_g_per_h * 1e3,
		b->sim.scale_span_rel, b->sim.scale_drift_g_per_h * 1e3, b->sim.flow_offset_ml_per_h,
		b->sim.flow_gain_rel * 100, b->sim.pressure_offset_kpa, b->sim.pressure_gain_rel * 100,
		b->sim.current_offset_ua, b->sim.current_gain_rel * 100, b->sim.clock_error_rel * 1e6);
	if (o->no_alarm_line)
		b->instrument[ROLE_ALARM].present = false;
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	r = rundir_create(run_dir, ld->seq[k], b, ld->dev, 1, argv, true, err, sizeof(err));
	if (r == 0)
		r = engine_run(&(struct engine_opts){ .seq = ld->seq[k], .bench = b, .dev = ld->dev,
						      .run_dir = run_dir, .virtual_time = true,
						      .stop_signal = &never, .observe = observe,
						      .observe_ctx = &ob },
			       err, sizeof(err));
	if (r == 0)
		r = results_analyse(run_dir, &res, err, sizeof(err));
	if (r < 0 || ob.oom || res->status != RUN_COMPLETED) {
		fprintf(out, "F\t%s\trun %u: %s\n", seq_defs[k].label, run,
			r < 0 ? err : ob.oom ? "out of memory" : res->end_reason);
	} else {
		switch (seq_defs[k].bit) {
		case COV_FLOW: compare_flow(out, res, &ob, ld->seq[k]); break;
		case COV_OCCLUSION: compare_occlusion(out, res, &ob, ld->seq[k]); break;
		case COV_BATTERY: compare_battery(out, res, &ob, b, ld->dev); break;
		case COV_BOLUS: compare_bolus(out, res, &ob, b); break;
		case COV_RESERVOIR: compare_reservoir(out, res, &ob, b, ld->dev); break;
		default: compare_dose(out, seq_defs[k].label, res, &ob, b); break;
		}
	}
	results_free(res);
	free(ob.v);
	free(b);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int load(const struct cov_opts *o, struct loaded *ld, char *err, size_t err_len)
{
	struct diag_list diags = { 0 };
	char path[RIG_PATH_MAX];
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", o->src_dir, o->bench_path ? o->bench_path :
		 "fixtures/bench/sim.cfg");
	if (o->bench_path && o->bench_path[0] == '/')
		snprintf(path, sizeof(path), "%s", o->bench_path);
	r = bench_load(path, &ld->bench, &diags);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/%s", o->src_dir, o->dut_path ? o->dut_path :
			 "fixtures/dut/itp-40.cfg");
		if (o->dut_path && o->dut_path[0] == '/')
			snprintf(path, sizeof(path), "%s", o->dut_path);
		r = device_load(path, &ld->dev, &diags);
	}
	for (size_t k = 0; r == 0 && k < N_SEQ; k++) {
		if (!(o->sequences & seq_defs[k].bit))
			continue;
		snprintf(path, sizeof(path), "%s/%s", o->src_dir, seq_defs[k].file);
		r = seq_load(path, &ld->seq[k], &diags);
	}
	if (r < 0)
		snprintf(err, err_len, "%s", diags.n ? diags.items[0].msg : strerror(-r));
	diag_clear(&diags);
	return r;
}

static void unload(struct loaded *ld)
{
	for (size_t k = 0; k < N_SEQ; k++)
		seq_free(ld->seq[k]);
	bench_free(ld->bench);
	device_free(ld->dev);
}

/* ------------------------------------------------------- the report -- */

static struct cov_stat *stat_of(struct cov_report *r, const char *check, const char *name,
				const char *unit)
{
	struct cov_stat *v;

	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->stats[i].check, check) && !strcmp(r->stats[i].name, name))
			return &r->stats[i];
	v = realloc(r->stats, (r->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	r->stats = v;
	v = &r->stats[r->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->check, sizeof(v->check), "%s", check);
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->unit, sizeof(v->unit), "%s", unit);
	return v;
}

static void take_line(struct cov_report *rep, char *line, FILE *verbose)
{
	char *f[7], *save = NULL, *p = line;
	size_t n = 0;

	line[strcspn(line, "\n")] = '\0';
	if (line[0] == 'D') {
		if (verbose)
			fprintf(verbose, "%s\n", line + 2);
		return;
	}
	if (line[0] == 'F') {
		rep->failed++;
		if (!rep->first_failure[0])
			snprintf(rep->first_failure, sizeof(rep->first_failure), "%s", line + 2);
		return;
	}
	while (n < 7 && (f[n] = strtok_r(p, "\t", &save))) {
		n++;
		p = NULL;
	}
	if (n == 7 && f[0][0] == 'M') {
		double value = strtod(f[4], NULL), u = strtod(f[5], NULL), truth = strtod(f[6], NULL);
		struct cov_stat *s = stat_of(rep, f[1], f[2], f[3]);
		double err = value - truth;

		if (verbose)
			fprintf(verbose, "%-13s %-26s measured %-14.8g U %-12.6g truth %-14.8g %s\n",
				f[1], f[2], value, u, truth,
				!isfinite(u) ? "(no U)" : fabs(err) <= u ? "covered" : "NOT COVERED");
		if (!s || !isfinite(u) || !(u > 0))
			return;
		s->n++;
		s->covered += fabs(err) <= u;
		s->sum_z += err / (u / 2);
		s->sum_z2 += (err / (u / 2)) * (err / (u / 2));
		s->max_ratio = fmax(s->max_ratio, fabs(err) / u);
	}
}

int cov_run(const struct cov_opts *o, struct cov_report *ret, char *err, size_t err_len)
{
	struct loaded ld = { 0 };
	unsigned jobs = o->jobs ? o->jobs : 1;
	char tmpl[] = "/tmp/pumprig-coverage-out-XXXXXX";
	pid_t *pids;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->runs = o->runs;
	r = load(o, &ld, err, err_len);
	if (r < 0) {
		unload(&ld);
		return r;
	}
	if (!mkdtemp(tmpl) || !(pids = calloc(jobs, sizeof(*pids)))) {
		snprintf(err, err_len, "cannot make a scratch directory");
		unload(&ld);
		return -errno;
	}
	fflush(NULL);
	for (unsigned j = 0; j < jobs; j++) {
		pids[j] = fork();
		if (pids[j] == 0) {
			char path[sizeof(tmpl) + 16];
			FILE *out;

			snprintf(path, sizeof(path), "%s/%u", tmpl, j);
			out = fopen(path, "w");
			if (!out)
				_exit(2);
			for (unsigned run = j; run < o->runs; run += jobs)
				for (size_t k = 0; k < N_SEQ; k++)
					if (o->sequences & seq_defs[k].bit)
						run_one(o, &ld, k, run, out);
			_exit(fclose(out) == 0 ? 0 : 2);
		}
	}
	for (unsigned j = 0; j < jobs; j++) {
		int status = 0;

		if (pids[j] > 0)
			waitpid(pids[j], &status, 0);
		if (pids[j] < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			ret->failed++;
			snprintf(ret->first_failure, sizeof(ret->first_failure),
				 "worker %u did not finish", j);
		}
	}
	for (unsigned j = 0; j < jobs; j++) {
		char path[sizeof(tmpl) + 16], *line = NULL;
		size_t cap = 0;
		FILE *in;

		snprintf(path, sizeof(path), "%s/%u", tmpl, j);
		in = fopen(path, "r");
		while (in && getline(&line, &cap, in) > 0)
			take_line(ret, line, o->verbose);
		if (in)
			fclose(in);
		free(line);
		remove(path);
	}
	remove(tmpl);
	free(pids);
	unload(&ld);
	return 0;
}

void cov_report_free(struct cov_report *r)
{
	free(r->stats);
	r->stats = NULL;
	r->n = 0;
}

const struct cov_stat *cov_find(const struct cov_report *r, const char *check, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->stats[i].check, check) && !strcmp(r->stats[i].name, name))
			return &r->stats[i];
	return NULL;
}

double cov_coverage_pct(const struct cov_stat *s)
{
	return s->n ? 100.0 * s->covered / s->n : NAN;
}

double cov_binomial_sd_pct(const struct cov_stat *s)
{
	double p = s->n ? (double)s->covered / s->n : 0;

	/* never 0: at p = 1 the spread of a 95 % process is what matters */
	p = fmin(fmax(p, 0.5 / fmax(s->n, 1)), 1 - 0.5 / fmax(s->n, 1));
	return s->n ? 100 * sqrt(p * (1 - p) / s->n) : NAN;
}

void cov_print(const struct cov_report *r, FILE *out)
{
	fprintf(out, "%-13s %-26s %5s %7s %9s %7s %8s %8s  %s\n", "check", "measurement", "runs",
		"covered", "coverage", "+-sd", "rms z", "max e/U", "U (k = 2) is");
	for (size_t i = 0; i < r->n; i++) {
		const struct cov_stat *s = &r->stats[i];
		double c = cov_coverage_pct(s);

		if (s->n == 0) {
			fprintf(out, "%-13s %-26s %5s  no U stated: a figure for the record, not judged\n",
				s->check, s->name, "-");
			continue;
		}
		fprintf(out, "%-13s %-26s %5u %7u %8.1f%% %6.1f%% %8.2f %8.2f  %s\n", s->check, s->name,
			s->n, s->covered, c, cov_binomial_sd_pct(s), sqrt(s->sum_z2 / s->n),
			s->max_ratio, c < 92 ? "too small" : c > 98 ? "too wide" : "right (95 +- 3 %)");
	}
	if (r->failed)
		fprintf(out, "%u run(s) did not complete; the first: %s\n", r->failed, r->first_failure);
}
