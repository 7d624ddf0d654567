/* Section 3 of the report, acceptance criteria and results: every
 * requirement with its one criterion and the decision rule it is judged by
 * (ILAC-G8:09/2019), each check's result and why, each check's uncertainty
 * budget (every term, its value and its source), and every measurement.
 * All of it is the judge's (results.json says the same). */
#include "report_doc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The decision rule in a table cell: short, with the device key. */
static void rule_cell(const struct decision_rule *r, char *buf, size_t len)
{
	if (r->kind == DECISION_GUARDED)
		snprintf(buf, len, "guarded acceptance, w = %g U (%s%s)", r->guard_factor, r->key,
			 r->stated ? "" : ", default");
	else
		snprintf(buf, len, "simple acceptance (%s%s)", r->key[0] ? r->key : "no device key",
			 r->stated ? "" : ", default");
}

static void criteria_table(struct report_doc *doc, const struct run_results *res)
{
	struct doc_block *t;
	char title[160], rule[160];

	doc_text(doc, DB_H2, DS_NORMAL, "Acceptance criteria and decision rules");
	doc_text(doc, DB_PARA, DS_SMALL,
		 "One row per requirement, each with its one criterion. Simple acceptance (ILAC-G8:09/2019 "
		 "4.2.1): a value within the limit passes, its expanded uncertainty U reported beside it. "
		 "Guarded acceptance (4.2.2): a value passes only within the limit narrowed on each side by "
		 "the guard band w = r·U; a value in the guard band is rejected. The device file chooses "
		 "the rule per requirement (decision_rule, guard_band).");
	t = doc_table(doc, true, 5, 0.04, 0.19, 0.18, 0.35, 0.24);
	doc_add_cell(doc, t, DS_HEAD, "#");
	doc_add_cell(doc, t, DS_HEAD, "check [window]");
	doc_add_cell(doc, t, DS_HEAD, "requirement");
	doc_add_cell(doc, t, DS_HEAD, "criterion (sequence line)");
	doc_add_cell(doc, t, DS_HEAD, "decision rule");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];
		bool timeout = strcmp(c->check, "step_timeout") == 0;

		doc_check_title(c, title, sizeof(title));
		rule_cell(&c->rule, rule, sizeof(rule));
		doc_add_cell(doc, t, DS_NORMAL, "%zu", i + 1);
		doc_add_cell(doc, t, DS_NORMAL, "%s", title);
		doc_add_cell(doc, t, DS_MONO, "%s", c->requirement[0] ? c->requirement : "—");
		doc_add_cell(doc, t, DS_NORMAL, "%s (line %d)", c->criterion, c->seq_line);
		doc_add_cell(doc, t, DS_SMALL, "%s", timeout ? "—" : rule);
		for (size_t k = 0; k < c->n_more; k++) {
			doc_add_cell(doc, t, DS_NORMAL, "%zu", i + 1);
			doc_add_cell(doc, t, DS_NORMAL, "%s", title);
			doc_add_cell(doc, t, DS_MONO, "%s", c->more[k].requirement);
			doc_add_cell(doc, t, DS_NORMAL, "%s (line %d)", c->more[k].text, c->seq_line);
			doc_add_cell(doc, t, DS_SMALL, "%s", rule);
		}
	}
}

static void results_table(struct report_doc *doc, const struct run_results *res)
{
	struct doc_block *t;
	char title[160], reqs[256];

	doc_text(doc, DB_H2, DS_NORMAL, "Results per check");
	t = doc_table(doc, true, 6, 0.04, 0.24, 0.19, 0.21, 0.17, 0.15);
	doc_add_cell(doc, t, DS_HEAD, "#");
	doc_add_cell(doc, t, DS_HEAD, "check [window]");
	doc_add_cell(doc, t, DS_HEAD, "requirement");
	doc_add_cell(doc, t, DS_HEAD, "measured ± U (k = 2)");
	doc_add_cell(doc, t, DS_HEAD, "limit");
	doc_add_cell(doc, t, DS_HEAD, "verdict");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		doc_check_title(c, title, sizeof(title));
		doc_add_cell(doc, t, DS_NORMAL, "%zu", i + 1);
		doc_add_cell(doc, t, DS_NORMAL, "%s", title);
		doc_check_requirements(c, reqs, sizeof(reqs));
		doc_add_cell(doc, t, DS_MONO, "%s", reqs);
		doc_check_result_cells(doc, t, c);
	}
	t = doc_table(doc, true, 2, 0.04, 0.96);
	doc_add_cell(doc, t, DS_HEAD, "#");
	doc_add_cell(doc, t, DS_HEAD, "explanation of the verdict");
	for (size_t i = 0; i < res->n_checks; i++) {
		doc_add_cell(doc, t, DS_NORMAL, "%zu", i + 1);
		doc_add_cell(doc, t, DS_NORMAL, "%s", res->checks[i].explanation);
	}
}

/* The expanded uncertainty the check gave quantity (its measurement's U). */
static double measurement_u(const struct check_result *c, const char *quantity)
{
	for (size_t k = 0; k < c->n_m; k++)
		if (strcmp(c->m[k].name, quantity) == 0)
			return c->m[k].u_expanded;
	return NAN;
}

/* One check's budget: each quantity's terms, then its combined standard
 * uncertainty and U (on the one row of a quantity with a single term). */
static void budget_table(struct report_doc *doc, size_t i, const struct check_result *c)
{
	struct doc_block *t;
	char title[160], words[96], u[48], uc[48], big_u[48];
	double k_eff;

	doc_check_title(c, title, sizeof(title));
	doc_text(doc, DB_PARA, DS_KEY, "Check %zu, %s", i + 1, title);
	t = doc_table(doc, true, 4, 0.22, 0.27, 0.17, 0.34);
	doc_add_cell(doc, t, DS_HEAD, "quantity");
	doc_add_cell(doc, t, DS_HEAD, "term");
	doc_add_cell(doc, t, DS_HEAD, "u (k = 1)");
	doc_add_cell(doc, t, DS_HEAD, "source");
	for (size_t k = 0; k < c->n_budget; k++) {
		const struct budget_term *b = &c->budget[k];
		size_t n_terms = 0;
		bool first = k == 0 || strcmp(c->budget[k - 1].quantity, b->quantity) != 0;
		bool last = k + 1 == c->n_budget || strcmp(c->budget[k + 1].quantity, b->quantity) != 0;
		const char *unit = doc_nice_unit(b->unit);

		for (size_t j = 0; j < c->n_budget; j++)
			n_terms += strcmp(c->budget[j].quantity, b->quantity) == 0;
		measurement_words(b->quantity, words, sizeof(words));
		doc_fmt_sig(b->u, 2, u, sizeof(u));
		doc_fmt_sig(budget_u(c, b->quantity), 2, uc, sizeof(uc));
		doc_fmt_sig(measurement_u(c, b->quantity), 2, big_u, sizeof(big_u));
		doc_add_cell(doc, t, DS_NORMAL, "%s", first ? words : "");
		doc_add_cell(doc, t, DS_NORMAL, "%s", b->term);
		if (n_terms == 1)
			doc_add_cell(doc, t, DS_NORMAL, "%s %s (U = %s %s)", u, unit, big_u, unit);
		else
			doc_add_cell(doc, t, DS_NORMAL, "%s %s", u, unit);
		doc_add_cell(doc, t, DS_SMALL, "%s", b->source);
		if (!last || n_terms == 1)
			continue;
		/* U is 2 u_c unless the measurement's own source says why not (a
		 * polled time's rectangular term, the extreme of many windows) */
		k_eff = measurement_u(c, b->quantity) / budget_u(c, b->quantity);
		doc_add_cell(doc, t, DS_NORMAL, "%s", "");
		if (fabs(k_eff - 2) < 1e-9) {
			doc_add_cell(doc, t, DS_KEY, "combined u_c; U = 2 u_c");
			doc_add_cell(doc, t, DS_KEY, "%s %s; U = %s %s", uc, unit, big_u, unit);
			doc_add_cell(doc, t, DS_SMALL, "root of the sum of the squares; k = 2 (about "
				     "95 %%)");
		} else {
			doc_add_cell(doc, t, DS_KEY, "combined u_c; U = %.2f u_c", k_eff);
			doc_add_cell(doc, t, DS_KEY, "%s %s; U = %s %s", uc, unit, big_u, unit);
			doc_add_cell(doc, t, DS_SMALL, "root of the sum of the squares; U covers 95 %% "
				     "by the measurement's own rule (its source, under Measurements)");
		}
	}
}

static void budgets(struct report_doc *doc, const struct run_results *res)
{
	bool any = false;

	doc_text(doc, DB_H2, DS_NORMAL, "Uncertainty budgets");
	doc_text(doc, DB_PARA, DS_SMALL,
		 "For each judged quantity: every term as a standard uncertainty (k = 1) in the "
		 "quantity's unit, and where it comes from; the combined standard uncertainty u_c is the "
		 "root of the sum of their squares (GUM, uncorrelated inputs), and the expanded "
		 "uncertainty U = 2 u_c (k = 2), about 95 %%. Where that would not hold 95 %% (a time "
		 "read by polling, the extreme of many windows) the row says U = k u_c with the k "
		 "used, and the measurement's source says why. Shown to two significant digits.");
	for (size_t i = 0; i < res->n_checks; i++) {
		if (res->checks[i].n_budget == 0)
			continue;
		budget_table(doc, i, &res->checks[i]);
		any = true;
	}
	if (!any)
		doc_text(doc, DB_PARA, DS_NORMAL, "No check computed a value with an uncertainty.");
}

static void measurements_table(struct report_doc *doc, const struct run_results *res)
{
	struct doc_block *t;
	char buf[128], lim[128], words[96];
	size_t n_m = 0;

	doc_text(doc, DB_H2, DS_NORMAL, "Measurements");
	for (size_t i = 0; i < res->n_checks; i++)
		n_m += res->checks[i].n_m;
	if (n_m == 0) {
		doc_text(doc, DB_PARA, DS_NORMAL,
			 "No check could compute a measurement from the record.");
		return;
	}
	t = doc_table(doc, true, 7, 0.04, 0.27, 0.18, 0.08, 0.14, 0.18, 0.11);
	doc_add_cell(doc, t, DS_HEAD, "#");
	doc_add_cell(doc, t, DS_HEAD, "quantity");
	doc_add_cell(doc, t, DS_HEAD, "value ± U (k = 2)");
	doc_add_cell(doc, t, DS_HEAD, "unit");
	doc_add_cell(doc, t, DS_HEAD, "limit");
	doc_add_cell(doc, t, DS_HEAD, "requirement");
	doc_add_cell(doc, t, DS_HEAD, "verdict");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		for (size_t k = 0; k < c->n_m; k++) {
			const struct measurement *m = &c->m[k];

			measurement_words(m->name, words, sizeof(words));
			doc_fmt_value_u(m->value, m->u_expanded, buf, sizeof(buf));
			doc_add_cell(doc, t, DS_NORMAL, "%zu", i + 1);
			doc_add_cell(doc, t, DS_NORMAL, "%s", words);
			doc_add_cell(doc, t, DS_NORMAL, "%s", buf);
			doc_add_cell(doc, t, DS_NORMAL, "%s", doc_nice_unit(m->unit));
			if (m->has_limit) {
				doc_fmt_limit(m->limit_low, m->limit_high, doc_nice_unit(m->unit), lim,
					      sizeof(lim));
				doc_add_cell(doc, t, DS_NORMAL, "%s", lim);
				doc_add_cell(doc, t, DS_MONO, "%s", m->requirement);
				doc_add_cell(doc, t, doc_verdict_style(m->verdict), "%s",
					     doc_verdict_word(m->verdict));
			} else {
				doc_add_cell(doc, t, DS_SMALL, "(reported)");
				doc_add_cell(doc, t, DS_NORMAL, "%s", "");
				doc_add_cell(doc, t, DS_NORMAL, "%s", "");
			}
		}
	}
}

void section_results(struct report_doc *doc, const struct run_results *res)
{
	char verdict[64];

	doc_text(doc, DB_H1, DS_NORMAL, "3  Acceptance criteria and results");
	doc_verdict_upper(res, verdict, sizeof(verdict));
	doc_text(doc, DB_VERDICT, doc_verdict_style(res->overall), "Overall verdict: %s%s%s",
		 verdict, *results_nothing_judged(res) ? " — " : "", results_nothing_judged(res));
	if (res->n_checks == 0) {
		doc_text(doc, DB_PARA, DS_NORMAL, "The sequence has no checks: nothing was judged, "
			 "so the run has no verdict to pass.");
		return;
	}
	criteria_table(doc, res);
	results_table(doc, res);
	budgets(doc, res);
	measurements_table(doc, res);
}
