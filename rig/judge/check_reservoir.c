/* reservoir: one refill followed to empty inside a marked window.
 *
 * The account.  The refill step records the mass put in (weighed outside
 * rig, with its uncertainty) and what the pump was told; from then on the
 * reservoir truly holds
 *     V(t) = m_fill * f - (M(t) - M(t_fill) + E (t - t_fill)) * f
 * with f the volume per gram, M the balance's settled readings (the last at
 * or before each time) and E the evaporation added back (evaporation_for()).
 * What is in the line between the pump and the vessel (a few uL with the
 * valve open) is left out.
 *
 * Judged against it, each with U (k = 2):
 *   reading_error_after_refill, reading_error_worst: the pump's own
 *     reservoir reading (its telemetry, samples.csv pump reservoir) minus
 *     V(t), just after the refill and the farthest of REFILL_CHECKPOINTS
 *     times evenly spread from the refill to the empty alarm (or the
 *     window's end), within +-reading_tolerance (the device's requirement);
 *   low_alarm_volume_error: V at the first pump status that shows the
 *     reservoir low, minus the device's low_alarm, within +-alarm_tolerance;
 *   low_alarm_after_refill: the time from the refill to that alarm, within
 *     what the threshold's tolerance and the pump's accuracy allow at the
 *     programmed rate: (V_fill - low_alarm -+ alarm_tolerance) /
 *     (rate (1 +- accuracy));
 *   empty_alarm_volume: V at the first status that shows it empty, within
 *     +-alarm_tolerance of 0;
 *   delivery_before_empty_error: what the balance gained over the hour (or
 *     half the time from the refill, if less) before the empty alarm against
 *     the basal programmed over it, within +-the device's accuracy: a pump
 *     whose reservoir ran dry before it alarmed delivered nothing there;
 *   delivered_after_empty: what the balance gained after the empty alarm,
 *     to the window's end: at most alarm_tolerance;
 *   refill_interval_days: how long a full reservoir (the device's) lasts
 *     at the window's programmed rate, delivered as this pump delivered it
 *     (the balance over the refill to the low alarm), until the low alarm
 *     measured: (reservoir - V_low) / (rate_measured * 24 h); no limit.
 * The alarms are judged against the device's alarm_requirement; the status
 * is polled every pump period, so an alarm is seen up to a period late
 * (a rectangular term in volume and in time). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rig/analysis/dose.h"
#include "rig/analysis/gravimetric.h"

#define REFILL_CHECKPOINTS 64

/* A time at which the balance's and the pump's last readings are taken. */
struct probe {
	rig_ns t_ns;
	bool have_m, have_r;
	rig_ns m_t_ns;                       /* the balance reading's own time */
	double m_g;                          /* the balance at t_ns (below) */
	double r_ml;                         /* the pump's last reservoir reading at or before */
};

enum { P_FILL, P_AFTER, P_LOW, P_PRE, P_EMPTY, P_END, P_CP0 };
#define PROBES_MAX (P_CP0 + REFILL_CHECKPOINTS)

struct check_priv {
	const struct refill_mark *fill;
	rig_ns t_low, t_empty;               /* -1: not seen in the window */
	struct probe p[PROBES_MAX];
	size_t n_cp;
	/* probes in time order, for each role's pass */
	size_t order[PROBES_MAX];
	size_t next_m, next_r;
	bool have_m, have_r;
	rig_ns last_m_t;
	double last_m, last_r;
	struct noise_est noise;
	size_t n_inside;
};

/* The first time flag `flags` turns on in (t0, t1]; -1 if it does not. */
static rig_ns first_on(const struct t_flag *flags, size_t n, rig_ns t0, rig_ns t1)
{
	for (size_t i = 0; i < n; i++)
		if (flags[i].on && flags[i].t_ns > t0 && flags[i].t_ns <= t1)
			return flags[i].t_ns;
	return -1;
}

static int by_time(const void *a, const void *b, void *arg)
{
	const struct probe *p = arg;
	rig_ns ta = p[*(const size_t *)a].t_ns, tb = p[*(const size_t *)b].t_ns;

	return ta < tb ? -1 : ta > tb;
}

static void sort_probes(struct check_priv *p, size_t n)
{
	/* insertion sort: PROBES_MAX is small */
	for (size_t i = 0; i < n; i++)
		p->order[i] = i;
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && by_time(&p->order[k - 1], &p->order[k], p->p) > 0; k--) {
			size_t x = p->order[k];

			p->order[k] = p->order[k - 1];
			p->order[k - 1] = x;
		}
}

static int check_reservoir_init(struct analysis_ctx *ax, struct check_result *c,
				struct check_state *st)
{
	const struct timeline *tl = ax->tl;
	const struct device *dev = ax->dev;
	rig_ns poll = bench_pump_poll_ns(ax->bench), t_stop;
	struct check_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	st->priv = p;
	snprintf(c->requirement, sizeof(c->requirement), "%s",
		 st->step->requirement[0] ? st->step->requirement : dev->refill_requirement);
	c->limit_low = -dev->reading_tolerance_ml;
	c->limit_high = dev->reading_tolerance_ml;
	snprintf(c->unit, sizeof(c->unit), "mL");
	snprintf(c->criterion, sizeof(c->criterion),
		 "reservoir reading within +-%.3g mL of the weighed account (device refill)",
		 dev->reading_tolerance_ml);
	p->t_low = p->t_empty = -1;
	for (size_t i = 0; i < tl->n_refills; i++)
		if (tl->refills[i].t_ns >= c->t_begin_ns &&
		    (c->t_end_ns <= c->t_begin_ns || tl->refills[i].t_ns < c->t_end_ns)) {
			p->fill = &tl->refills[i];
			break;
		}
	if (!p->fill || c->t_end_ns <= c->t_begin_ns)
		return 0;
	p->t_low = first_on(tl->pump_reservoir_low, tl->n_pump_reservoir_low, p->fill->t_ns,
			    c->t_end_ns);
	p->t_empty = first_on(tl->pump_empty, tl->n_pump_empty, p->fill->t_ns, c->t_end_ns);
	p->p[P_FILL].t_ns = p->fill->t_ns;
	/* the first status after the refill: the engine reads one at once */
	p->p[P_AFTER].t_ns = p->fill->t_ns + poll / 2;
	p->p[P_LOW].t_ns = p->t_low >= 0 ? p->t_low : c->t_end_ns;
	p->p[P_EMPTY].t_ns = p->t_empty >= 0 ? p->t_empty : c->t_end_ns;
	{
		rig_ns span = p->p[P_EMPTY].t_ns - p->fill->t_ns, pre = 3600 * RIG_NS_PER_S;

		if (pre > span / 2)
			pre = span / 2;
		p->p[P_PRE].t_ns = p->p[P_EMPTY].t_ns - pre;
	}
	p->p[P_END].t_ns = c->t_end_ns;
	/* the checkpoints stop a poll and two balance readings before the
	 * empty alarm: the pump stopped up to a poll before it, and a balance
	 * interpolated across the stop would not be the flow's; from there on
	 * the reading says empty, which empty_alarm_volume judges */
	t_stop = p->t_empty >= 0 ? p->t_empty - poll -
				   2 * ax->bench->instrument[ROLE_SCALE].period_ns : c->t_end_ns;
	p->n_cp = t_stop > p->p[P_AFTER].t_ns ? REFILL_CHECKPOINTS : 0;
	for (size_t i = 0; i < p->n_cp; i++)
		p->p[P_CP0 + i].t_ns = p->p[P_AFTER].t_ns +
				       (rig_ns)((double)(t_stop - p->p[P_AFTER].t_ns) *
						(double)(i + 1) / REFILL_CHECKPOINTS);
	sort_probes(p, P_CP0 + p->n_cp);
	return 0;
}

static void check_reservoir_sample(struct analysis_ctx *ax, struct check_result *c,
				   struct check_state *st, const struct sample *s)
{
	struct check_priv *p = st->priv;
	size_t n = P_CP0 + p->n_cp;

	(void)ax;
	if (!p->fill)
		return;
	if (s->role == ROLE_SCALE) {
		/* the balance at a probe's time: interpolated between the settled
		 * readings either side of it (readings come every few tens of
		 * seconds, in which the pump delivers uL), except at the empty
		 * alarm, where the pump has just stopped: the first reading after
		 * it holds what it delivered */
		while (p->next_m < n && p->p[p->order[p->next_m]].t_ns < s->t_ns) {
			size_t idx = p->order[p->next_m++];
			struct probe *q = &p->p[idx];

			q->have_m = p->have_m;
			q->m_g = p->last_m;
			q->m_t_ns = p->last_m_t;
			if (idx == P_EMPTY) {
				q->have_m = true;
				q->m_g = s->value;
				q->m_t_ns = s->t_ns;
			} else if (p->have_m && s->t_ns > p->last_m_t) {
				q->m_g = p->last_m + (s->value - p->last_m) *
					 (double)(q->t_ns - p->last_m_t) / (double)(s->t_ns - p->last_m_t);
				q->m_t_ns = q->t_ns;
			}
		}
		p->have_m = true;
		p->last_m = s->value;
		p->last_m_t = s->t_ns;
		if (s->t_ns >= c->t_begin_ns && s->t_ns <= c->t_end_ns) {
			p->n_inside++;
			noise_add(&p->noise, s->value);
		}
	} else if (s->role == ROLE_PUMP && strcmp(s->quantity, "reservoir") == 0) {
		while (p->next_r < n && p->p[p->order[p->next_r]].t_ns < s->t_ns) {
			struct probe *q = &p->p[p->order[p->next_r++]];

			q->have_r = p->have_r;
			q->r_ml = p->last_r;
		}
		p->have_r = true;
		p->last_r = s->value;
	}
}

/* What the line holds on its way to the vessel at probe q: the programmed
 * rate times the bench's line time constant while the pump delivers, none
 * once it has stopped empty and the line drained (the empty probe's reading
 * is the first after the alarm). */
static double in_line_ml(const struct analysis_ctx *ax, const struct check_priv *p,
			 const struct probe *q)
{
	if (q == &p->p[P_EMPTY] || q == &p->p[P_END] || (p->t_empty >= 0 && q->t_ns > p->t_empty))
		return 0;
	/* at the refill and just after it: the rate before it (a rate set at
	 * once after it has not yet filled the line) */
	return timeline_rate_at(ax->tl, q == &p->p[P_FILL] || q == &p->p[P_AFTER] ?
				p->fill->t_ns - 1 : q->t_ns) *
	       rig_ns_to_h(line_time_constant_ns(ax->bench));
}

/* The account at probe q, and its standard uncertainty (mL). */
struct account {
	double v_ml, u_ml;
	double gained_g, evap_g;
	double line_ml;                      /* in the line then, less at the refill */
};

/* The volume per gram's share: it turns the refill's mass and what the
 * balance gained into volumes alike, so its error scales what is left
 * (the refill's volume as the pump was told it, against what truly went
 * in) and, where the refill's volume is taken as told, what was
 * delivered; both are counted. */
static double factor_u_ml(const struct analysis_ctx *ax, const struct account *a)
{
	return ax->u_rel_factor * hypot(a->v_ml, (a->gained_g + a->evap_g) * ax->ml_per_g);
}

static struct account account_at(const struct analysis_ctx *ax, const struct check_priv *p,
				 const struct probe *q, const struct evaporation_used *ev)
{
	const struct probe *f = &p->p[P_FILL];
	const struct timeline *tl = ax->tl;
	double k = ax->ml_per_g, dt_h = rig_ns_to_h(q->m_t_ns - f->m_t_ns);
	struct account a;
	double u_read = reading_pair_u_g(ax, &p->noise, timeline_rate_at(tl, f->m_t_ns),
					 timeline_rate_at(tl, q->m_t_ns), q->m_g - f->m_g);

	double line = in_line_ml(ax, p, q) - in_line_ml(ax, p, f);

	a.line_ml = line;
	a.gained_g = q->m_g - f->m_g;
	a.evap_g = ev->e_g_per_h * dt_h;
	/* what left the reservoir is in the vessel or on its way in the line */
	a.v_ml = (p->fill->mass_g - a.gained_g - a.evap_g) * k - line;
	a.u_ml = sqrt(pow(p->fill->mass_u_g * k, 2) + pow(u_read * k, 2) + pow(0.5 * line, 2) +
		      pow(ev->u_g_per_h * dt_h * k, 2) + pow(factor_u_ml(ax, &a), 2) +
		      pow(ax->u_rel_span * (a.gained_g + a.evap_g) * k, 2));
	return a;
}

static void account_budget(struct analysis_ctx *ax, struct check_result *c, const char *quantity,
			   const struct check_priv *p, const struct probe *q,
			   const struct evaporation_used *ev, const struct account *a)
{
	double k = ax->ml_per_g, dt_h = rig_ns_to_h(q->m_t_ns - p->p[P_FILL].m_t_ns);

	budget_add(c, quantity, "refill mass", p->fill->mass_u_g * k, "mL",
		   "the refill step's mass_uncertainty (%.3g mg) times %.7f mL/g",
		   p->fill->mass_u_g * 1e3, k);
	budget_add(c, quantity, "balance readings at the refill and then",
		   k * reading_pair_u_g(ax, &p->noise, timeline_rate_at(ax->tl, p->p[P_FILL].m_t_ns),
					timeline_rate_at(ax->tl, q->m_t_ns), q->m_g - p->p[P_FILL].m_g),
		   "mL", "%s (%.3g mg), the line's content between strokes, " READING_CAL_PAIR_WORDS
		   " (%.3g mg)", reading_noise_source(ax), reading_noise_g(ax, &p->noise) * 1e3,
		   reading_cal_pair_u_g(ax, q->m_g - p->p[P_FILL].m_g) * 1e3);
	budget_add(c, quantity, "evaporation added back", ev->u_g_per_h * dt_h * k, "mL",
		   "%.3g mg/h over %.4f h (%s)", ev->u_g_per_h * 1e3, dt_h, ev->source);
	budget_add(c, quantity, "what the line holds on its way", 0.5 * fabs(a->line_ml), "mL",
		   "half of %.4f uL: the programmed rate times the bench's line_time_constant "
		   "(6 s if it states none)",
		   a->line_ml * 1e3);
	budget_add(c, quantity, "volume per gram and balance span",
		   hypot(factor_u_ml(ax, a), ax->u_rel_span * (a->gained_g + a->evap_g) * k),
		   "mL", "%.3g relative of what is left and of what was delivered (the bench's "
		   "fluid and air density), %.3g of what the balance gained (scale "
		   "calibration.gain_uncertainty)", ax->u_rel_factor, ax->u_rel_span);
}

/* The balance's gain between probes a and b, evaporation added back, in
 * mL, and its standard uncertainty. */
static double gain_ml(const struct analysis_ctx *ax, const struct check_priv *p,
		      const struct probe *a, const struct probe *b,
		      const struct evaporation_used *ev, double *ret_u)
{
	double k = ax->ml_per_g, dt_h = rig_ns_to_h(b->m_t_ns - a->m_t_ns);
	double v = (b->m_g - a->m_g + ev->e_g_per_h * dt_h) * k;

	*ret_u = sqrt(pow(k * reading_pair_u_g(ax, &p->noise, timeline_rate_at(ax->tl, a->m_t_ns),
					       timeline_rate_at(ax->tl, b->m_t_ns), b->m_g - a->m_g), 2) +
		      pow(ev->u_g_per_h * dt_h * k, 2) +
		      pow(hypot(ax->u_rel_factor, ax->u_rel_span) * v, 2));
	return v;
}

static void set_requirement(struct measurement *m, const char *id)
{
	if (m)
		snprintf(m->requirement, sizeof(m->requirement), "%s", id);
}

static void check_reservoir_judge(struct analysis_ctx *ax, struct check_result *c,
				  struct check_state *st)
{
	struct check_priv *p = st->priv;
	const struct device *dev = ax->dev;
	const struct timeline *tl = ax->tl;
	double poll_s = rig_ns_to_s(bench_pump_poll_ns(ax->bench));
	double k = ax->ml_per_g, v_fill, rate, acc = dev->accuracy_tolerance_pct / 100;
	size_t n = P_CP0 + p->n_cp, worst = SIZE_MAX;
	struct evaporation_used ev;
	struct measurement *m;
	struct account a_after, a_worst = { 0 };
	double e_worst = 0;
	char tail[300] = "";

	if (window_incomplete(c))
		return;
	if (!p->fill) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "no refill was made inside window \"%s\"", c->window);
		return;
	}
	if (st->n_mass_steps > 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "the balance fell abruptly %zu time(s) inside window \"%s\" (see the "
			 "instrument events): what it gained does not measure the delivery",
			 st->n_mass_steps, c->window);
		return;
	}
	for (; p->next_m < n; p->next_m++) {
		struct probe *q = &p->p[p->order[p->next_m]];

		q->have_m = p->have_m;
		q->m_g = p->last_m;
		q->m_t_ns = p->last_m_t;
	}
	for (; p->next_r < n; p->next_r++) {
		struct probe *q = &p->p[p->order[p->next_r]];

		q->have_r = p->have_r;
		q->r_ml = p->last_r;
	}
	if (!p->p[P_FILL].have_m || !p->p[P_AFTER].have_r) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "no settled balance reading before the refill at t = %.0f s, or no reservoir "
			 "reading from the pump after it", rig_ns_to_s(p->fill->t_ns));
		return;
	}
	c->n_samples = p->n_inside;
	evaporation_for(ax, c, c->t_begin_ns, c->t_end_ns, &ev);
	v_fill = p->fill->mass_g * k;
	rate = timeline_rate_at(tl, p->t_low >= 0 ? p->t_low : p->fill->t_ns + 1);

	/* the reading, just after the refill and at every checkpoint */
	a_after = account_at(ax, p, &p->p[P_AFTER], &ev);
	account_budget(ax, c, "reading_error_after_refill", p, &p->p[P_AFTER], &ev, &a_after);
	m = check_measure(c, "reading_error_after_refill", p->p[P_AFTER].r_ml - a_after.v_ml,
			  2 * a_after.u_ml, "mL");
	measure_limit(m, c->limit_low, c->limit_high);
	if (m)
		snprintf(m->source, sizeof(m->source), "refill of %.4f g at t = %.0f s (%.6f mL "
			 "of the bench's fluid; the pump was told %.6f mL): the pump read %.6f mL, "
			 "the account %.6f mL", p->fill->mass_g, rig_ns_to_s(p->fill->t_ns), v_fill,
			 p->fill->volume_ml, p->p[P_AFTER].r_ml, a_after.v_ml);
	for (size_t i = 0; i < p->n_cp; i++) {
		const struct probe *q = &p->p[P_CP0 + i];
		struct account a;

		if (!q->have_m || !q->have_r)
			continue;
		a = account_at(ax, p, q, &ev);
		if (worst == SIZE_MAX || fabs(q->r_ml - a.v_ml) > fabs(e_worst)) {
			worst = P_CP0 + i;
			e_worst = q->r_ml - a.v_ml;
			a_worst = a;
		}
	}
	if (worst == SIZE_MAX) {
		worst = P_AFTER;
		e_worst = p->p[P_AFTER].r_ml - a_after.v_ml;
		a_worst = a_after;
	}
	account_budget(ax, c, "reading_error_worst", p, &p->p[worst], &ev, &a_worst);
	c->measured = e_worst;
	c->u_expanded = 2 * a_worst.u_ml;
	c->has_measured = true;
	c->programmed_ml = v_fill;
	m = check_measure(c, "reading_error_worst", e_worst, c->u_expanded, "mL");
	measure_limit(m, c->limit_low, c->limit_high);
	if (m)
		snprintf(m->source, sizeof(m->source), "the farthest of %zu checkpoints from the "
			 "refill to %s: t = %.0f s, the pump read %.6f mL, the account %.6f mL "
			 "(%.4f g refilled, the balance gained %.6f g, %.4f mg evaporation added back)",
			 p->n_cp + 1, p->t_empty >= 0 ? "a poll before the empty alarm" :
			 "the window's end", rig_ns_to_s(p->p[worst].t_ns), p->p[worst].r_ml,
			 a_worst.v_ml, p->fill->mass_g, a_worst.gained_g, a_worst.evap_g * 1e3);

	/* the low-reservoir alarm: its volume and its time */
	if (p->t_low < 0) {
		check_criterion(c, dev->alarm_requirement, "the low-reservoir alarm at %.3g mL "
				"+- %.3g mL left; the pump alarms empty and stops delivering at 0 "
				"(device refill)", dev->low_alarm_ml, dev->alarm_tolerance_ml);
		snprintf(tail, sizeof(tail), "; the pump never alarmed the reservoir low in "
			 "window \"%s\" (%s)", c->window, dev->alarm_requirement);
		/* a pump that never says low fails the alarm requirement */
		m = check_measure(c, "low_alarm_seen", 0, 0, "alarms");
		measure_limit(m, 1, INFINITY);
		set_requirement(m, dev->alarm_requirement);
		if (m)
			snprintf(m->source, sizeof(m->source), "no pump status in window \"%s\" "
				 "after the refill showed the reservoir low (events.jsonl "
				 "pump_alarms)", c->window);
	} else {
		const struct probe *q = &p->p[P_LOW];
		struct account a = account_at(ax, p, q, &ev);
		double u_poll = rate * poll_s / 3600 / sqrt(3);
		double t_h = rig_ns_to_h(p->t_low - p->fill->t_ns);
		double expect = (v_fill - dev->low_alarm_ml) / rate;
		double lo = (v_fill - dev->low_alarm_ml - dev->alarm_tolerance_ml) / (rate * (1 + acc));
		double hi = (v_fill - dev->low_alarm_ml + dev->alarm_tolerance_ml) / (rate * (1 - acc));

		check_criterion(c, dev->alarm_requirement, "the low-reservoir alarm at %.3g mL "
				"+- %.3g mL left, and as long after the refill as that allows at the "
				"programmed rate within the device's accuracy; the pump alarms empty "
				"and stops delivering at 0 (device refill)", dev->low_alarm_ml,
				dev->alarm_tolerance_ml);
		account_budget(ax, c, "low_alarm_volume_error", p, q, &ev, &a);
		budget_add(c, "low_alarm_volume_error", "the alarm seen at the next status", u_poll,
			   "mL", "up to one pump period (%.3g s) at %.6g mL/h, rectangular", poll_s,
			   rate);
		m = check_measure(c, "low_alarm_volume_error", a.v_ml - dev->low_alarm_ml,
				  2 * hypot(a.u_ml, u_poll), "mL");
		measure_limit(m, -dev->alarm_tolerance_ml, dev->alarm_tolerance_ml);
		set_requirement(m, dev->alarm_requirement);
		if (m)
			snprintf(m->source, sizeof(m->source), "the first pump status showing the "
				 "reservoir low, t = %.0f s (events.jsonl pump_alarms): the account "
				 "%.6f mL, the pump read %.6f mL, against the device's low_alarm %.4g mL",
				 rig_ns_to_s(p->t_low), a.v_ml, q->r_ml, dev->low_alarm_ml);
		budget_add(c, "low_alarm_after_refill", "the alarm seen at the next status",
			   poll_s / 3600 / sqrt(3), "h", "up to one pump period (%.3g s), rectangular",
			   poll_s);
		m = check_measure(c, "low_alarm_after_refill", t_h, 2 * poll_s / 3600 / sqrt(3), "h");
		measure_limit(m, lo, hi);
		set_requirement(m, dev->alarm_requirement);
		if (m)
			snprintf(m->source, sizeof(m->source), "refill at t = %.0f s to the first "
				 "status showing the reservoir low at t = %.0f s; expected (%.6f - %.4g) "
				 "mL / %.6g mL/h = %.4f h, the limits from +-%.3g mL and the device's "
				 "accuracy +-%.3g %%", rig_ns_to_s(p->fill->t_ns), rig_ns_to_s(p->t_low),
				 v_fill, dev->low_alarm_ml, rate, expect, dev->alarm_tolerance_ml,
				 dev->accuracy_tolerance_pct);
	}

	/* empty: the alarm, the delivery before it and after it */
	if (p->t_empty < 0) {
		size_t used = strlen(tail);

		/* a pump that never says empty fails the alarm requirement */
		m = check_measure(c, "empty_alarm_seen", 0, 0, "alarms");
		measure_limit(m, 1, INFINITY);
		set_requirement(m, dev->alarm_requirement);
		if (m)
			snprintf(m->source, sizeof(m->source), "no pump status in window \"%s\" "
				 "after the refill showed the reservoir empty (events.jsonl "
				 "pump_alarms)", c->window);
		snprintf(tail + used, sizeof(tail) - used, "; the pump never alarmed empty");
	} else {
		const struct probe *q = &p->p[P_EMPTY];
		struct account a = account_at(ax, p, q, &ev);
		double u_poll = rate * poll_s / 3600 / sqrt(3), u, v, prog;

		account_budget(ax, c, "empty_alarm_volume", p, q, &ev, &a);
		budget_add(c, "empty_alarm_volume", "the alarm seen at the next status", u_poll,
			   "mL", "up to one pump period (%.3g s) at %.6g mL/h, rectangular", poll_s,
			   rate);
		m = check_measure(c, "empty_alarm_volume", a.v_ml, 2 * hypot(a.u_ml, u_poll), "mL");
		measure_limit(m, -dev->alarm_tolerance_ml, dev->alarm_tolerance_ml);
		set_requirement(m, dev->alarm_requirement);
		if (m)
			snprintf(m->source, sizeof(m->source), "the first pump status showing the "
				 "reservoir empty, t = %.0f s: the account %.6f mL left (%.4f g "
				 "refilled, the balance gained %.6f g, %.4f mg evaporation added back)",
				 rig_ns_to_s(p->t_empty), a.v_ml, p->fill->mass_g, a.gained_g,
				 a.evap_g * 1e3);
		/* what the pump put out: the vessel's gain less what was already
		 * in the line at the start (drained into the vessel by the first
		 * reading after the alarm), against the programmed to the alarm */
		v = gain_ml(ax, p, &p->p[P_PRE], q, &ev, &u) - in_line_ml(ax, p, &p->p[P_PRE]);
		prog = programmed_volume_ml(tl->rates, tl->n_rates, NULL, 0, p->p[P_PRE].m_t_ns,
					    p->t_empty);
		if (prog > 0) {
			budget_add(c, "delivery_before_empty_error", "balance, evaporation, density "
				   "and span", 100 * u / prog, "%", "the two readings and the "
				   "evaporation over %.4f h", rig_ns_to_h(q->m_t_ns - p->p[P_PRE].m_t_ns));
			budget_add(c, "delivery_before_empty_error", "what the line held at the start",
				   50 * in_line_ml(ax, p, &p->p[P_PRE]) / prog, "%", "half of %.4f uL: "
				   "the programmed rate times the bench's line_time_constant",
				   in_line_ml(ax, p, &p->p[P_PRE]) * 1e3);
			u = hypot(u, 0.5 * in_line_ml(ax, p, &p->p[P_PRE]));
			m = check_measure(c, "delivery_before_empty_error", 100 * (v - prog) / prog,
					  200 * u / prog, "%");
			measure_limit(m, -dev->accuracy_tolerance_pct, dev->accuracy_tolerance_pct);
			set_requirement(m, dev->alarm_requirement);
			if (m)
				snprintf(m->source, sizeof(m->source), "balance gain, t = %.0f s to %.0f s "
					 "(empty alarm at %.0f s), evaporation added back, less the line's "
					 "%.3f uL at the start: %.6f mL against %.6f mL programmed",
					 rig_ns_to_s(p->p[P_PRE].m_t_ns), rig_ns_to_s(q->m_t_ns),
					 rig_ns_to_s(p->t_empty), in_line_ml(ax, p, &p->p[P_PRE]) * 1e3, v,
					 prog);
		}
		v = gain_ml(ax, p, q, &p->p[P_END], &ev, &u);
		budget_add(c, "delivered_after_empty", "balance, evaporation, density and span", u,
			   "mL", "the two readings and the evaporation over %.4f h",
			   rig_ns_to_h(p->p[P_END].m_t_ns - q->m_t_ns));
		m = check_measure(c, "delivered_after_empty", v, 2 * u, "mL");
		measure_limit(m, -INFINITY, dev->alarm_tolerance_ml);
		set_requirement(m, dev->alarm_requirement);
		if (m)
			snprintf(m->source, sizeof(m->source), "the balance's gain from the empty "
				 "alarm (t = %.0f s) to the window's end (t = %.0f s), evaporation added "
				 "back", rig_ns_to_s(q->m_t_ns), rig_ns_to_s(p->p[P_END].m_t_ns));
	}

	/* the days between refills, as this pump delivers at this rate */
	if (p->t_low >= 0 && rate > 0) {
		const struct probe *q = &p->p[P_LOW];
		struct account a = account_at(ax, p, q, &ev);
		double h = rig_ns_to_h(q->m_t_ns - p->p[P_FILL].m_t_ns), used = v_fill - a.v_ml;

		if (h > 0 && used > 0) {
			double rate_meas = used / h;
			double days = (dev->reservoir_ml - a.v_ml) / (rate_meas * 24);
			double u_rel = hypot(a.u_ml / (dev->reservoir_ml - a.v_ml),
					     hypot(a.u_ml, p->fill->mass_u_g * k) / used);

			budget_add(c, "refill_interval_days", "the low alarm's volume and the rate "
				   "delivered", days * u_rel, "day", "relative: the account at the "
				   "low alarm over the usable volume, and over what was delivered");
			m = check_measure(c, "refill_interval_days", days, 2 * days * u_rel, "day");
			if (m)
				snprintf(m->source, sizeof(m->source), "a full reservoir (device "
					 "reservoir %.4g mL) to the low alarm measured (%.4f mL left), at "
					 "%.6g mL/h programmed, delivered as measured from the refill to "
					 "the low alarm (%.6f mL in %.4f h: %+.3f %% of programmed)",
					 dev->reservoir_ml, a.v_ml, rate, used, h,
					 100 * (rate_meas / rate - 1));
		}
	}
	m = check_measure(c, "balance_noise", noise_sigma(&p->noise) * 1e3, NAN, "mg");
	if (m)
		snprintf(m->source, sizeof(m->source), "1 sigma, from second differences of the "
			 "%zu settled readings in the window", p->n_inside);
	evaporation_measure(c, ax, &ev);
	c->verdict = VERDICT_PASS;
	for (size_t i = 0; i < c->n_m; i++)
		if (c->m[i].has_limit && c->m[i].verdict != VERDICT_PASS)
			c->verdict = VERDICT_FAIL;
	if (snprintf(c->explanation, sizeof(c->explanation),
		     "refill of %.4f g (%.4f mL) followed to empty: the pump's reading off by at "
		     "most %+.3f mL (U = %.3f mL) against +-%.3g mL%s", p->fill->mass_g, v_fill,
		     shown_value(e_worst, 3), c->u_expanded, dev->reading_tolerance_ml, tail) >=
	    (int)sizeof(c->explanation))
		c->explanation[sizeof(c->explanation) - 1] = '\0';
	snprintf(c->source, sizeof(c->source),
		 "events.jsonl: the refill (mass weighed, volume told) and pump_alarms (reservoir "
		 "low, empty); samples.csv: pump reservoir readings and scale mass (settled readings "
		 "only), the last at or before each time; volume per gram %.7f mL/g; evaporation "
		 "%.4g mg/h", k, ev.e_g_per_h * 1e3);
}

static void check_reservoir_free(struct check_priv *priv)
{
	free(priv);
}

const struct check_ops check_reservoir_ops = {
	.kind = CHECK_RESERVOIR,
	.init = check_reservoir_init,
	.sample = check_reservoir_sample,
	.judge = check_reservoir_judge,
	.free = check_reservoir_free,
};
