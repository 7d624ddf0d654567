/* What plot_model.c and plot.c share and nobody else needs. */
#ifndef RIG_REPORTS_PLOT_INTERNAL_H
#define RIG_REPORTS_PLOT_INTERNAL_H

#include "plot.h"

struct plot_range {
	double lo, hi;
	bool any;
};

/* A line's values are multiplied by this (its value_scale, 1 when 0). */
double plot_line_scale(const struct plot_line *l);
/* The axes' ranges as drawn: from the data (or the plot's x range), with
 * zero, the minimum span, the padding, and a robust y axis's clipping. */
void plot_ranges(const struct plot *p, struct plot_range *rx, struct plot_range *ry);
/* What the y range ry (from plot_ranges) clips: plot_clipped without
 * computing the ranges again. */
bool plot_clip_within(const struct plot *p, const struct plot_range *ry, struct plot_clip *ret);

#endif
