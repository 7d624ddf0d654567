/* The report as an A4 PDF, through cairo's PDF surface and pango: text is
 * laid out and wrapped by pango, never placed as hand-written PDF bytes.
 *
 * "page N of M" needs M before page 1 is drawn, so the document is laid out
 * twice: once onto a PDF surface that discards its output, to count pages,
 * then onto the real file.  Both passes run the same code, so they agree. */
#include "report_doc.h"

#include <cairo-pdf.h>
#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#define PAGE_W 595.28   /* A4 in points */
#define PAGE_H 841.89
#define MARGIN 42.0
#define TEXT_W (PAGE_W - 2 * MARGIN)
#define CELL_PAD 3.0
#define PLOT_H 215.0
#define PLOT_ABSENT_H 60.0

struct pdf {
	cairo_t *cr;
	const struct report_doc *doc;
	int page, total;
	double y, top, bottom;
};

static PangoLayout *layout_new(cairo_t *cr, const char *text, enum doc_style style,
			       double size_pt, bool bold, double width)
{
	PangoLayout *lay = pango_cairo_create_layout(cr);
	PangoFontDescription *fd;

	fd = pango_font_description_from_string(style == DS_MONO ? "DejaVu Sans Mono" : "DejaVu Sans");
	if (style == DS_SMALL || style == DS_MONO)
		size_pt -= 1;
	/* absolute: points on the page (pango's default resolution is 96 dpi) */
	pango_font_description_set_absolute_size(fd, size_pt * PANGO_SCALE);
	if (bold || style == DS_HEAD || style == DS_KEY || style == DS_PASS || style == DS_FAIL ||
	    style == DS_INCONCLUSIVE || style == DS_WARN)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	pango_layout_set_font_description(lay, fd);
	pango_font_description_free(fd);
	if (width > 0) {
		pango_layout_set_width(lay, (int)(width * PANGO_SCALE));
		pango_layout_set_wrap(lay, PANGO_WRAP_WORD_CHAR);
	}
	plot_layout_set_text(lay, text);
	return lay;
}

static double layout_h(PangoLayout *lay)
{
	int w, h;

	pango_layout_get_size(lay, &w, &h);
	return (double)h / PANGO_SCALE;
}

static void style_colours(enum doc_style s, double bg[3], double fg[3], bool *has_bg)
{
	static const double black[3] = { 0.08, 0.08, 0.08 };

	memcpy(fg, black, sizeof(black));
	*has_bg = true;
	switch (s) {
	case DS_HEAD: bg[0] = bg[1] = bg[2] = 0.86; break;
	case DS_KEY: bg[0] = bg[1] = bg[2] = 0.95; break;
	case DS_PASS: bg[0] = 0.85; bg[1] = 0.95; bg[2] = 0.86; fg[0] = 0.05; fg[1] = 0.40; fg[2] = 0.12; break;
	case DS_FAIL: bg[0] = 0.98; bg[1] = 0.84; bg[2] = 0.82; fg[0] = 0.65; fg[1] = 0.05; fg[2] = 0.05; break;
	case DS_INCONCLUSIVE: bg[0] = 1.0; bg[1] = 0.93; bg[2] = 0.75; fg[0] = 0.55; fg[1] = 0.35; fg[2] = 0.0; break;
	case DS_WARN: *has_bg = false; fg[0] = 0.70; fg[1] = 0.05; fg[2] = 0.05; break;
	default: *has_bg = false; break;
	}
}

static const double SIM_BAND_RGB[3] = { 0.33, 0.12, 0.52 };
static const double INCOMPLETE_RGB[3] = { 0.75, 0.08, 0.08 };

/* A band across the text width under the header, white bold text on a
 * colour; hatched: light stripes along its edges, so it cannot be taken for
 * a heading even in grey print.  Returns the y below it. */
static double band(cairo_t *cr, double y, const char *text, const double rgb[3], bool hatched)
{
	PangoLayout *lay = layout_new(cr, text, DS_NORMAL, 11, true, TEXT_W - 24);
	double h = layout_h(lay) + 8;

	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	cairo_rectangle(cr, MARGIN, y, TEXT_W, h);
	cairo_fill(cr);
	if (hatched) {
		cairo_save(cr);
		cairo_rectangle(cr, MARGIN, y, TEXT_W, h);
		cairo_clip(cr);
		cairo_set_source_rgba(cr, 1, 1, 1, 0.35);
		cairo_set_line_width(cr, 2.5);
		for (double x = MARGIN - h; x < MARGIN + TEXT_W; x += 9) {
			cairo_move_to(cr, x, y + h);
			cairo_line_to(cr, x + h, y);
		}
		cairo_stroke(cr);
		cairo_restore(cr);
		cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
		cairo_rectangle(cr, MARGIN + 8, y + 2, TEXT_W - 16, h - 4);
		cairo_fill(cr);
	}
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_move_to(cr, MARGIN + 12, y + 4);
	pango_cairo_show_layout(cr, lay);
	g_object_unref(lay);
	return y + h + 4;
}

/* Header (report id), the SIMULATED and INCOMPLETE bands and the footer
 * (page N of M). */
static void page_furniture(struct pdf *p)
{
	cairo_t *cr = p->cr;
	const struct report_doc *doc = p->doc;
	PangoLayout *lay;
	char buf[96];
	double y = 24;

	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	lay = layout_new(cr, doc->report_id, DS_NORMAL, 9, true, TEXT_W * 0.62);
	cairo_move_to(cr, MARGIN, y);
	pango_cairo_show_layout(cr, lay);
	y += layout_h(lay);
	g_object_unref(lay);
	lay = layout_new(cr, doc->title, DS_NORMAL, 8, false, TEXT_W * 0.36);
	pango_layout_set_alignment(lay, PANGO_ALIGN_RIGHT);
	cairo_move_to(cr, MARGIN + TEXT_W * 0.64, 24);
	pango_cairo_show_layout(cr, lay);
	if (24 + layout_h(lay) > y)
		y = 24 + layout_h(lay);
	g_object_unref(lay);
	y += 3;
	cairo_set_line_width(cr, 0.6);
	cairo_move_to(cr, MARGIN, y);
	cairo_line_to(cr, PAGE_W - MARGIN, y);
	cairo_stroke(cr);
	y += 4;
	if (doc->sim_mark[0])
		y = band(cr, y, doc->sim_mark, SIM_BAND_RGB, true);
	if (doc->incomplete[0])
		y = band(cr, y, doc->incomplete, INCOMPLETE_RGB, false);
	p->top = y + 6;

	cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
	cairo_set_line_width(cr, 0.4);
	cairo_move_to(cr, MARGIN, PAGE_H - 36);
	cairo_line_to(cr, PAGE_W - MARGIN, PAGE_H - 36);
	cairo_stroke(cr);
	lay = layout_new(cr, doc->software, DS_NORMAL, 8, false, 0);
	cairo_move_to(cr, MARGIN, PAGE_H - 32);
	pango_cairo_show_layout(cr, lay);
	g_object_unref(lay);
	snprintf(buf, sizeof(buf), "page %d of %d", p->page, p->total > 0 ? p->total : p->page);
	lay = layout_new(cr, buf, DS_NORMAL, 9, false, TEXT_W);
	pango_layout_set_alignment(lay, PANGO_ALIGN_RIGHT);
	cairo_move_to(cr, MARGIN, PAGE_H - 32);
	pango_cairo_show_layout(cr, lay);
	g_object_unref(lay);
	p->bottom = PAGE_H - 44;
	p->y = p->top;
}

static void page_new(struct pdf *p)
{
	if (p->page > 0)
		cairo_show_page(p->cr);
	p->page++;
	page_furniture(p);
}

static void ensure(struct pdf *p, double h)
{
	if (p->y + h > p->bottom && p->y > p->top)
		page_new(p);
}

static void draw_text_block(struct pdf *p, const struct doc_block *b, double size, bool bold,
			    double before, double after, double keep_with_next)
{
	PangoLayout *lay = layout_new(p->cr, b->text, b->style, size, bold, TEXT_W);
	double h = layout_h(lay), bg[3], fg[3];
	bool has_bg;

	ensure(p, before + h + keep_with_next);
	if (p->y > p->top)
		p->y += before;
	style_colours(b->style, bg, fg, &has_bg);
	cairo_set_source_rgb(p->cr, fg[0], fg[1], fg[2]);
	cairo_move_to(p->cr, MARGIN, p->y);
	pango_cairo_show_layout(p->cr, lay);
	g_object_unref(lay);
	p->y += h + after;
}

static void draw_verdict(struct pdf *p, const struct doc_block *b)
{
	PangoLayout *lay = layout_new(p->cr, b->text, DS_NORMAL, 17, true, TEXT_W - 20);
	double h = layout_h(lay) + 14, bg[3], fg[3];
	bool has_bg;

	ensure(p, h + 8);
	style_colours(b->style, bg, fg, &has_bg);
	cairo_set_source_rgb(p->cr, bg[0], bg[1], bg[2]);
	cairo_rectangle(p->cr, MARGIN, p->y, TEXT_W, h);
	cairo_fill_preserve(p->cr);
	cairo_set_source_rgb(p->cr, fg[0], fg[1], fg[2]);
	cairo_set_line_width(p->cr, 1.5);
	cairo_stroke(p->cr);
	cairo_move_to(p->cr, MARGIN + 10, p->y + 7);
	pango_cairo_show_layout(p->cr, lay);
	g_object_unref(lay);
	p->y += h + 8;
}

/* A table row's cells laid out once, then drawn whole or, when the row is
 * taller than a page, in slices of whole lines, one per page. */
struct row {
	PangoLayout *lay[DOC_COLS_MAX];
	double text_h;                  /* the tallest cell's text */
};

static void row_open(struct pdf *p, const struct doc_block *b, size_t r, struct row *ret_row)
{
	ret_row->text_h = 0;
	for (size_t c = 0; c < b->n_cols; c++) {
		const struct doc_cell *cl = &b->cells[r * b->n_cols + c];

		ret_row->lay[c] = layout_new(p->cr, cl->text, cl->style, 8.5, false,
					     b->widths[c] * TEXT_W - 2 * CELL_PAD);
		if (layout_h(ret_row->lay[c]) > ret_row->text_h)
			ret_row->text_h = layout_h(ret_row->lay[c]);
	}
}

static void row_close(const struct doc_block *b, struct row *row)
{
	for (size_t c = 0; c < b->n_cols; c++)
		g_object_unref(row->lay[c]);
}

static double row_height(struct pdf *p, const struct doc_block *b, size_t r)
{
	struct row row;

	row_open(p, b, r, &row);
	row_close(b, &row);
	return row.text_h + 2 * CELL_PAD;
}

/* A line's top and bottom in its layout, in points. */
static void line_span(PangoLayoutIter *it, double *ret_top, double *ret_bottom)
{
	PangoRectangle log;

	pango_layout_iter_get_line_extents(it, NULL, &log);
	*ret_top = (double)log.y / PANGO_SCALE;
	*ret_bottom = (double)(log.y + log.height) / PANGO_SCALE;
}

/* Where the slice of a row's text that begins at from must end to fit in
 * room points: at the top of the first line, in any cell, that would cross
 * it, so that no line is cut in two.  The text's end when the rest fits; a
 * single line taller than room goes whole.  ret_end: the bottom of the
 * slice's lowest line. */
static double row_cut(const struct doc_block *b, const struct row *row, double from, double room,
		      double *ret_end)
{
	double cut = row->text_h;

	for (size_t c = 0; c < b->n_cols; c++) {
		PangoLayoutIter *it = pango_layout_get_iter(row->lay[c]);

		do {
			double top, bottom;

			line_span(it, &top, &bottom);
			if (top + 0.01 < from)
				continue;
			if (bottom > from + room + 0.01) {
				cut = fmin(cut, top > from + 0.01 ? top : bottom);
				break;
			}
		} while (pango_layout_iter_next_line(it));
		pango_layout_iter_free(it);
	}
	*ret_end = from;
	for (size_t c = 0; c < b->n_cols; c++) {
		PangoLayoutIter *it = pango_layout_get_iter(row->lay[c]);

		do {
			double top, bottom;

			line_span(it, &top, &bottom);
			if (top + 0.01 >= from && top + 0.01 < cut)
				*ret_end = fmax(*ret_end, bottom);
		} while (pango_layout_iter_next_line(it));
		pango_layout_iter_free(it);
	}
	return cut;
}

/* Draws the lines of a row whose tops lie in [from, to) of the text, in a
 * row h high at p->y, and moves p->y past it. */
static void draw_row_slice(struct pdf *p, const struct doc_block *b, size_t r,
			   const struct row *row, double from, double to, double h)
{
	double x = MARGIN;

	for (size_t c = 0; c < b->n_cols; c++) {
		const struct doc_cell *cl = &b->cells[r * b->n_cols + c];
		double w = b->widths[c] * TEXT_W, bg[3], fg[3];
		PangoLayoutIter *it;
		bool has_bg;

		style_colours(cl->style, bg, fg, &has_bg);
		if (has_bg) {
			cairo_set_source_rgb(p->cr, bg[0], bg[1], bg[2]);
			cairo_rectangle(p->cr, x, p->y, w, h);
			cairo_fill(p->cr);
		}
		cairo_set_source_rgb(p->cr, 0.7, 0.7, 0.7);
		cairo_set_line_width(p->cr, 0.4);
		cairo_rectangle(p->cr, x, p->y, w, h);
		cairo_stroke(p->cr);
		cairo_set_source_rgb(p->cr, fg[0], fg[1], fg[2]);
		it = pango_layout_get_iter(row->lay[c]);
		do {
			PangoRectangle log;
			double top;

			pango_layout_iter_get_line_extents(it, NULL, &log);
			top = (double)log.y / PANGO_SCALE;
			if (top + 0.01 < from || top + 0.01 >= to)
				continue;
			/* a line is placed by its baseline; log.x is its alignment */
			cairo_move_to(p->cr, x + CELL_PAD + (double)log.x / PANGO_SCALE,
				      p->y + CELL_PAD - from +
				      (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE);
			pango_cairo_show_layout_line(p->cr, pango_layout_iter_get_line_readonly(it));
		} while (pango_layout_iter_next_line(it));
		pango_layout_iter_free(it);
		x += w;
	}
	p->y += h;
}

static void draw_row(struct pdf *p, const struct doc_block *b, size_t r)
{
	struct row row;

	row_open(p, b, r, &row);
	draw_row_slice(p, b, r, &row, 0, INFINITY, row.text_h + 2 * CELL_PAD);
	row_close(b, &row);
}

static void table_page_new(struct pdf *p, const struct doc_block *b)
{
	page_new(p);
	if (b->header_row)
		draw_row(p, b, 0);
}

/* A row that fits on a page moves whole to the next one when it does not
 * fit where it is; a taller one (an operator's note of many lines) starts
 * where it is if ROW_SPLIT_MIN is left there, and continues on the
 * following pages under the repeated header, split between lines. */
#define ROW_SPLIT_MIN 40.0

/* What a page holds of a table's row: every page has the same header. */
static double page_room(const struct pdf *p, const struct doc_block *b, double head_h)
{
	return p->bottom - p->top - (b->header_row ? head_h : 0);
}

/* The part of a row that must fit where it starts. */
static double row_first_part(const struct pdf *p, const struct doc_block *b, double h,
			     double head_h)
{
	return h <= page_room(p, b, head_h) ? h : ROW_SPLIT_MIN;
}

static void draw_body_row(struct pdf *p, const struct doc_block *b, size_t r, double head_h)
{
	struct row row;
	double from = 0, h;

	row_open(p, b, r, &row);
	h = row.text_h + 2 * CELL_PAD;
	if (p->y + row_first_part(p, b, h, head_h) > p->bottom && p->y > p->top)
		table_page_new(p, b);
	for (;;) {
		double end, cut = row_cut(b, &row, from, p->bottom - p->y - 2 * CELL_PAD, &end);

		if (cut >= row.text_h) {
			draw_row_slice(p, b, r, &row, from, INFINITY, row.text_h - from + 2 * CELL_PAD);
			break;
		}
		draw_row_slice(p, b, r, &row, from, cut, end - from + 2 * CELL_PAD);
		from = cut;
		table_page_new(p, b);
	}
	row_close(b, &row);
}

static void draw_table(struct pdf *p, const struct doc_block *b)
{
	size_t rows = b->n_cols ? b->n_cells / b->n_cols : 0;
	double head_h = b->header_row && rows ? row_height(p, b, 0) : 0;

	p->y += 2;
	if (b->header_row && rows) {
		/* a header row never ends a page alone */
		double next = rows > 1 ? row_first_part(p, b, row_height(p, b, 1), head_h) : 0;

		if (p->y + head_h + next > p->bottom && p->y > p->top)
			page_new(p);
		draw_row(p, b, 0);
	}
	for (size_t r = b->header_row ? 1 : 0; r < rows; r++)
		draw_body_row(p, b, r, head_h);
	p->y += 8;
}

static void draw_signatures(struct pdf *p)
{
	static const char *const roles[] = { "Prepared by", "Reviewed by", "Approved by" };
	static const char *const cols[] = { "name", "date", "signature" };
	const double widths[] = { 0.2, 0.3, 0.18, 0.32 };
	double row_h = 34;

	ensure(p, 16 + 3 * row_h);
	cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
	for (int c = 0; c < 3; c++) {
		double x = MARGIN;
		PangoLayout *lay;

		for (int k = 0; k <= c; k++)
			x += widths[k] * TEXT_W;
		lay = layout_new(p->cr, cols[c], DS_HEAD, 9, true, 0);
		cairo_move_to(p->cr, x + 4, p->y);
		pango_cairo_show_layout(p->cr, lay);
		g_object_unref(lay);
	}
	p->y += 12;
	for (int r = 0; r < 3; r++) {
		double x = MARGIN;
		PangoLayout *lay = layout_new(p->cr, roles[r], DS_KEY, 10, true, 0);

		cairo_move_to(p->cr, x, p->y + row_h - 14);
		pango_cairo_show_layout(p->cr, lay);
		g_object_unref(lay);
		x += widths[0] * TEXT_W;
		cairo_set_line_width(p->cr, 0.6);
		for (int c = 1; c < 4; c++) {
			cairo_move_to(p->cr, x + 4, p->y + row_h - 3);
			cairo_line_to(p->cr, x + widths[c] * TEXT_W - 8, p->y + row_h - 3);
			cairo_stroke(p->cr);
			x += widths[c] * TEXT_W;
		}
		p->y += row_h;
	}
	p->y += 8;
}

/* Room a heading needs below it so that it does not end a page alone:
 * its first paragraph and, in the plots section, the first plot. */
static double keep_with(const struct report_doc *doc, size_t i)
{
	double h = 0;

	for (size_t k = i + 1; k < doc->n_blocks && k <= i + 2; k++) {
		if (doc->blocks[k].kind == DB_PLOT)
			return h + PLOT_H;
		if (doc->blocks[k].kind != DB_PARA)
			break;
		h += 30;
	}
	return h + 60;
}

static void render(struct pdf *p)
{
	const struct report_doc *doc = p->doc;
	PangoLayout *lay;

	p->page = 0;
	page_new(p);
	/* title */
	lay = layout_new(p->cr, doc->title, DS_NORMAL, 18, true, TEXT_W);
	cairo_set_source_rgb(p->cr, 0.05, 0.05, 0.05);
	cairo_move_to(p->cr, MARGIN, p->y);
	pango_cairo_show_layout(p->cr, lay);
	p->y += layout_h(lay) + 8;
	g_object_unref(lay);
	for (size_t i = 0; i < doc->n_blocks; i++) {
		const struct doc_block *b = &doc->blocks[i];

		switch (b->kind) {
		case DB_H1: draw_text_block(p, b, 14, true, 10, 4, keep_with(doc, i)); break;
		case DB_H2: draw_text_block(p, b, 11, true, 6, 2, 40); break;
		case DB_PARA: draw_text_block(p, b, 9, false, 2, 5, 0); break;
		case DB_VERDICT: draw_verdict(p, b); break;
		case DB_TABLE: draw_table(p, b); break;
		case DB_PLOT: {
			/* a plot without data is a short box saying so */
			double h = plot_has_data(b->plot) ? PLOT_H : PLOT_ABSENT_H;

			ensure(p, h + 6);
			plot_draw(b->plot, p->cr, MARGIN, p->y, TEXT_W, h);
			p->y += h + 10;
			break;
		}
		case DB_SIGNATURES: draw_signatures(p); break;
		}
	}
}

static cairo_status_t discard(void *closure, const unsigned char *data, unsigned int length)
{
	(void)closure;
	(void)data;
	(void)length;
	return CAIRO_STATUS_SUCCESS;
}

int report_pdf_write(const struct report_doc *doc, const char *path)
{
	char tmp[RIG_PATH_MAX + 8];
	struct pdf p = { .doc = doc };
	cairo_surface_t *surf;
	cairo_status_t st;

	/* pass 1: count the pages */
	surf = cairo_pdf_surface_create_for_stream(discard, NULL, PAGE_W, PAGE_H);
	p.cr = cairo_create(surf);
	render(&p);
	p.total = p.page;
	cairo_destroy(p.cr);
	cairo_surface_destroy(surf);

	/* pass 2: the file, written beside and renamed over */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	surf = cairo_pdf_surface_create(tmp, PAGE_W, PAGE_H);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, doc->title);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_SUBJECT, doc->report_id);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, doc->software);
	if (doc->sim_mark[0])
		cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_KEYWORDS, doc->sim_mark);
	p.cr = cairo_create(surf);
	render(&p);
	st = cairo_status(p.cr);
	cairo_destroy(p.cr);
	cairo_surface_finish(surf);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surf);
	cairo_surface_destroy(surf);
	if (st != CAIRO_STATUS_SUCCESS || p.page != p.total) {
		remove(tmp);
		return -EIO;
	}
	if (rename(tmp, path) != 0)
		return -errno;
	return 0;
}
