/* What a check records: its measurements and their limits, the instrument
 * events it notices, and the noise of the readings it uses. */
#include "check.h"
#include "rig/base/text.h"
#include "rig/analysis/uncertainty.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "pass";
	case VERDICT_FAIL: return "fail";
	default: return "inconclusive";
	}
}

const char *run_status_name(enum run_status s)
{
	switch (s) {
	case RUN_COMPLETED: return "completed";
	case RUN_ABORTED: return "aborted";
	default: return "interrupted";
	}
}

struct measurement *check_measure(struct check_result *c, const char *name, double value,
				  double u_expanded, const char *unit)
{
	struct measurement *m;

	if (c->n_m >= CHECK_MEASUREMENTS_MAX)
		return NULL;
	m = &c->m[c->n_m++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->value = value;
	m->u_expanded = u_expanded;
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
	m->verdict = VERDICT_INCONCLUSIVE;
	return m;
}

void measure_limit(struct measurement *m, double low, double high)
{
	if (!m)
		return;
	m->has_limit = true;
	m->limit_low = low;
	m->limit_high = high;
	m->verdict = isfinite(m->value) && m->value >= low && m->value <= high ? VERDICT_PASS
									   : VERDICT_FAIL;
}

void results_event(struct run_results *res, rig_ns t_ns, const char *role, const char *kind,
		   const char *fmt, ...)
{
	struct instrument_event *ev;
	va_list ap;

	if (res->n_events >= INSTRUMENT_EVENTS_MAX) {
		res->n_events_dropped++;
		return;
	}
	ev = &res->events[res->n_events++];
	ev->t_ns = t_ns;
	snprintf(ev->role, sizeof(ev->role), "%s", role);
	snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(ev->description, sizeof(ev->description), fmt, ap);
	va_end(ap);
	text_trim_partial(ev->description);   /* cut short, still UTF-8 for results.json */
}

void check_criterion(struct check_result *c, const char *requirement, const char *fmt, ...)
{
	struct criterion *k;
	va_list ap;

	if (c->n_more >= CHECK_CRITERIA_MAX)
		return;
	k = &c->more[c->n_more++];
	snprintf(k->requirement, sizeof(k->requirement), "%s", requirement);
	va_start(ap, fmt);
	vsnprintf(k->text, sizeof(k->text), fmt, ap);
	va_end(ap);
}

void budget_add(struct check_result *c, const char *quantity, const char *term, double u,
		const char *unit, const char *fmt, ...)
{
	struct budget_term *b;
	va_list ap;
	int n;

	if (c->n_budget >= BUDGET_TERMS_MAX)
		return;
	b = &c->budget[c->n_budget++];
	snprintf(b->quantity, sizeof(b->quantity), "%s", quantity);
	snprintf(b->term, sizeof(b->term), "%s", term);
	b->u = u;
	snprintf(b->unit, sizeof(b->unit), "%s", unit);
	va_start(ap, fmt);
	n = vsnprintf(b->source, sizeof(b->source), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(b->source)) {   /* never cut unseen: BUDGET_SOURCE_MAX is too small */
		b->source[sizeof(b->source) - 4] = '\0';
		text_trim_partial(b->source);
		strcat(b->source, "...");
	}
}

double budget_u(const struct check_result *c, const char *quantity)
{
	double sum = 0;

	for (size_t i = 0; i < c->n_budget; i++)
		if (strcmp(c->budget[i].quantity, quantity) == 0)
			sum += c->budget[i].u * c->budget[i].u;
	return sqrt(sum);
}

void accuracy_limits(const struct analysis_ctx *ax, struct check_result *c,
		     const struct step *s, const char *quantity)
{
	const struct device *dev = ax->dev;
	bool flow = s->check == CHECK_FLOW_ACCURACY && dev->has_flow;
	double tol = s->tolerance_pct > 0 ? s->tolerance_pct :
		     flow ? dev->flow_tolerance_pct : dev->accuracy_tolerance_pct;

	snprintf(c->requirement, sizeof(c->requirement), "%s",
		 s->requirement[0] ? s->requirement :
		 flow ? dev->flow_requirement : dev->accuracy_requirement);
	c->limit_low = -tol;
	c->limit_high = tol;
	snprintf(c->unit, sizeof(c->unit), "%%");
	snprintf(c->criterion, sizeof(c->criterion), "%s <= %.3g %% (%s)", quantity, tol,
		 s->tolerance_pct > 0 ? "sequence" :
		 flow ? "device flow_accuracy.tolerance" : "device accuracy.tolerance");
}

bool window_incomplete(struct check_result *c)
{
	if (c->t_end_ns > c->t_begin_ns)
		return false;
	snprintf(c->explanation, sizeof(c->explanation),
		 "window \"%s\" was not completed before the run ended", c->window);
	return true;
}

double reading_noise_g(const struct analysis_ctx *ax, const struct noise_est *ne)
{
	return noise_count(&ax->stopped_noise) >= STOPPED_NOISE_MIN ? noise_sigma(&ax->stopped_noise)
								     : noise_sigma(ne);
}

const char *reading_noise_source(const struct analysis_ctx *ax)
{
	return noise_count(&ax->stopped_noise) >= STOPPED_NOISE_MIN ?
	       "the reading noise with the pump stopped" : "the window's reading noise";
}

/* reading_u_g's terms with noise sigma and the line's content where the
 * noise does not hold it (hold_line false). */
static double reading_u_with(const struct analysis_ctx *ax, double sigma, bool line_in_noise,
			     double rate_ml_per_h)
{
	double u2 = sigma * sigma;
	double s = ax->dev->stroke_volume_ml;
	rig_ns period = ax->bench->instrument[ROLE_SCALE].period_ns;

	/* what the line holds at the reading's instant, between strokes: a
	 * noise measured with the pump stopped does not hold it; the window's
	 * own does for strokes faster than the readings */
	if (s > 0 && rate_ml_per_h > 0 &&
	    (!line_in_noise || s / rate_ml_per_h * 3600 > rig_ns_to_s(period))) {
		double v = line_content_var(s, s / rate_ml_per_h * 3600,
					    rig_ns_to_s(ax->bench->line_time_constant_ns));

		u2 += v / (ax->ml_per_g * ax->ml_per_g);
	}
	return sqrt(u2);
}

double reading_cal_pair_u_g(const struct analysis_ctx *ax, double load_diff_g)
{
	double apart = M_SQRT2 * ax->u_read_cal_g;

	return ax->u_rel_span > 0 ? fmin(apart, ax->u_rel_span * fabs(load_diff_g)) : apart;
}

double reading_pair_u_g(const struct analysis_ctx *ax, const struct noise_est *ne,
			double rate0_ml_per_h, double rate1_ml_per_h, double load_diff_g)
{
	double u0 = reading_u_g(ax, ne, rate0_ml_per_h), u1 = reading_u_g(ax, ne, rate1_ml_per_h);
	double uc = reading_cal_pair_u_g(ax, load_diff_g);

	return sqrt(u0 * u0 + u1 * u1 + uc * uc);
}

double reading_u_g(const struct analysis_ctx *ax, const struct noise_est *ne,
		   double rate_ml_per_h)
{
	bool stopped = noise_count(&ax->stopped_noise) >= STOPPED_NOISE_MIN;

	return reading_u_with(ax, reading_noise_g(ax, ne), !stopped, rate_ml_per_h);
}

double reading_u_window_g(const struct analysis_ctx *ax, const struct noise_est *ne,
			  double rate_ml_per_h)
{
	return reading_u_with(ax, noise_sigma(ne), true, rate_ml_per_h);
}

void evaporation_for(struct analysis_ctx *ax, const struct check_result *c, rig_ns t0,
		     rig_ns t1, struct evaporation_used *ret)
{
	const struct run_results *res = ax->res;
	const struct stopped_period *b = NULL, *a = NULL;

	*ret = (struct evaporation_used){ .before = -1, .after = -1 };
	for (size_t k = 0; k < res->n_stopped; k++) {
		const struct stopped_period *p = &res->stopped[k];

		if (!p->fitted)
			continue;
		if (p->end_ns <= t0) {
			b = p;
			ret->before = (int)k;
		} else if (p->begin_ns >= t1 && !a) {
			a = p;
			ret->after = (int)k;
		}
	}
	if (b && a) {
		double wb = 1 / (b->u_g_per_h * b->u_g_per_h), wa = 1 / (a->u_g_per_h * a->u_g_per_h);
		double diff = b->loss_g_per_h - a->loss_g_per_h;
		double u_diff = hypot(b->u_g_per_h, a->u_g_per_h);

		ret->e_g_per_h = (wb * b->loss_g_per_h + wa * a->loss_g_per_h) / (wb + wa);
		/* a change between the two of unknown shape: the mean is off by
		 * at most half the difference, rectangular; but only by the part
		 * of the difference that the two fits' own scatter does not
		 * explain (expected diff^2 from noise alone: u_b^2 + u_a^2), or a
		 * constant loss measured twice would be counted as a change */
		ret->u_g_per_h = sqrt(1 / (wb + wa) + fmax(0, diff * diff - u_diff * u_diff) / 12);
		snprintf(ret->source, sizeof(ret->source), "measured with the pump stopped before "
			 "(%.4f mg/h) and after (%.4f mg/h) the window", b->loss_g_per_h * 1e3,
			 a->loss_g_per_h * 1e3);
		if (fabs(diff) > 3 * u_diff)
			results_event(ax->res, t1, "scale", "stopped_loss_changed",
				      "with the pump stopped the balance lost %.4f +- %.4f mg/h before "
				      "window \"%s\" and %.4f +- %.4f mg/h after it: they differ by more "
				      "than three standard uncertainties, so the balance's drift or the "
				      "evaporation changed during the delivery; their mean is added back, "
				      "its uncertainty widened by the difference", b->loss_g_per_h * 1e3,
				      b->u_g_per_h * 1e3, c->window, a->loss_g_per_h * 1e3,
				      a->u_g_per_h * 1e3);
	} else if (b || a) {
		const struct stopped_period *p = b ? b : a;

		ret->e_g_per_h = p->loss_g_per_h;
		ret->u_g_per_h = p->u_g_per_h;
		snprintf(ret->source, sizeof(ret->source), "measured with the pump stopped %s the "
			 "window only", b ? "before" : "after");
	} else {
		const struct bench *bench = ax->bench;

		ret->e_g_per_h = bench->evaporation_g_per_h;
		ret->u_g_per_h = hypot(bench->evaporation_u_g_per_h,
				       bench->instrument[ROLE_SCALE].cal.drift_u_per_h);
		snprintf(ret->source, sizeof(ret->source), "inputs/bench.cfg fluid."
			 "evaporation_correction (uncertainty: fluid.evaporation_uncertainty and "
			 "the scale's calibration.drift_uncertainty); not measured around the window");
	}
}

void evaporation_measure(struct check_result *c, const struct analysis_ctx *ax,
			 const struct evaporation_used *ev)
{
	static const char *const names[2] = { "evaporation_before", "evaporation_after" };
	int idx[2] = { ev->before, ev->after };
	struct measurement *m;

	for (int i = 0; i < 2; i++) {
		const struct stopped_period *p;

		if (idx[i] < 0)
			continue;
		p = &ax->res->stopped[idx[i]];
		m = check_measure(c, names[i], p->loss_g_per_h * 1e3, 2 * p->u_g_per_h * 1e3, "mg/h");
		if (m)
			snprintf(m->source, sizeof(m->source), "least-squares slope of %zu settled "
				 "balance readings from t = %.0f s to %.0f s, pump stopped (the "
				 "evaporation and the balance's drift together)", p->n_readings,
				 rig_ns_to_s(p->begin_ns), rig_ns_to_s(p->end_ns));
	}
	m = check_measure(c, "evaporation", ev->e_g_per_h * 1e3, 2 * ev->u_g_per_h * 1e3, "mg/h");
	if (m)
		snprintf(m->source, sizeof(m->source), "added back: %s", ev->source);
}
