/* A device's page: its open flags, each watched value's control chart
 * (limits, flagged points and rules, the specification limit), and every
 * run with links to its report (PDF and HTML) and its folder. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* The names of the checks a run did not pass. */
static void not_passed(struct buf *b, const struct site *s, const struct history_ov_run *r)
{
	bool any = false;
	size_t k;

	for (k = 0; k < r->n_checks; k++) {
		const struct history_ov_check *c = &s->ov->checks[r->first_check + k];

		if (!strcmp(c->verdict, "pass"))
			continue;
		buf_put(b, any ? ", " : "");
		put_check_name(b, c->kind);
		if (*c->window) {
			buf_put(b, " [");
			buf_html(b, c->window);
			buf_put(b, "]");
		}
		buf_put(b, " ");
		put_verdict(b, c->verdict);
		any = true;
	}
	if (!any)
		buf_put(b, "<span class=\"muted\">&ndash;</span>");
}

int device_page(struct site *s, const struct site_device *d, char *err, size_t errlen)
{
	const struct history_overview *ov = s->ov;
	struct buf b = { 0 };
	char name[160], t[32], anchor[32];
	size_t i;
	int r;

	snprintf(name, sizeof(name), "Device %.120s", d->serial);
	page_begin(&b, s, name, 1, d->n_sim, d->n_runs);
	buf_put(&b, "<h1>Device ");
	buf_html(&b, *d->serial ? d->serial : "(no serial)");
	buf_put(&b, " <span class=\"muted\">");
	buf_html(&b, d->model);
	buf_put(&b, "</span></h1>\n<p>");
	if (d->n_runs) {
		const struct history_ov_run *first = &ov->runs[d->runs[0]];
		const struct history_ov_run *last = &ov->runs[d->runs[d->n_runs - 1]];

		buf_printf(&b, "%zu run%s from ", d->n_runs, d->n_runs == 1 ? "" : "s");
		buf_html(&b, fmt_utc(first->started, t));
		buf_put(&b, " to ");
		buf_html(&b, fmt_utc(last->started, t));
		buf_put(&b, "; firmware ");
		buf_html(&b, last->device_firmware);
		buf_put(&b, " in the newest, on bench ");
		put_bench_link(&b, s, last->bench_id, 1, NULL);
		buf_put(&b, ": ");
		put_run_verdict(&b, last);
		buf_put(&b, ". ");
	}
	if (d->n_flags)
		buf_printf(&b, "<span class=\"v flag\">\xe2\x9a\x91 %zu open drift flag%s</span>.",
			   d->n_flags, d->n_flags == 1 ? "" : "s");
	else
		buf_put(&b, "<span class=\"v pass\">\xe2\x9c\x93 no open drift flag</span>.");
	buf_put(&b, "</p>\n");

	/* the charts, flagged ones first */
	buf_put(&b, "<h2 id=\"charts\">Control charts</h2>\n");
	if (!d->n_charts)
		buf_put(&b, "<p class=\"muted\">No watched value yet (a value with an acceptance "
			    "limit of its own).</p>\n");
	else
		svg_legend(&b);
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < d->n_charts; i++) {
			const struct history_ov_chart *c = &ov->charts[d->charts[i]];

			if ((c->n_flags != 0) != (pass == 0))
				continue;
			chart_anchor(s, c, anchor);
			svg_chart(&b, s, c, anchor);
		}
	}

	/* every run, newest first */
	buf_printf(&b, "<h2 id=\"runs\">Runs (%zu, newest first)</h2>\n<p>The report of each run "
		       "(PDF and HTML) and its run directory, the record every figure here comes "
		       "from.</p>\n<div class=\"scroll\"><table><tr><th scope=\"col\">started</th>"
		       "<th scope=\"col\">sequence</th><th scope=\"col\">bench</th>"
		       "<th scope=\"col\">verdict</th><th scope=\"col\">not passed</th>"
		       "<th scope=\"col\">status</th><th scope=\"col\">report and record</th></tr>\n",
		   d->n_runs);
	for (i = d->n_runs; i-- > 0;) {
		const struct history_ov_run *run = &ov->runs[d->runs[i]];

		buf_printf(&b, "<tr id=\"r%zu\"><td>", d->runs[i]);
		buf_html(&b, fmt_utc(run->started, t));
		buf_put(&b, "</td><td>");
		buf_html(&b, run->sequence_id);
		buf_put(&b, "</td><td>");
		put_bench_link(&b, s, run->bench_id, 1, NULL);
		buf_put(&b, "</td><td>");
		put_run_verdict(&b, run);
		buf_put(&b, "</td><td class=\"wrap\">");
		not_passed(&b, s, run);
		buf_put(&b, "</td><td>");
		buf_html(&b, run->status);
		buf_put(&b, "</td><td>");
		put_run_links(&b, s, d->runs[i], 1);
		buf_put(&b, "</td></tr>\n");
	}
	buf_put(&b, "</table></div>\n");
	page_end(&b, s);
	snprintf(name, sizeof(name), "device/%s.html", d->slug);
	r = page_write(s, name, &b, err, errlen);
	buf_free(&b);
	return r;
}
