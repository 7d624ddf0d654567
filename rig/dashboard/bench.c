/* A bench's page: its health over time (balance noise, measured
 * evaporation, flow sensor minus balance, pressure baseline: each a control
 * chart as the checks computed them), its instruments and their
 * calibrations, its nights and its newest runs. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NIGHTS_SHOWN 60
#define RUNS_SHOWN 60

static void instruments_section(struct buf *b, const struct site *s, const struct site_bench *bn)
{
	const char *newest = bn->n_runs ? s->ov->runs[bn->runs[bn->n_runs - 1]].started : "";
	char t1[32], t2[32];
	size_t i;
	int pass;

	buf_put(b, "<h2 id=\"instruments\">Instruments and calibrations</h2>\n");
	if (!bn->n_instruments) {
		buf_put(b, "<p class=\"muted\">No run of this bench is in the history.</p>\n");
		return;
	}
	/* first those of the newest run, then every earlier one (another
	 * serial, an earlier calibration) with the runs it served in */
	for (pass = 0; pass < 2; pass++) {
		bool any = false;

		for (i = 0; i < bn->n_instruments; i++) {
			const struct history_ov_instrument *in =
				&s->ov->instruments[bn->first_instrument + i];

			if ((strcmp(in->last_seen, newest) == 0) != (pass == 0))
				continue;
			if (!any) {
				buf_printf(b, "<h3>%s</h3>\n<div class=\"scroll\"><table><tr>"
					      "<th scope=\"col\">role</th><th scope=\"col\">model</th>"
					      "<th scope=\"col\">serial</th><th scope=\"col\">backend</th>"
					      "<th scope=\"col\">calibrated</th><th scope=\"col\">due</th>"
					      "<th scope=\"col\">uncertainty</th><th scope=\"col\">runs</th>"
					      "</tr>\n", pass ? "Earlier instruments and calibrations" :
							 "In the newest run");
				any = true;
			}
			buf_put(b, "<tr><td>");
			buf_html(b, in->role);
			buf_put(b, "</td><td>");
			buf_html(b, in->model);
			buf_put(b, "</td><td>");
			buf_html(b, in->serial);
			buf_put(b, "</td><td>");
			buf_html(b, in->backend);
			buf_put(b, "</td><td>");
			buf_html(b, *in->cal_date ? in->cal_date : "-");
			buf_put(b, "</td><td>");
			if (pass == 0)
				put_due(b, s, in->cal_due);
			else
				buf_html(b, *in->cal_due ? in->cal_due : "-");
			buf_put(b, "</td><td>");
			buf_html(b, *in->cal_uncertainty ? in->cal_uncertainty : "-");
			buf_printf(b, "</td><td class=\"wrap\">%zu, ", in->n_runs);
			buf_html(b, fmt_utc(in->first_seen, t1));
			buf_put(b, " to ");
			buf_html(b, fmt_utc(in->last_seen, t2));
			buf_put(b, "</td></tr>\n");
		}
		if (any)
			buf_put(b, "</table></div>\n");
	}
}

static void nights_section(struct buf *b, const struct site *s, const struct site_bench *bn)
{
	char t1[32], t2[32], d[32];
	size_t i, k, shown = 0;

	buf_printf(b, "<h2 id=\"nights\">Nights (%zu, newest first)</h2>\n", bn->n_nights);
	if (!bn->n_nights) {
		buf_put(b, "<p class=\"muted\">No night of <code>rig nightly</code> is recorded for "
			   "this bench.</p>\n");
		return;
	}
	buf_put(b, "<div class=\"scroll\"><table><tr><th scope=\"col\">night</th>"
		   "<th scope=\"col\">started</th><th scope=\"col\">ended</th>"
		   "<th scope=\"col\">verdict</th><th scope=\"col\">runs</th>"
		   "<th scope=\"col\">run again</th><th scope=\"col\">time</th>"
		   "<th scope=\"col\">status</th></tr>\n");
	for (i = bn->n_nights; i-- > 0 && shown < NIGHTS_SHOWN; shown++) {
		const struct history_ov_night *n = &s->ov->nights[bn->nights[i]];
		size_t retries = 0;
		double total = 0;

		for (k = 0; k < n->n_runs; k++) {
			retries += n->runs[k].retry;
			total += isfinite(n->runs[k].duration_s) ? n->runs[k].duration_s : 0;
		}
		buf_put(b, "<tr><td><code>");
		buf_html(b, n->night_id);
		buf_put(b, "</code></td><td>");
		buf_html(b, fmt_utc(n->started, t1));
		buf_put(b, "</td><td>");
		buf_html(b, fmt_utc(n->ended, t2));
		buf_put(b, "</td><td>");
		put_verdict(b, n->verdict);
		buf_printf(b, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
			      "<td class=\"num\">%s</td><td class=\"wrap\">", n->n_runs, retries,
			   fmt_duration(total, d));
		buf_html(b, n->status);
		if (*n->reason) {
			buf_put(b, ": ");
			buf_html(b, n->reason);
		}
		buf_put(b, "</td></tr>\n");
	}
	buf_put(b, "</table></div>\n");
	if (bn->n_nights > shown)
		buf_printf(b, "<p class=\"legend\">and %zu earlier nights (<code>rig history nights "
			      "--bench</code> lists them all)</p>\n", bn->n_nights - shown);
}

int bench_page(struct site *s, const struct site_bench *bn, char *err, size_t errlen)
{
	const struct history_overview *ov = s->ov;
	struct buf b = { 0 };
	char name[160], t[32], anchor[32];
	size_t i, shown = 0;
	int r;

	snprintf(name, sizeof(name), "Bench %.120s", bn->id);
	page_begin(&b, s, name, 1, bn->n_sim, bn->n_runs);
	buf_put(&b, "<h1>Bench ");
	buf_html(&b, *bn->id ? bn->id : "(no bench id)");
	buf_printf(&b, "</h1>\n<p>%zu run%s, %zu night%s. Next calibration due: ", bn->n_runs,
		   bn->n_runs == 1 ? "" : "s", bn->n_nights, bn->n_nights == 1 ? "" : "s");
	put_next_calibration(&b, s, bn);
	buf_put(&b, ". ");
	if (bn->n_flags)
		buf_printf(&b, "<span class=\"v flag\">\xe2\x9a\x91 %zu open drift flag%s on its "
			       "health</span>.", bn->n_flags, bn->n_flags == 1 ? "" : "s");
	else
		buf_put(&b, "<span class=\"v pass\">\xe2\x9c\x93 its health is in control</span>.");
	buf_put(&b, "</p>\n");

	buf_put(&b, "<h2 id=\"health\">Health over time</h2>\n<p>The bench's own figures as the "
		    "checks measure them in every run: the balance's noise, the evaporation measured "
		    "with the pump stopped, the flow sensor minus the balance, the pressure "
		    "baseline, and the conditions it measures (the fluid's temperature, the air's "
		    "temperature, humidity, pressure and density); each watched per sequence and "
		    "window.</p>\n");
	if (!bn->n_charts)
		buf_put(&b, "<p class=\"muted\">No health figure recorded yet.</p>\n");
	else
		svg_legend(&b);
	for (i = 0; i < bn->n_charts; i++) {
		const struct history_ov_chart *c = &ov->charts[bn->charts[i]];

		chart_anchor(s, c, anchor);
		svg_chart(&b, s, c, anchor);
	}
	instruments_section(&b, s, bn);
	nights_section(&b, s, bn);

	buf_printf(&b, "<h2 id=\"runs\">Newest runs</h2>\n<div class=\"scroll\"><table><tr>"
		       "<th scope=\"col\">started</th><th scope=\"col\">device</th>"
		       "<th scope=\"col\">sequence</th><th scope=\"col\">verdict</th>"
		       "<th scope=\"col\">report and record</th></tr>\n");
	for (i = bn->n_runs; i-- > 0 && shown < RUNS_SHOWN; shown++) {
		const struct history_ov_run *run = &ov->runs[bn->runs[i]];
		char a[32];

		snprintf(a, sizeof(a), "r%zu", bn->runs[i]);
		buf_put(&b, "<tr><td>");
		buf_html(&b, fmt_utc(run->started, t));
		buf_put(&b, "</td><td>");
		put_device_link(&b, s, run->device_serial, 1, a);
		buf_put(&b, "</td><td>");
		buf_html(&b, run->sequence_id);
		buf_put(&b, "</td><td>");
		put_run_verdict(&b, run);
		buf_put(&b, "</td><td>");
		put_run_links(&b, s, bn->runs[i], 1);
		buf_put(&b, "</td></tr>\n");
	}
	buf_put(&b, "</table></div>\n");
	if (bn->n_runs > shown)
		buf_printf(&b, "<p class=\"legend\">and %zu earlier runs: each device's page lists all "
			       "of its runs.</p>\n", bn->n_runs - shown);
	page_end(&b, s);
	snprintf(name, sizeof(name), "bench/%s.html", bn->slug);
	r = page_write(s, name, &b, err, errlen);
	buf_free(&b);
	return r;
}
