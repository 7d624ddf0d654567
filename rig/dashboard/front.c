/* The front page: the morning question answered in the order it is asked.
 * Open drift flags first, then last night on each bench (its runs, their
 * verdicts and durations, the retries, the next calibration due), the
 * devices x checks matrix of the newest verdicts, what changed since the
 * run before of each of last night's runs, and the benches. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400.0
#define CHANGES_MAX 12             /* changed values listed per run, the rest counted */

/* ------------------------------------------------------- calibrations */

void put_due(struct buf *b, const struct site *s, const char *due)
{
	time_t t;
	double days;

	if (!*due) {
		buf_put(b, "<span class=\"muted\">no due date</span>");
		return;
	}
	if (!parse_utc(due, &t)) {
		buf_html(b, due);
		return;
	}
	days = floor(difftime(t, s->now) / DAY_S);
	if (days < 0) {
		buf_put(b, "<span class=\"v fail\">\xe2\x9a\xa0 OVERDUE</span> since ");
		buf_html(b, due);
		buf_printf(b, " (%.0f day%s)", -days, days == -1 ? "" : "s");
	} else if (days <= 30) {
		buf_put(b, "<span class=\"v inc\">\xe2\x9a\xa0 due soon</span> ");
		buf_html(b, due);
		buf_printf(b, " (in %.0f day%s)", days, days == 1 ? "" : "s");
	} else {
		buf_html(b, due);
		buf_printf(b, " <span class=\"muted\">(in %.0f days)</span>", days);
	}
}

void put_next_calibration(struct buf *b, const struct site *s, const struct site_bench *bn)
{
	const struct history_ov_instrument *best = NULL;
	const char *newest = bn->n_runs ? s->ov->runs[bn->runs[bn->n_runs - 1]].started : "";
	size_t i;

	/* the instruments of the bench's newest run */
	for (i = 0; i < bn->n_instruments; i++) {
		const struct history_ov_instrument *in = &s->ov->instruments[bn->first_instrument + i];

		if (strcmp(in->last_seen, newest) != 0 || !*in->cal_due)
			continue;
		if (!best || strcmp(in->cal_due, best->cal_due) < 0)
			best = in;
	}
	if (!best) {
		buf_put(b, "<span class=\"muted\">no instrument with a due date</span>");
		return;
	}
	put_due(b, s, best->cal_due);
	buf_put(b, " <span class=\"muted\">(");
	buf_html(b, best->role);
	buf_put(b, " ");
	buf_html(b, best->serial);
	buf_put(b, ")</span>");
}

/* ------------------------------------------------------------- flags */

static void flags_section(struct buf *b, const struct site *s)
{
	const struct history_overview *ov = s->ov;
	size_t i, k, charts = 0;
	char a[32], t[32];

	for (i = 0; i < ov->n_charts; i++)
		charts += ov->charts[i].n_flags != 0;
	buf_printf(b, "<h2 id=\"flags\">Open drift flags (%zu on %zu value%s)</h2>\n", s->n_flags,
		   charts, charts == 1 ? "" : "s");
	if (!s->ov->n_runs) {
		/* nothing watched is not the same as nothing out of control */
		buf_put(b, "<p class=\"empty\">No runs yet, so no value is watched: there is no "
			   "control chart to break a rule.</p>\n");
		return;
	}
	if (!s->n_flags) {
		buf_put(b, "<p><span class=\"v pass\">\xe2\x9c\x93 none</span>: no watched value or "
			   "bench-health figure is out of control (Western Electric rules, three runs "
			   "in a row).</p>\n");
		return;
	}
	buf_put(b, "<p>A flag is a value moving out of its control chart while it may still pass its "
		   "specification: look before it fails.</p>\n<div class=\"scroll\"><table class=\"stack\">"
		   "<tr class=\"head\"><th scope=\"col\">flag</th><th scope=\"col\">device or bench</th>"
		   "<th scope=\"col\">value</th><th scope=\"col\">rules that hold</th>"
		   "<th scope=\"col\">since</th><th scope=\"col\">newest</th>"
		   "<th scope=\"col\">centre, control limits</th></tr>\n");
	/* the devices' first, then the benches' */
	for (i = 0; i < 2 * ov->n_charts; i++) {
		const struct history_ov_chart *c = &ov->charts[i % ov->n_charts];
		const struct history_ov_point *p;
		size_t first = SIZE_MAX;
		char anchor[32];

		if (!c->n_flags || c->bench != (i >= ov->n_charts))
			continue;
		p = &c->points[c->n_points - 1];
		chart_anchor(s, c, anchor);
		buf_put(b, "<tr><td><span class=\"v flag\">\xe2\x9a\x91 drift</span></td><td>");
		if (c->bench)
			put_bench_link(b, s, c->subject, 0, anchor);
		else
			put_device_link(b, s, c->subject, 0, anchor);
		buf_put(b, "</td><td class=\"wrap\" data-label=\"value\">");
		put_chart_name(b, c);
		buf_put(b, "<br><span class=\"muted\">");
		buf_html(b, c->sequence_id);
		buf_put(b, "</span></td><td class=\"wrap\" data-label=\"rules\">");
		for (k = 0; k < c->n_flags; k++) {
			const struct history_ov_flag *f = &c->flags[k];

			buf_printf(b, "%s%s (%s)", k ? "; " : "", spc_rule_text(f->rule),
				   f->rule == SPC_6_TRENDING ? (f->side > 0 ? "rising" : "falling") :
				   (f->side > 0 ? "above" : "below"));
			first = f->first < first ? f->first : first;
		}
		buf_put(b, "</td><td data-label=\"since\">");
		buf_html(b, fmt_utc(ov->runs[c->points[first].run].started, t));
		buf_printf(b, "<br><span class=\"muted\">%zu runs</span></td><td class=\"num\" "
			      "data-label=\"newest\">%s ", c->n_points - first, fmt_num(p->value, a));
		buf_html(b, c->unit);
		buf_printf(b, "</td><td class=\"num\" data-label=\"centre, limits\">%s",
			   fmt_num(c->chart.centre, a));
		buf_printf(b, "<br><span class=\"muted\">%s", fmt_num(c->chart.lcl, a));
		buf_printf(b, " to %s</span></td></tr>\n", fmt_num(c->chart.ucl, a));
	}
	buf_put(b, "</table></div>\n");
}

/* ------------------------------------------------------------ last night */

/* The runs of a bench that has no recorded night: those of the day before
 * its newest run (rig run alone, or nights from before the store kept them). */
static size_t latest_runs(const struct site *s, const struct site_bench *bn)
{
	time_t newest, t;
	size_t first = bn->n_runs;

	if (!bn->n_runs || !parse_utc(s->ov->runs[bn->runs[bn->n_runs - 1]].started, &newest))
		return bn->n_runs ? bn->n_runs - 1 : 0;
	while (first > 0 && parse_utc(s->ov->runs[bn->runs[first - 1]].started, &t) &&
	       difftime(newest, t) < DAY_S)
		first--;
	return first;
}

static void run_verdict(struct buf *b, const struct site *s, const struct history_ov_night_run *e)
{
	if (e->run != HISTORY_OV_NONE) {
		put_verdict(b, run_verdict_words(&s->ov->runs[e->run]));
		return;
	}
	/* the night said so; the store does not have the run (yet) */
	put_verdict(b, e->verdict);
	buf_put(b, " <span class=\"muted\">(not in the history yet)</span>");
}

static void night_card(struct buf *b, const struct site *s, const struct site_bench *bn)
{
	const struct history_overview *ov = s->ov;
	char t1[32], t2[32], d[32];
	size_t i;

	buf_put(b, "<div class=\"card\"><h3>");
	put_bench_link(b, s, bn->id, 0, NULL);
	if (bn->n_runs)   /* the bench as its newest run found it: its runs' mark */
		put_sim_mark(b, &ov->runs[bn->runs[bn->n_runs - 1]]);
	buf_put(b, "</h3>\n");
	if (bn->n_nights) {
		const struct history_ov_night *n = &ov->nights[bn->nights[bn->n_nights - 1]];
		double total = 0;
		size_t retries = 0;

		buf_put(b, "<p>Night <code>");
		buf_html(b, n->night_id);
		buf_put(b, "</code>, ");
		buf_html(b, fmt_utc(n->started, t1));
		buf_put(b, " to ");
		buf_html(b, fmt_utc(n->ended, t2));
		buf_put(b, ": ");
		put_verdict(b, n->verdict);
		if (strcmp(n->status, "completed") != 0) {
			buf_put(b, " <span class=\"v fail\">! ");
			buf_html(b, n->status);
			buf_put(b, "</span> ");
			buf_html(b, n->reason);
		}
		buf_put(b, "</p>\n<div class=\"scroll\"><table><tr><th scope=\"col\">job</th>"
			   "<th scope=\"col\">sequence</th><th scope=\"col\">device</th>"
			   "<th scope=\"col\">verdict</th><th scope=\"col\">time</th></tr>\n");
		for (i = 0; i < n->n_runs; i++) {
			const struct history_ov_night_run *e = &n->runs[i];

			total += isfinite(e->duration_s) ? e->duration_s : 0;
			retries += e->retry;
			buf_printf(b, "<tr><td>%d.%d%s</td><td>", e->job, e->repeat_index,
				   e->retry ? " <span class=\"v inc\">\xe2\x86\xbb run again</span>" : "");
			buf_html(b, e->sequence_id);
			buf_put(b, "</td><td>");
			put_device_link(b, s, e->device_serial, 0, NULL);
			buf_put(b, "</td><td>");
			run_verdict(b, s, e);
			buf_printf(b, "</td><td class=\"num\">%s</td></tr>\n",
				   fmt_duration(e->duration_s, d));
		}
		buf_printf(b, "</table></div><p>%zu run%s; ", n->n_runs, n->n_runs == 1 ? "" : "s");
		if (retries)
			buf_printf(b, "%zu of them run again because the bench let a run down; ",
				   retries);
		else
			buf_put(b, "none run again; ");
		buf_printf(b, "%s in all%s.</p>\n", fmt_duration(total, d),
			   n->virtual_time ? " (simulated: virtual time)" : "");
	} else if (bn->n_runs) {
		size_t first = latest_runs(s, bn);

		buf_put(b, "<p class=\"muted\">No night recorded for this bench: its runs of the day "
			   "before its newest.</p>\n<div class=\"scroll\"><table><tr>"
			   "<th scope=\"col\">started</th><th scope=\"col\">sequence</th>"
			   "<th scope=\"col\">device</th><th scope=\"col\">verdict</th></tr>\n");
		for (i = first; i < bn->n_runs; i++) {
			const struct history_ov_run *r = &ov->runs[bn->runs[i]];

			buf_put(b, "<tr><td>");
			buf_html(b, fmt_utc(r->started, t1));
			buf_put(b, "</td><td>");
			buf_html(b, r->sequence_id);
			buf_put(b, "</td><td>");
			put_device_link(b, s, r->device_serial, 0, NULL);
			buf_put(b, "</td><td>");
			put_verdict(b, run_verdict_words(r));
			buf_put(b, "</td></tr>\n");
		}
		buf_put(b, "</table></div>\n");
	}
	buf_put(b, "<p>Next calibration due: ");
	put_next_calibration(b, s, bn);
	buf_put(b, "</p></div>\n");
}

/* --------------------------------------------------------------- matrix */

struct column {
	const char *kind, *window;
};

static void matrix_section(struct buf *b, const struct site *s)
{
	const struct history_overview *ov = s->ov;
	struct column cols[64];
	size_t n_cols = 0, i, j, k, *cell;
	char a[32], u[32], t[32];

	buf_put(b, "<h2 id=\"matrix\">Devices and checks: the newest verdicts</h2>\n");
	/* the columns: every check and window any device has, in check order */
	for (i = 0; i < ov->n_checks; i++) {
		const struct history_ov_check *c = &ov->checks[i];

		for (k = 0; k < n_cols; k++)
			if (!strcmp(cols[k].kind, c->kind) && !strcmp(cols[k].window, c->window))
				break;
		if (k == n_cols && n_cols < sizeof(cols) / sizeof(cols[0]))
			cols[n_cols++] = (struct column){ c->kind, c->window };
	}
	if (!s->n_devices) {
		buf_put(b, "<p class=\"muted\">The history holds no runs yet.</p>\n");
		return;
	}
	cell = malloc((n_cols ? n_cols : 1) * sizeof(*cell));
	if (!cell) {
		b->oom = true;
		return;
	}
	buf_put(b, "<p>Each cell: the verdict of the device's newest run with that check, its "
		   "value and when; <span class=\"v flag\">\xe2\x9a\x91</span> an open drift flag on "
		   "it. A device's name leads to its control charts and every run's report.</p>\n"
		   "<div class=\"scroll\"><table><tr><th scope=\"col\">device</th>");
	for (k = 0; k < n_cols; k++) {
		buf_put(b, "<th scope=\"col\">");
		put_check_name(b, cols[k].kind);
		if (*cols[k].window) {
			buf_put(b, "<br><span class=\"muted\">");
			buf_html(b, cols[k].window);
			buf_put(b, "</span>");
		}
		buf_put(b, "</th>");
	}
	buf_put(b, "</tr>\n");
	for (i = 0; i < s->n_devices; i++) {
		const struct site_device *d = &s->devices[i];

		for (k = 0; k < n_cols; k++)
			cell[k] = HISTORY_OV_NONE;
		/* oldest to newest: the newest run with the check wins */
		for (j = 0; j < d->n_runs; j++) {
			const struct history_ov_run *r = &ov->runs[d->runs[j]];

			for (k = 0; k < r->n_checks; k++) {
				const struct history_ov_check *c = &ov->checks[r->first_check + k];
				size_t col;

				for (col = 0; col < n_cols; col++)
					if (!strcmp(cols[col].kind, c->kind) &&
					    !strcmp(cols[col].window, c->window))
						break;
				if (col < n_cols)
					cell[col] = r->first_check + k;
			}
		}
		buf_put(b, "<tr><th scope=\"row\">");
		put_device_link(b, s, d->serial, 0, NULL);
		buf_put(b, " <span class=\"muted\">");
		buf_html(b, d->model);
		buf_put(b, "</span>");
		/* once per row: the mark of the first of its cells' runs that has one */
		for (k = 0; k < n_cols; k++)
			if (cell[k] != HISTORY_OV_NONE && *ov->runs[ov->checks[cell[k]].run].sim_mark) {
				buf_put(b, "<br>");
				put_sim_mark(b, &ov->runs[ov->checks[cell[k]].run]);
				break;
			}
		buf_put(b, "</th>");
		for (k = 0; k < n_cols; k++) {
			const struct history_ov_check *c;
			bool flagged = false;
			size_t ci;

			if (cell[k] == HISTORY_OV_NONE) {
				buf_put(b, "<td class=\"muted\">&ndash;</td>");
				continue;
			}
			c = &ov->checks[cell[k]];
			for (ci = 0; ci < d->n_charts; ci++) {
				const struct history_ov_chart *ch = &ov->charts[d->charts[ci]];

				flagged |= ch->n_flags && !strcmp(ch->check, c->kind) &&
					   !strcmp(ch->window, c->window);
			}
			buf_put(b, "<td>");
			put_verdict(b, c->verdict);
			if (flagged)
				buf_put(b, " <span class=\"v flag\">\xe2\x9a\x91 drift</span>");
			buf_printf(b, "<br><span class=\"muted\">%s", fmt_num(c->measured, a));
			if (isfinite(c->U))
				buf_printf(b, " &plusmn; %s", fmt_u(c->U, u));
			buf_put(b, " ");
			buf_html(b, c->unit);
			buf_put(b, "<br>");
			/* the day: the run's page has the time */
			buf_html(b, fmt_day(ov->runs[c->run].started, t));
			buf_put(b, "</span></td>");
		}
		buf_put(b, "</tr>\n");
	}
	buf_put(b, "</table></div>\n");
	free(cell);
}

/* ------------------------------------------------------- what changed */

static void put_jvalue(struct buf *b, const json_t *v)
{
	char num[32];

	if (json_is_string(v))
		buf_html(b, *json_string_value(v) ? json_string_value(v) : "(none)");
	else if (json_is_number(v))
		buf_put(b, fmt_num(json_number_value(v), num));
	else
		buf_put(b, "-");
}

/* What history_compare found between a run and the run before of the same
 * device and sequence, in words: a list of the changes that matter. */
static void put_changes(struct buf *b, const json_t *cmp)
{
	const json_t *x, *f;
	size_t i, k, n = 0, more = 0;

	buf_put(b, "<ul class=\"changes\">");
	json_array_foreach(json_object_get(cmp, "identity"), i, x) {
		if (!json_is_true(json_object_get(x, "changed")))
			continue;
		buf_put(b, "<li>");
		if (!strcmp(history_jstr(x, "field"), "verdict")) {
			buf_put(b, "verdict ");
			put_verdict(b, history_jstr(x, "a"));
			buf_put(b, " &rarr; ");
			put_verdict(b, history_jstr(x, "b"));
		} else {
			buf_html(b, history_jstr(x, "field"));
			buf_put(b, " ");
			put_jvalue(b, json_object_get(x, "a"));
			buf_put(b, " &rarr; ");
			put_jvalue(b, json_object_get(x, "b"));
		}
		buf_put(b, "</li>");
		n++;
	}
	json_array_foreach(json_object_get(cmp, "inputs"), i, x) {
		if (!json_is_true(json_object_get(x, "changed")))
			continue;
		buf_put(b, "<li>input file ");
		buf_html(b, history_jstr(x, "name"));
		buf_put(b, " changed (its SHA-256)</li>");
		n++;
	}
	json_array_foreach(json_object_get(cmp, "instruments"), i, x) {
		if (!json_is_true(json_object_get(x, "changed")))
			continue;
		buf_put(b, "<li>instrument ");
		buf_html(b, history_jstr(x, "role"));
		json_array_foreach(json_object_get(x, "fields"), k, f) {
			if (!json_is_true(json_object_get(f, "changed")))
				continue;
			buf_put(b, ", ");
			buf_html(b, history_jstr(f, "field"));
			buf_put(b, " ");
			put_jvalue(b, json_object_get(f, "a"));
			buf_put(b, " &rarr; ");
			put_jvalue(b, json_object_get(f, "b"));
		}
		buf_put(b, "</li>");
		n++;
	}
	json_array_foreach(json_object_get(cmp, "values"), i, x) {
		bool sig = json_is_true(json_object_get(x, "significant"));
		const char *va = history_jstr(x, "verdict_a"), *vb = history_jstr(x, "verdict_b");
		bool verdict = *va && *vb && strcmp(va, vb) != 0;
		char d[32], u[32];

		if (!sig && !verdict)
			continue;
		if (n >= CHANGES_MAX) {
			more++;
			continue;
		}
		buf_put(b, "<li>");
		put_check_name(b, history_jstr(x, "check"));
		buf_put(b, " [");
		buf_html(b, history_jstr(x, "window"));
		buf_put(b, "] ");
		put_measurement_name(b, history_jstr(x, "measurement"));
		buf_put(b, ": ");
		put_jvalue(b, json_object_get(x, "a"));
		buf_put(b, " &rarr; ");
		put_jvalue(b, json_object_get(x, "b"));
		buf_put(b, " ");
		buf_html(b, history_jstr(x, "unit"));
		if (sig)
			buf_printf(b, " (&Delta; %s, beyond &radic;(U<sub>a</sub>&sup2; + "
				      "U<sub>b</sub>&sup2;) = %s)",
				   fmt_num(json_number_value(json_object_get(x, "delta")), d),
				   fmt_num(json_number_value(json_object_get(x, "U_combined")), u));
		if (verdict) {
			buf_put(b, ", ");
			put_verdict(b, va);
			buf_put(b, " &rarr; ");
			put_verdict(b, vb);
		}
		buf_put(b, "</li>");
		n++;
	}
	if (more)
		buf_printf(b, "<li>and %zu more value%s beyond their uncertainties</li>", more,
			   more == 1 ? "" : "s");
	if (!n)
		buf_put(b, "<li>nothing: the same software, inputs, instruments and calibrations, "
			   "and every value within the two runs' uncertainties</li>");
	buf_put(b, "</ul>\n");
}

/* The newest run of the device and sequence of runs[run] that started
 * before `before` (a UTC text, as every start is written), or
 * HISTORY_OV_NONE. */
static size_t newest_before(const struct history_overview *ov, size_t run, const char *before)
{
	const struct history_ov_run *r = &ov->runs[run];
	size_t i, best = HISTORY_OV_NONE;

	for (i = 0; i < ov->n_runs; i++) {
		const struct history_ov_run *q = &ov->runs[i];

		if (strcmp(q->started, before) < 0 && !strcmp(q->device_serial, r->device_serial) &&
		    !strcmp(q->sequence_id, r->sequence_id) &&
		    (best == HISTORY_OV_NONE || history_ov_run_cmp(q, &ov->runs[best]) > 0))
			best = i;
	}
	return best;
}

/* Each of the run's changes since an earlier run of its device and
 * sequence: with `night_start`, the newest run from before that night (a
 * night may run a sequence twice; the morning asks what changed since the
 * night before), else the run before (rig history compare RUN --previous). */
static int run_changes(struct buf *b, struct site *s, size_t run, const char *night_start,
		       char *err, size_t errlen)
{
	const struct history_ov_run *r = &s->ov->runs[run];
	char prev[HISTORY_RUN_ID_MAX], t[32], msg[512];
	json_t *cmp = NULL;
	size_t p;
	int rc;

	buf_put(b, "<li>");
	put_device_link(b, s, r->device_serial, 0, NULL);
	buf_put(b, " ");
	buf_html(b, r->sequence_id);
	buf_put(b, ", ");
	buf_printf(b, "<a href=\"device/%s.html#r%zu\">", site_device(s, r->device_serial)->slug,
		   run);
	buf_html(b, fmt_utc(r->started, t));
	buf_put(b, "</a>");
	if (night_start) {
		p = newest_before(s->ov, run, night_start);
		rc = p == HISTORY_OV_NONE ? -ENOENT : 0;
		if (rc == 0)
			snprintf(prev, sizeof(prev), "%s", s->ov->runs[p].run_id);
	} else {
		rc = history_previous(s->h, r->run_id, prev, msg, sizeof(msg));
	}
	if (rc == -ENOENT) {
		buf_printf(b, ": the first %s of this device and sequence</li>\n",
			   night_start ? "night" : "run");
		return 0;
	}
	if (rc == 0)
		rc = history_compare(s->h, prev, r->run_id, &cmp, msg, sizeof(msg));
	if (rc < 0) {
		snprintf(err, errlen, "comparing %s with the run before: %s", r->run_id, msg);
		return rc;
	}
	p = history_ov_find_run(s->ov, prev);
	buf_put(b, ", against ");
	if (p != HISTORY_OV_NONE)
		buf_printf(b, "<a href=\"device/%s.html#r%zu\">", site_device(s, r->device_serial)->slug,
			   p);
	buf_html(b, p != HISTORY_OV_NONE ? fmt_utc(s->ov->runs[p].started, t) : prev);
	if (p != HISTORY_OV_NONE)
		buf_put(b, "</a>");
	buf_put(b, ":");
	put_changes(b, cmp);
	buf_put(b, "</li>\n");
	json_decref(cmp);
	return 0;
}

static int changes_section(struct buf *b, struct site *s, char *err, size_t errlen)
{
	size_t i, k;
	int r = 0;

	buf_put(b, "<h2 id=\"changes\">What changed since the night before</h2>\n<p>For each run of "
		   "each bench's last night, against the newest run of the same device and "
		   "sequence from before that night (<code>rig history compare</code>; a bench "
		   "without nights: its newest runs against the run before): software, firmware, "
		   "input files, instruments and calibrations, verdicts, and every value that moved "
		   "by more than the two runs' uncertainties combined.</p>\n");
	if (!s->n_benches)
		buf_put(b, "<p class=\"empty\">No runs yet: nothing to compare.</p>\n");
	for (i = 0; i < s->n_benches && r == 0; i++) {
		const struct site_bench *bn = &s->benches[i];

		buf_put(b, "<h3>");
		put_bench_link(b, s, bn->id, 0, NULL);
		buf_put(b, "</h3>\n<ul class=\"changes\">");
		if (bn->n_nights) {
			const struct history_ov_night *n = &s->ov->nights[bn->nights[bn->n_nights - 1]];

			for (k = 0; k < n->n_runs && r == 0; k++)
				if (n->runs[k].run != HISTORY_OV_NONE)
					r = run_changes(b, s, n->runs[k].run, n->started, err, errlen);
		} else {
			for (k = latest_runs(s, bn); k < bn->n_runs && r == 0; k++)
				r = run_changes(b, s, bn->runs[k], NULL, err, errlen);
		}
		buf_put(b, "</ul>\n");
	}
	return r;
}

/* -------------------------------------------------------------- benches */

static void benches_section(struct buf *b, const struct site *s)
{
	char t[32];
	size_t i;

	if (!s->n_benches) {
		buf_put(b, "<h2 id=\"benches\">Benches</h2>\n<p class=\"empty\">No bench has "
			   "stored a run yet.</p>\n");
		return;
	}
	buf_put(b, "<h2 id=\"benches\">Benches</h2>\n<div class=\"scroll\"><table><tr>"
		   "<th scope=\"col\">bench</th><th scope=\"col\">runs</th>"
		   "<th scope=\"col\">nights</th><th scope=\"col\">newest run</th>"
		   "<th scope=\"col\">open flags</th><th scope=\"col\">next calibration due</th></tr>\n");
	for (i = 0; i < s->n_benches; i++) {
		const struct site_bench *bn = &s->benches[i];

		buf_put(b, "<tr><th scope=\"row\">");
		put_bench_link(b, s, bn->id, 0, NULL);
		buf_printf(b, "</th><td class=\"num\">%zu</td><td class=\"num\">%zu</td><td>",
			   bn->n_runs, bn->n_nights);
		if (bn->n_runs)
			buf_html(b, fmt_utc(s->ov->runs[bn->runs[bn->n_runs - 1]].started, t));
		buf_put(b, "</td><td>");
		if (bn->n_flags)
			buf_printf(b, "<span class=\"v flag\">\xe2\x9a\x91 %zu</span>", bn->n_flags);
		else
			buf_put(b, "<span class=\"muted\">none</span>");
		buf_put(b, "</td><td>");
		put_next_calibration(b, s, bn);
		buf_put(b, "</td></tr>\n");
	}
	buf_put(b, "</table></div>\n");
}

int front_page(struct site *s, char *err, size_t errlen)
{
	struct buf b = { 0 };
	size_t i, failing = 0, deviating = 0;
	int r;

	for (i = 0; i < s->n_devices; i++) {
		const struct site_device *d = &s->devices[i];
		const struct history_ov_run *newest;

		if (!d->n_runs)
			continue;
		newest = &s->ov->runs[d->runs[d->n_runs - 1]];
		failing += strcmp(newest->verdict, "pass") != 0;
		deviating += !strcmp(newest->verdict, "pass") && run_has_deviations(newest);
	}
	page_begin(&b, s, "The lab's morning view", 0, s->n_sim, s->ov->n_runs);
	buf_printf(&b, "<h1>The lab's morning view</h1>\n<p>%zu run%s of %zu device%s on %zu "
		       "bench%s, %zu night%s; ", s->ov->n_runs, s->ov->n_runs == 1 ? "" : "s",
		   s->n_devices, s->n_devices == 1 ? "" : "s", s->n_benches,
		   s->n_benches == 1 ? "" : "es", s->ov->n_nights, s->ov->n_nights == 1 ? "" : "s");
	/* an empty history has judged nothing: no all-clear for it */
	if (!s->ov->n_runs)
		buf_put(&b, "<span class=\"empty\">nothing judged yet: no device has a run, so there "
			    "is no verdict and no drift flag to report.</span>");
	else if (s->n_flags)
		buf_printf(&b, "<span class=\"v flag\">\xe2\x9a\x91 %zu open drift flag%s</span>; ",
			   s->n_flags, s->n_flags == 1 ? "" : "s");
	else
		buf_put(&b, "<span class=\"v pass\">\xe2\x9c\x93 no open drift flag</span>; ");
	if (!s->ov->n_runs)
		;
	else if (failing)
		buf_printf(&b, "<span class=\"v fail\">\xe2\x9c\x97 %zu device%s whose newest run did "
			       "not pass</span>.", failing, failing == 1 ? "" : "s");
	else if (deviating)
		buf_printf(&b, "every device's newest run passed, <span class=\"v other\">%zu with "
			       "deviations</span> (their reports list them).", deviating);
	else
		buf_put(&b, "every device's newest run passed.");
	buf_printf(&b, " <span class=\"muted\">As of %s.</span></p>\n", s->now_text);
	flags_section(&b, s);
	buf_put(&b, "<h2 id=\"nights\">Last night, bench by bench</h2>\n");
	if (!s->ov->n_nights)
		buf_printf(&b, "<p class=\"empty\">No nights yet: no <code>rig nightly</code> has "
			       "been stored%s.</p>\n", s->n_benches ? " (each bench's newest runs are "
			       "below)" : "");
	if (s->n_benches) {
		buf_put(&b, "<div class=\"cards\">\n");
		for (i = 0; i < s->n_benches; i++)
			night_card(&b, s, &s->benches[i]);
		buf_put(&b, "</div>\n");
	}
	matrix_section(&b, s);
	r = changes_section(&b, s, err, errlen);
	if (r == 0) {
		benches_section(&b, s);
		page_end(&b, s);
		r = page_write(s, "index.html", &b, err, errlen);
		s->res->front_bytes = b.len;
	}
	buf_free(&b);
	return r;
}
