/* Conformity decisions: a measured value against its limit, by the decision
 * rule the device file gives its requirement (ILAC-G8:09/2019, "Guidelines
 * on decision rules and statements of conformity").
 *
 *   simple acceptance (4.2.1): the value within the tolerance passes, w = 0;
 *     the uncertainty is reported beside it, the risk of a false accept is
 *     up to 50 % for a value at the limit;
 *   guarded acceptance (4.2.2, binary statement): the acceptance zone is the
 *     tolerance narrowed on each finite side by the guard band w = r * U (U
 *     the expanded uncertainty, k = 2; r = 1 by default, which keeps the
 *     specific risk of a false accept below 2.5 %); a value in the guard
 *     band is rejected, and a value without U cannot be accepted at all.
 *
 * The checks judge by simple acceptance as they compute; decision_apply()
 * then judges every limited measurement again by the check's rule, so every
 * check, and every later one, is judged the same way. */
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum verdict decision_judge(const struct decision_rule *rule, double value, double u_expanded,
			    double low, double high)
{
	double w;

	if (!isfinite(value) || value < low || value > high)
		return VERDICT_FAIL;
	if (!rule || rule->kind == DECISION_SIMPLE)
		return VERDICT_PASS;
	if (!isfinite(u_expanded) || u_expanded < 0)
		return VERDICT_INCONCLUSIVE;
	w = rule->guard_factor * u_expanded;
	return value >= low + w && value <= high - w ? VERDICT_PASS : VERDICT_FAIL;
}

void decision_rule_text(const struct decision_rule *rule, char *buf, size_t len)
{
	char where[96];

	snprintf(where, sizeof(where), "%s%s", rule->key[0] ? rule->key : "no rule stated",
		 rule->key[0] && !rule->stated ? " not given: the default" : "");
	if (rule->kind == DECISION_GUARDED)
		snprintf(buf, len, "guarded acceptance, guard band w = %g U on each side of the "
			 "limit (ILAC-G8:09/2019 4.2.2; %s)", rule->guard_factor, where);
	else
		snprintf(buf, len, "simple acceptance, w = 0: within the limit passes, U reported "
			 "beside it (ILAC-G8:09/2019 4.2.1; %s)", where);
}

/* The limit in words: "-10 .. 10 %", "<= 150 kPa", ">= 5 year". */
static void limit_text(const struct measurement *m, char *buf, size_t len)
{
	if (isfinite(m->limit_low) && isfinite(m->limit_high))
		snprintf(buf, len, "%.4g .. %.4g %s", m->limit_low, m->limit_high, m->unit);
	else if (isfinite(m->limit_low))
		snprintf(buf, len, ">= %.4g %s", m->limit_low, m->unit);
	else
		snprintf(buf, len, "<= %.4g %s", m->limit_high, m->unit);
}

/* Why m did not pass, for the check's explanation. */
static void why_not(const struct check_result *c, const struct measurement *m, char *buf,
		    size_t len)
{
	char name[96], lim[64];

	measurement_words(m->name, name, sizeof(name));
	limit_text(m, lim, sizeof(lim));
	if (m->verdict == VERDICT_INCONCLUSIVE)
		snprintf(buf, len, "%s (%s) has no expanded uncertainty, which guarded acceptance "
			 "needs to be judged", name, m->requirement);
	else if (!isfinite(m->value) || m->value < m->limit_low || m->value > m->limit_high)
		snprintf(buf, len, "%s = %.4g %s is outside its limit %s (%s)", name, m->value,
			 m->unit, lim, m->requirement);
	else
		snprintf(buf, len, "%s = %.4g %s is within its limit %s but inside the guard band "
			 "w = %g U = %.2g %s (guarded acceptance, %s): not accepted", name, m->value,
			 m->unit, lim, c->rule.guard_factor, c->rule.guard_factor * m->u_expanded,
			 m->unit, m->requirement);
}

void decision_apply(struct check_result *c)
{
	const struct measurement *first_fail = NULL, *first_inconclusive = NULL, *why_m;
	char why[384];
	size_t used;

	for (size_t i = 0; i < c->n_m; i++) {
		struct measurement *m = &c->m[i];

		if (!m->has_limit)
			continue;
		if (!m->requirement[0])
			snprintf(m->requirement, sizeof(m->requirement), "%s", c->requirement);
		m->verdict = decision_judge(&c->rule, m->value, m->u_expanded, m->limit_low,
					    m->limit_high);
		if (m->verdict == VERDICT_FAIL && !first_fail)
			first_fail = m;
		else if (m->verdict == VERDICT_INCONCLUSIVE && !first_inconclusive)
			first_inconclusive = m;
	}
	if (c->verdict != VERDICT_PASS || (!first_fail && !first_inconclusive))
		return;
	why_m = first_fail ? first_fail : first_inconclusive;
	c->verdict = why_m->verdict;
	why_not(c, why_m, why, sizeof(why));
	used = strlen(c->explanation);
	snprintf(c->explanation + used, sizeof(c->explanation) - used, "; but %s", why);
}

int decision_requirement_verdict(const struct check_result *c, const char *requirement)
{
	int v = -1;

	for (size_t k = 0; k < c->n_m; k++) {
		const struct measurement *m = &c->m[k];
		const char *req = m->requirement[0] ? m->requirement : c->requirement;

		if (!m->has_limit || strcmp(req, requirement) != 0)
			continue;
		if (m->verdict == VERDICT_FAIL || v < 0 ||
		    (m->verdict == VERDICT_INCONCLUSIVE && v == VERDICT_PASS))
			v = v == VERDICT_FAIL ? v : (int)m->verdict;
	}
	return v;
}

const struct measurement *decision_deciding(const struct check_result *c)
{
	if (c->verdict == VERDICT_PASS || !c->has_measured || c->measured < c->limit_low ||
	    c->measured > c->limit_high)
		return NULL;
	for (size_t k = 0; k < c->n_m; k++)
		if (c->m[k].has_limit && c->m[k].verdict == c->verdict &&
		    (c->m[k].value != c->measured || strcmp(c->m[k].unit, c->unit) != 0))
			return &c->m[k];
	return NULL;
}
