/* dose_accuracy: the volume the balance collected over a marked window
 * against the volume programmed in it, with its expanded uncertainty, and
 * the flow sensor cross-checked against the balance over the same window.
 *
 * The measurand is the volume the pump delivered in the window.  The
 * uncertainty budget (GUM, k = 2), every term from what the record and the
 * bench file state, in mL of delivered volume:
 *   balance: two readings (interpolated at the window ends), each with the
 *     stated calibration uncertainty (calibration.uncertainty), the reading
 *     noise estimated from the window's own readings (second differences),
 *     and what the line holds at that instant: a pulsatile pump delivers
 *     whole strokes into a line that passes them on to the vessel, so the
 *     balance lags the pump by part of a stroke (reading_u_g(): with the
 *     bench's line_time_constant, else up to a stroke; where strokes come
 *     faster than readings that lag is in the noise already);
 *   the volume per gram: the fluid's density (water: from its temperature's
 *     stated uncertainty) and the air's, as the bench states them
 *     (ax->u_rel_factor), relative;
 *   the balance's span: its calibration.gain_uncertainty, relative.
 * The dose error adds rig's time base (bench clock_uncertainty), relative:
 * the programmed volume is the rate times the window's length, which rig's
 * clock measures. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rig/analysis/dose.h"
#include "rig/analysis/gravimetric.h"

struct check_priv {
	/* the balance at the window's two ends, and its readings inside */
	struct interp_at begin, end;
	size_t n_inside;
	struct noise_est noise;
	/* the flow sensor over the window */
	double flow_ml;
	rig_ns flow_covered_ns, flow_prev_t_ns;
	bool flow_have_prev;
	size_t flow_n;
};

static int check_dose_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st)
{
	st->priv = calloc(1, sizeof(*st->priv));
	if (!st->priv)
		return -ENOMEM;
	accuracy_limits(ax, c, st->step, "|delivered - programmed| / programmed");
	interp_at_init(&st->priv->begin, c->t_begin_ns);
	interp_at_init(&st->priv->end, c->t_end_ns);
	return 0;
}

static void check_dose_sample(struct analysis_ctx *ax, struct check_result *c, struct check_state *st,
		       const struct sample *s)
{
	(void)ax;
	if (s->role == ROLE_SCALE) {
		interp_at_add(&st->priv->begin, s->t_ns, s->value);
		interp_at_add(&st->priv->end, s->t_ns, s->value);
		if (s->t_ns >= c->t_begin_ns && s->t_ns <= c->t_end_ns) {
			st->priv->n_inside++;
			noise_add(&st->priv->noise, s->value);
		}
	} else if (s->role == ROLE_FLOW && strcmp(s->quantity, "flow") == 0) {
		/* The sensor reports the mean flow since its previous reading:
		 * count only intervals wholly inside the window. */
		if (st->priv->flow_have_prev && st->priv->flow_prev_t_ns >= c->t_begin_ns &&
		    s->t_ns <= c->t_end_ns && s->t_ns > st->priv->flow_prev_t_ns) {
			st->priv->flow_ml += s->value * rig_ns_to_h(s->t_ns - st->priv->flow_prev_t_ns);
			st->priv->flow_covered_ns += s->t_ns - st->priv->flow_prev_t_ns;
			st->priv->flow_n++;
		}
		st->priv->flow_have_prev = true;
		st->priv->flow_prev_t_ns = s->t_ns;
	}
}

/* The flow sensor against the balance: a disagreement beyond their combined
 * uncertainty is a bench problem (a sensor, a leak, a bubble), reported as an
 * instrument event, never a verdict on the pump. */
static void cross_check(struct analysis_ctx *ax, struct check_result *c,
			const struct check_state *st, double u_delivered_ml)
{
	const struct instrument_cfg *fc = &ax->bench->instrument[ROLE_FLOW];
	double t_h = rig_ns_to_h(c->t_end_ns - c->t_begin_ns);
	double rate_flow, rate_grav, u_flow, u_grav, diff, u_comb;
	struct measurement *m;

	if (!fc->present || st->priv->flow_n < 2 || st->priv->flow_covered_ns <= 0)
		return;
	rate_flow = st->priv->flow_ml / rig_ns_to_h(st->priv->flow_covered_ns);
	rate_grav = c->delivered_ml / t_h;
	/* the stated calibration uncertainty (offset and gain) is systematic
	 * over the window; with none stated, 2 % of the reading is assumed */
	u_flow = fc->cal.uncertainty > 0 || fc->cal.gain_u_rel > 0 ?
		 hypot(fc->cal.uncertainty, fc->cal.gain_u_rel * fabs(rate_flow)) :
		 0.02 * fabs(rate_flow);
	u_grav = u_delivered_ml / t_h;
	diff = rate_flow - rate_grav;
	u_comb = sqrt(u_flow * u_flow + u_grav * u_grav);
	m = check_measure(c, "flow_sensor_minus_balance", diff, 2 * u_comb, "mL/h");
	if (m)
		snprintf(m->source, sizeof(m->source),
			 "samples.csv: %zu flow readings covering %.4f h (mean %.6f mL/h) against "
			 "the gravimetric mean %.6f mL/h; flow calibration: %.4g mL/h (k = 1)",
			 st->priv->flow_n, rig_ns_to_h(st->priv->flow_covered_ns), rate_flow, rate_grav, u_flow);
	if (fabs(diff) > 2 * u_comb)
		results_event(ax->res, c->t_end_ns, "flow", "flow_crosscheck",
			      "over window \"%s\" the flow sensor read %.6f mL/h and the balance "
			      "%.6f mL/h: they differ by %+.6f mL/h, more than their combined "
			      "expanded uncertainty %.6f mL/h; check the flow sensor and the line "
			      "(a bench problem, not a verdict on the pump)", c->window, rate_flow,
			      rate_grav, diff, 2 * u_comb);
}

static void check_dose_judge(struct analysis_ctx *ax, struct check_result *c, struct check_state *st)
{
	const struct timeline *tl = ax->tl;
	double t_h, u_r0, u_r1, u_cal, u_bal, u_evap, u_dens, u_ml, pct;
	struct evaporation_used ev;
	struct dose_inputs in;
	struct dose_result out;
	struct measurement *m;

	if (window_incomplete(c))
		return;
	if (interp_at_value(&st->priv->begin, &c->mass_begin_g) < 0 ||
	    interp_at_value(&st->priv->end, &c->mass_end_g) < 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "no settled balance readings on both sides of the ends of window \"%s\"",
			 c->window);
		return;
	}
	if (st->n_mass_steps > 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "the balance fell abruptly %zu time(s) inside window \"%s\" (see the "
			 "instrument events): the collected mass does not measure the delivery",
			 st->n_mass_steps, c->window);
		return;
	}
	evaporation_for(ax, c, c->t_begin_ns, c->t_end_ns, &ev);
	in = (struct dose_inputs){
		.t_begin_ns = c->t_begin_ns,
		.t_end_ns = c->t_end_ns,
		.mass_begin_g = c->mass_begin_g,
		.mass_end_g = c->mass_end_g,
		/* balance grams per delivered mL, buoyancy included */
		.density_g_per_ml = 1 / ax->ml_per_g,
		.evaporation_g_per_h = ev.e_g_per_h,
		.programmed_ml = programmed_volume_ml(tl->rates, tl->n_rates, tl->boluses,
						      tl->n_boluses, c->t_begin_ns, c->t_end_ns),
	};
	if (dose_accuracy(&in, &out) < 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "nothing was programmed to be delivered in window \"%s\"", c->window);
		return;
	}
	t_h = rig_ns_to_h(c->t_end_ns - c->t_begin_ns);
	/* a reading's u at each end: the window's noise and the line's
	 * content between strokes at the rate then; the calibration's between
	 * the two loads */
	u_r0 = reading_u_g(ax, &st->priv->noise, timeline_rate_at(tl, c->t_begin_ns));
	u_r1 = reading_u_g(ax, &st->priv->noise, timeline_rate_at(tl, c->t_end_ns - 1));
	u_cal = reading_cal_pair_u_g(ax, c->mass_end_g - c->mass_begin_g);
	u_bal = ax->ml_per_g * sqrt(u_r0 * u_r0 + u_r1 * u_r1 + u_cal * u_cal);
	u_evap = ax->ml_per_g * t_h * ev.u_g_per_h;
	u_dens = hypot(ax->u_rel_factor, ax->u_rel_span) * out.delivered_ml;
	u_ml = sqrt(u_bal * u_bal + u_evap * u_evap + u_dens * u_dens);
	/* the same terms, and the time base's, as percentages of the programmed
	 * volume: the budget of the dose error */
	pct = 100 / out.programmed_ml;
	budget_add(c, "dose_error", "balance readings at the window's ends", pct * u_bal, "%",
		   "f * sqrt(u_read(begin)^2 + u_read(end)^2 + u_cal^2) = f * sqrt(%.3g^2 + %.3g^2 "
		   "+ %.3g^2) mg: %s (%.3g mg) and the line's content between strokes; u_cal: "
		   READING_CAL_PAIR_WORDS, u_r0 * 1e3, u_r1 * 1e3, u_cal * 1e3,
		   reading_noise_source(ax), reading_noise_g(ax, &st->priv->noise) * 1e3);
	budget_add(c, "dose_error", "evaporation added back", pct * u_evap, "%",
		   "%.4f h x %.3g mg/h (%s)", t_h, ev.u_g_per_h * 1e3, ev.source);
	budget_add(c, "dose_error", "volume per gram (density, air buoyancy)",
		   pct * ax->u_rel_factor * out.delivered_ml, "%", "%.3g relative: from the bench's "
		   "fluid temperature and air density uncertainties", ax->u_rel_factor);
	budget_add(c, "dose_error", "balance span", pct * ax->u_rel_span * out.delivered_ml, "%",
		   "%.3g relative: bench scale calibration.gain_uncertainty", ax->u_rel_span);
	budget_add(c, "dose_error", "time base", pct * ax->u_rel_clock * out.delivered_ml, "%",
		   "%.3g relative: bench clock_uncertainty", ax->u_rel_clock);

	c->collected_g = out.collected_g;
	c->evaporation_g = out.evaporation_g;
	c->delivered_ml = out.delivered_ml;
	c->programmed_ml = out.programmed_ml;
	c->measured = out.error_pct;
	c->u_expanded = 2 * budget_u(c, "dose_error");
	c->has_measured = true;
	c->n_samples = st->priv->n_inside;
	c->verdict = c->measured >= c->limit_low && c->measured <= c->limit_high ? VERDICT_PASS
										 : VERDICT_FAIL;
	m = check_measure(c, "dose_error", c->measured, c->u_expanded, "%");
	measure_limit(m, c->limit_low, c->limit_high);
	if (m)
		snprintf(m->source, sizeof(m->source), "100 * (delivered - programmed) / programmed");
	m = check_measure(c, "delivered", out.delivered_ml, 2 * u_ml, "mL");
	if (m)
		snprintf(m->source, sizeof(m->source), "(balance change + evaporation) * %.7f mL/g",
			 ax->ml_per_g);
	m = check_measure(c, "programmed", out.programmed_ml, 0, "mL");
	if (m)
		snprintf(m->source, sizeof(m->source), "events.jsonl rate and bolus commands");
	m = check_measure(c, "balance_noise", noise_sigma(&st->priv->noise) * 1e3, NAN, "mg");
	if (m)
		snprintf(m->source, sizeof(m->source), "1 sigma, from second differences of the "
			 "%zu settled readings in the window", st->priv->n_inside);
	evaporation_measure(c, ax, &ev);
	snprintf(c->explanation, sizeof(c->explanation),
		 "delivered %.6f mL against %.6f mL programmed over %.4f h: error %+.3f %% "
		 "(U = %.3f %%, k = 2) %s the limit of %.3f %%",
		 out.delivered_ml, out.programmed_ml, t_h,
		 shown_value(out.error_pct, 3),
		 c->u_expanded,
		 c->verdict == VERDICT_PASS ? "within" : "outside", c->limit_high);
	snprintf(c->source, sizeof(c->source),
		 "samples.csv: scale mass (settled readings only), %zu in the window, "
		 "interpolated at t = %.3f s (%.6f g) and t = %.3f s (%.6f g); "
		 "events.jsonl: window marks and the rate/bolus commands for the programmed volume; "
		 "volume per gram %.7f mL/g (density %.7f g/mL, air buoyancy); evaporation "
		 "%.4g mg/h (%.4f mg added back)",
		 st->priv->n_inside, rig_ns_to_s(c->t_begin_ns), c->mass_begin_g, rig_ns_to_s(c->t_end_ns),
		 c->mass_end_g, ax->ml_per_g, ax->res->density_g_per_ml, ev.e_g_per_h * 1e3,
		 out.evaporation_g * 1e3);
	cross_check(ax, c, st, u_ml);
}

static void check_dose_free(struct check_priv *priv)
{
	if (!priv)
		return;
	free(priv);
}

const struct check_ops check_dose_ops = {
	.kind = CHECK_DOSE_ACCURACY,
	.init = check_dose_init,
	.sample = check_dose_sample,
	.judge = check_dose_judge,
	.free = check_dose_free,
};
