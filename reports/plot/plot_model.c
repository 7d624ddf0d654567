/* A plot before it is drawn: its lines, marks and shaded windows, and the
 * ranges of its axes (a robust y axis clips a spike and says so).  See
 * plot.h; the drawing is plot.c's. */
#include "plot_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------------- plots -- */

static struct plot_line *plot_line_new(struct plot *p, const char *label, const double rgb[3])
{
	struct plot_line *l;

	if (p->n_lines >= PLOT_LINES_MAX)
		return NULL;
	l = &p->lines[p->n_lines++];
	memset(l, 0, sizeof(*l));
	snprintf(l->label, sizeof(l->label), "%s", label);
	memcpy(l->rgb, rgb, sizeof(l->rgb));
	return l;
}

struct plot_line *plot_add_series(struct plot *p, const struct series *s, double value_scale,
				  const char *label, const double rgb[3])
{
	struct plot_line *l = plot_line_new(p, label, rgb);

	if (l) {
		l->series = s;
		l->value_scale = value_scale;
		l->style = PLOT_LINE;
	}
	return l;
}

struct plot_line *plot_add_xy(struct plot *p, enum plot_style style, const char *label,
			      const double rgb[3])
{
	struct plot_line *l = plot_line_new(p, label, rgb);

	if (l)
		l->style = style;
	return l;
}

void plot_add_mark(struct plot *p, double x, enum plot_mark_style style, const char *label,
		   const double rgb[3])
{
	struct plot_mark *m;

	if (p->n_marks >= PLOT_MARKS_MAX || !isfinite(x))
		return;
	m = &p->marks[p->n_marks++];
	m->x = x;
	m->style = style;
	snprintf(m->label, sizeof(m->label), "%s", label);
	memcpy(m->rgb, rgb, sizeof(m->rgb));
}

void plot_add_span(struct plot *p, double x0, double x1, const char *label, const double rgb[3])
{
	struct plot_span *sp;

	if (p->n_spans >= PLOT_SPANS_MAX || !isfinite(x0) || !isfinite(x1) || x1 <= x0)
		return;
	sp = &p->spans[p->n_spans++];
	sp->x0 = x0;
	sp->x1 = x1;
	snprintf(sp->label, sizeof(sp->label), "%s", label);
	memcpy(sp->rgb, rgb, sizeof(sp->rgb));
}

double plot_line_scale(const struct plot_line *l)
{
	return l->value_scale != 0 ? l->value_scale : 1;
}

static bool line_has_data(const struct plot_line *l)
{
	return l->series ? l->series->n_samples > 0 : l->n_xy > 0;
}

bool plot_has_data(const struct plot *p)
{
	for (size_t i = 0; i < p->n_lines; i++)
		if (line_has_data(&p->lines[i]))
			return true;
	return false;
}

double plot_tick_step(double span, int n)
{
	double raw, mag, f;

	if (!(span > 0) || !isfinite(span) || n < 1)
		return 1;
	raw = span / n;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void range_add(struct plot_range *r, double v)
{
	if (!isfinite(v))
		return;
	r->lo = r->any ? fmin(r->lo, v) : v;
	r->hi = r->any ? fmax(r->hi, v) : v;
	r->any = true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The y range a robust axis keeps: from the 0.5 % quantile of the lowest
 * values to the 99.5 % quantile of the highest (each bin's minimum and
 * maximum, each x/y point), widened to every exact line (a programmed rate,
 * a limit).  A phase fills many bins and stays; a spike fills one or two
 * and goes.  False when there is nothing to range. */
static bool robust_range(const struct plot *p, double *ret_lo, double *ret_hi)
{
	size_t cap = 0, n = 0;
	double *lows, *highs, lo = INFINITY, hi = -INFINITY;
	bool exact = false;

	for (size_t i = 0; i < p->n_lines; i++)
		cap += p->lines[i].series ? p->lines[i].series->n_bins : p->lines[i].n_xy;
	lows = malloc((cap ? cap : 1) * sizeof(*lows));
	highs = malloc((cap ? cap : 1) * sizeof(*highs));
	if (!lows || !highs) {
		free(lows);
		free(highs);
		return false;
	}
	for (size_t i = 0; i < p->n_lines; i++) {
		const struct plot_line *l = &p->lines[i];
		double k = plot_line_scale(l);

		for (size_t b = 0; l->series && b < l->series->n_bins; b++) {
			if (!l->series->bins[b].count)
				continue;
			lows[n] = fmin(l->series->bins[b].min * k, l->series->bins[b].max * k);
			highs[n++] = fmax(l->series->bins[b].min * k, l->series->bins[b].max * k);
		}
		for (size_t j = 0; j < l->n_xy; j++) {
			if (!isfinite(l->ys[j]))
				continue;
			if (l->exact) {
				lo = fmin(lo, l->ys[j]);
				hi = fmax(hi, l->ys[j]);
				exact = true;
			} else {
				lows[n] = highs[n] = l->ys[j];
				n++;
			}
		}
	}
	if (n > 0) {
		qsort(lows, n, sizeof(*lows), cmp_double);
		qsort(highs, n, sizeof(*highs), cmp_double);
		lo = fmin(lo, lows[(size_t)floor(0.005 * (double)(n - 1))]);
		hi = fmax(hi, highs[(size_t)ceil(0.995 * (double)(n - 1))]);
	}
	free(lows);
	free(highs);
	*ret_lo = lo;
	*ret_hi = hi;
	return n > 0 || exact;
}

void plot_ranges(const struct plot *p, struct plot_range *rx, struct plot_range *ry)
{
	double rlo, rhi;

	for (size_t i = 0; i < p->n_lines; i++) {
		const struct plot_line *l = &p->lines[i];
		double k = plot_line_scale(l);

		if (l->series) {
			for (size_t b = 0; b < l->series->n_bins; b++) {
				const struct series_bin *sb = &l->series->bins[b];

				if (!sb->count)
					continue;
				range_add(rx, (double)(sb->t_first_ns - p->x_origin_ns) / p->x_unit_ns);
				range_add(rx, (double)(sb->t_last_ns - p->x_origin_ns) / p->x_unit_ns);
				range_add(ry, sb->min * k);
				range_add(ry, sb->max * k);
			}
		}
		for (size_t j = 0; j < l->n_xy; j++) {
			range_add(rx, l->xs[j]);
			range_add(ry, l->ys[j]);
		}
	}
	if (p->have_x_range) {
		*rx = (struct plot_range){ p->x_min, p->x_max, true };
	} else {
		for (size_t i = 0; i < p->n_marks; i++)
			range_add(rx, p->marks[i].x);
	}
	/* a robust axis: a spike beyond the lines' own range is clipped,
	 * unless it stands out by less than a quarter of that range */
	if (p->y_robust && ry->any && robust_range(p, &rlo, &rhi)) {
		double span = fmax(rhi - rlo, fabs(rhi) * 1e-6);

		if (ry->hi > rhi + 0.25 * span)
			ry->hi = rhi + 0.08 * span;
		if (ry->lo < rlo - 0.25 * span)
			ry->lo = rlo - 0.08 * span;
	}
	if (p->y_include_zero)
		range_add(ry, 0);
	if (!rx->any)
		*rx = (struct plot_range){ 0, 1, true };
	if (!ry->any)
		*ry = (struct plot_range){ 0, 1, true };
	/* a span too small to mean anything (a battery's millivolts) is
	 * widened around its middle */
	if (p->y_min_span > 0 && ry->hi - ry->lo < p->y_min_span) {
		double mid = (ry->hi + ry->lo) / 2;

		ry->lo = mid - p->y_min_span / 2;
		ry->hi = mid + p->y_min_span / 2;
	}
	if (rx->hi - rx->lo <= 0) {
		rx->lo -= 1;
		rx->hi += 1;
	}
	if (ry->hi - ry->lo <= fabs(ry->hi) * 1e-9 || ry->hi - ry->lo <= 0) {
		double d = fabs(ry->hi) > 0 ? fabs(ry->hi) * 0.05 : 1;

		ry->lo -= d;
		ry->hi += d;
	} else {
		double pad = (ry->hi - ry->lo) * 0.05;

		/* a range that starts at zero keeps zero on the axis */
		if (!(p->y_include_zero && ry->lo == 0))
			ry->lo -= pad;
		ry->hi += pad;
	}
}

static void clip_note(struct plot_clip *c, double v, double x, double lo, double hi)
{
	if (v > hi) {
		c->above = true;
		if (v > c->max) {
			c->max = v;
			c->max_x = x;
		}
	} else if (v < lo) {
		c->below = true;
		if (v < c->min) {
			c->min = v;
			c->min_x = x;
		}
	}
}

bool plot_clip_within(const struct plot *p, const struct plot_range *ry, struct plot_clip *ret)
{
	struct plot_clip c = { .max = -INFINITY, .min = INFINITY };

	for (size_t i = 0; i < p->n_lines; i++) {
		const struct plot_line *l = &p->lines[i];
		double k = plot_line_scale(l);

		for (size_t b = 0; l->series && b < l->series->n_bins; b++) {
			const struct series_bin *sb = &l->series->bins[b];
			double x = ((double)sb->t_first_ns / 2 + (double)sb->t_last_ns / 2 -
				    (double)p->x_origin_ns) / p->x_unit_ns;

			if (!sb->count)
				continue;
			clip_note(&c, sb->max * k, x, ry->lo, ry->hi);
			clip_note(&c, sb->min * k, x, ry->lo, ry->hi);
		}
		for (size_t j = 0; j < l->n_xy; j++)
			if (isfinite(l->ys[j]))
				clip_note(&c, l->ys[j], l->xs[j], ry->lo, ry->hi);
	}
	*ret = c;
	return c.above || c.below;
}

bool plot_clipped(const struct plot *p, double *ret_lo, double *ret_hi, struct plot_clip *ret)
{
	struct plot_range rx = { 0 }, ry = { 0 };

	plot_ranges(p, &rx, &ry);
	*ret_lo = ry.lo;
	*ret_hi = ry.hi;
	return plot_clip_within(p, &ry, ret);
}
