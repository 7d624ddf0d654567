/* Cross-file validation of a sequence against a bench and a device: see
 * plan_validate() in config.h.  Problems are reported at the sequence's lines
 * because that is where a user changes the plan. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void plan_error(struct diag_list *diags, const struct sequence *seq, const struct step *st,
		       int *errors, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(diags, seq->path, st ? st->line : 0, "%s", msg);
	(*errors)++;
}

/* The instrument roles a step cannot run without. */
static unsigned step_roles(const struct step *st)
{
	switch (st->kind) {
	case STEP_PRIME:
	case STEP_SET_RATE:
	case STEP_BOLUS:
	case STEP_REFILL:
	case STEP_STOP: return 1u << ROLE_PUMP;
	case STEP_TARE:
	case STEP_MEASURE_EVAPORATION: return 1u << ROLE_SCALE;
	case STEP_OCCLUDE:
	case STEP_RELEASE: return 1u << ROLE_VALVE;
	case STEP_CHECK:
		switch (st->check) {
		case CHECK_DOSE_ACCURACY:
		case CHECK_BOLUS_ACCURACY:
		case CHECK_FLOW_ACCURACY: return 1u << ROLE_SCALE;
		case CHECK_OCCLUSION: return 1u << ROLE_SCALE | 1u << ROLE_PRESSURE | 1u << ROLE_VALVE;
		case CHECK_BATTERY: return 1u << ROLE_POWER;
		case CHECK_RESERVOIR: return 1u << ROLE_SCALE | 1u << ROLE_PUMP;
		default: return 0;
		}
	default: return 0;
	}
}

struct window_state {
	const char *name;
	const struct step *begin, *end;
	size_t begin_i, end_i;
	double rate_at_begin_ml_per_h;   /* basal rate programmed when it begins */
};

/* The basal rate programmed before step i (0 when stopped or never set). */
static double rate_before(const struct sequence *seq, size_t i)
{
	double rate = 0;

	for (size_t k = 0; k < i; k++) {
		if (seq->steps[k].kind == STEP_SET_RATE)
			rate = seq->steps[k].rate_ml_per_h;
		else if (seq->steps[k].kind == STEP_STOP)
			rate = 0;
	}
	return rate;
}

static void words_duration(rig_ns t, char *buf, size_t len);

rig_ns line_time_constant_ns(const struct bench *bench)
{
	return bench->line_time_constant_ns > 0 ? bench->line_time_constant_ns : 6 * RIG_NS_PER_S;
}

rig_ns bolus_settle_ns(const struct bench *bench)
{
	return 10 * line_time_constant_ns(bench) + 2 * bench->instrument[ROLE_SCALE].period_ns;
}

/* A bolus_accuracy window: the device states the bolus tolerance, the window
 * holds a bolus, and after each bolus the balance is given time to hold all
 * of it before the next bolus asked for or the window's end. */
static void check_bolus_window(struct diag_list *diags, const struct sequence *seq,
			       const struct bench *bench, const struct device *dev,
			       const struct step *st, const struct window_state *w, int *errors)
{
	rig_ns settle = bolus_settle_ns(bench), held = -1;
	const struct step *last = NULL;
	size_t n = 0;

	if (!(dev->bolus_tolerance_pct > 0))
		plan_error(diags, seq, st, errors, "a bolus_accuracy check needs the bolus "
			   "tolerance; %s states none: add tolerance = \"5 %%\" and requirement = "
			   "\"...\" to its bolus group", dev->path);
	for (size_t k = w->begin_i + 1; k <= w->end_i; k++) {
		const struct step *s = &seq->steps[k];

		if (s->kind == STEP_BOLUS || k == w->end_i) {
			if (last && held < settle) {
				char need[48];

				words_duration(settle, need, sizeof(need));
				plan_error(diags, seq, last, errors, "this bolus is followed by %.6g s "
					   "of hold before the next bolus or the end of window '%s'; "
					   "the balance needs %s after a bolus to hold all of it (ten "
					   "of the bench's line_time_constant and two balance "
					   "readings): add a hold of at least that", rig_ns_to_s(held),
					   w->name, need);
			}
			if (s->kind == STEP_BOLUS) {
				last = s;
				held = 0;
				n++;
			}
		} else if (s->kind == STEP_HOLD && held >= 0) {
			held += s->duration_ns;
		}
	}
	if (n == 0)
		plan_error(diags, seq, st, errors, "window '%s' holds no bolus step; a "
			   "bolus_accuracy check weighs the boluses asked for inside its window",
			   w->name);
	if (n > BOLUS_CHECK_MAX)
		plan_error(diags, seq, st, errors, "window '%s' holds %zu bolus steps; a "
			   "bolus_accuracy check weighs at most %d: split it into windows of at most "
			   "%d, each with its own check", w->name, n, BOLUS_CHECK_MAX, BOLUS_CHECK_MAX);
	if (st->requirement[0] && dev->lockout_requirement[0] &&
	    strcasecmp(st->requirement, dev->lockout_requirement) == 0)
		plan_error(diags, seq, st, errors, "requirement = \"%s\" is the device's "
			   "bolus.lockout_requirement, which this check judges by the lockout; the "
			   "bolus tolerance needs its own id (each requirement has one criterion)",
			   st->requirement);
}

/* The volume a refill puts in: what the engine tells the pump (do_refill). */
static double refill_volume_ml(const struct bench *bench, const struct step *st)
{
	return st->mass_g * bench->ml_per_g;
}

/* A reservoir window: the device states the reservoir's spec (its refill
 * group), the window holds one refill, and after it programs enough basal
 * delivery, through the timed steps, for the pump to reach its empty alarm
 * even running at the low end of its accuracy. */
static void check_reservoir_window(struct diag_list *diags, const struct sequence *seq,
				   const struct bench *bench, const struct device *dev,
				   const struct step *st, const struct window_state *w,
				   int *errors)
{
	const struct step *refill = NULL;
	double rate = rate_before(seq, w->begin_i), after = 0, need;
	size_t n = 0;

	if (!dev->has_refill) {
		plan_error(diags, seq, st, errors, "a reservoir check needs the device's reservoir "
			   "spec; %s states none: add a refill group (low_alarm, alarm_tolerance, "
			   "reading_tolerance, requirement, alarm_requirement)", dev->path);
		return;
	}
	if (st->requirement[0] && strcasecmp(st->requirement, dev->alarm_requirement) == 0)
		plan_error(diags, seq, st, errors, "requirement = \"%s\" is the device's "
			   "refill.alarm_requirement, which this check judges the alarms by; the "
			   "reading needs its own id (each requirement has one criterion)",
			   st->requirement);
	for (size_t k = w->begin_i + 1; k < w->end_i; k++) {
		const struct step *s = &seq->steps[k];

		if (s->kind == STEP_REFILL) {
			if (n++ == 0)
				refill = s;
			else
				plan_error(diags, seq, s, errors, "window '%s' holds a second refill "
					   "(the first at line %d); a reservoir check follows one refill "
					   "to empty: give each refill its own window", w->name,
					   refill->line);
		} else if (s->kind == STEP_SET_RATE) {
			rate = s->rate_ml_per_h;
		} else if (s->kind == STEP_STOP) {
			rate = 0;
		} else if (refill && (s->kind == STEP_HOLD || s->kind == STEP_MEASURE_EVAPORATION)) {
			after += rate * rig_ns_to_s(s->duration_ns) / 3600;
		}
	}
	if (!refill) {
		plan_error(diags, seq, st, errors, "window '%s' holds no refill step; a reservoir "
			   "check follows the reservoir from a refill inside its window to empty",
			   w->name);
		return;
	}
	need = refill_volume_ml(bench, refill) / (1 - dev->accuracy_tolerance_pct / 100);
	if (after < need * (1 - 1e-9))
		plan_error(diags, seq, st, errors, "window '%s' programs %.6g mL of basal delivery "
			   "after its refill of %.6g mL (line %d); the pump must reach its empty alarm "
			   "inside the window even at the low end of its accuracy (%.3g %%): allowed: "
			   "holds at a set rate that deliver at least %.6g mL after the refill",
			   w->name, after, refill_volume_ml(bench, refill), refill->line,
			   dev->accuracy_tolerance_pct, need);
}

/* A flow analysis needs one steady rate through its window, and intervals and
 * windows that hold whole pump strokes, or pulsatile delivery shows up as
 * artefacts in the curves. */
static void check_flow_window(struct diag_list *diags, const struct sequence *seq,
			      const struct device *dev, const struct step *st,
			      const struct window_state *w, int *errors)
{
	double rate = w->rate_at_begin_ml_per_h, cycle_s;

	/* the check's own requirement may not be one it judges Ep by */
	for (int k = 0; k < 2 && st->requirement[0]; k++) {
		const char *other = k ? dev->ep_min_requirement : dev->ep_max_requirement;

		if (other[0] && (k ? dev->has_ep_min : dev->has_ep_max) &&
		    strcasecmp(st->requirement, other) == 0)
			plan_error(diags, seq, st, errors, "requirement = \"%s\" is the device's "
				   "flow_accuracy.%s, which this check judges Ep(%s) by; the mean error "
				   "A needs its own id (each requirement has one criterion)",
				   st->requirement, k ? "ep_min_requirement" : "ep_max_requirement",
				   k ? "min" : "max");
	}
	if (!(rate > 0)) {
		plan_error(diags, seq, st, errors, "window '%s' begins with no basal rate set; "
			   "flow_accuracy needs a set_rate before the window", w->name);
		return;
	}
	for (size_t k = w->begin_i + 1; k < w->end_i; k++) {
		enum step_kind kind = seq->steps[k].kind;

		if (kind == STEP_SET_RATE || kind == STEP_STOP || kind == STEP_BOLUS ||
		    kind == STEP_PRIME || kind == STEP_OCCLUDE) {
			plan_error(diags, seq, st, errors, "window '%s' holds a %s step (line %d); "
				   "flow_accuracy needs one steady rate through its window",
				   w->name, step_kind_name(kind), seq->steps[k].line);
			return;
		}
	}
	if (!(dev->stroke_volume_ml > 0))
		return;
	cycle_s = dev->stroke_volume_ml / rate * 3600;
	for (size_t k = 0; k <= st->n_obs_windows; k++) {
		rig_ns len = k == 0 ? st->sample_interval_ns : st->obs_window_ns[k - 1];
		double cycles = rig_ns_to_s(len) / cycle_s;

		if (fabs(cycles - round(cycles)) > 1e-6 * cycles || round(cycles) < 1) {
			plan_error(diags, seq, st, errors, "%s %.6g s is not a whole number of pump "
				   "strokes (one every %.6g s at %.6g mL/h with the device's %.6g uL "
				   "stroke); allowed: multiples of %.6g s", k == 0 ? "sample_interval" :
				   "observation window", rig_ns_to_s(len), cycle_s, rate,
				   dev->stroke_volume_ml * 1e3, cycle_s);
			return;
		}
	}
}

/* "2.5 h", "90 min", "45 s": a duration as a person reads it. */
static void words_duration(rig_ns t, char *buf, size_t len)
{
	double s = rig_ns_to_s(t);

	/* in a unit that holds it whole where one does ("110 s", not
	 * "1.83333 min") */
	if (s >= 3600 && fmod(s, 360) == 0)
		snprintf(buf, len, "%.6g h", s / 3600);
	else if (s >= 60 && fmod(s, 6) == 0)
		snprintf(buf, len, "%.6g min", s / 60);
	else
		snprintf(buf, len, "%.6g s", s);
}

/* What the plan certainly asks of the bench, summed step by step and refused
 * at the step where a sum first passes a limit the run would stop at.
 *
 * Time: only what rig's own clock times counts (hold, measure_evaporation,
 * occlude for a duration, release's duration).  A prime, a bolus, a tare
 * and an occlusion until the alarm wait for the pump or the balance: they
 * take some time more, never less, so the sum is the run's shortest length.
 *
 * Volume: what the plan programs the pump to deliver through an open line:
 * every prime and bolus, and the basal rate over the timed steps while the
 * valve is open.  The basal rate during the waits, and whatever builds up
 * behind a closed valve, come on top; so this too is the least the run
 * delivers from a pump that delivers what it is told.  It is set against
 * the bench's delivered_max (the supervisor's hard cap on what the balance
 * weighs) and against the device's reservoir, filled once at the start:
 * after the prime, what follows must fit in what the prime left. */
/* What a delivery of v takes once a refill of `fill` has been made (fill < 0:
 * none yet): what is left of the fill at most. */
static double from_fill(double fill, double *taken, double v)
{
	if (fill < 0)
		return v;
	if (v > fill - *taken)
		v = fill - *taken > 0 ? fill - *taken : 0;
	*taken += v;
	return v;
}

static void check_totals(struct diag_list *diags, const struct sequence *seq,
			 const struct bench *bench, const struct device *dev, int *errors)
{
	double rate = 0, volume = 0, primed = 0, bolus = 0, basal = 0;
	/* after a refill the pump is meant to run to empty: what it takes is
	 * then at most what the refill put in (fill), and the reservoir is not
	 * overdrawn */
	double fill = -1, taken = 0;
	bool occluded = false, over_time = false, over_cap = false, over_reservoir = false;
	rig_ns t = 0;

	for (size_t i = 0; i < seq->n_steps; i++) {
		const struct step *st = &seq->steps[i];
		rig_ns timed = 0;
		char at[32], max[32];

		switch (st->kind) {
		case STEP_SET_RATE: rate = st->rate_ml_per_h; break;
		case STEP_STOP: rate = 0; break;
		case STEP_PRIME:
		case STEP_BOLUS:
			if (occluded)
				break;   /* held behind the valve: not certain to arrive */
			*(st->kind == STEP_PRIME ? &primed : &bolus) += st->volume_ml;
			volume += from_fill(fill, &taken, st->volume_ml);
			break;
		case STEP_REFILL:
			fill = refill_volume_ml(bench, st);
			taken = 0;
			break;
		case STEP_HOLD:
		case STEP_MEASURE_EVAPORATION: timed = st->duration_ns; break;
		case STEP_OCCLUDE:
			occluded = true;
			if (st->until == OCCLUDE_UNTIL_DURATION)
				timed = st->duration_ns;
			break;
		case STEP_RELEASE:
			occluded = false;
			timed = st->duration_ns;
			break;
		default: break;
		}
		t += timed;
		if (!occluded && rate > 0 && timed > 0) {
			double v = rate * rig_ns_to_s(timed) / 3600;

			basal += v;
			volume += from_fill(fill, &taken, v);
		}
		if (!over_time && t > bench->limit_duration_ns) {
			over_time = true;
			words_duration(t, at, sizeof(at));
			words_duration(bench->limit_duration_ns, max, sizeof(max));
			plan_error(diags, seq, st, errors, "the run is at least %s long by the end of "
				   "this step (the steps rig times itself: hold, measure_evaporation, "
				   "occlude for a duration, release), past the bench's duration_max "
				   "of %s, where the supervisor would abort it (%s); allowed: timed "
				   "steps adding up to at most %s", at, max, bench->path, max);
		}
		/* a single step over a limit is reported by plan_validate */
		if (!over_cap && volume > bench->limit_volume_ml * (1 + 1e-9) &&
		    !(st->volume_ml > bench->limit_volume_ml)) {
			over_cap = true;
			plan_error(diags, seq, st, errors, "the plan delivers at least %.6g mL by the "
				   "end of this step (primes %.6g mL, boluses %.6g mL, basal %.6g mL "
				   "over the timed steps), above the bench's delivered_max of %.6g mL, "
				   "where the supervisor would abort the run (%s); allowed: at most "
				   "%.6g mL in all", volume, primed, bolus, basal,
				   bench->limit_volume_ml, bench->path, bench->limit_volume_ml);
		}
		if (!over_reservoir && fill < 0 && volume > dev->reservoir_ml * (1 + 1e-9) &&
		    !(st->kind == STEP_PRIME && st->volume_ml > dev->reservoir_ml)) {
			over_reservoir = true;
			plan_error(diags, seq, st, errors, "the plan takes at least %.6g mL from the "
				   "pump's reservoir by the end of this step (primes %.6g mL, boluses "
				   "%.6g mL, basal %.6g mL over the timed steps), more than the "
				   "device's reservoir of %.6g mL holds (%s); allowed: at most %.6g mL "
				   "after the prime of %.6g mL", volume, primed, bolus, basal,
				   dev->reservoir_ml, dev->path,
				   dev->reservoir_ml - primed > 0 ? dev->reservoir_ml - primed : 0, primed);
		}
	}
}

rig_ns plan_least_duration_ns(const struct sequence *seq, const struct device *dev)
{
	rig_ns t = 0;

	for (size_t i = 0; i < seq->n_steps; i++) {
		const struct step *st = &seq->steps[i];
		double rate;

		switch (st->kind) {
		case STEP_HOLD:
		case STEP_MEASURE_EVAPORATION:
		case STEP_RELEASE:
			t += st->duration_ns;
			break;
		case STEP_OCCLUDE:
			if (st->until == OCCLUDE_UNTIL_DURATION)
				t += st->duration_ns;
			break;
		case STEP_PRIME:
		case STEP_BOLUS:
			rate = st->rate_ml_per_h > 0 ? st->rate_ml_per_h : dev->bolus_rate_ml_per_h;
			if (rate > 0)
				t += rig_s_to_ns(st->volume_ml / rate * 3600);
			break;
		default:
			break;
		}
	}
	return t;
}

int plan_validate(const struct sequence *seq, const struct bench *bench,
		  const struct device *dev, struct diag_list *diags)
{
	struct window_state *win = calloc(seq->n_steps + 1, sizeof(*win));
	size_t n_win = 0;
	int errors = 0;

	if (!win)
		return -ENOMEM;
	for (size_t i = 0; i < seq->n_steps; i++) {
		const struct step *st = &seq->steps[i];
		unsigned need = step_roles(st);
		double rate_max = dev->rate_max_ml_per_h > dev->bolus_rate_ml_per_h ?
				  dev->rate_max_ml_per_h : dev->bolus_rate_ml_per_h;

		for (int r = 0; r < ROLE__COUNT; r++)
			if ((need & (1u << r)) && !bench->instrument[r].present)
				plan_error(diags, seq, st, &errors, "bench has no '%s' instrument; a "
					   "%s step needs one (add it to bench.instruments in %s)",
					   rig_role_name((enum rig_role)r), step_kind_name(st->kind),
					   bench->path);
		switch (st->kind) {
		case STEP_SET_RATE:
			if (st->rate_ml_per_h < dev->rate_min_ml_per_h * (1 - 1e-9) ||
			    st->rate_ml_per_h > dev->rate_max_ml_per_h * (1 + 1e-9))
				plan_error(diags, seq, st, &errors, "rate %g mL/h is outside the "
					   "device's rate range; allowed %g to %g mL/h (%s)",
					   st->rate_ml_per_h, dev->rate_min_ml_per_h,
					   dev->rate_max_ml_per_h, dev->path);
			break;
		case STEP_PRIME:
		case STEP_BOLUS:
			if (st->rate_ml_per_h > rate_max * (1 + 1e-9))
				plan_error(diags, seq, st, &errors, "rate %g mL/h is outside the "
					   "device's rate range; allowed up to %g mL/h (%s)",
					   st->rate_ml_per_h, rate_max, dev->path);
			if (st->kind == STEP_BOLUS && st->volume_ml > dev->bolus_max_ml * (1 + 1e-9))
				plan_error(diags, seq, st, &errors, "bolus %g mL is above the device's "
					   "maximum bolus; allowed up to %g mL (%s)", st->volume_ml,
					   dev->bolus_max_ml, dev->path);
			if (st->kind == STEP_PRIME && st->volume_ml > dev->reservoir_ml)
				plan_error(diags, seq, st, &errors, "prime volume %g mL is above the "
					   "device's reservoir; allowed up to %g mL (%s)", st->volume_ml,
					   dev->reservoir_ml, dev->path);
			if (st->volume_ml > bench->limit_volume_ml)
				plan_error(diags, seq, st, &errors, "volume %g mL is above the bench's "
					   "delivered_max limit; allowed up to %g mL (%s)", st->volume_ml,
					   bench->limit_volume_ml, bench->path);
			break;
		case STEP_MARK: {
			struct window_state *w = NULL;

			for (size_t k = 0; k < n_win; k++)
				if (strcmp(win[k].name, st->window) == 0)
					w = &win[k];
			if (st->edge == MARK_BEGIN) {
				if (w) {
					plan_error(diags, seq, st, &errors, "window '%s' is begun a second "
						   "time (first at line %d); each window is marked once, "
						   "begin then end", st->window, w->begin ? w->begin->line : 0);
					break;
				}
				win[n_win++] = (struct window_state){ .name = st->window, .begin = st,
					.begin_i = i, .rate_at_begin_ml_per_h = rate_before(seq, i) };
			} else if (!w || !w->begin) {
				plan_error(diags, seq, st, &errors, "window '%s' ends here but never "
					   "begins; mark it with edge = \"begin\" first", st->window);
			} else if (w->end) {
				plan_error(diags, seq, st, &errors, "window '%s' ends a second time "
					   "(first at line %d)", st->window, w->end->line);
			} else {
				w->end = st;
				w->end_i = i;
			}
			break;
		}
		case STEP_REFILL:
			if (refill_volume_ml(bench, st) > dev->reservoir_ml * (1 + 1e-9))
				plan_error(diags, seq, st, &errors, "a refill of %.6g g (%.6g mL of the "
					   "bench's fluid) is more than the device's reservoir holds; "
					   "allowed up to %.6g mL (%s)", st->mass_g,
					   refill_volume_ml(bench, st), dev->reservoir_ml, dev->path);
			break;
		case STEP_MEASURE_EVAPORATION:
			if (rate_before(seq, i) > 0)
				plan_error(diags, seq, st, &errors, "measure_evaporation needs the pump "
					   "stopped; add a stop step before it (a basal rate of %g mL/h is "
					   "set)", rate_before(seq, i));
			break;
		default:
			break;
		}
	}
	check_totals(diags, seq, bench, dev, &errors);
	if (!isnan(seq->fluid_temperature_c) &&
	    fabs(bench->fluid_temperature_c - seq->fluid_temperature_c) > seq->fluid_temperature_tol_k) {
		diag_add(diags, seq->path, seq->fluid_temperature_line,
			 "the sequence is made with the fluid at %g degC (within %g K); bench '%s' "
			 "states its fluid at %g degC (%s, fluid.temperature): run it on a bench at "
			 "that temperature (fixtures/bench/sim-37c.cfg is one at 37 degC)",
			 seq->fluid_temperature_c, seq->fluid_temperature_tol_k, bench->id,
			 bench->fluid_temperature_c, bench->path);
		errors++;
	}
	for (size_t k = 0; k < n_win; k++)
		if (!win[k].end)
			plan_error(diags, seq, win[k].begin, &errors, "window '%s' begins here but "
				   "never ends; add a mark with edge = \"end\"", win[k].name);
	for (size_t i = 0; i < seq->n_steps; i++) {
		const struct step *st = &seq->steps[i];
		bool found = false;

		if (st->kind != STEP_CHECK)
			continue;
		for (size_t k = 0; k < n_win; k++)
			if (strcmp(win[k].name, st->window) == 0 && win[k].end)
				found = true;
		if (found) {
			const struct window_state *w = NULL;

			for (size_t k = 0; k < n_win; k++)
				if (strcmp(win[k].name, st->window) == 0)
					w = &win[k];
			if (st->check == CHECK_FLOW_ACCURACY)
				check_flow_window(diags, seq, dev, st, w, &errors);
			if (st->check == CHECK_BOLUS_ACCURACY)
				check_bolus_window(diags, seq, bench, dev, st, w, &errors);
			if (st->check == CHECK_RESERVOIR)
				check_reservoir_window(diags, seq, bench, dev, st, w, &errors);
			if (st->check == CHECK_OCCLUSION) {
				bool occlude = false, release = false;

				for (size_t k = w->begin_i + 1; k < w->end_i; k++) {
					if (seq->steps[k].kind == STEP_OCCLUDE && !occlude)
						occlude = true;
					else if (seq->steps[k].kind == STEP_RELEASE && occlude)
						release = true;
				}
				if (!occlude || !release)
					plan_error(diags, seq, st, &errors, "window '%s' must hold an "
						   "occlude step followed by a release step for the "
						   "occlusion check", st->window);
			}
			if (st->check == CHECK_FLOW_ACCURACY && st->startup_window[0]) {
				bool marked = false;

				for (size_t k = 0; k < n_win; k++)
					if (strcmp(win[k].name, st->startup_window) == 0 && win[k].end)
						marked = true;
				if (!marked)
					plan_error(diags, seq, st, &errors, "startup_window '%s' is not "
						   "marked (begin and end) in this sequence",
						   st->startup_window);
			}
			continue;
		}
		{
			char names[256] = "";
			size_t len = 0;

			for (size_t k = 0; k < n_win; k++) {
				int w = snprintf(names + len, sizeof(names) - len, "%s%s", k ? ", " : "",
						 win[k].name);
				if (w < 0 || (size_t)w >= sizeof(names) - len)
					break;
				len += (size_t)w;
			}
			plan_error(diags, seq, st, &errors, "window '%s' is not marked (begin and end) "
				   "in this sequence; marked windows: %s", st->window,
				   n_win ? names : "none");
		}
	}
	free(win);
	return errors ? -EINVAL : 0;
}
