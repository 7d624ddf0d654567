/* A control chart as inline SVG, drawn straight into the page: an
 * individuals chart run by run (the x axis is the run's place in time
 * order), its centre line, its control limits (centre -+ 3 sigma), the
 * specification limit when it is near enough to be seen, the baseline, the
 * points where a rule holds and the points that failed their limit, and the
 * open flags.  Every mark has a shape of its own, so colour is never the
 * only thing that tells them apart; each rule point and failed point says
 * what it is in a tooltip (<title>).  The report's plots (reports/plot/plot.h)
 * draw with cairo and pango, which would write every letter as a path: far
 * too heavy for thousands of points on a page. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 760.0
#define H 250.0                    /* without the flags' rows */
#define MT 16.0
#define MB 30.0
#define UNIT_X 12.0                /* the unit's baseline, turned upright */
#define UNIT_W 18.0                /* the unit's column, left of the values */
#define FLAG_ROW 14.0              /* a flag's name, in a row of its own above the plot */
#define LINE_GAP 14.0              /* between two lines' names: 11 px letters and a gap */
#define TICKS_MAX 20
#define FLAGS_SORTED 16

/* The margins are sized from what they must hold: the left from the
 * longest value on the axis, the right from the longest line name, the
 * top from the number of open flags. */
struct scale {
	double lo, hi;                 /* the values at the bottom and top */
	size_t n;
	double ml, mr, mt, h;
};

#define ML (sc->ml)
#define MR (sc->mr)

static double px(const struct scale *sc, size_t i)
{
	if (sc->n < 2)
		return (ML + W - MR) / 2;
	return ML + (W - MR - ML) * (double)i / (double)(sc->n - 1);
}

static double py(const struct scale *sc, double v)
{
	return sc->h - MB - (v - sc->lo) / (sc->hi - sc->lo) * (sc->h - MB - sc->mt);
}

/* The width of a text of 11 px letters, from above: DejaVu Sans, the
 * widest of the fonts the style sheet names, gives a digit 0.636 em and
 * few letters more than 0.7 em.  Counted in characters, not bytes. */
static double text_w(const char *t)
{
	size_t n = 0;

	for (; *t; t++)
		n += ((unsigned char)*t & 0xc0) != 0x80;
	return (double)n * 11 * 0.68;
}

/* A step of 1, 2 or 5 times a power of ten giving about five lines. */
static double nice_step(double span)
{
	double raw = span / 5, mag = pow(10, floor(log10(raw))), norm = raw / mag;

	return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/* The newest point's specification limit (a limit may change with a new
 * sequence version: the newest is the one that judges now). */
static void spec_limits(const struct history_ov_chart *c, double *lo, double *hi)
{
	*lo = *hi = NAN;
	if (c->n_points) {
		*lo = c->points[c->n_points - 1].limit_low;
		*hi = c->points[c->n_points - 1].limit_high;
	}
}

static void fit_scale(const struct history_ov_chart *c, struct scale *sc, bool *show_lo,
		      bool *show_hi)
{
	double lo = INFINITY, hi = -INFINITY, slo, shi, span, pad;
	size_t i;

	for (i = 0; i < c->n_points; i++) {
		lo = fmin(lo, c->points[i].value);
		hi = fmax(hi, c->points[i].value);
	}
	if (c->chart.valid) {
		lo = fmin(lo, c->chart.lcl);
		hi = fmax(hi, c->chart.ucl);
	}
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 0;
		hi = 1;
	}
	span = hi - lo;
	if (span <= 0)
		span = fabs(lo) > 0 ? fabs(lo) * 0.02 : 1;
	/* a specification limit within one more span of the data is drawn;
	 * further off it would flatten the points into a line */
	spec_limits(c, &slo, &shi);
	*show_lo = isfinite(slo) && slo >= lo - span && slo <= hi + span;
	*show_hi = isfinite(shi) && shi >= lo - span && shi <= hi + span;
	if (*show_lo) {
		lo = fmin(lo, slo);
		hi = fmax(hi, slo);
	}
	if (*show_hi) {
		lo = fmin(lo, shi);
		hi = fmax(hi, shi);
	}
	span = hi - lo > 0 ? hi - lo : span;
	pad = span * 0.06;
	sc->lo = lo - pad;
	sc->hi = hi + pad;
	sc->n = c->n_points;
}

/* The horizontal lines across the plot (the limits and the centre), each
 * named at the right, the names moved apart where lines are close. */
struct hline {
	double v, y, label_y;
	const char *cls, *label_cls, *name;
	char text[48];
};

static void hlines(struct buf *b, const struct scale *sc, struct hline *l, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		l[i].y = l[i].label_y = py(sc, l[i].v);
	/* by height, then each name at least a line below the one above */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && l[j - 1].y > l[j].y; j--) {
			struct hline t = l[j];

			l[j] = l[j - 1];
			l[j - 1] = t;
		}
	for (i = 1; i < n; i++)
		if (l[i].label_y < l[i - 1].label_y + LINE_GAP)
			l[i].label_y = l[i - 1].label_y + LINE_GAP;
	/* back up from the bottom edge, and down again from the top, so that
	 * no two names ever come closer than a line (five names fit in the
	 * plot's height several times over) */
	for (i = n; i-- > 0;) {
		double lim = i + 1 < n ? l[i + 1].label_y - LINE_GAP : sc->h - MB;

		if (l[i].label_y > lim)
			l[i].label_y = lim;
	}
	for (i = 0; i < n; i++) {
		double lim = i ? l[i - 1].label_y + LINE_GAP : sc->mt + 4;

		if (l[i].label_y < lim)
			l[i].label_y = lim;
	}
	for (i = 0; i < n; i++) {
		buf_printf(b, "<path class=\"%s\" d=\"M%.1f %.1fH%.1f\"/>", l[i].cls, ML, l[i].y,
			   W - MR);
		buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\"%s%s%s>%s</text>", W - MR + 8,
			   l[i].label_y + 4, l[i].label_cls ? " class=\"" : "",
			   l[i].label_cls ? l[i].label_cls : "", l[i].label_cls ? "\"" : "",
			   l[i].text);
	}
}

/* The values on the axis.  Very small or very large values share one
 * power of ten, a multiple of 3, said once beside the unit ("x10^-6 mL/h"),
 * so that a value reads "-6.16", not "-6.158e-06": short enough to fit
 * beside the plot and to be told apart from its neighbours. */
struct ticks {
	double v[TICKS_MAX];
	char text[TICKS_MAX][32];
	size_t n;
	int exp10;                     /* the shared power of ten, 0 for none */
	double width;                  /* the widest value */
};

static void make_ticks(const struct scale *sc, struct ticks *t)
{
	double step = nice_step(sc->hi - sc->lo), mag = fmax(fabs(sc->lo), fabs(sc->hi)), v, f;
	int decimals;

	t->exp10 = 0;
	if (mag > 0 && (mag < 1e-3 || mag >= 1e6))
		t->exp10 = 3 * (int)floor(log10(mag) / 3);
	f = pow(10, -t->exp10);
	/* as many decimals as the step between lines needs (1.2945 and
	 * 1.2950, not 1.295 twice) */
	decimals = (int)ceil(-log10(step * f) - 1e-9);
	if (decimals < 0)
		decimals = 0;
	t->n = 0;
	t->width = 0;
	for (v = ceil(sc->lo / step) * step; v <= sc->hi && t->n < TICKS_MAX; v += step) {
		double shown = fabs(v) < step * 1e-9 ? 0 : v * f;

		t->v[t->n] = v;
		if (decimals > 9)
			fmt_num(shown, t->text[t->n]);
		else
			snprintf(t->text[t->n], 32, "%.*f", decimals, shown);
		t->width = fmax(t->width, text_w(t->text[t->n]));
		t->n++;
	}
}

/* "x10^-6" in letters: the multiplication sign and superscript digits. */
static void put_exp10(struct buf *b, int e)
{
	static const char *const sup[] = { "\u2070", "\u00b9", "\u00b2", "\u00b3", "\u2074",
					   "\u2075", "\u2076", "\u2077", "\u2078", "\u2079" };
	char digits[12];
	int i;

	buf_put(b, "\u00d710");
	if (e < 0)
		buf_put(b, "\u207b");
	snprintf(digits, sizeof(digits), "%d", abs(e));
	for (i = 0; digits[i]; i++)
		buf_put(b, sup[digits[i] - '0']);
	buf_put(b, " ");
}

static void rules_text(struct buf *b, unsigned rules)
{
	int r;
	bool first = true;

	for (r = SPC_RULE_FIRST; r <= SPC_RULE_LAST; r++) {
		if (!(rules & SPC_RULE_BIT(r)))
			continue;
		buf_put(b, first ? "" : ", ");
		buf_put(b, spc_rule_text((enum spc_rule)r));
		first = false;
	}
}

static bool failed(const struct history_ov_point *p)
{
	return !strncmp(p->verdict, "fail", 4);
}

static void point_title(struct buf *b, const struct site *s, const struct history_ov_chart *c,
			const struct history_ov_point *p)
{
	char t[32], num[32];

	buf_put(b, "<title>");
	buf_html(b, fmt_utc(s->ov->runs[p->run].started, t));
	buf_printf(b, ": %s ", fmt_num(p->value, num));
	buf_html(b, c->unit);
	if (failed(p))
		buf_put(b, "; FAILED its limit");
	if (p->rules) {
		buf_put(b, "; ");
		rules_text(b, p->rules);
	}
	buf_put(b, "</title>");
}

static void draw(struct buf *b, const struct site *s, const struct history_ov_chart *c,
		 const char *id)
{
	const struct spc_chart *ch = &c->chart;
	struct scale scale, *sc = &scale;
	struct ticks tk;
	struct hline l[5];
	bool show_lo, show_hi, chosen = c->baseline_chosen;
	double slo, shi, dx, names_w = 0;
	char t1[32], t2[32];
	size_t i, k, n_l = 0;

	fit_scale(c, sc, &show_lo, &show_hi);
	spec_limits(c, &slo, &shi);
	/* the lines and their names, whose longest sizes the right margin */
	if (show_lo)
		l[n_l++] = (struct hline){ .v = slo, .cls = "spec", .label_cls = "specl",
					   .name = "spec min" };
	if (show_hi)
		l[n_l++] = (struct hline){ .v = shi, .cls = "spec", .label_cls = "specl",
					   .name = "spec max" };
	if (ch->valid) {
		l[n_l++] = (struct hline){ .v = ch->ucl, .cls = "cl", .name = "UCL" };
		l[n_l++] = (struct hline){ .v = ch->centre, .cls = "centre", .name = "CL" };
		l[n_l++] = (struct hline){ .v = ch->lcl, .cls = "cl", .name = "LCL" };
	}
	for (i = 0; i < n_l; i++) {
		snprintf(l[i].text, sizeof(l[i].text), "%s %s", l[i].name, fmt_num(l[i].v, t1));
		names_w = fmax(names_w, text_w(l[i].text));
	}
	make_ticks(sc, &tk);
	/* left: the unit's column, the widest value, a gap; right: the
	 * widest name; top: a row for each open flag's name */
	sc->ml = fmax(48, UNIT_W + tk.width + 8);
	sc->mr = fmax(48, names_w + 14);
	sc->mt = MT + FLAG_ROW * (double)c->n_flags;
	sc->h = H + FLAG_ROW * (double)c->n_flags;
	dx = sc->n > 1 ? (W - MR - ML) / (double)(sc->n - 1) : 8;
	buf_printf(b, "<svg class=\"plot\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		      "aria-labelledby=\"%s-t\"><title id=\"%s-t\">", W, sc->h, id, id);
	put_chart_name(b, c);
	buf_printf(b, ", %zu runs", c->n_points);
	if (ch->valid)
		buf_printf(b, ", control limits %s to %s", fmt_num(ch->lcl, t1), fmt_num(ch->ucl, t2));
	buf_printf(b, ", %zu open flag%s</title>", c->n_flags, c->n_flags == 1 ? "" : "s");
	/* the baseline's runs, when they are the first N */
	if (ch->valid && !chosen && ch->n_baseline) {
		double x0 = fmax(ML, px(sc, 0) - dx / 2), x1 = px(sc, ch->n_baseline - 1) + dx / 2;

		buf_printf(b, "<rect class=\"base\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
			      "<text x=\"%.1f\" y=\"%.1f\">baseline</text>", x0, sc->mt,
			   fmin(x1, W - MR) - x0, sc->h - MB - sc->mt, x0 + 3, sc->mt + 11);
	}
	/* the grid and the values */
	for (k = 0; k < tk.n; k++) {
		double y = py(sc, tk.v[k]);

		buf_printf(b, "<path class=\"grid\" d=\"M%.1f %.1fH%.1f\"/><text class=\"tick\" "
			      "x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", ML, y, W - MR,
			   ML - 5, y + 4, tk.text[k]);
	}
	buf_printf(b, "<path class=\"axis\" d=\"M%.1f %.1fV%.1fH%.1f\"/>", ML, sc->mt, sc->h - MB,
		   W - MR);
	/* the unit, upright in a column of its own left of the values */
	buf_printf(b, "<text class=\"unit\" x=\"%.1f\" y=\"%.1f\" transform=\"rotate(-90 %.1f %.1f)\" "
		      "text-anchor=\"middle\">", UNIT_X, (sc->h - MB + sc->mt) / 2, UNIT_X,
		   (sc->h - MB + sc->mt) / 2);
	if (tk.exp10)
		put_exp10(b, tk.exp10);
	buf_html(b, c->unit);
	buf_put(b, "</text>");
	hlines(b, sc, l, n_l);
	/* the open flags: a box round each pattern inside the plot, its rule
	 * named in a row of its own above it (every open flag ends on the
	 * newest run, so names at the boxes would lie on one another), the
	 * name ending at a line that drops to its box's right edge.  The rows
	 * go by that edge, rightmost first, so no name crosses another's line;
	 * a name is moved in where the plot's left edge would cut it. */
	{
		size_t ord[FLAGS_SORTED], n_ord = c->n_flags < FLAGS_SORTED ? c->n_flags :
						   FLAGS_SORTED, j;

		for (k = 0; k < n_ord; k++)
			ord[k] = k;
		for (k = 1; k < n_ord; k++)
			for (j = k; j > 0 && c->flags[ord[j - 1]].last < c->flags[ord[j]].last; j--) {
				size_t t = ord[j];

				ord[j] = ord[j - 1];
				ord[j - 1] = t;
			}
		for (k = 0; k < c->n_flags; k++) {
			const struct history_ov_flag *f = &c->flags[k < n_ord ? ord[k] : k];
			double x0 = px(sc, f->first) - 5, x1 = px(sc, f->last) + 5;
			double row = MT - 4 + FLAG_ROW * (double)k, top = sc->mt + 1 + 3.0 * (double)k;
			char name[64];

			snprintf(name, sizeof(name), "\xe2\x9a\x91 %s", spc_rule_name(f->rule));
			buf_printf(b, "<rect class=\"zone\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				      "height=\"%.1f\"/><path class=\"zone\" d=\"M%.1f %.1fV%.1f\"/>",
				   x0, top, x1 - x0, sc->h - MB - 1 - top, x1, row + 6, top);
			buf_printf(b, "<text class=\"flag\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">"
				      "%s</text>", fmax(x1 - 4, ML + text_w(name)), row + 10, name);
		}
	}
	/* the values, joined in time order */
	if (sc->n > 1) {
		buf_put(b, "<path class=\"series\" d=\"");
		for (i = 0; i < sc->n; i++)
			buf_printf(b, "%s%.1f %.1f", i ? "L" : "M", px(sc, i),
				   py(sc, c->points[i].value));
		buf_put(b, "\"/>");
	}
	/* plain points: one path of dots (a zero-length line with round caps) */
	buf_put(b, "<path class=\"pts\" d=\"");
	for (i = 0; i < sc->n; i++) {
		const struct history_ov_point *p = &c->points[i];

		if (!p->rules && !failed(p) && !(chosen && p->baseline))
			buf_printf(b, "M%.1f %.1fh0", px(sc, i), py(sc, p->value));
	}
	buf_put(b, "\"/>");
	for (i = 0; i < sc->n; i++) {
		const struct history_ov_point *p = &c->points[i];
		double x = px(sc, i), y = py(sc, p->value);

		if (chosen && p->baseline && !p->rules && !failed(p))
			buf_printf(b, "<circle class=\"bpts\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", x, y);
		if (p->rules) {
			buf_printf(b, "<path class=\"rule\" d=\"M%.1f %.1fl5 5-5 5-5-5z\">", x, y - 5);
			point_title(b, s, c, p);
			buf_put(b, "</path>");
		}
		if (failed(p)) {
			buf_printf(b, "<path class=\"bad\" d=\"M%.1f %.1fl8 8m0-8l-8 8\">", x - 4, y - 4);
			point_title(b, s, c, p);
			buf_put(b, "</path>");
		}
	}
	/* the time axis: the first and the newest run */
	if (sc->n) {
		buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", ML, sc->h - 10);
		buf_html(b, fmt_utc(s->ov->runs[c->points[0].run].started, t1));
		buf_printf(b, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%zu run%s, "
			      "oldest to newest</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
			   (ML + W - MR) / 2, sc->h - 10, sc->n, sc->n == 1 ? "" : "s", W - MR,
			   sc->h - 10);
		buf_html(b, fmt_utc(s->ov->runs[c->points[sc->n - 1].run].started, t2));
		buf_put(b, "</text>");
	}
	buf_put(b, "</svg>\n");
}

/* A run on its device's page, where the runs table gives its reports. */
static void run_ref(struct buf *b, const struct site *s, size_t run)
{
	const struct history_ov_run *r = &s->ov->runs[run];
	const struct site_device *d = site_device(s, r->device_serial);
	char t[32];

	if (d)
		buf_printf(b, "<a href=\"../device/%s.html#r%zu\">", d->slug, run);
	buf_html(b, fmt_utc(r->started, t));
	if (d)
		buf_put(b, "</a>");
}

#define RULE_ROWS 8

void svg_chart(struct buf *b, const struct site *s, const struct history_ov_chart *c,
	       const char *id)
{
	const struct spc_chart *ch = &c->chart;
	const struct history_ov_point *last = c->n_points ? &c->points[c->n_points - 1] : NULL;
	double slo, shi;
	char a[32], u[32], t[32];
	size_t i, k, shown = 0, held = 0;

	buf_printf(b, "<section class=\"chart\" id=\"%s\"><h3>", id);
	if (c->n_flags)
		buf_put(b, "<span class=\"v flag\">\xe2\x9a\x91 drift</span> ");
	put_chart_name(b, c);
	buf_put(b, " <span class=\"muted\">(");
	buf_html(b, c->sequence_id);
	buf_put(b, ")</span></h3>\n");
	buf_put(b, "<div class=\"plotbox\">");
	draw(b, s, c, id);
	buf_put(b, "</div>\n<p class=\"meta\">");
	if (ch->valid) {
		buf_printf(b, "Centre %s, control limits %s to %s ", fmt_num(ch->centre, a),
			   fmt_num(ch->lcl, u), fmt_num(ch->ucl, t));
		buf_html(b, c->unit);
		buf_printf(b, " (3&sigma;, &sigma; = %s from the average moving range of the baseline: ",
			   fmt_num(ch->sigma, a));
		buf_html(b, c->baseline);
		buf_put(b, "). ");
	} else {
		buf_put(b, "No control limits yet: the baseline (");
		buf_html(b, c->baseline);
		buf_put(b, ") needs more runs. ");
	}
	spec_limits(c, &slo, &shi);
	if (isfinite(slo) || isfinite(shi)) {
		buf_printf(b, "Specification %s to %s ", isfinite(slo) ? fmt_num(slo, a) : "-&infin;",
			   isfinite(shi) ? fmt_num(shi, u) : "+&infin;");
		buf_html(b, c->unit);
		buf_put(b, ". ");
	}
	if (last) {
		buf_printf(b, "Newest %s", fmt_num(last->value, a));
		if (isfinite(last->U))
			buf_printf(b, " &plusmn; %s", fmt_u(last->U, u));
		buf_put(b, " ");
		buf_html(b, c->unit);
		if (*last->verdict) {
			buf_put(b, " ");
			put_verdict(b, last->verdict);
		}
		buf_put(b, ", ");
		run_ref(b, s, last->run);
		buf_put(b, ".");
	}
	buf_put(b, "</p>\n");
	if (c->n_flags) {
		buf_put(b, "<ul class=\"changes\">");
		for (k = 0; k < c->n_flags; k++) {
			const struct history_ov_flag *f = &c->flags[k];

			buf_printf(b, "<li><span class=\"v flag\">\xe2\x9a\x91 OPEN</span> %s (%s, "
				      "<code>%s</code>), %zu runs from ", spc_rule_text(f->rule),
				   f->rule == SPC_6_TRENDING ? (f->side > 0 ? "rising" : "falling") :
				   (f->side > 0 ? "above the centre" : "below the centre"),
				   spc_rule_name(f->rule), f->last - f->first + 1);
			run_ref(b, s, c->points[f->first].run);
			buf_put(b, " to ");
			run_ref(b, s, c->points[f->last].run);
			buf_put(b, "</li>");
		}
		buf_put(b, "</ul>\n");
	}
	/* the points where rules hold, newest first: what the marks say */
	for (i = 0; i < c->n_points; i++)
		held += c->points[i].rules != 0;
	if (held) {
		buf_put(b, "<div class=\"scroll\"><table><caption class=\"legend\">Runs where a rule "
			   "holds (newest first)</caption><tr><th scope=\"col\">run</th>"
			   "<th scope=\"col\">value</th><th scope=\"col\">rules that hold</th></tr>");
		for (i = c->n_points; i-- > 0 && shown < RULE_ROWS;) {
			const struct history_ov_point *p = &c->points[i];

			if (!p->rules)
				continue;
			buf_put(b, "<tr><td>");
			run_ref(b, s, p->run);
			buf_printf(b, "</td><td class=\"num\">%s</td><td class=\"wrap\">",
				   fmt_num(p->value, a));
			rules_text(b, p->rules);
			buf_put(b, "</td></tr>");
			shown++;
		}
		buf_put(b, "</table></div>");
		if (held > shown)
			buf_printf(b, "<p class=\"legend\">and %zu earlier run%s where a rule holds "
				      "(each marked &#9670; on the chart)</p>", held - shown,
				   held - shown == 1 ? "" : "s");
	}
	buf_put(b, "</section>\n");
}

void svg_legend(struct buf *b)
{
	buf_put(b, "<p class=\"legend\">Each chart is an individuals control chart, one point per "
		   "run in time order. &#9679; a run; &#9675; a run of a baseline chosen with "
		   "<code>rig history baseline set</code>; shaded: the baseline's first runs; "
		   "solid line CL: the centre; dashed UCL, LCL: the control limits (3&sigma;); "
		   "dash-dot: the specification limit; &#9670; a run where a Western Electric rule "
		   "holds; &#10007; a run that failed its limit; dotted box &#9873;: a flag open "
		   "now (its rule held three runs in a row).</p>\n");
}
