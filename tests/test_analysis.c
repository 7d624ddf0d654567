/* The gravimetric chain and the flow analysis against values computed
 * independently: DESIGN.md's published check values, and reference data sets
 * (tests/data/analysis/, made and solved by make_reference.py beside them
 * straight from the definitions: see its opening comment). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "rng.h"
#include "rig/analysis/flow.h"
#include "rig/analysis/gravimetric.h"
#include "rig/analysis/uncertainty.h"

Test(gravimetric, tanaka_density_check_values)
{
	cr_assert(fabs(water_density_kg_per_m3(20) - 998.2067) < 5e-5);
	cr_assert(fabs(water_density_kg_per_m3(25) - 997.0470) < 5e-5);
	cr_assert(fabs(water_density_kg_per_m3(37) - 993.33) < 5e-3);
}

Test(gravimetric, buoyancy_factor_check_value)
{
	double f = buoyancy_ml_per_g(water_density_kg_per_m3(20), 1.2, 8000);

	cr_assert(fabs(f - 1.0028518) < 5e-8, "%.9f", f);
	/* in vacuum it is just 1/density */
	cr_assert_float_eq(buoyancy_ml_per_g(1000, 0, 8000), 1.0, 1e-15);
}

Test(gravimetric, least_squares_slope_and_its_uncertainty)
{
	struct linfit fit;
	double slope, u;

	linfit_init(&fit);
	cr_assert_eq(linfit_slope(&fit, &slope, &u), -ENODATA);
	for (int i = 0; i < 10; i++)
		linfit_add(&fit, i * RIG_NS_PER_MIN * 30, 5.0 - 0.25 * i * 0.5);   /* -0.25 g/h */
	cr_assert_eq(linfit_slope(&fit, &slope, &u), 0);
	cr_assert_float_eq(slope, -0.25, 1e-12);
	cr_assert(u < 1e-9);
	/* alternating +-1 mg about the line: the slope is unbiased, and its
	 * uncertainty reflects the scatter */
	linfit_init(&fit);
	for (int i = 0; i < 240; i++)
		linfit_add(&fit, i * 30 * RIG_NS_PER_S, 1.0 - 0.05e-3 * i * 30 / 3600 +
						    (i % 2 ? 1e-3 : -1e-3));
	cr_assert_eq(linfit_slope(&fit, &slope, &u), 0);
	cr_assert(fabs(slope - -0.05e-3) < 3 * u, "%g +- %g", slope, u);
	/* residual sigma 1 mg over 240 points spread evenly across 2 h:
	 * Sxx = 240 * (2 h)^2 / 12 = 80 h^2, u = 1 mg / sqrt(80 h^2) */
	cr_assert(fabs(u / (1e-3 / sqrt(80)) - 1) < 0.05, "u = %g", u);
}

Test(gravimetric, a_negative_step_is_reported_once_and_noise_never)
{
	struct mass_step_detector d;
	struct mass_step step;
	int found = 0;

	/* 10 mg per reading with +-0.3 mg of noise; 5 mg taken out at reading
	 * 50: the mass still rises, but 5 mg less than the trend says */
	mass_step_init(&d, 1e-3);
	for (int i = 0; i < 100; i++) {
		double m = 0.01 * i + (i % 3 ? 0.3e-3 : -0.3e-3) - (i >= 50 ? 5e-3 : 0);

		if (mass_step_add(&d, i * 30 * RIG_NS_PER_S, m, &step) == 1) {
			found++;
			cr_assert_eq(step.t_before_ns, 49 * 30 * RIG_NS_PER_S);
			cr_assert_eq(step.t_after_ns, 50 * 30 * RIG_NS_PER_S);
			cr_assert(fabs(step.expected_change_g - 0.01) < 1e-3);
		}
	}
	cr_assert_eq(found, 1);

	/* a stop (flow falls to nothing) after a reset is no step; one
	 * single positive spike (a released bolus) does not make the next
	 * normal interval look like a fall */
	mass_step_init(&d, 1e-3);
	found = 0;
	for (int i = 0; i < 100; i++) {
		double m = i < 40 ? 0.01 * i : 0.4 + (i >= 60 ? 0.02 : 0);

		if (i == 40)
			mass_step_reset(&d);
		found += mass_step_add(&d, i * 30 * RIG_NS_PER_S, m, &step);
	}
	cr_assert_eq(found, 0);
}

/* IEC 60601-2-24 window counts for T = 60 min, S = 0.5 min (DESIGN.md):
 * 119, 117, 111, 99, 83, 59 for P = 1, 2, 5, 11, 19, 31 min. */
Test(flow, window_counts_check_values)
{
	static const int minutes[] = { 1, 2, 5, 11, 19, 31 }, counts[] = { 119, 117, 111, 99, 83, 59 };
	struct flow_cfg cfg = {
		.t_begin_ns = 0, .t_end_ns = 60 * RIG_NS_PER_MIN, .sample_interval_ns = 30 * RIG_NS_PER_S,
		.n_windows = 6, .rate_ml_per_h = 1, .ml_per_g = 1, .max_gap_ns = 90 * RIG_NS_PER_S,
	};
	struct flow_state *st;
	struct flow_result r;

	for (int i = 0; i < 6; i++)
		cfg.window_ns[i] = minutes[i] * RIG_NS_PER_MIN;
	cr_assert_eq(flow_new(&cfg, &st), 0);
	for (int s = 0; s <= 3600; s += 30)
		flow_add(st, s * RIG_NS_PER_S, s / 3600.0);   /* exactly 1 mL/h */
	cr_assert_eq(flow_finish(st, &r), 0);
	cr_assert_eq(r.n_intervals, 120);
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(r.windows[i].n_windows, (size_t)counts[i], "P = %d min", minutes[i]);
		cr_assert(fabs(r.windows[i].ep_max_pct) < 1e-9 && fabs(r.windows[i].ep_min_pct) < 1e-9);
	}
	cr_assert(fabs(r.mean_error_pct) < 1e-9);
	flow_free(st);
}

Test(flow, refuses_windows_that_are_not_whole_intervals)
{
	struct flow_cfg cfg = {
		.t_begin_ns = 0, .t_end_ns = RIG_NS_PER_H, .sample_interval_ns = 30 * RIG_NS_PER_S,
		.n_windows = 1, .window_ns = { 45 * RIG_NS_PER_S }, .rate_ml_per_h = 1, .ml_per_g = 1,
	};
	struct flow_state *st;

	cr_assert_eq(flow_new(&cfg, &st), -EINVAL);
	cfg.window_ns[0] = 2 * RIG_NS_PER_H;
	cr_assert_eq(flow_new(&cfg, &st), -EINVAL);
}

/* key -> value from CASE.expected */
static double expected(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", key);
	p = strstr(text, pat);
	if (!p && strncmp(text, pat + 1, strlen(pat + 1)) == 0)
		p = text - 1;
	cr_assert_not_null(p, "no %s in the expected values", key);
	return strtod(p + strlen(pat), NULL);
}

static void close_rel(double got, double want, const char *what)
{
	cr_assert(fabs(got - want) <= 1e-9 * fmax(1, fabs(want)), "%s: %.17g, expected %.17g", what,
		  got, want);
}

static void reference_case(const char *name)
{
	static const int minutes[] = { 1, 2, 5, 11, 19, 31 };
	char rel[128], *path, *exp_text, *csv, *line, *save;
	struct flow_cfg cfg = {
		.sample_interval_ns = 30 * RIG_NS_PER_S, .n_windows = 6, .rate_ml_per_h = 0.9,
		.ml_per_g = 1.0028517905751855, .evaporation_g_per_h = 0.05e-3,
		.max_gap_ns = 90 * RIG_NS_PER_S,
	};
	struct flow_state *st;
	struct flow_result r;
	struct mass_step_detector det;
	struct mass_step step;
	int steps = 0;
	rig_ns step_at = 0;

	mass_step_init(&det, 0.5e-3);
	snprintf(rel, sizeof(rel), "tests/data/analysis/%s.expected", name);
	path = th_src(rel);
	exp_text = th_read_file(path);
	free(path);
	snprintf(rel, sizeof(rel), "tests/data/analysis/%s.csv", name);
	path = th_src(rel);
	csv = th_read_file(path);
	free(path);
	cr_assert_not_null(exp_text);
	cr_assert_not_null(csv);
	cfg.t_begin_ns = (rig_ns)expected(exp_text, "t_begin_ns");
	cfg.t_end_ns = (rig_ns)expected(exp_text, "t_end_ns");
	for (int i = 0; i < 6; i++)
		cfg.window_ns[i] = minutes[i] * RIG_NS_PER_MIN;
	cr_assert_eq(flow_new(&cfg, &st), 0);
	for (line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		long long t = strtoll(line, &end, 10);

		cr_assert_eq(*end, ',');
		flow_add(st, t, strtod(end + 1, NULL));
		if (mass_step_add(&det, t, strtod(end + 1, NULL), &step) == 1) {
			steps++;
			step_at = step.t_after_ns;
		}
	}
	/* only the disturbed vessel (5 mg taken at 4000 s) shows a negative step */
	if (strcmp(name, "disturbed") == 0) {
		cr_assert_eq(steps, 1);
		cr_assert_eq(step_at, 4020 * RIG_NS_PER_S);
	} else {
		cr_assert_eq(steps, 0, "%s: %d negative steps", name, steps);
	}
	cr_assert_eq(flow_finish(st, &r), 0);
	cr_assert_eq(r.n_intervals, (size_t)expected(exp_text, "n_intervals"));
	cr_assert_eq(r.n_missing, (size_t)expected(exp_text, "n_missing"));
	close_rel(r.mean_rate_ml_per_h, expected(exp_text, "mean_rate_ml_per_h"), "mean rate");
	close_rel(r.mean_error_pct, expected(exp_text, "A_pct"), "A");
	for (int i = 0; i < 6; i++) {
		char key[32];

		snprintf(key, sizeof(key), "windows_%dmin", minutes[i]);
		cr_assert_eq(r.windows[i].n_windows, (size_t)expected(exp_text, key), "%s", key);
		snprintf(key, sizeof(key), "skipped_%dmin", minutes[i]);
		cr_assert_eq(r.windows[i].n_skipped, (size_t)expected(exp_text, key), "%s", key);
		if (r.windows[i].n_windows == 0)
			continue;
		snprintf(key, sizeof(key), "ep_max_%dmin", minutes[i]);
		close_rel(r.windows[i].ep_max_pct, expected(exp_text, key), key);
		snprintf(key, sizeof(key), "ep_min_%dmin", minutes[i]);
		close_rel(r.windows[i].ep_min_pct, expected(exp_text, key), key);
		/* the extremes kept: the largest and smallest, in order */
		{
			const struct flow_window_result *w = &r.windows[i];
			size_t want = w->n_windows < FLOW_EXTREMES_KEPT ? w->n_windows : FLOW_EXTREMES_KEPT;

			cr_assert_eq(w->n_kept, want);
			cr_assert_eq(w->top_pct[0], w->ep_max_pct);
			cr_assert_eq(w->bottom_pct[0], w->ep_min_pct);
			for (size_t k = 1; k < w->n_kept; k++)
				cr_assert(w->top_pct[k] <= w->top_pct[k - 1] &&
					  w->bottom_pct[k] >= w->bottom_pct[k - 1], "%s: not in order", key);
			cr_assert_eq(flow_windows_near(w, true, INFINITY), w->n_windows);
			cr_assert_geq(flow_windows_near(w, false, 0), 1);
		}
	}
	flow_free(st);
	free(exp_text);
	free(csv);
}

Test(flow, the_windows_near_an_extreme_are_counted_up_to_what_was_kept)
{
	struct flow_window_result w = { .n_windows = 200, .n_kept = FLOW_EXTREMES_KEPT };

	for (size_t k = 0; k < FLOW_EXTREMES_KEPT; k++) {
		w.top_pct[k] = 5.0 - 0.1 * (double)k;      /* 5.0, 4.9, 4.8, ... */
		w.bottom_pct[k] = -1.0 + 0.5 * (double)k;  /* -1.0, -0.5, 0.0, ... */
	}
	cr_assert_eq(flow_windows_near(&w, true, 0.25), 3);      /* 5.0, 4.9, 4.8 */
	cr_assert_eq(flow_windows_near(&w, false, 0.25), 1);     /* -1.0 alone */
	cr_assert_eq(flow_windows_near(&w, false, 1.0), 3);
	/* every kept one near: the rest may be too, so all windows count */
	cr_assert_eq(flow_windows_near(&w, true, 100), 200);
}

Test(flow, reference_clean_pulsatile_delivery) { reference_case("clean"); }
Test(flow, reference_with_balance_noise) { reference_case("noisy"); }
Test(flow, reference_disturbed_vessel) { reference_case("disturbed"); }
Test(flow, reference_ten_minutes_of_missing_readings) { reference_case("missing"); }
Test(flow, reference_run_cut_short) { reference_case("cut_short"); }

/* The two coverage helpers of rig/analysis/uncertainty.h against a seeded
 * Monte Carlo, not their own formulas: the 95th percentile of the largest
 * |error| of m normal errors, and of a rectangular plus a normal error. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile95(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)(0.95 * (double)n)];
}

/* extreme_common_u against an independent Monte Carlo of what it claims:
 * m values, each measured with its own error and one error shared by all;
 * the measured maximum against the true one misses U in at most about 5 %
 * of draws, whether the true values are all alike (the extreme is any of
 * them) or one stands far above the rest (it is that one, with one error),
 * and in about 5 % where the bound is tight (m = 1, or all alike with the
 * own error dominating). */
Test(uncertainty, the_extreme_with_a_shared_error_is_covered_95_percent_in_a_monte_carlo)
{
	enum { N = 20000 };
	static const struct { size_t m; double own, shared; bool one_stands_out; double lo, hi; } cases[] = {
		{ 1, 1, 1, false, 0.043, 0.057 },
		{ 117, 1, 0, false, 0.040, 0.056 },
		{ 117, 1, 1, false, 0.030, 0.056 },
		{ 59, 0.3, 1, false, 0.030, 0.056 },
		{ 117, 1, 0.5, true, 0.000, 0.056 },
	};
	struct rng r = { 77 };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		double u = extreme_common_u(cases[k].m, cases[k].own, cases[k].shared);
		size_t miss = 0;

		for (size_t i = 0; i < N; i++) {
			double c = cases[k].shared * rng_gauss(&r), best = -INFINITY, truth = 0;

			for (size_t j = 0; j < cases[k].m; j++) {
				double t = cases[k].one_stands_out && j == 0 ? 50 : 0;

				truth = fmax(truth, t);
				best = fmax(best, t + cases[k].own * rng_gauss(&r) + c);
			}
			miss += fabs(best - truth) > u;
		}
		cr_assert(miss >= cases[k].lo * N && miss <= cases[k].hi * N,
			  "case %zu (m = %zu, own %g, shared %g): U = %.4f missed in %.2f %% of %d",
			  k, cases[k].m, cases[k].own, cases[k].shared, u, 100.0 * miss / N, N);
	}
}

Test(uncertainty, coverage_factors_hold_95_percent_in_a_monte_carlo)
{
	enum { N = 40000 };
	static const size_t ms[] = { 1, 10, 100 };
	static const double ratios[] = { 0.2, 1, 5 };   /* a / sigma */
	double *v = malloc(N * sizeof(*v));
	struct rng r = { 2026 };

	cr_assert_not_null(v);
	for (size_t k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
		double want;

		for (size_t i = 0; i < N; i++) {
			double worst = 0;

			for (size_t j = 0; j < ms[k]; j++)
				worst = fmax(worst, fabs(rng_gauss(&r)));
			v[i] = worst;
		}
		want = percentile95(v, N);
		/* the percentile's own scatter at N = 40 000 is under 1 % */
		cr_assert(fabs(extreme_coverage_factor(ms[k]) - want) < 0.02 * want,
			  "m = %zu: factor %.4f, Monte Carlo %.4f", ms[k],
			  extreme_coverage_factor(ms[k]), want);
	}
	for (size_t k = 0; k < sizeof(ratios) / sizeof(ratios[0]); k++) {
		double a = ratios[k], want;

		for (size_t i = 0; i < N; i++)
			v[i] = fabs(a * (2 * rng_uniform(&r) - 1) + rng_gauss(&r));
		want = percentile95(v, N);
		cr_assert(fabs(coverage95_rect_normal(a, 1) - want) < 0.02 * want,
			  "a = %.1f sigma: U %.4f, Monte Carlo %.4f", a, coverage95_rect_normal(a, 1),
			  want);
	}
	free(v);
}
