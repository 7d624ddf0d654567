/* The report as one self-contained HTML file: styles inline, plots as inline
 * SVG drawn by the same cairo code as the PDF's (plot_svg), no external
 * stylesheet, script, font or image.  Every piece of text is escaped. */
#include "report_doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLOT_SVG_W 720.0
#define PLOT_SVG_H 300.0

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *style_class(enum doc_style s)
{
	switch (s) {
	case DS_KEY: return "key";
	case DS_PASS: return "pass";
	case DS_FAIL: return "fail";
	case DS_INCONCLUSIVE: return "inconclusive";
	case DS_WARN: return "warn";
	case DS_MONO: return "mono";
	case DS_SMALL: return "small";
	default: return "";
	}
}

/* Cairo names the glyphs and clips of every SVG alike (glyph0-1, clip1):
 * inline in one page, ids are shared by the whole document, so each plot's
 * ids get a prefix of their own. */
static void svg_inline(FILE *f, const char *svg, size_t n)
{
	static const char *const refs[] = { "id=\"", "href=\"#", "url(#" };
	const char *s = strstr(svg, "<svg");

	if (!s)
		return;
	while (*s) {
		bool done = false;

		for (size_t k = 0; k < sizeof(refs) / sizeof(refs[0]); k++) {
			size_t len = strlen(refs[k]);

			if (strncmp(s, refs[k], len) == 0) {
				fprintf(f, "%sp%zu-", refs[k], n);
				s += len;
				done = true;
				break;
			}
		}
		if (!done)
			fputc(*s++, f);
	}
}

static void table(FILE *f, const struct doc_block *b)
{
	size_t rows = b->n_cols ? b->n_cells / b->n_cols : 0;

	fputs("<table>\n<colgroup>", f);
	for (size_t c = 0; c < b->n_cols; c++)
		fprintf(f, "<col style=\"width:%.1f%%\">", b->widths[c] * 100);
	fputs("</colgroup>\n", f);
	for (size_t r = 0; r < rows; r++) {
		bool head = b->header_row && r == 0;

		fputs("<tr>", f);
		for (size_t c = 0; c < b->n_cols; c++) {
			const struct doc_cell *cl = &b->cells[r * b->n_cols + c];
			const char *cls = style_class(cl->style);

			fputs(head ? "<th" : "<td", f);
			if (cls[0])
				fprintf(f, " class=\"%s\"", cls);
			fputc('>', f);
			esc(f, cl->text);
			fputs(head ? "</th>" : "</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static const char css[] =
	"body{font-family:'DejaVu Sans',Verdana,sans-serif;font-size:13px;color:#111;"
	"max-width:60em;margin:1em auto;padding:0 1em}"
	"header{border-bottom:1px solid #444;margin-bottom:.6em;font-size:12px}"
	/* the bands every screen keeps in sight: the simulated bench, an
	 * incomplete run */
	".bands{position:sticky;top:0}"
	".incomplete{background:#b01414;color:#fff;font-weight:bold;padding:.5em}"
	".simulated{background:repeating-linear-gradient(135deg,#541f85 0 12px,#6e3aa0 12px 24px);"
	"color:#fff;font-weight:bold;padding:.5em;letter-spacing:.04em}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.4em}h3{font-size:1.05em}"
	"table{border-collapse:collapse;width:100%;margin:.3em 0 .8em;table-layout:auto}"
	/* pre-line: a note's line breaks, as pango keeps them in the PDF; a word
	 * is never broken (the table widens its column instead), only a digest
	 * or an id too long for any column may be */
	"td,th{border:1px solid #bbb;padding:2px 4px;vertical-align:top;overflow-wrap:normal;"
	"word-break:normal;hyphens:manual;white-space:pre-line}"
	"th{background:#ddd;text-align:left}.key{background:#f2f2f2;font-weight:bold}"
	".pass{background:#d9f2db;color:#0a661f;font-weight:bold}"
	".fail{background:#fad6d1;color:#a60d0d;font-weight:bold}"
	".inconclusive{background:#ffedbf;color:#8c5900;font-weight:bold}"
	".warn{color:#b30d0d;font-weight:bold}.mono{font-family:'DejaVu Sans Mono',monospace;"
	"overflow-wrap:anywhere}"
	".small{font-size:.9em}.verdict{font-size:1.4em;padding:.4em .6em;border:2px solid}"
	"figure{margin:.6em 0}svg{max-width:100%;height:auto}"
	".sig td{height:2.6em}footer{margin-top:2em;border-top:1px solid #444;font-size:11px}";

int report_html_write(const struct report_doc *doc, const char *path)
{
	char tmp[RIG_PATH_MAX + 8];
	size_t n_plot = 0;
	FILE *f;
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
	esc(f, doc->title);
	fputs(" — ", f);
	esc(f, doc->report_id);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	if (doc->sim_mark[0] || doc->incomplete[0]) {
		fputs("<div class=\"bands\">", f);
		if (doc->sim_mark[0]) {
			fputs("<div class=\"simulated\">", f);
			esc(f, doc->sim_mark);
			fputs("</div>", f);
		}
		if (doc->incomplete[0]) {
			fputs("<div class=\"incomplete\">", f);
			esc(f, doc->incomplete);
			fputs("</div>", f);
		}
		fputs("</div>\n", f);
	}
	fputs("<header>Report <b class=\"mono\">", f);
	esc(f, doc->report_id);
	fputs("</b></header>\n<h1>", f);
	esc(f, doc->title);
	fputs("</h1>\n", f);
	for (size_t i = 0; i < doc->n_blocks && r == 0; i++) {
		const struct doc_block *b = &doc->blocks[i];
		char *svg;
		size_t len;

		switch (b->kind) {
		case DB_H1:
			fputs("<h2>", f);
			esc(f, b->text);
			fputs("</h2>\n", f);
			break;
		case DB_H2:
			fputs("<h3>", f);
			esc(f, b->text);
			fputs("</h3>\n", f);
			break;
		case DB_PARA:
			if (style_class(b->style)[0])
				fprintf(f, "<p class=\"%s\">", style_class(b->style));
			else
				fputs("<p>", f);
			esc(f, b->text);
			fputs("</p>\n", f);
			break;
		case DB_VERDICT:
			fprintf(f, "<p class=\"verdict %s\">", style_class(b->style));
			esc(f, b->text);
			fputs("</p>\n", f);
			break;
		case DB_TABLE:
			table(f, b);
			break;
		case DB_PLOT:
			r = plot_svg(b->plot, PLOT_SVG_W, PLOT_SVG_H, &svg, &len);
			if (r < 0)
				break;
			fputs("<figure>", f);
			svg_inline(f, svg, n_plot++);
			fputs("</figure>\n", f);
			free(svg);
			break;
		case DB_SIGNATURES:
			fputs("<table class=\"sig\"><tr><th></th><th>name</th><th>date</th><th>signature</th></tr>\n"
			      "<tr><td class=\"key\">Prepared by</td><td></td><td></td><td></td></tr>\n"
			      "<tr><td class=\"key\">Reviewed by</td><td></td><td></td><td></td></tr>\n"
			      "<tr><td class=\"key\">Approved by</td><td></td><td></td><td></td></tr>\n"
			      "</table>\n", f);
			break;
		}
	}
	fputs("<footer>", f);
	if (doc->sim_mark[0]) {
		fputs("<b>", f);
		esc(f, doc->sim_mark);
		fputs("</b> — ", f);
	}
	esc(f, doc->software);
	fputs(" — report ", f);
	esc(f, doc->report_id);
	fputs("</footer>\n</body>\n</html>\n", f);
	if (ferror(f) && r == 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r < 0)
		remove(tmp);
	return r;
}
