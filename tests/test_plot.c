/* The report's plots: the decimator keeps bounded memory and every extreme
 * through every merge; tick steps are 1, 2 or 5 times a power of ten. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reports/plot.h"

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
