/* Plots drawn with cairo and pango: onto the PDF page, or into an SVG for
 * the HTML.  See plot.h. */
#include "plot_internal.h"

#include <cairo-svg.h>
#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PangoLayout *text_layout(cairo_t *cr, const char *text, double size_pt, bool bold)
{
	PangoLayout *lay = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans");

	/* absolute: points of the surface, whatever pango's resolution */
	pango_font_description_set_absolute_size(fd, size_pt * PANGO_SCALE);
	if (bold)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	pango_layout_set_font_description(lay, fd);
	pango_font_description_free(fd);
	plot_layout_set_text(lay, text);
	return lay;
}

void plot_layout_set_text(PangoLayout *lay, const char *text)
{
	char *valid;

	if (g_utf8_validate(text, -1, NULL)) {
		pango_layout_set_text(lay, text, -1);
		return;
	}
	valid = g_utf8_make_valid(text, -1);
	pango_layout_set_text(lay, valid, -1);
	g_free(valid);
}

/* Draws text with its anchor at (x, y): ax, ay = 0 left/top, 0.5 centre,
 * 1 right/bottom.  Returns the text's width. */
static double text_at(cairo_t *cr, const char *text, double size_pt, bool bold, double x,
		      double y, double ax, double ay)
{
	PangoLayout *lay = text_layout(cr, text, size_pt, bold);
	int w, h;

	pango_layout_get_size(lay, &w, &h);
	cairo_move_to(cr, x - ax * w / PANGO_SCALE, y - ay * h / PANGO_SCALE);
	pango_cairo_show_layout(cr, lay);
	g_object_unref(lay);
	return (double)w / PANGO_SCALE;
}

static double text_width(cairo_t *cr, const char *text, double size_pt)
{
	PangoLayout *lay = text_layout(cr, text, size_pt, false);
	int w, h;

	pango_layout_get_size(lay, &w, &h);
	g_object_unref(lay);
	return (double)w / PANGO_SCALE;
}

/* Tick labels with as many decimals as the step needs, so that 0.25, 0.50,
 * 0.75 do not all print as "0.5". */
static void tick_label(double v, double step, char *buf, size_t len)
{
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	double a = fabs(v);

	if (fabs(v) < step * 1e-6)
		v = 0;
	if ((a >= 1e6 || (a > 0 && a < 1e-4)) && step < a)
		snprintf(buf, len, "%.3g", v);
	else
		snprintf(buf, len, "%.*f", dec > 6 ? 6 : dec, v);
}

static void set_rgb(cairo_t *cr, const double rgb[3], double alpha)
{
	cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
}

#define FONT_TITLE 10.0
#define FONT_AXIS 8.5
#define FONT_TICK 8.0

/* The legend under the title, wrapped to the width; returns its height. */
static double draw_legend(const struct plot *p, cairo_t *cr, double x, double y, double w,
			  bool draw)
{
	double cx = x, cy = y, row_h = 11;
	size_t shown = 0;

	for (size_t i = 0; i < p->n_lines; i++) {
		const struct plot_line *l = &p->lines[i];
		double tw, item;

		if (!l->label[0])
			continue;
		tw = text_width(cr, l->label, FONT_AXIS);
		item = 18 + tw + 12;
		if (cx > x && cx + item > x + w) {
			cx = x;
			cy += row_h;
		}
		if (draw) {
			set_rgb(cr, l->rgb, 1);
			cairo_set_line_width(cr, 1.6);
			if (l->style == PLOT_DASHED) {
				double dash[] = { 3, 2 };

				cairo_set_dash(cr, dash, 2, 0);
			}
			cairo_move_to(cr, cx, cy + 6);
			cairo_line_to(cr, cx + 14, cy + 6);
			cairo_stroke(cr);
			cairo_set_dash(cr, NULL, 0, 0);
			if (l->style == PLOT_POINTS) {
				cairo_arc(cr, cx + 7, cy + 6, 2, 0, 2 * M_PI);
				cairo_fill(cr);
			}
			cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
			text_at(cr, l->label, FONT_AXIS, false, cx + 18, cy, 0, 0);
		}
		cx += item;
		shown++;
	}
	return shown ? cy - y + row_h + 2 : 0;
}

static void draw_series(const struct plot *p, const struct plot_line *l, cairo_t *cr,
			double (*sx)(const void *, double), double (*sy)(const void *, double),
			const void *frame)
{
	const struct series *s = l->series;
	double k = plot_line_scale(l);
	bool pen_down = false;
	rig_ns spacing_ns = 0, prev_t_ns = 0;

	/* min/max band: what each bin held, so spikes stay visible */
	set_rgb(cr, l->rgb, 0.25);
	for (size_t b = 0; b < s->n_bins; b++) {
		const struct series_bin *sb = &s->bins[b];
		double x0, x1, y0, y1;

		if (!sb->count)
			continue;
		x0 = sx(frame, (double)(sb->t_first_ns - p->x_origin_ns) / p->x_unit_ns);
		x1 = sx(frame, (double)(sb->t_last_ns - p->x_origin_ns) / p->x_unit_ns);
		y0 = sy(frame, sb->max * k);
		y1 = sy(frame, sb->min * k);
		if (x1 - x0 < 0.8)
			x1 = x0 + 0.8;
		if (y1 - y0 < 0.8) {
			y0 -= 0.4;
			y1 = y0 + 0.8;
		}
		cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
	}
	cairo_fill(cr);
	/* The mean per bin, broken where the record has a gap: more than five
	 * bins or five mean sample spacings without a sample (bins narrower
	 * than the sampling period are empty in turn without any gap). */
	if (s->n_samples > 1) {
		rig_ns t_first = 0, t_last = 0;
		bool seen = false;

		for (size_t b = 0; b < s->n_bins; b++) {
			if (!s->bins[b].count)
				continue;
			if (!seen)
				t_first = s->bins[b].t_first_ns;
			t_last = s->bins[b].t_last_ns;
			seen = true;
		}
		spacing_ns = (t_last - t_first) / (rig_ns)(s->n_samples - 1);
	}
	if (spacing_ns < s->bin_ns)
		spacing_ns = s->bin_ns;
	set_rgb(cr, l->rgb, 1);
	cairo_set_line_width(cr, 1.1);
	for (size_t b = 0; b < s->n_bins; b++) {
		const struct series_bin *sb = &s->bins[b];
		double x, y;

		if (!sb->count)
			continue;
		if (pen_down && sb->t_first_ns - prev_t_ns > 5 * spacing_ns)
			pen_down = false;
		prev_t_ns = sb->t_last_ns;
		x = sx(frame, (double)(sb->t_first_ns / 2 + sb->t_last_ns / 2 - p->x_origin_ns) / p->x_unit_ns);
		y = sy(frame, sb->sum / sb->count * k);
		if (pen_down)
			cairo_line_to(cr, x, y);
		else
			cairo_move_to(cr, x, y);
		pen_down = true;
	}
	cairo_stroke(cr);
}

struct frame {
	double x0, y0, w, h;        /* plot area on the surface */
	double xlo, xhi, ylo, yhi;  /* data range */
};

static double frame_x(const void *fp, double v)
{
	const struct frame *f = fp;

	return f->x0 + (v - f->xlo) / (f->xhi - f->xlo) * f->w;
}

static double frame_y(const void *fp, double v)
{
	const struct frame *f = fp;

	return f->y0 + f->h - (v - f->ylo) / (f->yhi - f->ylo) * f->h;
}

/* A mark's label: where it is drawn, so that the next avoids it. */
struct label_box {
	double x0, y0, x1, y1;
};

static bool boxes_overlap(const struct label_box *a, const struct label_box *b)
{
	return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Whether a label there would hide some of the data: a series bin's band,
 * or the bounding box of an x/y segment (a little more than the line). */
static bool box_hides_data(const struct plot *p, const struct frame *f, const struct label_box *box)
{
	for (size_t i = 0; i < p->n_lines; i++) {
		const struct plot_line *l = &p->lines[i];
		double k = plot_line_scale(l);

		for (size_t b = 0; l->series && b < l->series->n_bins; b++) {
			const struct series_bin *sb = &l->series->bins[b];
			struct label_box band;

			if (!sb->count)
				continue;
			band.x0 = frame_x(f, (double)(sb->t_first_ns - p->x_origin_ns) / p->x_unit_ns) - 1;
			band.x1 = frame_x(f, (double)(sb->t_last_ns - p->x_origin_ns) / p->x_unit_ns) + 1;
			band.y0 = frame_y(f, sb->max * k) - 1;
			band.y1 = frame_y(f, sb->min * k) + 1;
			if (boxes_overlap(box, &band))
				return true;
		}
		for (size_t j = 0; j < l->n_xy; j++) {
			size_t n = j + 1 < l->n_xy && isfinite(l->ys[j + 1]) ? j + 1 : j;
			double xa = frame_x(f, l->xs[j]), xb = frame_x(f, l->xs[n]);
			double ya = frame_y(f, l->ys[j]), yb = frame_y(f, l->ys[n]);
			struct label_box seg = { fmin(xa, xb) - 2, fmin(ya, yb) - 2, fmax(xa, xb) + 2,
						 fmax(ya, yb) + 2 };

			if (isfinite(l->ys[j]) && boxes_overlap(box, &seg))
				return true;
		}
	}
	return false;
}

#define MARK_ROW_H 10.0

/* Vertical markers.  Alert marks go under the dashed ones, broad and
 * solid, with a flag on the frame's top edge: an alarm 0.4 s before the
 * release it caused is one line width from it on a minutes axis, and both
 * stay visible.  Each label goes on the first row, right of its line or
 * else left of it, where it overlaps no label already placed and hides no
 * data; failing that where it overlaps no label, on a light ground. */
static void draw_marks(const struct plot *p, cairo_t *cr, const struct frame *f)
{
	struct label_box placed[PLOT_MARKS_MAX + PLOT_SPANS_MAX];
	size_t n_placed = 0;

	/* the shaded windows' names, from the bottom left of each, a row up
	 * where the row is taken (a short window beside a long one) */
	for (size_t i = 0; i < p->n_spans; i++) {
		const struct plot_span *sp = &p->spans[i];
		PangoLayout *lay = text_layout(cr, sp->label, FONT_TICK - 1, false);
		double x0 = fmax(frame_x(f, sp->x0), f->x0) + 2;
		struct label_box box = { 0 };
		bool found = false;
		int w, h;

		pango_layout_get_size(lay, &w, &h);
		for (int row = 0; row < 6 && !found; row++) {
			double y1 = f->y0 + f->h - 2 - row * ((double)h / PANGO_SCALE + 1);
			size_t k;

			box = (struct label_box){ x0 - 1, y1 - (double)h / PANGO_SCALE,
						  x0 + (double)w / PANGO_SCALE + 1, y1 };
			if (box.x1 > f->x0 + f->w || box.y0 < f->y0)
				break;
			for (k = 0; k < n_placed && !boxes_overlap(&box, &placed[k]); k++)
				;
			found = k == n_placed;
		}
		if (found) {
			placed[n_placed++] = box;
			cairo_set_source_rgba(cr, 1, 1, 1, 0.75);
			cairo_rectangle(cr, box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
			cairo_fill(cr);
			set_rgb(cr, sp->rgb, 1);
			cairo_move_to(cr, x0, box.y0);
			pango_cairo_show_layout(cr, lay);
		}
		g_object_unref(lay);
	}

	for (size_t i = 0; i < p->n_marks; i++) {
		const struct plot_mark *m = &p->marks[i];
		double px = frame_x(f, m->x);

		if (m->style != PLOT_MARK_ALERT)
			continue;
		set_rgb(cr, m->rgb, 0.55);
		cairo_set_line_width(cr, 3);
		cairo_move_to(cr, px, f->y0);
		cairo_line_to(cr, px, f->y0 + f->h);
		cairo_stroke(cr);
		set_rgb(cr, m->rgb, 1);
		cairo_move_to(cr, px - 4.5, f->y0);
		cairo_line_to(cr, px + 4.5, f->y0);
		cairo_line_to(cr, px, f->y0 + 7);
		cairo_close_path(cr);
		cairo_fill(cr);
	}
	for (size_t i = 0; i < p->n_marks; i++) {
		const struct plot_mark *m = &p->marks[i];
		double px = frame_x(f, m->x), dash[] = { 2, 2 };

		if (m->style == PLOT_MARK_ALERT)
			continue;
		set_rgb(cr, m->rgb, 1);
		cairo_set_line_width(cr, 1);
		cairo_set_dash(cr, dash, 2, 0);
		cairo_move_to(cr, px, f->y0);
		cairo_line_to(cr, px, f->y0 + f->h);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
	for (size_t i = 0; i < p->n_marks; i++) {
		const struct plot_mark *m = &p->marks[i];
		bool bold = m->style == PLOT_MARK_ALERT;
		PangoLayout *lay = text_layout(cr, m->label, FONT_TICK, bold);
		double px = frame_x(f, m->x), gap = bold ? 6 : 3, tw, th;
		struct label_box box = { 0 };
		int found = 0, w, h;

		pango_layout_get_size(lay, &w, &h);
		tw = (double)w / PANGO_SCALE;
		th = (double)h / PANGO_SCALE;
		/* pass 1 wants clear data too, pass 2 only no other label */
		for (int pass = 1; pass <= 2 && !found; pass++)
			for (int row = 0; f->y0 + 3 + MARK_ROW_H * row + th <= f->y0 + f->h && !found;
			     row++)
				for (int side = 0; side < 2 && !found; side++) {
					double x0 = side == 0 ? px + gap : px - gap - tw;
					double y0 = f->y0 + 3 + MARK_ROW_H * row;
					size_t k;

					box = (struct label_box){ x0 - 1, y0, x0 + tw + 1, y0 + th };
					if (box.x0 < f->x0 || box.x1 > f->x0 + f->w)
						continue;
					for (k = 0; k < n_placed && !boxes_overlap(&box, &placed[k]); k++)
						;
					if (k == n_placed && (pass == 2 || !box_hides_data(p, f, &box)))
						found = pass;
				}
		if (!found)     /* no room anywhere: the first row, right of the line */
			box = (struct label_box){ px + gap - 1, f->y0 + 3, px + gap + tw + 1,
						  f->y0 + 3 + th };
		placed[n_placed++] = box;
		cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
		cairo_rectangle(cr, box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
		cairo_fill(cr);
		set_rgb(cr, m->rgb, 1);
		cairo_move_to(cr, box.x0 + 1, box.y0);
		pango_cairo_show_layout(cr, lay);
		g_object_unref(lay);
	}
}

/* A small triangle on the frame's edge over each value beyond the axis. */
static void clip_mark(cairo_t *cr, const struct frame *f, double x, double v)
{
	double px = frame_x(f, x);

	if (v > f->yhi) {
		cairo_move_to(cr, px - 3, f->y0 + 6);
		cairo_line_to(cr, px + 3, f->y0 + 6);
		cairo_line_to(cr, px, f->y0 + 1);
	} else if (v < f->ylo) {
		cairo_move_to(cr, px - 3, f->y0 + f->h - 6);
		cairo_line_to(cr, px + 3, f->y0 + f->h - 6);
		cairo_line_to(cr, px, f->y0 + f->h - 1);
	} else {
		return;
	}
	cairo_close_path(cr);
}

static void draw_clip_marks(const struct plot *p, cairo_t *cr, const struct frame *f)
{
	for (size_t i = 0; i < p->n_lines; i++) {
		const struct plot_line *l = &p->lines[i];
		double k = plot_line_scale(l);

		for (size_t b = 0; l->series && b < l->series->n_bins; b++) {
			const struct series_bin *sb = &l->series->bins[b];
			double x = ((double)sb->t_first_ns / 2 + (double)sb->t_last_ns / 2 -
				    (double)p->x_origin_ns) / p->x_unit_ns;

			if (!sb->count)
				continue;
			clip_mark(cr, f, x, sb->max * k);
			clip_mark(cr, f, x, sb->min * k);
		}
		for (size_t j = 0; j < l->n_xy; j++)
			if (isfinite(l->ys[j]))
				clip_mark(cr, f, l->xs[j], l->ys[j]);
	}
	cairo_set_source_rgb(cr, 0.75, 0.1, 0.1);
	cairo_fill(cr);
}

void plot_draw(const struct plot *p, cairo_t *cr, double x, double y, double w, double h)
{
	struct plot_range rx = { 0 }, ry = { 0 };
	struct frame f;
	struct plot_clip clip;
	double top, legend_h, note_h = p->note[0] ? 11 : 0, step, max_label = 0;
	char buf[48], clip_text[256] = "";
	bool clipped;

	cairo_save(cr);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	text_at(cr, p->title, FONT_TITLE, true, x + w / 2, y, 0.5, 0);
	top = y + 14;
	if (!plot_has_data(p)) {
		cairo_set_source_rgb(cr, 0.96, 0.96, 0.96);
		cairo_rectangle(cr, x, top, w, h - (top - y));
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0.35, 0.1, 0.1);
		text_at(cr, p->absent[0] ? p->absent : "no data recorded for this plot", FONT_AXIS,
			false, x + w / 2, top + (h - (top - y)) / 2, 0.5, 0.5);
		cairo_restore(cr);
		return;
	}
	legend_h = draw_legend(p, cr, x + 8, top, w - 16, false);
	plot_ranges(p, &rx, &ry);
	clipped = plot_clip_within(p, &ry, &clip);
	if (clipped) {
		char up[96] = "", down[96] = "";

		if (clip.above)
			snprintf(up, sizeof(up), "up to %.4g %s%s%.4g %s", clip.max, p->y_unit_name,
				 p->x_unit_name[0] ? " at " : "", clip.max_x, p->x_unit_name);
		if (clip.below)
			snprintf(down, sizeof(down), "down to %.4g %s%s%.4g %s", clip.min,
				 p->y_unit_name, p->x_unit_name[0] ? " at " : "", clip.min_x,
				 p->x_unit_name);
		snprintf(clip_text, sizeof(clip_text), "%s%s%s beyond the axis, clipped so that "
			 "no phase hides behind them: %s%s%s", clip.above ? "▲ peaks" : "",
			 clip.above && clip.below ? " and " : "", clip.below ? "▼ dips" : "", up,
			 clip.above && clip.below ? "; " : "", down);
		note_h += 11;
	}
	/* room for the y tick labels: the widest of them */
	step = plot_tick_step(ry.hi - ry.lo, 5);
	for (double v = ceil(ry.lo / step) * step; v <= ry.hi + step * 1e-9; v += step) {
		tick_label(v, step, buf, sizeof(buf));
		max_label = fmax(max_label, text_width(cr, buf, FONT_TICK));
	}
	f = (struct frame){
		.x0 = x + 16 + max_label + 6, .y0 = top + legend_h + 4,
		.xlo = rx.lo, .xhi = rx.hi, .ylo = ry.lo, .yhi = ry.hi,
	};
	f.w = x + w - 8 - f.x0;
	f.h = y + h - 28 - note_h - f.y0;
	if (f.h < 20)
		f.h = 20;
	draw_legend(p, cr, x + 8, top, w - 16, true);

	/* grid and y ticks */
	cairo_set_line_width(cr, 0.4);
	for (double v = ceil(ry.lo / step) * step; v <= ry.hi + step * 1e-9; v += step) {
		double py = frame_y(&f, v);

		cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
		cairo_move_to(cr, f.x0, py);
		cairo_line_to(cr, f.x0 + f.w, py);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		tick_label(v, step, buf, sizeof(buf));
		/* a label on the frame's bottom or top edge stays within the
		 * frame's height, clear of the x labels in the corner */
		text_at(cr, buf, FONT_TICK, false, f.x0 - 3, py, 1,
			py > f.y0 + f.h - 3 ? 1 : py < f.y0 + 3 ? 0 : 0.5);
	}
	step = plot_tick_step(rx.hi - rx.lo, (int)fmax(3, f.w / 60));
	for (double v = ceil(rx.lo / step) * step; v <= rx.hi + step * 1e-9; v += step) {
		double px = frame_x(&f, v);

		cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
		cairo_move_to(cr, px, f.y0);
		cairo_line_to(cr, px, f.y0 + f.h);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		tick_label(v, step, buf, sizeof(buf));
		/* likewise at the left and right edges: within the frame's width */
		text_at(cr, buf, FONT_TICK, false, px, f.y0 + f.h + 2,
			px < f.x0 + 3 ? 0 : px > f.x0 + f.w - 3 ? 1 : 0.5, 0);
	}
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	cairo_set_line_width(cr, 0.8);
	cairo_rectangle(cr, f.x0, f.y0, f.w, f.h);
	cairo_stroke(cr);

	/* axis titles */
	text_at(cr, p->x_title, FONT_AXIS, false, f.x0 + f.w / 2, f.y0 + f.h + 13, 0.5, 0);
	cairo_save(cr);
	cairo_translate(cr, x + 1, f.y0 + f.h / 2);
	cairo_rotate(cr, -M_PI / 2);
	text_at(cr, p->y_title, FONT_AXIS, false, 0, 0, 0.5, 0);
	cairo_restore(cr);
	if (p->note[0]) {
		cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
		text_at(cr, p->note, FONT_TICK, false, x + 8, f.y0 + f.h + 25, 0, 0);
	}
	if (clipped) {
		cairo_set_source_rgb(cr, 0.7, 0.1, 0.1);
		text_at(cr, clip_text, FONT_TICK, false, x + 8,
			f.y0 + f.h + 25 + (p->note[0] ? 11 : 0), 0, 0);
	}

	/* data, clipped to the frame, over the shaded windows */
	cairo_save(cr);
	cairo_rectangle(cr, f.x0, f.y0, f.w, f.h);
	cairo_clip(cr);
	for (size_t i = 0; i < p->n_spans; i++) {
		const struct plot_span *sp = &p->spans[i];
		double x0 = frame_x(&f, sp->x0), x1 = frame_x(&f, sp->x1);

		set_rgb(cr, sp->rgb, 0.13);
		cairo_rectangle(cr, x0, f.y0, x1 - x0, f.h);
		cairo_fill(cr);
		set_rgb(cr, sp->rgb, 0.5);
		cairo_set_line_width(cr, 0.6);
		cairo_move_to(cr, x0, f.y0);
		cairo_line_to(cr, x0, f.y0 + f.h);
		cairo_move_to(cr, x1, f.y0);
		cairo_line_to(cr, x1, f.y0 + f.h);
		cairo_stroke(cr);
	}
	for (size_t i = 0; i < p->n_lines; i++) {
		const struct plot_line *l = &p->lines[i];

		if (l->series) {
			draw_series(p, l, cr, frame_x, frame_y, &f);
			continue;
		}
		set_rgb(cr, l->rgb, 1);
		cairo_set_line_width(cr, 1.3);
		if (l->style == PLOT_DASHED) {
			double dash[] = { 4, 3 };

			cairo_set_dash(cr, dash, 2, 0);
		}
		/* a non-finite y is a gap: the line lifts there */
		for (size_t j = 0, down = 0; j < l->n_xy; j++) {
			double px = frame_x(&f, l->xs[j]), py = frame_y(&f, l->ys[j]);

			if (!isfinite(l->ys[j])) {
				down = 0;
				continue;
			}
			if (!down)
				cairo_move_to(cr, px, py);
			else
				cairo_line_to(cr, px, py);
			down = 1;
		}
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
		if (l->style == PLOT_POINTS)
			for (size_t j = 0; j < l->n_xy; j++) {
				if (!isfinite(l->ys[j]))
					continue;
				cairo_arc(cr, frame_x(&f, l->xs[j]), frame_y(&f, l->ys[j]), 2.2, 0,
					  2 * M_PI);
				cairo_fill(cr);
			}
	}
	if (clipped)
		draw_clip_marks(p, cr, &f);
	draw_marks(p, cr, &f);
	cairo_restore(cr);
	cairo_restore(cr);
}

/* ------------------------------------------------------------------ SVG -- */

struct membuf {
	char *data;
	size_t len, cap;
	bool failed;
};

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int length)
{
	struct membuf *m = closure;

	if (m->len + length + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 16384;
		char *p;

		while (cap < m->len + length + 1)
			cap *= 2;
		p = realloc(m->data, cap);
		if (!p) {
			m->failed = true;
			return CAIRO_STATUS_WRITE_ERROR;
		}
		m->data = p;
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, length);
	m->len += length;
	m->data[m->len] = '\0';
	return CAIRO_STATUS_SUCCESS;
}

int plot_svg(const struct plot *p, double w, double h, char **ret_svg, size_t *ret_len)
{
	struct membuf m = { 0 };
	cairo_surface_t *surf;
	cairo_t *cr;
	cairo_status_t st;

	*ret_svg = NULL;
	surf = cairo_svg_surface_create_for_stream(membuf_write, &m, w, h);
	cr = cairo_create(surf);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	plot_draw(p, cr, 0, 0, w, h);
	st = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_finish(surf);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surf);
	cairo_surface_destroy(surf);
	if (st != CAIRO_STATUS_SUCCESS || m.failed || !m.data) {
		free(m.data);
		return m.failed ? -ENOMEM : -EIO;
	}
	*ret_svg = m.data;
	*ret_len = m.len;
	return 0;
}
