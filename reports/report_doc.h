/* The test report as a document model: headings, paragraphs, tables and
 * plots, built once from the judged results and the run directory
 * (report_content.c), then rendered to PDF (report_pdf.c, cairo + pango) and
 * to self-contained HTML (report_html.c).  One content builder means the
 * two formats cannot say different things. */
#ifndef RIG_REPORTS_REPORT_DOC_H
#define RIG_REPORTS_REPORT_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "rig/judge/results.h"
#include "plot/plot.h"
#include "report_data.h"

enum doc_style {
	DS_NORMAL,
	DS_HEAD,          /* table header */
	DS_KEY,           /* first column of a key/value table */
	DS_PASS,
	DS_FAIL,
	DS_INCONCLUSIVE,
	DS_WARN,          /* an expired calibration, a deviation */
	DS_MONO,          /* digests, ids */
	DS_SMALL,
};

struct doc_cell {
	char *text;
	enum doc_style style;
};

enum doc_block_kind {
	DB_H1,
	DB_H2,
	DB_PARA,
	DB_TABLE,
	DB_PLOT,
	DB_VERDICT,       /* the overall verdict, set apart */
	DB_SIGNATURES,    /* prepared / reviewed / approved */
};

#define DOC_COLS_MAX 8

struct doc_block {
	enum doc_block_kind kind;
	char *text;
	enum doc_style style;
	size_t n_cols;
	double widths[DOC_COLS_MAX];    /* fractions of the text width */
	bool header_row;                /* row 0 is a header, repeated on a new page */
	struct doc_cell *cells;         /* row-major */
	size_t n_cells, cap_cells;
	struct plot *plot;
};

struct report_doc {
	char report_id[RIG_ID_MAX + 256 + 8];
	char title[RIG_TEXT_MAX + 32];
	char software[96];
	char incomplete[640];           /* "INCOMPLETE — reason" on every page, or "" */
	char sim_mark[96];              /* "SIMULATED BENCH — NOT VERIFICATION EVIDENCE" on
	                                   every page, or "" for a real bench */
	struct doc_block *blocks;
	size_t n_blocks, cap_blocks;
	bool failed;                    /* out of memory while building */
};

/* ---------------------------------------- building blocks (report_doc.c) -- */

/* A heading, paragraph or verdict block with printf-style text. */
void doc_text(struct report_doc *doc, enum doc_block_kind kind, enum doc_style style,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A table of n_cols columns, each width a fraction of the text width. */
struct doc_block *doc_table(struct report_doc *doc, bool header_row, size_t n_cols, ...);
void doc_add_cell(struct report_doc *doc, struct doc_block *b, enum doc_style style,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A key/value row of a two-column table. */
void doc_kv(struct report_doc *doc, struct doc_block *b, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct plot *doc_plot(struct report_doc *doc);
/* Removes the last block (a plot without data, said in words instead). */
void doc_drop_last(struct report_doc *doc);

enum doc_style doc_verdict_style(enum verdict v);
const char *doc_verdict_word(enum verdict v);
/* A check's requirement ids; with more than one, each with its verdict
 * (decision_requirement_verdict): "ID-1 (PASS), ID-2 (FAIL)". */
void doc_check_requirements(const struct check_result *c, char *buf, size_t len);
/* The run's verdict in capitals: "PASS WITH DEVIATIONS", "INCONCLUSIVE (RUN
 * ABORTED)" (results_verdict_text). */
void doc_verdict_upper(const struct run_results *res, char *buf, size_t len);
/* "v +- U" to the uncertainty's resolution (GUM 7.2.6); without U to four
 * significant digits; an exact value (U = 0) as it is. */
void doc_fmt_value_u(double v, double u, char *buf, size_t len);
/* v to `digits` significant digits, fixed notation: 20.00, 0.04253. */
void doc_fmt_sig(double v, int digits, char *buf, size_t len);
void doc_fmt_limit(double lo, double hi, const char *unit, char *buf, size_t len);
const char *doc_nice_unit(const char *unit);
/* "dose accuracy [dose_min]" */
void doc_check_title(const struct check_result *c, char *buf, size_t len);
/* A check's result, limit and verdict cells of a results table: the value
 * that decided (decision_deciding), else the primary one. */
void doc_check_result_cells(struct report_doc *doc, struct doc_block *t,
			    const struct check_result *c);
const char *doc_role_unit(enum rig_role role);
/* Run time in the unit the run's length suggests. */
struct time_axis {
	double unit_ns;
	const char *name;
};
struct time_axis doc_time_axis(rig_ns span_ns);

/* Section 3, acceptance criteria and results (report_results.c). */
void section_results(struct report_doc *doc, const struct run_results *res);
/* The plots section (report_plots.c). */
void section_plots(struct report_doc *doc, const struct run_results *res,
		   const struct report_data *d);

/* Builds the report's content.  Returns 0 or -ENOMEM. */
int report_doc_build(const struct run_results *res, const struct report_data *d,
		     struct report_doc **ret);
void report_doc_free(struct report_doc *doc);

/* Renderers: each writes path (beside, then renamed over).  0 or -errno. */
int report_pdf_write(const struct report_doc *doc, const char *path);
int report_html_write(const struct report_doc *doc, const char *path);

#endif
