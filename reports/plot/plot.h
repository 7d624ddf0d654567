/* Plots for the test report: decimated time series and a cairo renderer.
 *
 * A series keeps a fixed number of time bins (min, max, sum and count of the
 * values in each).  When a sample falls past the last bin, neighbouring bins
 * are merged pairwise and the bin width doubles, so a series costs the same
 * memory for a minute or a month of samples, and the extremes of the record
 * survive every merge (a bin's min is the min of the two it replaces).
 *
 * A plot is drawn with cairo and pango only, onto whatever surface the caller
 * gives: the PDF page and an in-memory SVG for the HTML report use the same
 * drawing code. */
#ifndef RIG_REPORTS_PLOT_H
#define RIG_REPORTS_PLOT_H

#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rig/base/rtime.h"

#define SERIES_BINS 512

struct series_bin {
	rig_ns t_first_ns, t_last_ns;   /* of the samples in the bin */
	double min, max, sum;
	uint32_t count;                 /* 0: no sample fell in this bin */
};

struct series {
	rig_ns t0_ns;                   /* start of bin 0 */
	rig_ns bin_ns;                  /* width of a bin; doubles at each merge */
	size_t n_bins;                  /* bins in use (index of the last one + 1) */
	size_t n_samples;               /* every sample added */
	unsigned merges;
	struct series_bin bins[SERIES_BINS];
};

/* Starts an empty series whose bin 0 begins at t0_ns, bins bin_ns wide
 * (> 0; a guess: the width grows as needed). */
void series_init(struct series *s, rig_ns t0_ns, rig_ns bin_ns);
/* Adds one sample; a sample before t0_ns goes into bin 0.  Non-finite
 * values are ignored. */
void series_add(struct series *s, rig_ns t_ns, double value);
/* Smallest and largest value ever added; false when empty. */
bool series_range(const struct series *s, double *ret_min, double *ret_max);

/* ------------------------------------------------------------- plots -- */

enum plot_style {
	PLOT_LINE,        /* mean per bin joined by a line; min/max as a light band */
	PLOT_POINTS,      /* markers joined by a line (x/y data) */
	PLOT_DASHED,      /* a dashed line (x/y data) */
};

#define PLOT_LINES_MAX 6
#define RIG_PLOT_LABEL_MAX 96
#define PLOT_MARKS_MAX 8
#define PLOT_XY_MAX 256

/* One line of a plot: a time series (x in run time, divided by the plot's
 * x_unit_ns), or x/y pairs. */
struct plot_line {
	const struct series *series;
	double value_scale;             /* series values are multiplied by this (0 = 1) */
	double xs[PLOT_XY_MAX], ys[PLOT_XY_MAX];
	size_t n_xy;
	enum plot_style style;
	bool exact;                     /* a programmed value or a limit: always within
	                                   the y axis, never clipped as a spike */
	char label[96];
	double rgb[3];
};

/* A vertical marker at x (plot units): "valve closed", "alarm 71.6 s". */
enum plot_mark_style {
	PLOT_MARK_DASHED,   /* a thin dashed line: a step of the sequence */
	PLOT_MARK_ALERT,    /* a broad solid line under the dashed ones, a flag at the
			     * top and a bold label: what the device did (an alarm) */
};

struct plot_mark {
	double x;
	enum plot_mark_style style;
	char label[48];
	double rgb[3];
};

/* A shaded stretch of the x axis, under the data: a judged window. */
struct plot_span {
	double x0, x1;
	char label[RIG_PLOT_LABEL_MAX];
	double rgb[3];
};

#define PLOT_SPANS_MAX 16

struct plot {
	char title[128];
	char x_title[64];               /* with the unit: "run time (h)" */
	char x_unit_name[16];           /* "h": where a clipped spike is, in words */
	char y_unit_name[16];           /* "mL/h": how high it went */
	char y_title[64];               /* with the unit: "volume (mL)" */
	double x_unit_ns;               /* series time divided by this on the x axis */
	rig_ns x_origin_ns;             /* series time at x = 0 (marks are in plot units) */
	bool have_x_range;              /* else from the data */
	double x_min, x_max;
	bool y_include_zero;
	double y_min_span;              /* the y axis spans at least this (0: no minimum) */
	/* the y axis from the lines' means and x/y points (their 0.5 to 99.5 %
	 * range), not from the extremes of the bins: a spike is clipped, marked
	 * on the frame's edge and said under the plot, so it hides no phase */
	bool y_robust;
	struct plot_line lines[PLOT_LINES_MAX];
	size_t n_lines;
	struct plot_mark marks[PLOT_MARKS_MAX];
	size_t n_marks;
	struct plot_span spans[PLOT_SPANS_MAX];
	size_t n_spans;
	char note[256];                 /* printed under the plot (where the data came from) */
	char absent[160];               /* said instead of the plot when there is no data */
};

/* Appends a line; returns it or NULL when the plot is full. */
struct plot_line *plot_add_series(struct plot *p, const struct series *s, double value_scale,
				  const char *label, const double rgb[3]);
struct plot_line *plot_add_xy(struct plot *p, enum plot_style style, const char *label,
			      const double rgb[3]);
void plot_add_mark(struct plot *p, double x, enum plot_mark_style style, const char *label,
		   const double rgb[3]);
void plot_add_span(struct plot *p, double x0, double x1, const char *label, const double rgb[3]);

/* What a robust y axis leaves out: the extremes beyond it, and where the
 * highest of them is (plot units).  Filled by plot_clipped(). */
struct plot_clip {
	bool above, below;
	double max, max_x;              /* the highest value left above the axis */
	double min, min_x;              /* the lowest left below it */
};
/* The y range plot_draw uses and what it clips; true when it clips. */
bool plot_clipped(const struct plot *p, double *ret_lo, double *ret_hi, struct plot_clip *ret);
/* True when some line has data to draw. */
bool plot_has_data(const struct plot *p);

/* Draws the plot (or the absence message) into the rectangle at (x, y),
 * w by h (cairo user units: points), with cr's state restored after. */
void plot_draw(const struct plot *p, cairo_t *cr, double x, double y, double w, double h);

/* Renders the plot as a standalone SVG document into a malloc'd string.
 * Returns 0 or a negative errno. */
int plot_svg(const struct plot *p, double w, double h, char **ret_svg, size_t *ret_len);

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about n ticks
 * over span. */
double plot_tick_step(double span, int n);

/* Sets a layout's text, bytes that are not UTF-8 shown as U+FFFD: a title
 * from a Latin-1 sequence file, or any text cut short mid-character, must
 * not cost the whole report (pango refuses invalid UTF-8). */
void plot_layout_set_text(PangoLayout *lay, const char *text);

#endif
