/* occlusion: the pump's occlusion alarm against the device's limits.
 *
 * Within the check's window: the occlude step closes the valve at t_close;
 * the pump alarms at t_alarm (the alarm line's edge, timestamped where it
 * happened, or failing that the pump's own status); the release opens the
 * valve at t_release (a step, or the safety supervisor at the bench's
 * pressure limit).  Measured: the time to alarm, the line pressure at the
 * alarm, and the bolus the release lets out: what the balance collects over
 * bolus_window after the release, less what the pump was programmed to
 * deliver meanwhile.  A pump that never alarms fails.
 *
 * Uncertainties (95 %), from how each was seen:
 *   time to alarm, from the alarm line: the edge carries its own timestamp
 *     (to the nanosecond), so only rig's time base (bench clock_uncertainty)
 *     over the time measured counts;
 *   from the pump's status, polled every poll period P: the alarm rose at
 *     some instant after the poll before (not before the closure), so the
 *     time is taken at the middle of that interval, and its uncertainty is
 *     the interval that holds 95 % of a rectangular error of half its
 *     length and the time base's (uncertainty.h: a rectangular term is not
 *     covered by k = 2 on its standard deviation, it is always covered);
 *   line pressure baseline: the mean of the transducer's fresh readings
 *     over the quiet part before the closure (the ten minutes before it,
 *     from a minute after the last change of flow: a rate, a bolus's end,
 *     the valve), what the line stands at with the pump running before it
 *     is occluded.  A bench-health figure of the transducer and the line
 *     (its zero, and the resistance the flow meets), with no limit of its
 *     own.  U: the transducer's stated calibration (offset and gain) and
 *     the readings' scatter (noise and the strokes' ripple) over sqrt(n);
 *     k = 2.  The ripple, sampled at the transducer's period, averages to
 *     within a small part of one stroke's pressure step (0.07 kPa at
 *     1 mL/h on the simulated bench), well inside the calibration term;
 *   pressure at the alarm: the transducer's stated calibration (offset and
 *     gain), its noise (from its readings in the ten minutes before the
 *     closure), the interpolation between the two readings around the alarm
 *     (the line pressure is a staircase of strokes: rectangular over their
 *     difference) and, for a polled alarm, the pressure's change over the
 *     time's uncertainty; k = 2;
 *   released bolus: the two balance readings, the evaporation, the pump's
 *     strokes against the programmed volume over the bolus window (one
 *     count over one window: s sqrt(frac (1 - frac)) of the window's
 *     strokes' time), and relatively the volume per gram, the
 *     balance's span and the time base; k = 2. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rig/analysis/dose.h"
#include "rig/analysis/gravimetric.h"
#include "rig/analysis/uncertainty.h"

struct check_priv {
	rig_ns t_close_ns, t_release_ns, t_alarm_ns;
	bool alarm_from_line;
	rig_ns alarm_after_ns;          /* a polled alarm rose after this (the poll before) */
	struct interp_at p_alarm;
	struct noise_est p_noise;       /* the pressure before the closure */
	/* the line pressure baseline: the quiet readings before the closure
	 * (Welford's running mean and sum of squared deviations) */
	rig_ns t_quiet_ns;
	size_t base_n;
	double base_mean_kpa, base_m2;
	double p_peak_kpa;
	/* the balance at the two ends of the bolus window */
	struct interp_at begin, end;
	struct noise_est noise;
};

/* The line's pressure settles within its time constant after a change of
 * flow (seconds for a catheter into a pinch valve: 5 s on the simulated
 * bench); a minute after it the line is quiet. */
#define PRESSURE_SETTLE_NS (60 * RIG_NS_PER_S)
#define PRESSURE_BASELINE_SPAN_NS (600 * RIG_NS_PER_S)

/* Where the quiet part before the closure at t_close begins: ten minutes
 * before it, or a minute after the last change of the line's flow before
 * it (the rate set, a bolus or prime ending, the valve moving), whichever
 * is later. */
static rig_ns quiet_since(const struct timeline *tl, rig_ns t_close)
{
	rig_ns last = -1, t0 = t_close - PRESSURE_BASELINE_SPAN_NS;

	for (size_t i = 0; i < tl->n_rates; i++)
		if (tl->rates[i].t_ns < t_close && tl->rates[i].t_ns > last)
			last = tl->rates[i].t_ns;
	for (size_t i = 0; i < tl->n_boluses; i++) {
		const struct bolus_cmd *b = &tl->boluses[i];
		rig_ns end = b->t_ns;

		if (b->rate_ml_per_h > 0)
			end += (rig_ns)(b->volume_ml / b->rate_ml_per_h * 3600 * (double)RIG_NS_PER_S);
		if (b->t_ns < t_close && end > last)
			last = end;
	}
	for (size_t i = 0; i < tl->n_valve; i++)
		if (tl->valve[i].t_ns < t_close && tl->valve[i].t_ns > last)
			last = tl->valve[i].t_ns;
	if (last >= 0 && last + PRESSURE_SETTLE_NS > t0)
		t0 = last + PRESSURE_SETTLE_NS;
	return t0;
}

static int check_occlusion_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st)
{
	const struct timeline *tl = ax->tl;
	const struct device *dev = ax->dev;

	st->priv = calloc(1, sizeof(*st->priv));
	if (!st->priv)
		return -ENOMEM;
	snprintf(c->requirement, sizeof(c->requirement), "%s",
		 st->step->requirement[0] ? st->step->requirement : dev->occlusion_requirement);
	snprintf(c->unit, sizeof(c->unit), "s");
	c->limit_low = 0;
	c->limit_high = rig_ns_to_s(dev->occlusion_time_max_ns);
	snprintf(c->criterion, sizeof(c->criterion),
		 "alarm within %.0f s at <= %.4g kPa; released bolus <= %.4g mL (device occlusion)",
		 c->limit_high, dev->occlusion_pressure_max_kpa, dev->occlusion_bolus_max_ml);
	st->priv->t_close_ns = st->priv->t_release_ns = st->priv->t_alarm_ns = -1;
	st->priv->p_peak_kpa = -INFINITY;
	for (size_t i = 0; i < tl->n_valve; i++) {
		const struct t_flag *v = &tl->valve[i];

		if (v->t_ns < c->t_begin_ns || (c->t_end_ns > c->t_begin_ns && v->t_ns > c->t_end_ns))
			continue;
		if (v->on && !v->by_supervisor && st->priv->t_close_ns < 0)
			st->priv->t_close_ns = v->t_ns;
		else if (!v->on && st->priv->t_close_ns >= 0 && st->priv->t_release_ns < 0)
			st->priv->t_release_ns = v->t_ns;
	}
	if (st->priv->t_close_ns < 0)
		return 0;
	st->priv->t_quiet_ns = quiet_since(tl, st->priv->t_close_ns);
	if (ax->bench->instrument[ROLE_ALARM].present) {
		for (size_t i = 0; i < tl->n_alarm_line && st->priv->t_alarm_ns < 0; i++)
			if (tl->alarm_line[i].on && tl->alarm_line[i].t_ns >= st->priv->t_close_ns &&
			    (st->priv->t_release_ns < 0 || tl->alarm_line[i].t_ns <= st->priv->t_release_ns)) {
				st->priv->t_alarm_ns = tl->alarm_line[i].t_ns;
				st->priv->alarm_from_line = true;
			}
	}
	for (size_t i = 0; i < tl->n_pump_occlusion && st->priv->t_alarm_ns < 0; i++)
		if (tl->pump_occlusion[i].on && tl->pump_occlusion[i].t_ns >= st->priv->t_close_ns &&
		    (st->priv->t_release_ns < 0 || tl->pump_occlusion[i].t_ns <= st->priv->t_release_ns)) {
			/* seen at this poll: it rose since the poll before, and
			 * not before the closure; the middle of that is the
			 * estimate */
			rig_ns seen = tl->pump_occlusion[i].t_ns;
			rig_ns after = seen - bench_pump_poll_ns(ax->bench);

			if (after < st->priv->t_close_ns)
				after = st->priv->t_close_ns;
			st->priv->alarm_after_ns = after;
			st->priv->t_alarm_ns = after + (seen - after) / 2;
		}
	interp_at_init(&st->priv->p_alarm, st->priv->t_alarm_ns);
	if (st->priv->t_release_ns >= 0) {
		interp_at_init(&st->priv->begin, st->priv->t_release_ns);
		interp_at_init(&st->priv->end, st->priv->t_release_ns + st->step->bolus_window_ns);
	}
	return 0;
}

static void check_occlusion_sample(struct analysis_ctx *ax, struct check_result *c,
			    struct check_state *st, const struct sample *s)
{
	(void)ax;
	(void)c;
	if (st->priv->t_close_ns < 0)
		return;
	if (s->role == ROLE_PRESSURE && strcmp(s->quantity, "pressure") == 0) {
		if (s->t_ns < st->priv->t_close_ns && s->t_ns >= st->priv->t_close_ns - 600 * RIG_NS_PER_S)
			noise_add(&st->priv->p_noise, s->value);
		if (s->t_ns < st->priv->t_close_ns && s->t_ns >= st->priv->t_quiet_ns &&
		    !(s->flags & SAMPLE_STALE)) {
			double d = s->value - st->priv->base_mean_kpa;

			st->priv->base_n++;
			st->priv->base_mean_kpa += d / (double)st->priv->base_n;
			st->priv->base_m2 += d * (s->value - st->priv->base_mean_kpa);
		}
		if (st->priv->t_alarm_ns >= 0)
			interp_at_add(&st->priv->p_alarm, s->t_ns, s->value);
		if (s->t_ns >= st->priv->t_close_ns && (st->priv->t_release_ns < 0 || s->t_ns <= st->priv->t_release_ns) &&
		    s->value > st->priv->p_peak_kpa)
			st->priv->p_peak_kpa = s->value;
	} else if (s->role == ROLE_SCALE && st->priv->t_release_ns >= 0) {
		interp_at_add(&st->priv->begin, s->t_ns, s->value);
		interp_at_add(&st->priv->end, s->t_ns, s->value);
		if (s->t_ns >= st->priv->t_release_ns &&
		    s->t_ns <= st->priv->t_release_ns + st->step->bolus_window_ns)
			noise_add(&st->priv->noise, s->value);
	}
}

/* The line pressure baseline (see the head of this file): no limit of its
 * own, a figure of the bench's health that the history charts. */
static void pressure_baseline_measure(const struct analysis_ctx *ax, struct check_result *c,
				      const struct check_priv *p)
{
	const struct calibration *cal = &ax->bench->instrument[ROLE_PRESSURE].cal;
	double mean = p->base_mean_kpa, s, u_cal, u_span, u_mean;
	struct measurement *m;

	if (p->base_n < 3)
		return;
	s = sqrt(p->base_m2 / (double)(p->base_n - 1));
	u_cal = cal->uncertainty;
	u_span = cal->gain_u_rel * fabs(mean);
	u_mean = s / sqrt((double)p->base_n);
	m = check_measure(c, "pressure_baseline", mean,
			  2 * sqrt(u_cal * u_cal + u_span * u_span + u_mean * u_mean), "kPa");
	if (m)
		snprintf(m->source, sizeof(m->source), "samples.csv pressure: mean of %zu readings "
			 "from t = %.0f s to the closure at %.0f s; U: calibration %.3g kPa, span "
			 "%.3g kPa, scatter %.3g kPa / sqrt(n) (k = 1 each)", p->base_n,
			 rig_ns_to_s(p->t_quiet_ns), rig_ns_to_s(p->t_close_ns), u_cal, u_span, s);
}

static void check_occlusion_judge(struct analysis_ctx *ax, struct check_result *c,
			   struct check_state *st)
{
	const struct device *dev = ax->dev;
	const struct timeline *tl = ax->tl;
	double u_p = ax->bench->instrument[ROLE_PRESSURE].cal.uncertainty;
	bool missing = false, failed = false;
	char why[160] = "";
	struct measurement *m;
	char bolus_text[96] = "", alarm_text[128];
	double p_at_alarm = NAN;

	if (st->priv->t_close_ns < 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "no occlusion (valve closed by an occlude step) was recorded in window \"%s\"",
			 c->window);
		return;
	}
	if (isfinite(st->priv->p_peak_kpa)) {
		m = check_measure(c, "peak_pressure", st->priv->p_peak_kpa,
				  2 * hypot(u_p, ax->bench->instrument[ROLE_PRESSURE].cal.gain_u_rel *
						 st->priv->p_peak_kpa), "kPa");
		if (m)
			snprintf(m->source, sizeof(m->source), "samples.csv pressure, highest from the "
				 "closure to the release");
	}
	pressure_baseline_measure(ax, c, st->priv);
	if (st->priv->t_alarm_ns < 0) {
		double held = rig_ns_to_s((st->priv->t_release_ns >= 0 ? st->priv->t_release_ns : tl->last_t_ns) -
					  st->priv->t_close_ns);

		c->verdict = VERDICT_FAIL;
		snprintf(c->explanation, sizeof(c->explanation),
			 "the pump never alarmed during %.0f s of occlusion (peak line pressure %.1f "
			 "kPa); %s", held, st->priv->p_peak_kpa,
			 st->priv->t_release_ns >= 0 ? "the occlusion was released after it" :
			 "the record ends before any release");
		snprintf(c->source, sizeof(c->source), "events.jsonl: valve closed at t = %.3f s, "
			 "no alarm edge or pump occlusion status after it",
			 rig_ns_to_s(st->priv->t_close_ns));
		return;
	}
	/* time to alarm */
	c->measured = rig_ns_to_s(st->priv->t_alarm_ns - st->priv->t_close_ns);
	{
		/* the edge's own timestamp is rounded to the nanosecond; a polled
		 * status only says the alarm rose within the last poll */
		double half = st->priv->alarm_from_line ? 0.5e-9 :
			      rig_ns_to_s(st->priv->t_alarm_ns - st->priv->alarm_after_ns);
		double u_clock = ax->bench->clock_u_rel * c->measured;

		if (st->priv->alarm_from_line)
			budget_add(c, "time_to_alarm", "time of the alarm", half / sqrt(3), "s",
				   "the alarm line's edge, timestamped where it happened: rounded to "
				   "the nanosecond (rectangular)");
		else
			budget_add(c, "time_to_alarm", "time of the alarm", half / sqrt(3), "s",
				   "the pump's status, polled: the alarm rose within the last %.3g s "
				   "(rectangular)", half * 2);
		budget_add(c, "time_to_alarm", "time base", u_clock, "s",
			   "%.3g relative: bench clock_uncertainty", ax->bench->clock_u_rel);
		/* 95 % of a rectangular plus a normal error: not 2 u_c when the
		 * poll dominates */
		c->u_expanded = coverage95_rect_normal(half, u_clock);
	}
	c->has_measured = true;
	m = check_measure(c, "time_to_alarm", c->measured, c->u_expanded, "s");
	measure_limit(m, 0, c->limit_high);
	if (m) {
		if (st->priv->alarm_from_line)
			snprintf(m->source, sizeof(m->source), "events.jsonl: valve closed t = %.3f s, "
				 "alarm line rising edge (its own timestamp) t = %.6f s; U: the time "
				 "base (bench clock_uncertainty %.3g ppm)", rig_ns_to_s(st->priv->t_close_ns),
				 rig_ns_to_s(st->priv->t_alarm_ns), ax->bench->clock_u_rel * 1e6);
		else
			snprintf(m->source, sizeof(m->source), "events.jsonl: valve closed t = %.3f s; "
				 "the pump's status showed the alarm at t = %.3f s, polled every %.3g s: "
				 "it rose after t = %.3f s, taken at the middle, U holding 95 %% of a "
				 "rectangular +-%.3f s", rig_ns_to_s(st->priv->t_close_ns),
				 rig_ns_to_s(2 * st->priv->t_alarm_ns - st->priv->alarm_after_ns),
				 rig_ns_to_s(bench_pump_poll_ns(ax->bench)), rig_ns_to_s(st->priv->alarm_after_ns),
				 rig_ns_to_s(st->priv->t_alarm_ns - st->priv->alarm_after_ns));
		failed |= m->verdict == VERDICT_FAIL;
	}
	/* pressure at the alarm */
	{
		double p;

		if (interp_at_value(&st->priv->p_alarm, &p) == 0) {
			const struct interp_at *ia = &st->priv->p_alarm;
			const struct calibration *cal = &ax->bench->instrument[ROLE_PRESSURE].cal;
			double step = fabs(ia->hi_v - ia->lo_v), slope = 0;

			if (ia->hi_t_ns > ia->lo_t_ns)
				slope = step / rig_ns_to_s(ia->hi_t_ns - ia->lo_t_ns);
			p_at_alarm = p;
			budget_add(c, "pressure_at_alarm", "pressure sensor calibration", cal->uncertainty,
				   "kPa", "bench pressure calibration.uncertainty (k = 1)");
			budget_add(c, "pressure_at_alarm", "pressure sensor span", cal->gain_u_rel * p,
				   "kPa", "%.3g relative: bench pressure calibration.gain_uncertainty",
				   cal->gain_u_rel);
			budget_add(c, "pressure_at_alarm", "reading noise", noise_sigma(&st->priv->p_noise),
				   "kPa", "1 sigma of the readings before the closure");
			budget_add(c, "pressure_at_alarm", "interpolation between readings",
				   step / sqrt(12), "kPa", "the step between the two readings around the "
				   "alarm (%.3f kPa), rectangular", step);
			if (!st->priv->alarm_from_line)
				budget_add(c, "pressure_at_alarm", "time of the alarm (polled)",
					   slope * rig_ns_to_s(st->priv->t_alarm_ns - st->priv->alarm_after_ns) /
					   sqrt(3), "kPa", "the pressure's rise (%.3f kPa/s) over half a poll, "
					   "rectangular", slope);
			m = check_measure(c, "pressure_at_alarm", p, 2 * budget_u(c, "pressure_at_alarm"),
					  "kPa");
			measure_limit(m, -INFINITY, dev->occlusion_pressure_max_kpa);
			if (m) {
				snprintf(m->source, sizeof(m->source), "samples.csv pressure, "
					 "interpolated at the alarm between %.3f and %.3f kPa; noise %.3f "
					 "kPa before the closure", ia->lo_v, ia->hi_v,
					 noise_sigma(&st->priv->p_noise));
				failed |= m->verdict == VERDICT_FAIL;
			}
		} else {
			missing = true;
			snprintf(why, sizeof(why), "no pressure readings around the alarm");
		}
	}
	/* the bolus released */
	if (st->priv->t_release_ns >= 0) {
		double w0, w1, bw_h = rig_ns_to_h(st->step->bolus_window_ns);

		/* The release is a step in the mass: interpolating across it would
		 * put half the bolus before the release.  So start from the last
		 * settled reading at or before it, when the valve was still closed
		 * and nothing reached the vessel (less the normal flow that did if
		 * that reading came before the closure). */
		if (st->priv->begin.have_lo && interp_at_value(&st->priv->end, &w1) == 0 &&
		    st->n_mass_steps == 0) {
			rig_ns t0 = st->priv->begin.lo_t_ns, t1 = st->priv->t_release_ns + st->step->bolus_window_ns;
			double programmed = programmed_volume_ml(tl->rates, tl->n_rates, tl->boluses,
								 tl->n_boluses, st->priv->t_release_ns, t1);
			double before_closure = t0 < st->priv->t_close_ns ?
				programmed_volume_ml(tl->rates, tl->n_rates, tl->boluses, tl->n_boluses,
						     t0, st->priv->t_close_ns) : 0;
			struct evaporation_used ev;
			double delivered, u_begin, u_end, u_cal, basal_half, big_u;

			evaporation_for(ax, c, t0, t1, &ev);
			delivered = ax->ml_per_g * (w1 - st->priv->begin.lo_v +
						    ev.e_g_per_h * rig_ns_to_h(t1 - t0)) - before_closure;
			/* the first reading with the line closed (nothing moving), the
			 * last with the line's content at the rate then */
			u_begin = reading_noise_g(ax, &st->priv->noise);
			u_end = reading_u_g(ax, &st->priv->noise, timeline_rate_at(tl, t1));
			u_cal = reading_cal_pair_u_g(ax, w1 - st->priv->begin.lo_v);
			budget_add(c, "released_bolus", "balance readings at the bolus window's ends",
				   ax->ml_per_g * sqrt(u_begin * u_begin + u_end * u_end + u_cal * u_cal),
				   "mL", "f * sqrt(%.3g^2 + %.3g^2 + %.3g^2) mg: the reading noise, the "
				   "line's content between strokes at the end, " READING_CAL_PAIR_WORDS,
				   u_begin * 1e3, u_end * 1e3, u_cal * 1e3);
			budget_add(c, "released_bolus", "evaporation added back",
				   ax->ml_per_g * bw_h * ev.u_g_per_h, "mL", "%.3f h x %.3g mg/h (%s)", bw_h,
				   ev.u_g_per_h * 1e3, ev.source);
			{
				/* programmed is rate x time; the pump gives whole strokes,
				 * at a phase the release does not set: over a window of n
				 * strokes' time the count is floor(n) or floor(n) + 1, a
				 * difference with variance s^2 frac(n) (1 - frac(n)), none
				 * when the window holds whole strokes */
				double s = dev->stroke_volume_ml, n = 0, fr;

				if (s > 0)
					n = timeline_rate_at(tl, st->priv->t_release_ns) * bw_h / s;
				fr = n - floor(n);
				budget_add(c, "released_bolus", "whole strokes against rate x time",
					   s * sqrt(fr * (1 - fr)), "mL", "stroke %.3g uL, %.4g strokes' time "
					   "in the window: s sqrt(frac (1 - frac))", s * 1e3, n);
			}
			budget_add(c, "released_bolus", "volume per gram and balance span",
				   hypot(ax->u_rel_factor, ax->u_rel_span) * delivered, "mL",
				   "%.3g relative: bench fluid temperature, air density and scale "
				   "calibration.gain_uncertainty", hypot(ax->u_rel_factor, ax->u_rel_span));
			budget_add(c, "released_bolus", "time base of the programmed volume",
				   ax->u_rel_clock * programmed, "mL", "%.3g relative: bench "
				   "clock_uncertainty", ax->u_rel_clock);

			/* the basal taken away is what was programmed; the pump's own
			 * rate is unknown within its accuracy (rectangular), as for
			 * a bolus: U holds 95 % of it with the normal rest */
			{
				double u_rest = budget_u(c, "released_bolus");

				basal_half = (programmed + before_closure) *
					     dev->accuracy_tolerance_pct / 100;
				budget_add(c, "released_bolus", "basal taken away", basal_half / sqrt(3),
					   "mL", "%.6f mL programmed, within device accuracy.tolerance "
					   "%.3g %% (rectangular)", programmed + before_closure,
					   dev->accuracy_tolerance_pct);
				big_u = coverage95_rect_normal(basal_half, u_rest);
			}
			w0 = st->priv->begin.lo_v;
			m = check_measure(c, "released_bolus", delivered - programmed, big_u, "mL");
			measure_limit(m, -INFINITY, dev->occlusion_bolus_max_ml);
			if (m) {
				snprintf(m->source, sizeof(m->source), "balance from its last reading "
					 "before the release (%.6f g at t = %.1f s) to %.0f s after the "
					 "release: %.6f mL, less %.6f mL programmed after the release; U "
					 "holds 95 %% of the basal's rectangular error with the rest",
					 w0, rig_ns_to_s(t0), rig_ns_to_s(st->step->bolus_window_ns),
					 delivered, programmed);
				failed |= m->verdict == VERDICT_FAIL;
				snprintf(bolus_text, sizeof(bolus_text), "; released bolus %.4f mL",
					 delivered - programmed);
			}
		} else {
			missing = true;
			snprintf(why, sizeof(why), st->n_mass_steps ? "the balance was disturbed "
				 "after the release" : "no settled balance readings at the release and "
				 "%.0f s after it (the record must outlast the bolus window)",
				 rig_ns_to_s(st->step->bolus_window_ns));
		}
	} else {
		missing = true;
		snprintf(why, sizeof(why), "the occlusion was never released in the window");
	}
	/* the whole criterion in a line: the time, the pressure it was reached
	 * at, and the rate the pump was set to when the valve closed (the
	 * pressure rises with it) */
	{
		double rate = timeline_rate_at(tl, st->priv->t_close_ns);
		int k;

		k = snprintf(alarm_text, sizeof(alarm_text), "alarm %.1f s after the occlusion",
			     c->measured);
		if (isfinite(p_at_alarm) && k > 0 && (size_t)k < sizeof(alarm_text))
			k += snprintf(alarm_text + k, sizeof(alarm_text) - (size_t)k, " at %.1f kPa",
				      p_at_alarm);
		if (k > 0 && (size_t)k < sizeof(alarm_text))
			snprintf(alarm_text + k, sizeof(alarm_text) - (size_t)k,
				 " (pumping at %.4g mL/h)", rate);
	}
	c->verdict = failed ? VERDICT_FAIL : missing ? VERDICT_INCONCLUSIVE : VERDICT_PASS;
	snprintf(c->explanation, sizeof(c->explanation), "%s%s; %s", alarm_text, bolus_text,
		 failed ? "outside the device's occlusion limits" : missing ? why :
		 "within the device's occlusion limits");
	snprintf(c->source, sizeof(c->source), "events.jsonl valve and alarm events; samples.csv "
		 "pressure and settled scale mass; inputs/device.cfg occlusion limits");
}

static void check_occlusion_free(struct check_priv *priv)
{
	if (!priv)
		return;
	free(priv);
}

const struct check_ops check_occlusion_ops = {
	.kind = CHECK_OCCLUSION,
	.init = check_occlusion_init,
	.sample = check_occlusion_sample,
	.judge = check_occlusion_judge,
	.free = check_occlusion_free,
};
