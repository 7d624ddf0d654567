/* bolus_accuracy: every bolus asked for inside a marked window, weighed on
 * its own against the volume asked for, their mean and the worst of them;
 * and, where the device states a patient's lockout, whether the pump
 * honoured it.
 *
 * Each bolus asked for (delivered or refused) owns the interval from its
 * request to the next request or the window's end; the sequence gives every
 * bolus time to settle in it (plan.c: bolus_settle_ns()).  Its volume is
 * what the balance gained over the interval, read at the last settled
 * readings at or before each end (never interpolated across the bolus's
 * start, which would give part of the bolus to the time before it), with
 * the evaporation added back and the basal volume programmed over the same
 * readings taken away.  The uncertainty (GUM, k = 2), every term from what
 * the record and the bench and device files state, in mL:
 *   balance: the two readings (reading_pair_u_g(): the window's reading
 *     noise and the line's content between basal strokes at each, the
 *     balance calibration between their loads);
 *   evaporation over the interval (evaporation_for());
 *   the basal taken away: the device's own accuracy tolerance, rectangular
 *     (the basal rate's error is unknown but within its specification);
 *   the volume per gram and the balance's span, relative to what was
 *     collected.
 * The basal's rectangular term can dominate: U is then not 2 u_c but what
 * holds 95 % of a rectangular plus a normal error (coverage95_rect_normal(),
 * as the occlusion's polled alarm time).  The mean of N errors: the balance
 * terms independent from bolus to bolus (a reading shared by two intervals
 * is counted twice, which can only widen it); the basal (one pump, one rate
 * error), the evaporation and the relative terms common to all.
 * The worst bolus (the largest |error|) is the check's value with its own
 * U: every bolus is judged against the tolerance, so the worst decides.
 *
 * The lockout, counted from start to start (as the simulated pump counts
 * it; a device whose lockout runs from the end of delivery needs its own
 * reading): a patient's bolus asked for less than the lockout after the
 * start of the previous patient bolus the pump delivered must be refused;
 * one asked for after it must be delivered; a refused one must deliver
 * nothing (the balance gained less than half of it).  A request within
 * LOCKOUT_MARGIN of the lockout's end is not judged: rig's clock and the
 * pump's may differ by that much. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rig/analysis/dose.h"
#include "rig/analysis/gravimetric.h"
#include "rig/analysis/uncertainty.h"

/* the part of the lockout within which a request is not judged (at least 2 s) */
#define LOCKOUT_MARGIN_REL 0.01

struct req_state {
	const struct bolus_request *rq;
	rig_ns t1_ns;                        /* the interval's end */
	struct interp_at at0, at1;           /* the readings at or before each end */
	/* judged */
	bool weighed;
	double bolus_ml, basal_ml, evap_g;
	double u_read_ml, u_evap_ml, u_basal_ml, u_scale_ml;
};

struct check_priv {
	struct req_state r[BOLUS_CHECK_MAX];
	size_t n;
	size_t n_beyond;                     /* requests past BOLUS_CHECK_MAX */
	struct noise_est noise;
	size_t n_inside;
};

static int check_bolus_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st)
{
	const struct timeline *tl = ax->tl;
	const struct device *dev = ax->dev;
	struct check_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	st->priv = p;
	snprintf(c->requirement, sizeof(c->requirement), "%s",
		 st->step->requirement[0] ? st->step->requirement : dev->bolus_requirement);
	c->limit_low = -dev->bolus_tolerance_pct;
	c->limit_high = dev->bolus_tolerance_pct;
	snprintf(c->unit, sizeof(c->unit), "%%");
	snprintf(c->criterion, sizeof(c->criterion),
		 "every bolus and their mean: |delivered - asked| / asked <= %.3g %% (device "
		 "bolus.tolerance)", dev->bolus_tolerance_pct);
	for (size_t i = 0; i < tl->n_requests; i++) {
		const struct bolus_request *rq = &tl->requests[i];
		struct req_state *r;

		if (rq->t_ns < c->t_begin_ns || (c->t_end_ns > c->t_begin_ns && rq->t_ns >= c->t_end_ns))
			continue;
		if (p->n == BOLUS_CHECK_MAX) {
			p->n_beyond++;
			continue;
		}
		r = &p->r[p->n++];
		r->rq = rq;
		r->t1_ns = i + 1 < tl->n_requests && tl->requests[i + 1].t_ns < c->t_end_ns ?
			   tl->requests[i + 1].t_ns : c->t_end_ns;
		interp_at_init(&r->at0, rq->t_ns);
		interp_at_init(&r->at1, r->t1_ns);
	}
	return 0;
}

static void check_bolus_sample(struct analysis_ctx *ax, struct check_result *c, struct check_state *st,
			       const struct sample *s)
{
	struct check_priv *p = st->priv;

	(void)ax;
	if (s->role != ROLE_SCALE)
		return;
	for (size_t i = 0; i < p->n; i++) {
		interp_at_add(&p->r[i].at0, s->t_ns, s->value);
		interp_at_add(&p->r[i].at1, s->t_ns, s->value);
	}
	if (s->t_ns >= c->t_begin_ns && s->t_ns <= c->t_end_ns) {
		p->n_inside++;
		noise_add(&p->noise, s->value);
	}
}

/* The interval's volume and its uncertainty terms; false when the balance
 * has no reading at or before one of its ends. */
static bool weigh(struct analysis_ctx *ax, struct check_priv *p, struct req_state *r,
		  const struct evaporation_used *ev)
{
	const struct timeline *tl = ax->tl;
	rig_ns tb = r->at0.lo_t_ns, te = r->at1.lo_t_ns;
	double dt_h, collected_ml;

	if (!r->at0.have_lo || !r->at1.have_lo || te <= tb)
		return false;
	dt_h = rig_ns_to_h(te - tb);
	r->evap_g = ev->e_g_per_h * dt_h;
	collected_ml = (r->at1.lo_v - r->at0.lo_v + r->evap_g) * ax->ml_per_g;
	r->basal_ml = programmed_volume_ml(tl->rates, tl->n_rates, NULL, 0, tb, te);
	r->bolus_ml = collected_ml - r->basal_ml;
	r->u_read_ml = ax->ml_per_g * reading_pair_u_g(ax, &p->noise, timeline_rate_at(tl, tb),
						       timeline_rate_at(tl, te),
						       r->at1.lo_v - r->at0.lo_v);
	r->u_evap_ml = ax->ml_per_g * dt_h * ev->u_g_per_h;
	r->u_basal_ml = r->basal_ml * ax->dev->accuracy_tolerance_pct / 100 / sqrt(3);
	r->u_scale_ml = hypot(ax->u_rel_factor, ax->u_rel_span) * fabs(collected_ml);
	r->weighed = true;
	return true;
}

/* U (95 %) of a bolus's error, %: the basal's rectangular term (half-width
 * sqrt(3) u) with the normal rest. */
static double big_u_pct(const struct req_state *r)
{
	return 100 / r->rq->volume_ml *
	       coverage95_rect_normal(sqrt(3) * r->u_basal_ml,
				      sqrt(r->u_read_ml * r->u_read_ml + r->u_evap_ml * r->u_evap_ml +
					   r->u_scale_ml * r->u_scale_ml));
}

/* A bolus's four uncertainty terms (k = 1, %) as quantity's budget. */
static void bolus_budget(struct analysis_ctx *ax, struct check_result *c, const char *quantity,
			 const struct check_priv *p, const struct req_state *r,
			 const struct evaporation_used *ev)
{
	double k = 100 / r->rq->volume_ml;

	budget_add(c, quantity, "balance readings at the interval's ends", k * r->u_read_ml, "%",
		   "%s (%.3g mg), the line's content between strokes, " READING_CAL_PAIR_WORDS
		   " (%.3g mg)", reading_noise_source(ax), reading_noise_g(ax, &p->noise) * 1e3,
		   reading_cal_pair_u_g(ax, r->at1.lo_v - r->at0.lo_v) * 1e3);
	budget_add(c, quantity, "evaporation added back", k * r->u_evap_ml, "%",
		   "%.3g mg/h over %.4f h (%s)", ev->u_g_per_h * 1e3,
		   rig_ns_to_h(r->at1.lo_t_ns - r->at0.lo_t_ns), ev->source);
	budget_add(c, quantity, "basal taken away", k * r->u_basal_ml, "%",
		   "%.6f mL programmed, within device accuracy.tolerance %.3g %% (rectangular)",
		   r->basal_ml, ax->dev->accuracy_tolerance_pct);
	budget_add(c, quantity, "volume per gram and balance span", k * r->u_scale_ml, "%",
		   "hypot(%.3g, %.3g) relative: the bench's fluid and air density uncertainties, "
		   "scale calibration.gain_uncertainty", ax->u_rel_factor, ax->u_rel_span);
}

static double error_pct(const struct req_state *r)
{
	return 100 * (r->bolus_ml - r->rq->volume_ml) / r->rq->volume_ml;
}

/* The lockout's verdict on request i; 0 nothing to say, 1 honoured, -1 a
 * violation (why in buf), 2 too near the lockout's end to judge. */
static int lockout_judge(const struct analysis_ctx *ax, const struct check_priv *p, size_t i,
			 char *buf, size_t len)
{
	const struct timeline *tl = ax->tl;
	const struct req_state *r = &p->r[i];
	rig_ns lockout = ax->dev->bolus_lockout_ns, since, margin;
	const struct bolus_request *prev = NULL;

	if (lockout <= 0 || !r->rq->patient)
		return 0;
	for (size_t k = 0; k < tl->n_requests && tl->requests[k].t_ns < r->rq->t_ns; k++)
		if (tl->requests[k].patient && !tl->requests[k].refused)
			prev = &tl->requests[k];
	if (r->rq->refused && r->weighed && r->bolus_ml > 0.5 * r->rq->volume_ml) {
		snprintf(buf, len, "the pump refused the patient's bolus at t = %.0f s, yet the "
			 "balance gained %.4f mL beyond the basal (of %.4g mL asked for)",
			 rig_ns_to_s(r->rq->t_ns), r->bolus_ml, r->rq->volume_ml);
		return -1;
	}
	if (!prev)
		return r->rq->refused ? (snprintf(buf, len, "the pump refused the patient's first "
					 "bolus (t = %.0f s), with none before it to lock it out",
					 rig_ns_to_s(r->rq->t_ns)), -1) : 0;
	since = r->rq->t_ns - prev->t_ns;
	margin = (rig_ns)fmax(2 * RIG_NS_PER_S, LOCKOUT_MARGIN_REL * (double)lockout);
	if (since < lockout - margin && !r->rq->refused) {
		snprintf(buf, len, "the pump delivered a patient's bolus %.1f min after the previous "
			 "one (t = %.0f s), within the lockout of %.6g min", rig_ns_to_s(since) / 60,
			 rig_ns_to_s(r->rq->t_ns), rig_ns_to_s(lockout) / 60);
		return -1;
	}
	if (since > lockout + margin && r->rq->refused) {
		snprintf(buf, len, "the pump refused a patient's bolus %.1f min after the previous "
			 "one (t = %.0f s), after the lockout of %.6g min had ended",
			 rig_ns_to_s(since) / 60, rig_ns_to_s(r->rq->t_ns), rig_ns_to_s(lockout) / 60);
		return -1;
	}
	return since < lockout - margin || since > lockout + margin ? 1 : 2;
}

static void check_bolus_judge(struct analysis_ctx *ax, struct check_result *c, struct check_state *st)
{
	struct check_priv *p = st->priv;
	const struct device *dev = ax->dev;
	rig_ns settle = bolus_settle_ns(ax->bench);
	struct evaporation_used ev;
	struct measurement *m;
	size_t n_bolus = 0, n_refused = 0, n_judged = 0, n_violations = 0, worst = SIZE_MAX;
	size_t n_near = 0;
	double sum = 0, sum_u_rand2 = 0, sum_u_evap = 0, sum_u_scale = 0, sum_u_basal = 0;
	char first_violation[256] = "", when[96] = "";

	if (window_incomplete(c))
		return;
	if (st->n_mass_steps > 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "the balance fell abruptly %zu time(s) inside window \"%s\" (see the "
			 "instrument events): the collected mass does not measure the boluses",
			 st->n_mass_steps, c->window);
		return;
	}
	if (p->n_beyond > 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "window \"%s\" holds %zu boluses asked for; a bolus_accuracy check weighs "
			 "at most %d: split the window", c->window, p->n + p->n_beyond,
			 BOLUS_CHECK_MAX);
		return;
	}
	evaporation_for(ax, c, c->t_begin_ns, c->t_end_ns, &ev);
	for (size_t i = 0; i < p->n; i++) {
		struct req_state *r = &p->r[i];
		const struct bolus_request *rq = r->rq;
		char why[256];
		int lk;

		if (!weigh(ax, p, r, &ev)) {
			snprintf(c->explanation, sizeof(c->explanation),
				 "no settled balance reading before the bolus asked for at t = %.0f s, "
				 "or before the end of its interval", rig_ns_to_s(rq->t_ns));
			return;
		}
		if (!rq->refused &&
		    r->t1_ns - rq->t_ns < rig_s_to_ns(rq->volume_ml / rq->rate_ml_per_h * 3600) + settle) {
			snprintf(c->explanation, sizeof(c->explanation),
				 "the bolus asked for at t = %.0f s was given %.0f s before the next "
				 "bolus or the window's end; it runs %.0f s and the balance needs %.0f s "
				 "more to hold all of it", rig_ns_to_s(rq->t_ns),
				 rig_ns_to_s(r->t1_ns - rq->t_ns), rq->volume_ml / rq->rate_ml_per_h * 3600,
				 rig_ns_to_s(settle));
			return;
		}
		lk = lockout_judge(ax, p, i, why, sizeof(why));
		if (lk == 2)
			n_near++;
		else if (lk != 0)
			n_judged++;
		if (lk < 0) {
			size_t used = strlen(when);

			if (n_violations++ == 0)
				snprintf(first_violation, sizeof(first_violation), "%s", why);
			snprintf(when + used, sizeof(when) - used, "%s%.0f s", used ? ", " : "",
				 rig_ns_to_s(rq->t_ns));
		}
		if (rq->refused) {
			char name[48];

			/* what the refused demand put on the balance, as a part of
			 * what was asked: under the lockout, less than half of it */
			snprintf(name, sizeof(name), "refused_%zu_delivered", ++n_refused);
			bolus_budget(ax, c, name, p, r, &ev);
			m = check_measure(c, name, 100 * r->bolus_ml / rq->volume_ml, big_u_pct(r), "%");
			if (dev->bolus_lockout_ns > 0) {
				measure_limit(m, -INFINITY, 50);
				if (m)
					snprintf(m->requirement, sizeof(m->requirement), "%s",
						 dev->lockout_requirement);
			}
			if (m)
				snprintf(m->source, sizeof(m->source), "patient's bolus of %.4g mL asked "
					 "for at t = %.0f s, refused by the pump: the balance's gain to the "
					 "next request less the basal (%.6f mL): %.3f uL; U: 95 %% of basal "
					 "(rectangular) + rest", rq->volume_ml, rig_ns_to_s(rq->t_ns),
					 r->basal_ml, shown_value(r->bolus_ml * 1e3, 3));
			continue;
		}
		n_bolus++;
		{
			double e = error_pct(r), k = 100 / rq->volume_ml;
			char name[48];

			snprintf(name, sizeof(name), "bolus_%zu_error", n_bolus);
			bolus_budget(ax, c, name, p, r, &ev);
			m = check_measure(c, name, e, big_u_pct(r), "%");
			measure_limit(m, c->limit_low, c->limit_high);
			if (m)
				snprintf(m->source, sizeof(m->source),
					 "%s bolus of %.4g mL at %.4g mL/h asked for at t = %.0f s: "
					 "balance %.6f g (t = %.0f s) to %.6f g (t = %.0f s), %.4f mg "
					 "evaporation added back, %.6f mL basal taken away: %.6f mL; "
					 "U: 95 %% of basal (rectangular) + rest",
					 rq->patient ? "patient's" : "clinician's", rq->volume_ml,
					 rq->rate_ml_per_h, rig_ns_to_s(rq->t_ns), r->at0.lo_v,
					 rig_ns_to_s(r->at0.lo_t_ns), r->at1.lo_v,
					 rig_ns_to_s(r->at1.lo_t_ns), r->evap_g * 1e3, r->basal_ml,
					 r->bolus_ml);
			sum += e;
			sum_u_rand2 += k * k * r->u_read_ml * r->u_read_ml;
			sum_u_basal += k * r->u_basal_ml;
			sum_u_evap += k * r->u_evap_ml;
			sum_u_scale += k * r->u_scale_ml;
			if (worst == SIZE_MAX || fabs(e) > fabs(error_pct(&p->r[worst])))
				worst = i;
		}
	}
	c->n_samples = p->n_inside;
	if (n_bolus == 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "no bolus was delivered in window \"%s\" (%zu asked for, %zu refused)",
			 c->window, p->n, n_refused);
		return;
	}
	{
		const struct req_state *w = &p->r[worst];
		double nb = (double)n_bolus;
		double mean = sum / nb;
		double u_normal = sqrt(sum_u_rand2 / (nb * nb) + pow(sum_u_evap / nb, 2) +
				       pow(sum_u_scale / nb, 2));
		double big_u_mean = coverage95_rect_normal(sqrt(3) * sum_u_basal / nb, u_normal);

		bolus_budget(ax, c, "bolus_error_worst", p, w, &ev);
		budget_add(c, "bolus_error_mean", "balance readings, each bolus's own",
			   sqrt(sum_u_rand2) / nb, "%", "sqrt(sum of squares) / N over %zu boluses",
			   n_bolus);
		budget_add(c, "bolus_error_mean", "basal taken away (common)", sum_u_basal / nb, "%",
			   "the mean of each bolus's term: one pump, one basal rate error, within "
			   "device accuracy.tolerance %.3g %% (rectangular)", dev->accuracy_tolerance_pct);
		budget_add(c, "bolus_error_mean", "evaporation added back (common)", sum_u_evap / nb,
			   "%", "the mean of each bolus's term: one evaporation rate for all");
		budget_add(c, "bolus_error_mean", "volume per gram and balance span (common)",
			   sum_u_scale / nb, "%", "the mean of each bolus's term: one density and "
			   "one span for all");

		c->measured = error_pct(w);
		c->u_expanded = big_u_pct(w);
		c->has_measured = true;
		c->programmed_ml = w->rq->volume_ml;
		c->delivered_ml = w->bolus_ml;
		m = check_measure(c, "bolus_error_worst", c->measured, c->u_expanded, "%");
		measure_limit(m, c->limit_low, c->limit_high);
		if (m)
			snprintf(m->source, sizeof(m->source), "the bolus farthest from its volume: "
				 "asked for at t = %.0f s, %.4g mL, weighed %.6f mL; U holds 95 %% of the "
				 "basal's rectangular error with the normal rest, not 2 u_c",
				 rig_ns_to_s(w->rq->t_ns), w->rq->volume_ml, w->bolus_ml);
		m = check_measure(c, "bolus_error_mean", mean, big_u_mean, "%");
		measure_limit(m, c->limit_low, c->limit_high);
		if (m)
			snprintf(m->source, sizeof(m->source), "the mean of the %zu boluses' errors; U "
				 "holds 95 %% of the basal's rectangular error (common to all) with the "
				 "normal rest, not 2 u_c", n_bolus);
		m = check_measure(c, "balance_noise", noise_sigma(&p->noise) * 1e3, NAN, "mg");
		if (m)
			snprintf(m->source, sizeof(m->source), "1 sigma, from second differences of "
				 "the %zu settled readings in the window", p->n_inside);
		/* the lockout: judged only where a request of the patient's came
		 * inside it or after it; else not tested, and said so */
		if (dev->bolus_lockout_ns > 0 && n_judged > 0) {
			check_criterion(c, dev->lockout_requirement, "a patient's bolus asked for "
					"within %.6g min of the start of the previous patient's bolus "
					"delivered is refused and delivers under half of itself; one "
					"after it is delivered (device bolus.lockout)",
					rig_ns_to_s(dev->bolus_lockout_ns) / 60);
			/* a count: each request judged by the pump's answer and by the
			 * balance, whose gain a refused bolus must keep below half of
			 * it, far beyond the balance's U */
			budget_add(c, "lockout_violations", "a count of requests", 0, "requests",
				   "exact: the pump's answer to each request (events.jsonl), and "
				   "for a refused one the balance's gain below half the bolus");
			m = check_measure(c, "lockout_violations", (double)n_violations, 0, "requests");
			measure_limit(m, 0, 0);
			if (m) {
				snprintf(m->requirement, sizeof(m->requirement), "%s",
					 dev->lockout_requirement);
				snprintf(m->source, sizeof(m->source), "%zu requests by the patient "
					 "judged against the lockout of %.6g min, %zu not (within 1 %% of its "
					 "end), %zu refused%s%s", n_judged,
					 rig_ns_to_s(dev->bolus_lockout_ns) / 60, n_near,
					 n_refused, n_violations ? "; violations at t = " : "", when);
			}
		}
		evaporation_measure(c, ax, &ev);
		c->verdict = VERDICT_PASS;
		for (size_t i = 0; i < c->n_m; i++)
			if (c->m[i].has_limit && c->m[i].verdict != VERDICT_PASS)
				c->verdict = VERDICT_FAIL;
		{
			char lockout[400] = "";

			if (dev->bolus_lockout_ns > 0 && n_judged == 0)
				snprintf(lockout, sizeof(lockout), "; the lockout (%s) was not tested: "
					 "no request by the patient came inside it or after it",
					 dev->lockout_requirement);
			else if (n_violations > 0)
				snprintf(lockout, sizeof(lockout), "; lockout not honoured (%zu "
					 "violation%s; the first: %s)", n_violations,
					 n_violations > 1 ? "s" : "", first_violation);
			else if (dev->bolus_lockout_ns > 0)
				snprintf(lockout, sizeof(lockout), "; lockout honoured (%zu request%s "
					 "by the patient judged)", n_judged, n_judged > 1 ? "s" : "");
			else if (n_refused > 0)
				snprintf(lockout, sizeof(lockout), "; %zu demand%s refused by the "
					 "pump, not judged: the device states no lockout", n_refused,
					 n_refused > 1 ? "s" : "");
			/* the lockout's words may be cut at the explanation's end */
			if (snprintf(c->explanation, sizeof(c->explanation),
				     "%zu bolus(es) weighed: worst %+.3f %% (U = %.3f %%, 95 %%), mean "
				     "%+.3f %% (U = %.3f %%) against +-%.3g %%%s", n_bolus,
				     shown_value(c->measured, 3), c->u_expanded, shown_value(mean, 3),
				     big_u_mean, dev->bolus_tolerance_pct, lockout) >=
			    (int)sizeof(c->explanation))
				c->explanation[sizeof(c->explanation) - 1] = '\0';
		}
		snprintf(c->source, sizeof(c->source),
			 "samples.csv: scale mass (settled readings only), the last at or before each "
			 "bolus request and each interval's end; events.jsonl: the bolus and "
			 "bolus_refused events and the rate commands (the basal taken away); volume "
			 "per gram %.7f mL/g; evaporation %.4g mg/h", ax->ml_per_g,
			 ev.e_g_per_h * 1e3);
	}
}

static void check_bolus_free(struct check_priv *priv)
{
	free(priv);
}

const struct check_ops check_bolus_ops = {
	.kind = CHECK_BOLUS_ACCURACY,
	.init = check_bolus_init,
	.sample = check_bolus_sample,
	.judge = check_bolus_judge,
	.free = check_bolus_free,
};
