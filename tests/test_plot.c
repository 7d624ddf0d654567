/* The report's plots: the decimator keeps bounded memory and every extreme
 * through every merge; tick steps are 1, 2 or 5 times a power of ten. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reports/plot/plot.h"

/* A deterministic record: a slow ramp with noise, and rare spikes. */
static double record_value(size_t i)
{
	double v = (double)i * 1e-6 + sin((double)i * 0.37) * 0.5;

	if (i % 99991 == 12345)
		v += 1000 + (double)(i % 7);
	if (i % 199999 == 777)
		v -= 2000;
	return v;
}

Test(report, the_decimator_keeps_fixed_memory_and_every_extreme)
{
	static struct series s;
	/* expected extremes per final bin, computed independently afterwards */
	static double lo[SERIES_BINS], hi[SERIES_BINS];
	static size_t count[SERIES_BINS];
	const size_t n = 3000000;
	const rig_ns period = 10 * RIG_NS_PER_MS;
	double gmin = INFINITY, gmax = -INFINITY, rmin, rmax;
	size_t total = 0;

	series_init(&s, 0, RIG_NS_PER_S);   /* far too fine a first guess */
	for (size_t i = 0; i < n; i++) {
		series_add(&s, (rig_ns)i * period, record_value(i));
		cr_assert_leq(s.n_bins, SERIES_BINS);
	}
	cr_assert_eq(s.n_samples, n);
	cr_assert_gt(s.merges, 0, "the record should not have fitted the first bins");
	/* the bins span the record: the last is in the upper half */
	cr_assert_gt(s.n_bins, SERIES_BINS / 2);
	for (size_t i = 0; i < SERIES_BINS; i++) {
		lo[i] = INFINITY;
		hi[i] = -INFINITY;
	}
	for (size_t i = 0; i < n; i++) {
		rig_ns t = (rig_ns)i * period;
		size_t b = (size_t)((t - s.t0_ns) / s.bin_ns);
		double v = record_value(i);

		cr_assert_lt(b, SERIES_BINS);
		lo[b] = fmin(lo[b], v);
		hi[b] = fmax(hi[b], v);
		count[b]++;
		gmin = fmin(gmin, v);
		gmax = fmax(gmax, v);
	}
	for (size_t b = 0; b < s.n_bins; b++) {
		cr_assert_eq(s.bins[b].count, count[b], "bin %zu", b);
		if (!count[b])
			continue;
		cr_assert_eq(s.bins[b].min, lo[b], "bin %zu min", b);
		cr_assert_eq(s.bins[b].max, hi[b], "bin %zu max", b);
		total += s.bins[b].count;
	}
	cr_assert_eq(total, n);
	cr_assert(series_range(&s, &rmin, &rmax));
	cr_assert_eq(rmin, gmin);
	cr_assert_eq(rmax, gmax);
	cr_assert_gt(rmax, 1000, "a spike was lost");
	cr_assert_lt(rmin, -1000, "a dip was lost");
}

Test(report, tick_steps_are_one_two_or_five_times_a_power_of_ten)
{
	cr_assert_float_eq(plot_tick_step(10, 5), 2, 1e-12);
	cr_assert_float_eq(plot_tick_step(73, 6), 10, 1e-12);
	cr_assert_float_eq(plot_tick_step(0.3, 5), 0.05, 1e-12);
	cr_assert_float_eq(plot_tick_step(1.0e-3, 4), 2e-4, 1e-15);
}

/* A flow record near 1 mL/h for 10 h with one bolus-like spike of 50 mL/h
 * at 5 h. */
static void flat_with_spike(struct series *s, double level, double noise, double spike)
{
	series_init(s, 0, RIG_NS_PER_MIN);
	for (size_t i = 0; i < 3600; i++) {
		rig_ns t = (rig_ns)i * 10 * RIG_NS_PER_S;

		series_add(s, t, level + noise * sin((double)i * 0.7) +
			   (i == 1800 ? spike : 0));
	}
}

/* A robust y axis spans the phases of the record, not its one spike: the
 * spike is clipped, and plot_clipped says how high it went and where, for
 * the note under the plot.  A plain axis stretches to the spike. */
Test(report, a_robust_axis_clips_a_spike_and_says_where_it_is)
{
	static struct series s;
	static struct plot p;
	const double blue[3] = { 0, 0, 1 };
	struct plot_clip clip;
	double lo, hi;

	flat_with_spike(&s, 1.0, 0.01, 49);
	p = (struct plot){ .x_unit_ns = (double)RIG_NS_PER_H };
	cr_assert_not_null(plot_add_series(&p, &s, 1, "flow", blue));
	cr_assert_not(plot_clipped(&p, &lo, &hi, &clip));
	cr_assert_geq(hi, 50, "a plain axis shows the spike whole (hi %g)", hi);

	p.y_robust = true;
	cr_assert(plot_clipped(&p, &lo, &hi, &clip));
	cr_assert_lt(hi, 5, "the axis stretched to the spike: hi %g", hi);
	cr_assert_gt(hi, 1.01, "the axis cut the record itself: hi %g", hi);
	cr_assert(clip.above);
	cr_assert_float_eq(clip.max, 50, 0.02);
	cr_assert_float_eq(clip.max_x, 5.0, 0.05);
}

/* A programmed value or a limit is never clipped: the axis reaches it. */
Test(report, a_robust_axis_keeps_an_exact_line_in_view)
{
	static struct series s;
	static struct plot p;
	const double blue[3] = { 0, 0, 1 }, grey[3] = { .5, .5, .5 };
	struct plot_line *l;
	struct plot_clip clip;
	double lo, hi;

	flat_with_spike(&s, 1.0, 0.01, 49);
	p = (struct plot){ .x_unit_ns = (double)RIG_NS_PER_H, .y_robust = true };
	cr_assert_not_null(plot_add_series(&p, &s, 1, "flow", blue));
	l = plot_add_xy(&p, PLOT_DASHED, "limit", grey);
	cr_assert_not_null(l);
	l->exact = true;
	l->xs[0] = 0;
	l->ys[0] = 8;
	l->xs[1] = 10;
	l->ys[1] = 8;
	l->n_xy = 2;
	plot_clipped(&p, &lo, &hi, &clip);
	cr_assert_geq(hi, 8, "the limit at 8 is off the axis (hi %g)", hi);
}

/* A battery voltage steady within millivolts spans at least the minimum:
 * noise must not look like a collapse. */
Test(report, a_steady_voltage_spans_at_least_the_minimum)
{
	static struct series s;
	static struct plot p;
	const double red[3] = { 1, 0, 0 };
	struct plot_clip clip;
	double lo, hi;

	flat_with_spike(&s, 3.2, 0.001, 0);
	p = (struct plot){ .x_unit_ns = (double)RIG_NS_PER_H };
	cr_assert_not_null(plot_add_series(&p, &s, 1, "voltage", red));
	plot_clipped(&p, &lo, &hi, &clip);
	cr_assert_lt(hi - lo, 0.05, "without a minimum the axis is the noise's (%g V)", hi - lo);
	p.y_min_span = 0.2;
	plot_clipped(&p, &lo, &hi, &clip);
	cr_assert_geq(hi - lo, 0.2 - 1e-12, "span %g V", hi - lo);
	cr_assert(lo < 3.199 && hi > 3.201, "the data off the axis: %g .. %g", lo, hi);
}
