/* The report's building blocks: blocks, tables, cells and plots added to the
 * document model (report_doc.h), and the formatting every section shares. */
#define _GNU_SOURCE   /* vasprintf */
#include "report_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct doc_block *doc_block_new(struct report_doc *doc, enum doc_block_kind kind)
{
	struct doc_block *b;

	if (doc->failed)
		return NULL;
	if (doc->n_blocks == doc->cap_blocks) {
		size_t cap = doc->cap_blocks ? doc->cap_blocks * 2 : 32;
		struct doc_block *p = realloc(doc->blocks, cap * sizeof(*p));

		if (!p) {
			doc->failed = true;
			return NULL;
		}
		doc->blocks = p;
		doc->cap_blocks = cap;
	}
	b = &doc->blocks[doc->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	return b;
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

void doc_text(struct report_doc *doc, enum doc_block_kind kind, enum doc_style style,
		       const char *fmt, ...)
{
	struct doc_block *b = doc_block_new(doc, kind);
	va_list ap;

	if (!b)
		return;
	b->style = style;
	va_start(ap, fmt);
	b->text = vfmt(fmt, ap);
	va_end(ap);
	if (!b->text)
		doc->failed = true;
}

struct doc_block *doc_table(struct report_doc *doc, bool header_row, size_t n_cols, ...)
{
	struct doc_block *b = doc_block_new(doc, DB_TABLE);
	va_list ap;

	if (!b)
		return NULL;
	b->n_cols = n_cols;
	b->header_row = header_row;
	va_start(ap, n_cols);
	for (size_t i = 0; i < n_cols; i++)
		b->widths[i] = va_arg(ap, double);
	va_end(ap);
	return b;
}

void doc_add_cell(struct report_doc *doc, struct doc_block *b, enum doc_style style,
		 const char *fmt, ...)
{
	va_list ap;
	char *text;

	if (!b || doc->failed)
		return;
	if (b->n_cells == b->cap_cells) {
		size_t cap = b->cap_cells ? b->cap_cells * 2 : 16;
		struct doc_cell *p = realloc(b->cells, cap * sizeof(*p));

		if (!p) {
			doc->failed = true;
			return;
		}
		b->cells = p;
		b->cap_cells = cap;
	}
	va_start(ap, fmt);
	text = vfmt(fmt, ap);
	va_end(ap);
	if (!text) {
		doc->failed = true;
		return;
	}
	b->cells[b->n_cells++] = (struct doc_cell){ text, style };
}

void doc_kv(struct report_doc *doc, struct doc_block *b, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = vfmt(fmt, ap);
	va_end(ap);
	if (!text) {
		doc->failed = true;
		return;
	}
	doc_add_cell(doc, b, DS_KEY, "%s", key);
	doc_add_cell(doc, b, DS_NORMAL, "%s", text);
	free(text);
}

struct plot *doc_plot(struct report_doc *doc)
{
	struct doc_block *b = doc_block_new(doc, DB_PLOT);

	if (!b)
		return NULL;
	b->plot = calloc(1, sizeof(*b->plot));
	if (!b->plot)
		doc->failed = true;
	return b->plot;
}

void doc_drop_last(struct report_doc *doc)
{
	struct doc_block *b;

	if (doc->failed || doc->n_blocks == 0)
		return;
	b = &doc->blocks[--doc->n_blocks];
	free(b->text);
	for (size_t k = 0; k < b->n_cells; k++)
		free(b->cells[k].text);
	free(b->cells);
	free(b->plot);
}

/* ----------------------------------------------------------- formatting -- */

enum doc_style doc_verdict_style(enum verdict v)
{
	return v == VERDICT_PASS ? DS_PASS : v == VERDICT_FAIL ? DS_FAIL : DS_INCONCLUSIVE;
}

const char *doc_verdict_word(enum verdict v)
{
	return v == VERDICT_PASS ? "PASS" : v == VERDICT_FAIL ? "FAIL" : "INCONCLUSIVE";
}

void doc_verdict_upper(const struct run_results *res, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", results_verdict_text(res));
	for (i = 0; buf[i]; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
}

/* A value with its expanded uncertainty, the value rounded to the
 * uncertainty's second significant digit (GUM 7.2.6). */
void doc_fmt_value_u(double v, double u, char *buf, size_t len)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "not measured");
		return;
	}
	if (isfinite(u) && u > 0) {
		int dec = 1 - (int)floor(log10(u));

		if (dec < 0)
			dec = 0;
		if (dec > 9)
			dec = 9;
		/* a value that rounds to zero is 0, not -0 */
		if (fabs(v) < 0.5 * pow(10, -dec))
			v = 0;
		snprintf(buf, len, "%.*f ± %.*f", dec, v, dec, u);
	} else if (u == 0) {
		snprintf(buf, len, "%.10g (exact)", v);
	} else {
		doc_fmt_sig(v, 4, buf, len);
	}
}

void doc_fmt_sig(double v, int digits, char *buf, size_t len)
{
	int dec;

	if (!isfinite(v)) {
		snprintf(buf, len, "—");
		return;
	}
	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	dec = digits - 1 - (int)floor(log10(fabs(v)));
	if (dec < 0)
		dec = 0;
	if (dec > 12)
		dec = 12;
	snprintf(buf, len, "%.*f", dec, v);
}

void doc_fmt_limit(double lo, double hi, const char *unit, char *buf, size_t len)
{
	if (isfinite(lo) && isfinite(hi))
		snprintf(buf, len, "%.6g … %.6g %s", lo, hi, unit);
	else if (isfinite(lo))
		snprintf(buf, len, "≥ %.6g %s", lo, unit);
	else if (isfinite(hi))
		snprintf(buf, len, "≤ %.6g %s", hi, unit);
	else
		snprintf(buf, len, "none");
}

void doc_check_title(const struct check_result *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", check_words(c->check), c->window[0] ? " [" : "",
		 c->window, c->window[0] ? "]" : "");
}

/* "ITP-40-SRS-ACC-002", or with more than one, each with its own verdict:
 * "ITP-40-SRS-BOL-001 (PASS), ITP-40-SRS-BOL-002 (FAIL)" */
void doc_check_requirements(const struct check_result *c, char *buf, size_t len)
{
	size_t used;

	snprintf(buf, len, "%s", c->requirement[0] ? c->requirement : "—");
	for (size_t k = 0; k <= c->n_more && c->n_more > 0; k++) {
		const char *r = check_requirement_at(c, k);
		int v = decision_requirement_verdict(c, r);

		used = strlen(buf);
		if (k == 0)
			buf[used = 0] = '\0';
		snprintf(buf + used, len - used, "%s%s (%s)", k ? ", " : "", r,
			 v < 0 ? "not judged" : doc_verdict_word((enum verdict)v));
	}
}

void doc_check_result_cells(struct report_doc *doc, struct doc_block *t,
			    const struct check_result *c)
{
	const struct measurement *m = decision_deciding(c);
	char buf[128], lim[128], name[96];

	if (m) {
		measurement_words(m->name, name, sizeof(name));
		doc_fmt_value_u(m->value, m->u_expanded, buf, sizeof(buf));
		doc_add_cell(doc, t, DS_NORMAL, "%s: %s %s", name, buf, doc_nice_unit(m->unit));
	} else if (c->has_measured) {
		doc_fmt_value_u(c->measured, c->u_expanded, buf, sizeof(buf));
		doc_add_cell(doc, t, DS_NORMAL, "%s %s", buf, doc_nice_unit(c->unit));
	} else {
		doc_add_cell(doc, t, DS_NORMAL, "not measured");
	}
	if (strcmp(c->check, "step_timeout") == 0)
		snprintf(lim, sizeof(lim), "within the step's timeout");
	else if (m)
		doc_fmt_limit(m->limit_low, m->limit_high, doc_nice_unit(m->unit), lim, sizeof(lim));
	else
		doc_fmt_limit(c->limit_low, c->limit_high, doc_nice_unit(c->unit), lim, sizeof(lim));
	doc_add_cell(doc, t, DS_NORMAL, "%s", lim);
	doc_add_cell(doc, t, doc_verdict_style(c->verdict), "%s", doc_verdict_word(c->verdict));
}

/* Units as a reader writes them. */
const char *doc_nice_unit(const char *unit)
{
	if (strcmp(unit, "uA") == 0)
		return "µA";
	if (strcmp(unit, "uL") == 0)
		return "µL";
	return unit;
}

const char *doc_role_unit(enum rig_role role)
{
	switch (role) {
	case ROLE_SCALE: return "g";
	case ROLE_FLOW: return "mL/h";
	case ROLE_PRESSURE: return "kPa";
	case ROLE_POWER: return "µA";
	default: return "";
	}
}

/* Run time in the unit the run's length suggests. */

struct time_axis doc_time_axis(rig_ns span_ns)
{
	if (span_ns > 3 * RIG_NS_PER_H)
		return (struct time_axis){ (double)RIG_NS_PER_H, "h" };
	if (span_ns > 3 * RIG_NS_PER_MIN)
		return (struct time_axis){ (double)RIG_NS_PER_MIN, "min" };
	return (struct time_axis){ (double)RIG_NS_PER_S, "s" };
}
