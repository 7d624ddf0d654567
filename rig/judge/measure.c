/* What a check records: its measurements and their limits, the instrument
 * events it notices, and the noise of the readings it uses. */
#include "check.h"
#include "rig/base/text.h"

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

	if (c->n_budget >= BUDGET_TERMS_MAX)
		return;
	b = &c->budget[c->n_budget++];
	snprintf(b->quantity, sizeof(b->quantity), "%s", quantity);
	snprintf(b->term, sizeof(b->term), "%s", term);
	b->u = u;
	snprintf(b->unit, sizeof(b->unit), "%s", unit);
	va_start(ap, fmt);
	vsnprintf(b->source, sizeof(b->source), fmt, ap);
	va_end(ap);
	text_trim_partial(b->source);
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

void noise_add(struct noise_est *ne, double w)
{
	if (ne->n >= 2) {
		double d = w - 2 * ne->w1 + ne->w2;

		ne->sum_d2 += d * d;
		ne->n_d++;
	}
	ne->w2 = ne->w1;
	ne->w1 = w;
	ne->n++;
}

double noise_sigma(const struct noise_est *ne)
{
	return ne->n_d ? sqrt(ne->sum_d2 / (double)ne->n_d / 6) : 0;
}
