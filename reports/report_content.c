/* The report's content, in the order a reviewer reads it: identification,
 * equipment, acceptance criteria and results, the gravimetric chain,
 * deviations, plots, traceability, signatures.  Every number printed here is
 * taken from the judged results (results.json says the same) or from a named
 * file of the run directory; docs/report.md lists where each comes from. */
#define _GNU_SOURCE   /* vasprintf */
#include "report_doc.h"

#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports.h"
#include "version.h"

/* -------------------------------------------------------- doc building -- */

static struct doc_block *block_new(struct report_doc *doc, enum doc_block_kind kind)
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

static void text_block(struct report_doc *doc, enum doc_block_kind kind, enum doc_style style,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void text_block(struct report_doc *doc, enum doc_block_kind kind, enum doc_style style,
		       const char *fmt, ...)
{
	struct doc_block *b = block_new(doc, kind);
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

static struct doc_block *table_new(struct report_doc *doc, bool header_row, size_t n_cols, ...)
{
	struct doc_block *b = block_new(doc, DB_TABLE);
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

static void cell(struct report_doc *doc, struct doc_block *b, enum doc_style style,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void cell(struct report_doc *doc, struct doc_block *b, enum doc_style style,
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

static void kv(struct report_doc *doc, struct doc_block *b, const char *key, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));
static void kv(struct report_doc *doc, struct doc_block *b, const char *key, const char *fmt, ...)
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
	cell(doc, b, DS_KEY, "%s", key);
	cell(doc, b, DS_NORMAL, "%s", text);
	free(text);
}

static struct plot *plot_block(struct report_doc *doc)
{
	struct doc_block *b = block_new(doc, DB_PLOT);

	if (!b)
		return NULL;
	b->plot = calloc(1, sizeof(*b->plot));
	if (!b->plot)
		doc->failed = true;
	return b->plot;
}

/* ----------------------------------------------------------- formatting -- */

static enum doc_style verdict_style(enum verdict v)
{
	return v == VERDICT_PASS ? DS_PASS : v == VERDICT_FAIL ? DS_FAIL : DS_INCONCLUSIVE;
}

static const char *verdict_word(enum verdict v)
{
	return v == VERDICT_PASS ? "PASS" : v == VERDICT_FAIL ? "FAIL" : "INCONCLUSIVE";
}

/* A value with its expanded uncertainty, the value rounded to the
 * uncertainty's second significant digit (GUM 7.2.6). */
static void fmt_value_u(double v, double u, char *buf, size_t len)
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
	} else {
		snprintf(buf, len, "%.6g", v);
	}
}

static void fmt_limit(double lo, double hi, const char *unit, char *buf, size_t len)
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

/* Units as a reader writes them. */
static const char *nice_unit(const char *unit)
{
	if (strcmp(unit, "uA") == 0)
		return "µA";
	if (strcmp(unit, "uL") == 0)
		return "µL";
	return unit;
}

static const char *role_unit(enum rig_role role)
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
struct time_axis {
	double unit_ns;
	const char *name;
};

static struct time_axis time_axis_for(rig_ns span_ns)
{
	if (span_ns > 3 * RIG_NS_PER_H)
		return (struct time_axis){ (double)RIG_NS_PER_H, "h" };
	if (span_ns > 3 * RIG_NS_PER_MIN)
		return (struct time_axis){ (double)RIG_NS_PER_MIN, "min" };
	return (struct time_axis){ (double)RIG_NS_PER_S, "s" };
}

static const double C_BLUE[3] = { 0.12, 0.35, 0.70 };
static const double C_RED[3] = { 0.80, 0.15, 0.10 };
static const double C_GREEN[3] = { 0.10, 0.55, 0.25 };
static const double C_ORANGE[3] = { 0.90, 0.50, 0.05 };
static const double C_GREY[3] = { 0.35, 0.35, 0.35 };
static const double C_PURPLE[3] = { 0.50, 0.20, 0.60 };

/* -------------------------------------------------------------- sections -- */

static void section_identification(struct report_doc *doc, const struct run_results *res,
				   const struct report_data *d)
{
	const struct device *dev = d->dev;
	const struct bench *bench = d->bench;
	struct doc_block *t;
	char reqs[512] = "";
	bool virtual_clock;

	for (size_t i = 0; i < res->n_checks; i++) {
		const char *r = res->checks[i].requirement;
		size_t len = strlen(reqs);

		if (!r[0] || strstr(reqs, r))
			continue;
		snprintf(reqs + len, sizeof(reqs) - len, "%s%s", len ? ", " : "", r);
	}
	text_block(doc, DB_H1, DS_NORMAL, "1  Identification");
	t = table_new(doc, false, 2, 0.26, 0.74);
	kv(doc, t, "Report id", "%s", d->report_id);
	kv(doc, t, "Sequence", "%s, version %s — %s", d->seq->id, d->seq->version, d->seq->title);
	kv(doc, t, "Sequence SHA-256", "%s (inputs/sequence.cfg)", d->sha_sequence);
	kv(doc, t, "Bench, device SHA-256", "%s (inputs/bench.cfg); %s (inputs/device.cfg)",
	   d->sha_bench, d->sha_device);
	kv(doc, t, "Requirements checked", "%s", reqs[0] ? reqs : "none (the sequence has no checks)");
	kv(doc, t, "Device under test", "%s, serial %s, firmware %s, manufacturer %s (inputs/device.cfg)",
	   dev->model, dev->serial, dev->firmware[0] ? dev->firmware : "not stated",
	   dev->manufacturer[0] ? dev->manufacturer : "not stated");
	kv(doc, t, "Bench", "%s%s%s", bench->id, bench->description[0] ? " — " : "",
	   bench->description);
	kv(doc, t, "Operator", "%s", d->operator_name[0] ? d->operator_name :
	   "not recorded (run.json has no operator)");
	kv(doc, t, "Software", "%s (this report: pumprig %s)",
	   d->software[0] ? d->software : "not recorded", RIG_VERSION);
	/* wall-clock times: on a simulated bench in virtual time, seconds apart
	 * for a run of days, which the run-time row gives */
	virtual_clock = strncmp(d->clock, "virtual", 7) == 0;
	kv(doc, t, "Started (UTC)", "%s%s", d->started_utc[0] ? d->started_utc :
	   d->start_utc[0] ? d->start_utc : "not recorded",
	   virtual_clock ? " (wall clock; the run itself ran in virtual time)" : "");
	kv(doc, t, "Ended (UTC)", "%s%s", d->end_utc[0] ? d->end_utc :
	   res->status == RUN_INTERRUPTED ? "no run_end event: the run was interrupted" :
	   "not recorded (run_end event without utc)",
	   virtual_clock && d->end_utc[0] ? " (wall clock)" : "");
	kv(doc, t, "Run time recorded", "%.1f s (%.3f h), %zu samples%s", rig_ns_to_s(res->end_t_ns),
	   rig_ns_to_h(res->end_t_ns), res->n_samples_total,
	   res->n_torn_lines ? ", a torn last line skipped" : "");
	kv(doc, t, "Run status", "%s — %s", run_status_name(res->status), res->end_reason);
	kv(doc, t, "Clock", "%s", d->clock[0] ? d->clock : "not recorded");
	kv(doc, t, "Environment", "fluid %s at %.2f °C, air density %.3g kg/m³ (stated in "
	   "inputs/bench.cfg fluid, not measured during the run; they set the density and the "
	   "buoyancy correction of section 4)",
	   bench->fluid_name[0] ? bench->fluid_name : "water", bench->fluid_temperature_c,
	   bench->air_density_g_per_ml * 1e3);
	kv(doc, t, "Host", "%s", d->host[0] ? d->host : "not recorded");
	kv(doc, t, "Run directory", "%s", d->run_dir_name);
	if (d->inputs_sha_mismatch)
		kv(doc, t, "Input files", "CHANGED: a digest in run.json inputs_sha256 differs from the file in inputs/ now");
	if (t && t->n_cells >= 2 && d->inputs_sha_mismatch)
		t->cells[t->n_cells - 1].style = DS_WARN;
}

static void section_equipment(struct report_doc *doc, const struct report_data *d)
{
	const struct bench *bench = d->bench;
	struct doc_block *t;

	text_block(doc, DB_H1, DS_NORMAL, "2  Equipment");
	t = table_new(doc, true, 8, 0.10, 0.09, 0.16, 0.13, 0.12, 0.13, 0.12, 0.15);
	cell(doc, t, DS_HEAD, "role");
	cell(doc, t, DS_HEAD, "backend");
	cell(doc, t, DS_HEAD, "model");
	cell(doc, t, DS_HEAD, "serial");
	cell(doc, t, DS_HEAD, "calibrated");
	cell(doc, t, DS_HEAD, "due");
	cell(doc, t, DS_HEAD, "u (k = 1)");
	cell(doc, t, DS_HEAD, "calibration");
	for (int role = 0; role < ROLE__COUNT; role++) {
		const struct instrument_cfg *ic = &bench->instrument[role];

		if (!ic->present)
			continue;
		cell(doc, t, DS_NORMAL, "%s", rig_role_name(role));
		cell(doc, t, DS_NORMAL, "%s", ic->backend);
		/* the pump is the device under test, not bench equipment: its
		 * row is the bench's link to it, and its serial the device's */
		if (role == ROLE_PUMP) {
			cell(doc, t, DS_NORMAL, "device under test (link: %s)",
			     ic->model[0] ? ic->model : ic->backend);
			cell(doc, t, DS_MONO, "%s", d->dev->serial);
			cell(doc, t, DS_NORMAL, "—");
			cell(doc, t, DS_NORMAL, "—");
			cell(doc, t, DS_NORMAL, "—");
			cell(doc, t, DS_NORMAL, "not calibrated: under test");
			continue;
		}
		cell(doc, t, DS_NORMAL, "%s", ic->model[0] ? ic->model : "—");
		cell(doc, t, DS_MONO, "%s", ic->serial[0] ? ic->serial : "—");
		cell(doc, t, DS_NORMAL, "%s", ic->cal.date[0] ? ic->cal.date : "—");
		cell(doc, t, d->expired[role] ? DS_WARN : DS_NORMAL, "%s",
		     ic->cal.due[0] ? ic->cal.due : "—");
		if (ic->cal.uncertainty > 0 && role == ROLE_SCALE)
			cell(doc, t, DS_NORMAL, "%.3g mg", ic->cal.uncertainty * 1e3);
		else if (ic->cal.uncertainty > 0)
			cell(doc, t, DS_NORMAL, "%.3g %s", ic->cal.uncertainty, role_unit(role));
		else
			cell(doc, t, DS_NORMAL, "not stated");
		if (d->expired[role])
			cell(doc, t, DS_WARN, "EXPIRED");
		else if (ic->cal.due[0])
			cell(doc, t, DS_PASS, "valid");
		else
			cell(doc, t, DS_NORMAL, "no due date");
	}
	text_block(doc, DB_PARA, DS_SMALL,
		   "From inputs/bench.cfg (instruments and their calibration blocks). A calibration "
		   "whose due date is before the day the run started (%s), or that events.jsonl "
		   "records as used past its date (calibration_expired, at the start or on a resume), "
		   "is flagged as expired.",
		   d->started_utc[0] ? d->started_utc : d->start_utc[0] ? d->start_utc : "unknown");
	if (d->allow_expired_calibration)
		text_block(doc, DB_PARA, DS_WARN,
			   "The run was started with --allow-expired-calibration%s%s.",
			   d->expired_listed[0] ? "; run.json lists as expired: " : "",
			   d->expired_listed);
	else if (d->allowed_by_event)
		text_block(doc, DB_PARA, DS_WARN,
			   "The run was resumed with --allow-expired-calibration after a calibration "
			   "due date had passed (events.jsonl: calibration_expired).");
	else if (d->n_expired > 0)
		text_block(doc, DB_PARA, DS_WARN,
			   "%zu instrument(s) were used past their calibration due date.", d->n_expired);
}

static void section_results(struct report_doc *doc, const struct run_results *res)
{
	struct doc_block *t;
	char buf[128], lim[128];

	text_block(doc, DB_H1, DS_NORMAL, "3  Acceptance criteria and results");
	text_block(doc, DB_VERDICT, verdict_style(res->overall), "Overall verdict: %s%s",
		   verdict_word(res->overall),
		   res->status != RUN_COMPLETED ? " (the run did not complete)" : "");
	if (res->n_checks == 0) {
		text_block(doc, DB_PARA, DS_NORMAL, "The sequence has no checks.");
		return;
	}
	text_block(doc, DB_H2, DS_NORMAL, "Acceptance criteria");
	t = table_new(doc, true, 4, 0.05, 0.22, 0.20, 0.53);
	cell(doc, t, DS_HEAD, "#");
	cell(doc, t, DS_HEAD, "check [window]");
	cell(doc, t, DS_HEAD, "requirement");
	cell(doc, t, DS_HEAD, "criterion (sequence line)");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		cell(doc, t, DS_NORMAL, "%zu", i + 1);
		cell(doc, t, DS_NORMAL, "%s%s%s%s", c->check, c->window[0] ? " [" : "", c->window,
		     c->window[0] ? "]" : "");
		cell(doc, t, DS_MONO, "%s", c->requirement[0] ? c->requirement : "—");
		cell(doc, t, DS_NORMAL, "%s (line %d)", c->criterion, c->seq_line);
	}
	text_block(doc, DB_H2, DS_NORMAL, "Results per check");
	t = table_new(doc, true, 6, 0.05, 0.17, 0.22, 0.22, 0.19, 0.15);
	cell(doc, t, DS_HEAD, "#");
	cell(doc, t, DS_HEAD, "check");
	cell(doc, t, DS_HEAD, "requirement");
	cell(doc, t, DS_HEAD, "measured ± U (k = 2)");
	cell(doc, t, DS_HEAD, "limit");
	cell(doc, t, DS_HEAD, "verdict");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		cell(doc, t, DS_NORMAL, "%zu", i + 1);
		cell(doc, t, DS_NORMAL, "%s", c->check);
		cell(doc, t, DS_MONO, "%s", c->requirement[0] ? c->requirement : "—");
		if (c->has_measured) {
			fmt_value_u(c->measured, c->u_expanded, buf, sizeof(buf));
			cell(doc, t, DS_NORMAL, "%s %s", buf, nice_unit(c->unit));
		} else {
			cell(doc, t, DS_NORMAL, "not measured");
		}
		if (strcmp(c->check, "step_timeout") == 0)
			snprintf(lim, sizeof(lim), "within the step's timeout");
		else
			fmt_limit(c->limit_low, c->limit_high, nice_unit(c->unit), lim, sizeof(lim));
		cell(doc, t, DS_NORMAL, "%s", lim);
		cell(doc, t, verdict_style(c->verdict), "%s", verdict_word(c->verdict));
	}
	t = table_new(doc, true, 2, 0.05, 0.95);
	cell(doc, t, DS_HEAD, "#");
	cell(doc, t, DS_HEAD, "explanation of the verdict");
	for (size_t i = 0; i < res->n_checks; i++) {
		cell(doc, t, DS_NORMAL, "%zu", i + 1);
		cell(doc, t, DS_NORMAL, "%s", res->checks[i].explanation);
	}

	text_block(doc, DB_H2, DS_NORMAL, "Measurements");
	{
		size_t n_m = 0;

		for (size_t i = 0; i < res->n_checks; i++)
			n_m += res->checks[i].n_m;
		if (n_m == 0) {
			text_block(doc, DB_PARA, DS_NORMAL,
				   "No check could compute a measurement from the record.");
			return;
		}
	}
	t = table_new(doc, true, 7, 0.04, 0.23, 0.19, 0.08, 0.15, 0.20, 0.11);
	cell(doc, t, DS_HEAD, "#");
	cell(doc, t, DS_HEAD, "quantity");
	cell(doc, t, DS_HEAD, "value ± U (k = 2)");
	cell(doc, t, DS_HEAD, "unit");
	cell(doc, t, DS_HEAD, "limit");
	cell(doc, t, DS_HEAD, "requirement");
	cell(doc, t, DS_HEAD, "verdict");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		for (size_t k = 0; k < c->n_m; k++) {
			const struct measurement *m = &c->m[k];

			fmt_value_u(m->value, m->u_expanded, buf, sizeof(buf));
			cell(doc, t, DS_NORMAL, "%zu", i + 1);
			cell(doc, t, DS_NORMAL, "%s", m->name);
			cell(doc, t, DS_NORMAL, "%s", buf);
			cell(doc, t, DS_NORMAL, "%s", nice_unit(m->unit));
			if (m->has_limit) {
				fmt_limit(m->limit_low, m->limit_high, nice_unit(m->unit), lim, sizeof(lim));
				cell(doc, t, DS_NORMAL, "%s", lim);
				cell(doc, t, DS_MONO, "%s", c->requirement);
				cell(doc, t, verdict_style(m->verdict), "%s", verdict_word(m->verdict));
			} else {
				cell(doc, t, DS_SMALL, "(reported)");
				cell(doc, t, DS_NORMAL, "%s", "");
				cell(doc, t, DS_NORMAL, "%s", "");
			}
		}
	}
}

static void section_gravimetric(struct report_doc *doc, const struct run_results *res)
{
	struct doc_block *t;

	text_block(doc, DB_H1, DS_NORMAL, "4  Gravimetric chain");
	t = table_new(doc, false, 2, 0.30, 0.70);
	kv(doc, t, "Fluid density", "%.7f g/mL — %s", res->density_g_per_ml, res->density_source);
	kv(doc, t, "Volume per balance gram", "%.7f mL/g: air buoyancy, ISO 8655-6 form, "
	   "reference weights 8000 kg/m³ (inputs/bench.cfg fluid.air_density)", res->ml_per_g);
	kv(doc, t, "Evaporation added back", "%.4f ± %.4f mg/h (standard uncertainty) — %s",
	   res->evaporation_g_per_h * 1e3, res->u_evaporation_g_per_h * 1e3,
	   res->evaporation_source);
	kv(doc, t, "Delivered volume", "V = f · (m_end − m_begin + e · Δt), f the volume per "
	   "balance gram, e the evaporation rate; settled balance readings only");
}

static void section_deviations(struct report_doc *doc, const struct run_results *res,
			       const struct report_data *d)
{
	struct doc_block *t;
	size_t n = 0;

	text_block(doc, DB_H1, DS_NORMAL, "5  Deviations");
	t = table_new(doc, true, 3, 0.11, 0.26, 0.63);
	cell(doc, t, DS_HEAD, "run time (s)");
	cell(doc, t, DS_HEAD, "kind");
	cell(doc, t, DS_HEAD, "what happened (events.jsonl, results)");
	for (size_t i = 0; i < d->n_deviations; i++, n++) {
		const struct report_deviation *v = &d->deviations[i];

		if (v->has_t)
			cell(doc, t, DS_NORMAL, "%.1f", rig_ns_to_s(v->t_ns));
		else
			cell(doc, t, DS_NORMAL, "—");
		cell(doc, t, DS_WARN, "%s", v->kind);
		cell(doc, t, DS_NORMAL, "%s", v->text);
	}
	for (size_t i = 0; i < res->n_events; i++, n++) {
		cell(doc, t, DS_NORMAL, "%.1f", rig_ns_to_s(res->events[i].t_ns));
		cell(doc, t, DS_WARN, "%s (%s)", res->events[i].kind, res->events[i].role);
		cell(doc, t, DS_NORMAL, "%s", res->events[i].description);
	}
	if (n == 0) {
		cell(doc, t, DS_NORMAL, "—");
		cell(doc, t, DS_NORMAL, "none");
		cell(doc, t, DS_NORMAL, "no faults, aborts, instrument gaps, step timeouts or "
		     "instrument events were recorded");
	}
	if (d->n_deviations_dropped || res->n_events_dropped)
		text_block(doc, DB_PARA, DS_WARN, "%zu further deviation(s) not listed here; see "
			   "events.jsonl and results.json.",
			   d->n_deviations_dropped + res->n_events_dropped);
	text_block(doc, DB_PARA, DS_NORMAL, "Safe state at the end: %s.",
		   d->safe_state[0] ? d->safe_state : "NOT RECORDED (no safe_state event: the run was "
		   "interrupted before the bench was made safe by rig)");
	text_block(doc, DB_H2, DS_NORMAL, "Operator notes");
	if (d->n_notes == 0) {
		text_block(doc, DB_PARA, DS_NORMAL, "None (no notes.jsonl in the run directory).");
		return;
	}
	t = table_new(doc, true, 3, 0.22, 0.18, 0.60);
	cell(doc, t, DS_HEAD, "time (UTC)");
	cell(doc, t, DS_HEAD, "operator");
	cell(doc, t, DS_HEAD, "note (notes.jsonl)");
	for (size_t i = 0; i < d->n_notes; i++) {
		cell(doc, t, DS_NORMAL, "%s", d->notes[i].utc);
		cell(doc, t, DS_NORMAL, "%s", d->notes[i].operator_name);
		cell(doc, t, DS_NORMAL, "%s", d->notes[i].text);
	}
	if (d->n_notes_dropped)
		text_block(doc, DB_PARA, DS_NORMAL, "%zu further note(s) in notes.jsonl.",
			   d->n_notes_dropped);
}

/* Flow from the balance: the change of the plotted volume between
 * neighbouring bins over the time between them (pairs of bins when there
 * are more bins than plot points).  A bin may be empty where the bins are
 * narrower than the balance's period; only a longer silence (five bins or
 * five mean reading spacings) is a gap, where the line lifts. */
static void balance_flow(const struct series *v, struct plot_line *l, double x_unit_ns)
{
	size_t stride = v->n_bins / PLOT_XY_MAX + 1;
	bool have_prev = false;
	double prev_t = 0, prev_v = 0, t_first = 0, t_last = 0, gap_ns;
	bool seen = false;

	for (size_t i = 0; i < v->n_bins; i++) {
		if (!v->bins[i].count)
			continue;
		if (!seen)
			t_first = (double)v->bins[i].t_first_ns;
		t_last = (double)v->bins[i].t_last_ns;
		seen = true;
	}
	gap_ns = 5 * fmax((double)v->bin_ns * (double)stride,
			  v->n_samples > 1 ? (t_last - t_first) / (double)(v->n_samples - 1) : 0);
	/* room for a point and a gap marker per step */
	for (size_t i = 0; i < v->n_bins && l->n_xy + 1 < PLOT_XY_MAX; i += stride) {
		double sum = 0, n = 0, t_sum = 0, t;

		for (size_t k = i; k < i + stride && k < v->n_bins; k++) {
			const struct series_bin *b = &v->bins[k];

			if (!b->count)
				continue;
			sum += b->sum;
			t_sum += ((double)b->t_first_ns + (double)b->t_last_ns) / 2 * b->count;
			n += b->count;
		}
		if (n == 0)
			continue;
		t = t_sum / n;
		if (have_prev && t - prev_t > gap_ns) {
			l->xs[l->n_xy] = prev_t / x_unit_ns;
			l->ys[l->n_xy++] = NAN;
		} else if (have_prev && t > prev_t) {
			l->xs[l->n_xy] = (t + prev_t) / 2 / x_unit_ns;
			l->ys[l->n_xy++] = (sum / n - prev_v) / ((t - prev_t) / 3.6e12);
		}
		have_prev = true;
		prev_t = t;
		prev_v = sum / n;
	}
}

static void section_plots(struct report_doc *doc, const struct run_results *res,
			  const struct report_data *d)
{
	struct time_axis ta = time_axis_for(res->end_t_ns);
	struct plot *p;
	struct plot_line *l;
	bool any_flow_check = false;

	text_block(doc, DB_H1, DS_NORMAL, "6  Plots");
	text_block(doc, DB_PARA, DS_SMALL,
		   "Drawn from samples.csv, read once into %d time bins per series (merged pairwise "
		   "as the record grows): the line is the mean of each bin, the light band its "
		   "minimum and maximum.", SERIES_BINS);

	p = plot_block(doc);
	if (p) {
		snprintf(p->title, sizeof(p->title), "Delivered volume (balance, gravimetric chain)");
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
		snprintf(p->y_title, sizeof(p->y_title), "volume (mL)");
		p->x_unit_ns = ta.unit_ns;
		p->y_include_zero = true;
		plot_add_series(p, &d->volume_ml, 1, "delivered volume", C_BLUE);
		snprintf(p->note, sizeof(p->note),
			 "settled readings × %.7f mL/g + evaporation; %zu tare(s) bridged%s%s%s",
			 res->ml_per_g, d->n_tares_bridged, d->n_tares_bridged ? " (at " : "",
			 d->tares_bridged_at, d->n_tares_bridged ? " h; events.jsonl tare)" : "");
		snprintf(p->absent, sizeof(p->absent), "no settled balance readings in samples.csv");
	}
	p = plot_block(doc);
	if (p) {
		snprintf(p->title, sizeof(p->title), "Flow");
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
		snprintf(p->y_title, sizeof(p->y_title), "flow (mL/h)");
		p->x_unit_ns = ta.unit_ns;
		p->y_include_zero = true;
		plot_add_series(p, &d->flow_ml_per_h, 1, "flow sensor", C_GREEN);
		l = plot_add_xy(p, PLOT_LINE, "balance (volume change per plotted bin)", C_BLUE);
		if (l)
			balance_flow(&d->volume_ml, l, ta.unit_ns);
		/* the basal rate as commanded, a staircase (boluses not drawn) */
		l = d->n_rates && !d->rates_truncated ?
			plot_add_xy(p, PLOT_DASHED, "programmed basal rate", C_GREY) : NULL;
		for (size_t k = 0; l && k < d->n_rates; k++) {
			double x = (double)d->rate_t_ns[k] / ta.unit_ns;

			l->xs[l->n_xy] = x;
			l->ys[l->n_xy++] = k ? d->rate_ml_per_h[k - 1] : 0;
			l->xs[l->n_xy] = x;
			l->ys[l->n_xy++] = d->rate_ml_per_h[k];
		}
		if (l) {
			l->xs[l->n_xy] = (double)res->end_t_ns / ta.unit_ns;
			l->ys[l->n_xy] = l->ys[l->n_xy - 1];
			l->n_xy++;
		}
		snprintf(p->absent, sizeof(p->absent), "no flow sensor or balance readings in samples.csv");
	}

	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];
		struct plot_line *hi, *lo, *a;
		double p_min = INFINITY, p_max = -INFINITY, mean = NAN;

		if (strcmp(c->check, "flow_accuracy") != 0)
			continue;
		any_flow_check = true;
		p = plot_block(doc);
		if (!p)
			break;
		snprintf(p->title, sizeof(p->title), "Trumpet curve (check %zu, window %s)", i + 1,
			 c->window);
		snprintf(p->x_title, sizeof(p->x_title), "observation window P (min)");
		snprintf(p->y_title, sizeof(p->y_title), "flow error (%%)");
		p->x_unit_ns = 1;
		p->y_include_zero = true;
		hi = plot_add_xy(p, PLOT_POINTS, "Ep(max)", C_RED);
		lo = plot_add_xy(p, PLOT_POINTS, "Ep(min)", C_BLUE);
		for (size_t k = 0; k < c->n_m && hi && lo; k++) {
			const struct measurement *m = &c->m[k];
			struct plot_line *into = NULL;
			const char *num = NULL;
			char *end;
			double minutes;

			if (strncmp(m->name, "Ep_max_", 7) == 0) {
				into = hi;
				num = m->name + 7;
			} else if (strncmp(m->name, "Ep_min_", 7) == 0) {
				into = lo;
				num = m->name + 7;
			} else if (strcmp(m->name, "A") == 0) {
				mean = m->value;
			}
			if (!into || !isfinite(m->value))
				continue;
			minutes = strtod(num, &end);
			if (end == num || strcmp(end, "min") != 0 || into->n_xy >= PLOT_XY_MAX)
				continue;
			into->xs[into->n_xy] = minutes;
			into->ys[into->n_xy++] = m->value;
			p_min = fmin(p_min, minutes);
			p_max = fmax(p_max, minutes);
		}
		if (isfinite(mean) && p_max >= p_min) {
			a = plot_add_xy(p, PLOT_DASHED, "", C_GREY);
			if (a) {
				snprintf(a->label, sizeof(a->label), "mean error A = %.3f %%", mean);
				a->xs[0] = p_min;
				a->ys[0] = mean;
				a->xs[1] = p_max;
				a->ys[1] = mean;
				a->n_xy = 2;
			}
		}
		if (p_max >= p_min) {
			/* from P = 0, so the shortest window is not on the frame */
			p->have_x_range = true;
			p->x_min = 0;
			p->x_max = p_max * 1.05;
		}
		snprintf(p->note, sizeof(p->note), "results: check %zu measurements Ep_max_*, Ep_min_*, A",
			 i + 1);
		snprintf(p->absent, sizeof(p->absent),
			 "no trumpet curve: the check could not compute Ep (%s)", verdict_name(c->verdict));
		/* a pair of points is no curve; with only A the plot says so */
		if (hi && hi->n_xy == 0 && lo && lo->n_xy == 0)
			p->n_lines = 0;

		p = plot_block(doc);
		if (!p)
			break;
		/* the start-up curve is the check's startup_window, not its
		 * trumpet window: the title names it, from the sequence step */
		{
			const char *sw = "";

			for (size_t k = 0; k < d->seq->n_steps; k++)
				if (d->seq->steps[k].line == c->seq_line)
					sw = d->seq->steps[k].startup_window;
			if (sw[0])
				snprintf(p->title, sizeof(p->title), "Start-up curve (check %zu, window %s)",
					 i + 1, sw);
			else
				snprintf(p->title, sizeof(p->title), "Start-up curve (check %zu)", i + 1);
		}
		snprintf(p->x_title, sizeof(p->x_title), "time from the start-up window's begin (min)");
		snprintf(p->y_title, sizeof(p->y_title), "flow (mL/h)");
		p->x_unit_ns = 1;
		p->y_include_zero = true;
		l = plot_add_xy(p, PLOT_LINE, "Q_i from the balance", C_BLUE);
		for (size_t k = 0; l && k < c->n_curve && k < PLOT_XY_MAX; k++) {
			l->xs[k] = c->curve_t_s[k] / 60;
			l->ys[k] = c->curve_q_ml_per_h[k];
			l->n_xy++;
		}
		if (l && l->n_xy > 0 && l->xs[l->n_xy - 1] > 0) {
			p->have_x_range = true;
			p->x_min = 0;
			p->x_max = l->xs[l->n_xy - 1];
		}
		snprintf(p->note, sizeof(p->note), "results: check %zu startup_curve", i + 1);
		snprintf(p->absent, sizeof(p->absent),
			 "no start-up curve: the check has no startup_window, or it was not completed");
	}
	if (!any_flow_check) {
		p = plot_block(doc);
		if (p) {
			snprintf(p->title, sizeof(p->title), "Trumpet curve");
			snprintf(p->absent, sizeof(p->absent),
				 "no trumpet curve: the sequence has no flow_accuracy check");
		}
	}

	p = plot_block(doc);
	if (p) {
		struct time_axis pa = time_axis_for(d->pressure_to_ns - d->pressure_kpa.t0_ns);

		snprintf(p->title, sizeof(p->title), "Line pressure%s",
			 d->have_occlusion ? " through the occlusion" : "");
		p->x_unit_ns = pa.unit_ns;
		if (d->have_occlusion) {
			p->x_origin_ns = d->t_close_ns;
			snprintf(p->x_title, sizeof(p->x_title), "time from the valve closing (%s)",
				 pa.name);
			plot_add_mark(p, 0, PLOT_MARK_DASHED, "valve closed", C_GREY);
			/* The alarm is the pump's doing, not the sequence's: its own
			 * style, labelled with its time from the closing, from the
			 * same event as its place (the occlusion check's
			 * time_to_alarm takes that edge too). */
			if (d->have_alarm) {
				char label[48];

				snprintf(label, sizeof(label), "alarm %.1f s",
					 rig_ns_to_s(d->t_alarm_ns - d->t_close_ns));
				plot_add_mark(p, (double)(d->t_alarm_ns - d->t_close_ns) / pa.unit_ns,
					      PLOT_MARK_ALERT, label, C_RED);
			}
			if (d->have_release)
				plot_add_mark(p, (double)(d->t_release_ns - d->t_close_ns) / pa.unit_ns,
					      PLOT_MARK_DASHED, "released", C_GREEN);
			snprintf(p->note, sizeof(p->note), "the valve closed at t = %.1f s of run time%s",
				 rig_ns_to_s(d->t_close_ns),
				 d->have_alarm ? "" : "; no alarm was recorded after it");
		} else {
			snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", pa.name);
		}
		snprintf(p->y_title, sizeof(p->y_title), "pressure (kPa)");
		p->y_include_zero = true;
		plot_add_series(p, &d->pressure_kpa, 1, "line pressure", C_PURPLE);
		/* the device's limit on the pressure at the alarm, across the
		 * plot, so that the margin to it is seen */
		if (d->have_occlusion && d->dev->occlusion_pressure_max_kpa > 0 &&
		    plot_has_data(p)) {
			struct plot_line *lim = plot_add_xy(p, PLOT_DASHED, "", C_RED);

			if (lim) {
				snprintf(lim->label, sizeof(lim->label),
					 "alarm pressure limit %.4g kPa (device.cfg)",
					 d->dev->occlusion_pressure_max_kpa);
				lim->xs[0] = (double)(d->pressure_kpa.t0_ns - d->t_close_ns) / pa.unit_ns;
				lim->xs[1] = (double)(d->pressure_to_ns - d->t_close_ns) / pa.unit_ns;
				lim->ys[0] = lim->ys[1] = d->dev->occlusion_pressure_max_kpa;
				lim->n_xy = 2;
			}
		}
		snprintf(p->absent, sizeof(p->absent), "no pressure readings in samples.csv");
	}
	p = plot_block(doc);
	if (p) {
		snprintf(p->title, sizeof(p->title), "Battery current");
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
		snprintf(p->y_title, sizeof(p->y_title), "current (µA)");
		p->x_unit_ns = ta.unit_ns;
		p->y_include_zero = true;
		plot_add_series(p, &d->current_ua, 1, "supply current (power monitor)", C_ORANGE);
		snprintf(p->absent, sizeof(p->absent), "no current readings in samples.csv");
	}
	p = plot_block(doc);
	if (p) {
		snprintf(p->title, sizeof(p->title), "Battery voltage");
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
		snprintf(p->y_title, sizeof(p->y_title), "voltage (V)");
		p->x_unit_ns = ta.unit_ns;
		plot_add_series(p, &d->voltage_v, 1, "battery voltage (power monitor)", C_RED);
		snprintf(p->absent, sizeof(p->absent), "no voltage readings in samples.csv");
	}
}

static void section_traceability(struct report_doc *doc, const struct run_results *res)
{
	struct doc_block *t;

	text_block(doc, DB_H1, DS_NORMAL, "7  Traceability");
	text_block(doc, DB_PARA, DS_SMALL, "Where each number came from (the source strings of "
		   "results.json; files are those of the run directory).");
	t = table_new(doc, true, 3, 0.05, 0.22, 0.73);
	cell(doc, t, DS_HEAD, "#");
	cell(doc, t, DS_HEAD, "quantity");
	cell(doc, t, DS_HEAD, "source");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		cell(doc, t, DS_NORMAL, "%zu", i + 1);
		cell(doc, t, DS_NORMAL, "%s (check)", c->check);
		cell(doc, t, DS_SMALL, "%s", c->source);
		for (size_t k = 0; k < c->n_m; k++) {
			if (!c->m[k].source[0])
				continue;
			cell(doc, t, DS_NORMAL, "%zu", i + 1);
			cell(doc, t, DS_NORMAL, "%s", c->m[k].name);
			cell(doc, t, DS_SMALL, "%s", c->m[k].source);
		}
	}
}

int report_doc_build(const struct run_results *res, const struct report_data *d,
		     struct report_doc **ret)
{
	struct report_doc *doc = calloc(1, sizeof(*doc));

	*ret = NULL;
	if (!doc)
		return -ENOMEM;
	snprintf(doc->report_id, sizeof(doc->report_id), "%s", d->report_id);
	snprintf(doc->title, sizeof(doc->title), "Test report: %s", d->seq->title);
	snprintf(doc->software, sizeof(doc->software), "pumprig %s", RIG_VERSION);
	if (res->status != RUN_COMPLETED)
		snprintf(doc->incomplete, sizeof(doc->incomplete), "INCOMPLETE — %s",
			 res->end_reason);

	section_identification(doc, res, d);
	section_equipment(doc, d);
	section_results(doc, res);
	section_gravimetric(doc, res);
	section_deviations(doc, res, d);
	section_plots(doc, res, d);
	section_traceability(doc, res);
	text_block(doc, DB_H1, DS_NORMAL, "8  Signatures");
	text_block(doc, DB_SIGNATURES, DS_NORMAL, "%s", d->report_id);
	if (doc->failed) {
		report_doc_free(doc);
		return -ENOMEM;
	}
	*ret = doc;
	return 0;
}

void report_doc_free(struct report_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n_blocks; i++) {
		struct doc_block *b = &doc->blocks[i];

		free(b->text);
		for (size_t k = 0; k < b->n_cells; k++)
			free(b->cells[k].text);
		free(b->cells);
		free(b->plot);
	}
	free(doc->blocks);
	free(doc);
}

int report_write_documents(const struct run_results *res, const char *run_dir)
{
	struct report_data *d = NULL;
	struct report_doc *doc = NULL;
	char err[512], path[RIG_PATH_MAX + 32];
	int r;

	r = report_data_gather(res, run_dir, &d, err, sizeof(err));
	if (r < 0)
		return r;
	r = report_doc_build(res, d, &doc);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/report.pdf", run_dir);
		r = report_pdf_write(doc, path);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/report.html", run_dir);
		r = report_html_write(doc, path);
	}
	report_doc_free(doc);
	report_data_free(d);
	/* Pango keeps a font map (and through it fontconfig's matches) for the
	 * life of the thread; rig writes one report per process, so release
	 * it rather than leave it to exit. */
	pango_cairo_font_map_set_default(NULL);
	return r;
}
