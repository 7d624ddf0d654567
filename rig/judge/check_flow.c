/* flow_accuracy: mean error A and the trumpet curve over a marked window,
 * and the start-up curve over another (analysis/flow.h).
 *
 * The flow analysis runs without evaporation while the samples stream past
 * (a measured evaporation rate is known only at the end of the record); the
 * evaporation adds e*f to every Q_i, so every percentage error shifts by the
 * same 100*f*e/r, applied when judging.
 *
 * Uncertainty (k = 2), as dose accuracy's (check_dose.c) over the window:
 * A from the mass change over the whole period: two readings (each with what
 * the line holds then: reading_u_g()), the evaporation over T, and,
 * relative, the volume per gram, the balance's span and rig's time base.
 * Each window of the trumpet curve has the same terms over P; those of the
 * readings and of the line differ from window to window, the others shift
 * every window alike.  Ep(max) and Ep(min) are the extremes of m windows,
 * and the extreme picks up the largest of the window errors that could make
 * it, so their per-window part is expanded by extreme_coverage_factor of
 * the windows near the extreme (flow_windows_near; 3.5 for a
 * hundred windows) instead of 2 (analysis/uncertainty.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rig/analysis/flow.h"
#include "rig/analysis/gravimetric.h"
#include "rig/analysis/uncertainty.h"

struct check_priv {
	struct flow_state *flow, *startup;
	struct flow_cfg flow_cfg, startup_cfg;
	size_t startup_stride, startup_seen;
	size_t n_inside;
	struct noise_est noise;
};

static void on_startup_interval(void *ctx, rig_ns t_ns, double q_ml_per_h)
{
	struct check_state *st = ctx;
	struct check_result *c = st->result;

	if (st->priv->startup_seen++ % st->priv->startup_stride != 0 || c->n_curve >= CURVE_POINTS_MAX)
		return;
	c->curve_t_s[c->n_curve] = rig_ns_to_s(t_ns - st->priv->startup_cfg.t_begin_ns);
	c->curve_q_ml_per_h[c->n_curve] = q_ml_per_h;
	c->n_curve++;
}

static const struct window *find_window(const struct timeline *tl, const char *name)
{
	for (size_t w = 0; w < tl->n_windows; w++)
		if (strcmp(tl->windows[w].name, name) == 0)
			return &tl->windows[w];
	return NULL;
}

static int check_flow_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st)
{
	const struct step *s = st->step;
	const struct window *sw;
	rig_ns scale_period = ax->bench->instrument[ROLE_SCALE].period_ns;
	int r;

	st->priv = calloc(1, sizeof(*st->priv));
	if (!st->priv)
		return -ENOMEM;
	st->result = c;
	accuracy_limits(ax, c, s, "|mean flow error A|");
	if (ax->dev->has_flow && ax->dev->has_ep_max)
		check_criterion(c, ax->dev->ep_max_requirement, "Ep(max) <= %.3g %% in every "
				"observation window (device flow_accuracy.ep_max)", ax->dev->ep_max_pct);
	if (ax->dev->has_flow && ax->dev->has_ep_min)
		check_criterion(c, ax->dev->ep_min_requirement, "Ep(min) >= %.3g %% in every "
				"observation window (device flow_accuracy.ep_min)", ax->dev->ep_min_pct);
	if (c->t_end_ns <= c->t_begin_ns)
		return 0;
	st->priv->flow_cfg = (struct flow_cfg){
		.t_begin_ns = c->t_begin_ns,
		.t_end_ns = c->t_end_ns,
		.sample_interval_ns = s->sample_interval_ns,
		.n_windows = s->n_obs_windows,
		.rate_ml_per_h = timeline_rate_at(ax->tl, c->t_begin_ns),
		.ml_per_g = ax->ml_per_g,
		/* two missed balance readings in a row leave a gap */
		.max_gap_ns = 3 * (scale_period > s->sample_interval_ns ? scale_period
									: s->sample_interval_ns),
	};
	memcpy(st->priv->flow_cfg.window_ns, s->obs_window_ns, sizeof(s->obs_window_ns));
	r = flow_new(&st->priv->flow_cfg, &st->priv->flow);
	if (r == -ENOMEM)
		return r;
	if (s->startup_window[0] && (sw = find_window(ax->tl, s->startup_window)) && sw->begun &&
	    sw->ended && sw->end_ns > sw->begin_ns) {
		size_t n = (size_t)((sw->end_ns - sw->begin_ns) / s->sample_interval_ns);

		st->priv->startup_cfg = st->priv->flow_cfg;
		st->priv->startup_cfg.t_begin_ns = sw->begin_ns;
		st->priv->startup_cfg.t_end_ns = sw->end_ns;
		st->priv->startup_cfg.n_windows = 0;
		st->priv->startup_cfg.on_interval = on_startup_interval;
		st->priv->startup_cfg.ctx = st;
		st->priv->startup_stride = n / CURVE_POINTS_MAX + 1;
		r = flow_new(&st->priv->startup_cfg, &st->priv->startup);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

static void check_flow_sample(struct analysis_ctx *ax, struct check_result *c, struct check_state *st,
		       const struct sample *s)
{
	(void)ax;
	if (s->role != ROLE_SCALE)
		return;
	if (st->priv->flow)
		flow_add(st->priv->flow, s->t_ns, s->value);
	if (st->priv->startup)
		flow_add(st->priv->startup, s->t_ns, s->value);
	if (s->t_ns >= c->t_begin_ns && s->t_ns <= c->t_end_ns) {
		st->priv->n_inside++;
		noise_add(&st->priv->noise, s->value);
	}
}

static void check_flow_judge(struct analysis_ctx *ax, struct check_result *c, struct check_state *st)
{
	struct flow_result fr;
	double r = st->priv->flow_cfg.rate_ml_per_h, shift, u_read, u_read_w, u_cal, t_h, u_a, u_rel, e;
	double a_pct;
	struct evaporation_used ev;
	struct measurement *m;
	char name[48];

	if (window_incomplete(c))
		return;
	if (!st->priv->flow || !(r > 0)) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "window \"%s\" has no steady programmed rate to judge against", c->window);
		return;
	}
	if (st->n_mass_steps > 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "the balance fell abruptly %zu time(s) inside window \"%s\" (see the "
			 "instrument events): the flow computed from it is not the pump's",
			 st->n_mass_steps, c->window);
		return;
	}
	if (flow_finish(st->priv->flow, &fr) < 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "too few settled balance readings in window \"%s\"", c->window);
		return;
	}
	evaporation_for(ax, c, c->t_begin_ns, c->t_end_ns, &ev);
	e = ev.e_g_per_h;
	shift = 100 * ax->ml_per_g * e / r;
	u_read = reading_u_g(ax, &st->priv->noise, r);
	/* an observation window's readings: their scatter as the window's own
	 * second differences measure it (the line's content between strokes
	 * added where strokes come less often than readings).  A window's
	 * flow is the flow out of the line: the balance cannot see, and the
	 * patient does not get, the pump's strokes counted whole at a
	 * window's ends, which the line smooths (the Monte Carlo's truth is
	 * the outflow: tools/coverage.c) */
	u_read_w = reading_u_window_g(ax, &st->priv->noise, r);
	u_rel = sqrt(ax->u_rel_factor * ax->u_rel_factor + ax->u_rel_span * ax->u_rel_span +
		     ax->u_rel_clock * ax->u_rel_clock);
	t_h = rig_ns_to_h(c->t_end_ns - c->t_begin_ns);
	/* A from the mass change over the whole period: two readings, the
	 * evaporation over T, and what scales every volume; k = 2 */
	a_pct = fr.mean_error_pct + shift;
	u_cal = reading_cal_pair_u_g(ax, r * t_h / ax->ml_per_g);
	budget_add(c, "A", "balance readings at the period's ends",
		   100 / (r * t_h) * ax->ml_per_g * sqrt(2 * u_read * u_read + u_cal * u_cal), "%",
		   "100 / (r T) * f * sqrt(2 u_read^2 + u_cal^2), u_read = %.3g mg (the reading "
		   "noise (pump stopped, where measured), the line's content between strokes), "
		   "u_cal = %.3g mg (" READING_CAL_PAIR_WORDS ")", u_read * 1e3, u_cal * 1e3);
	budget_add(c, "A", "evaporation added back", 100 / r * ax->ml_per_g * ev.u_g_per_h, "%",
		   "100 / r * f * %.3g mg/h (%s)", ev.u_g_per_h * 1e3, ev.source);
	budget_add(c, "A", "volume per gram (density, air buoyancy)",
		   ax->u_rel_factor * (100 + a_pct), "%", "%.3g relative: from the bench's fluid "
		   "temperature and air density uncertainties", ax->u_rel_factor);
	budget_add(c, "A", "balance span", ax->u_rel_span * (100 + a_pct), "%",
		   "%.3g relative: bench scale calibration.gain_uncertainty", ax->u_rel_span);
	budget_add(c, "A", "time base", ax->u_rel_clock * (100 + a_pct), "%",
		   "%.3g relative: bench clock_uncertainty", ax->u_rel_clock);
	u_a = 2 * budget_u(c, "A");

	c->measured = a_pct;
	c->u_expanded = u_a;
	c->set_rate_ml_per_h = r;
	c->has_measured = true;
	c->n_samples = st->priv->n_inside;
	c->verdict = c->measured >= c->limit_low && c->measured <= c->limit_high ? VERDICT_PASS
										 : VERDICT_FAIL;
	m = check_measure(c, "A", c->measured, u_a, "%");
	measure_limit(m, c->limit_low, c->limit_high);
	if (m)
		snprintf(m->source, sizeof(m->source), "mean flow error over %zu intervals of "
			 "%.0f s (%zu missing instants)", fr.n_intervals,
			 rig_ns_to_s(st->priv->flow_cfg.sample_interval_ns), fr.n_missing);
	m = check_measure(c, "mean_rate", fr.mean_rate_ml_per_h + ax->ml_per_g * e,
			  NAN, "mL/h");
	for (size_t w = 0; w < fr.n_windows; w++) {
		const struct flow_window_result *wr = &fr.windows[w];
		double p_h = rig_ns_to_h(wr->window_ns);
		/* per window: its two readings (with the line at its two ends)
		 * and the balance's calibration between their loads; that is one
		 * curve, the same slope for windows at neighbouring loads, not
		 * drawn afresh in each: the extreme of n windows picks up the
		 * largest of n draws of the readings' own terms only */
		double f_w = 100 / (r * p_h) * ax->ml_per_g;
		double u_w_own = f_w * sqrt(2) * u_read_w;
		double u_cal_g = reading_cal_pair_u_g(ax, r * p_h / ax->ml_per_g);
		double u_w_cal = f_w * u_cal_g;
		double u_w = hypot(u_w_own, u_w_cal);
		/* the curve's slope is one for neighbouring windows (shared);
		 * a window whose ends lie far apart on the curve meets it afresh
		 * (its own), as does every other window */
		bool cal_own = u_w_cal >= f_w * M_SQRT2 * ax->u_read_cal_g * (1 - 1e-9);

		if (cal_own) {
			u_w_own = u_w;
			u_w_cal = 0;
		}
		/* every window alike: the evaporation's rate, and relative terms */
		double u_common = 100 / r * ax->ml_per_g * ev.u_g_per_h;
		double ep[2] = { wr->ep_max_pct + shift, wr->ep_min_pct + shift };

		for (int x = 0; x < 2; x++) {
			bool limited = ax->dev->has_flow && (x ? ax->dev->has_ep_min : ax->dev->has_ep_max);
			/* the extreme of the windows that could be it is covered at
			 * 95 % by k_ext, not 2.  The measured extreme lies between
			 * the truly extreme window's own error (at least -2 u) and
			 * the largest error of the windows that could be measured
			 * extreme: those whose true error is within that window's
			 * reach, that is, whose measured error lies within (k + 2) u
			 * of the measured extreme, k the factor of all n windows
			 * (a measured extreme stands up to k u above its truth; a
			 * window as true as it, down to 2 u below).  All of them
			 * when the windows' true errors are alike; one or a few when
			 * the pump's strokes make them differ by more than the
			 * readings blur them (the extreme is then mostly the same
			 * window, measured and true, with one window's error) */
			double k_all = fmax(2, extreme_coverage_factor(wr->n_windows));
			size_t m_near = flow_windows_near(wr, x == 0, (k_all + 2) * u_w_own);
			/* the calibration's curve, the evaporation and what scales
			 * every volume shift every window alike */
			double u_shared = hypot(u_w_cal, hypot(u_common, u_rel * (100 + ep[x])));
			double big_u = fmax(2 * hypot(u_w_own, u_shared),
					    extreme_common_u(m_near, u_w_own, u_shared));

			snprintf(name, sizeof(name), "Ep_%s_%gmin", x ? "min" : "max",
				 rig_ns_to_s(wr->window_ns) / 60);
			budget_add(c, name, "one window's readings", u_w, "%",
				   "100 / (r P) * f * sqrt(2 u_read^2 + u_cal^2), u_read = %.3g mg (the "
				   "window's reading noise), u_cal = %.3g mg (" READING_CAL_PAIR_WORDS ")",
				   u_read_w * 1e3, u_cal_g * 1e3);
			budget_add(c, name, "evaporation added back", u_common, "%",
				   "100 / r * f * %.3g mg/h, alike in every window", ev.u_g_per_h * 1e3);
			budget_add(c, name, "what scales every volume (density, span, time base)",
				   u_rel * (100 + ep[x]), "%", "%.3g relative", u_rel);
			/* every one of the windows that could be the extreme within
			 * U, own error and shared, in 95 % of runs (at least k = 2) */
			m = check_measure(c, name, ep[x], big_u, "%");
			if (!m)
				continue;
			snprintf(m->source, sizeof(m->source), "%s over %zu windows of %.0f s (%zu "
				 "skipped); U: the errors of all %zu windows that could be the extreme "
				 "(within %.2f window errors of it) within U in 95 %% of runs, each its "
				 "own (%.3g %%) and what shifts every window (%.3g %%)",
				 x ? "min" : "max", wr->n_windows, rig_ns_to_s(wr->window_ns),
				 wr->n_skipped, m_near, k_all + 2, u_w_own, u_shared);
			if (limited) {
				if (x)
					measure_limit(m, ax->dev->ep_min_pct, INFINITY);
				else
					measure_limit(m, -INFINITY, ax->dev->ep_max_pct);
				snprintf(m->requirement, sizeof(m->requirement), "%s",
					 x ? ax->dev->ep_min_requirement : ax->dev->ep_max_requirement);
			}
		}
	}
	if (st->priv->startup) {
		struct flow_result su;

		if (flow_finish(st->priv->startup, &su) == 0) {
			m = check_measure(c, "startup_mean_error", su.mean_error_pct + shift, NAN, "%");
			if (m)
				snprintf(m->source, sizeof(m->source), "window \"%s\", %zu intervals; "
					 "curve in results.json startup_curve", st->step->startup_window,
					 su.n_intervals);
		}
		for (size_t i = 0; i < c->n_curve; i++)
			c->curve_q_ml_per_h[i] += ax->ml_per_g * e;
	}
	evaporation_measure(c, ax, &ev);
	snprintf(c->explanation, sizeof(c->explanation),
		 "mean flow %.6f mL/h against %.6f mL/h set over %.4f h: A = %+.3f %% (U = %.3f "
		 "%%, k = 2) %s the limit of %.3f %%", fr.mean_rate_ml_per_h +
		 ax->ml_per_g * e, r, t_h, shown_value(c->measured, 3), u_a,
		 c->verdict == VERDICT_PASS ? "within" : "outside", c->limit_high);
	snprintf(c->source, sizeof(c->source),
		 "samples.csv: scale mass (settled readings only), %zu in the window, resampled "
		 "every %.0f s (IEC 60601-2-24 method); events.jsonl: the set rate at the window's "
		 "start; volume per gram %.7f mL/g; evaporation %.4g mg/h added to every interval",
		 st->priv->n_inside, rig_ns_to_s(st->priv->flow_cfg.sample_interval_ns), ax->ml_per_g,
		 e * 1e3);
}

static void check_flow_free(struct check_priv *priv)
{
	if (!priv)
		return;
	flow_free(priv->flow);
	flow_free(priv->startup);
	free(priv);
}

const struct check_ops check_flow_ops = {
	.kind = CHECK_FLOW_ACCURACY,
	.init = check_flow_init,
	.sample = check_flow_sample,
	.judge = check_flow_judge,
	.free = check_flow_free,
};
