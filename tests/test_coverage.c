/* The Monte Carlo of the uncertainty budgets, small: does each check's stated
 * U (k = 2) cover the truth the simulated bench was given?
 *
 * The benchmark (build/bench_coverage, README) runs 200 draws of every error
 * per check kind and asks for 95 +- 3 %.  Twenty draws cannot tell 95 % from
 * 90 %, so this test asks what twenty can tell: every run completes, every
 * measurement with a U is compared, none is covered in fewer than 15 of 20
 * runs (a budget missing its dominant term covers about half), and the
 * errors scaled by U/2 have an rms near 1: for each measurement between
 * 0.6 and 1.7, over a check's measurements together between 0.5 and 1.4.
 * An rms from twenty runs scatters by about a sixth of itself, so a right
 * budget (1) stays above 0.6 but for a 1-in-100 draw; one twice too wide
 * (0.5) falls below in nearly every draw of twenty seeds (the dose error's
 * U doubled: 0.55 and 0.58 on these seeds), and one missing a term that
 * matters goes above 1.7. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../tools/coverage.h"

#define RUNS 20

static struct cov_report rep;

static void run_mc(unsigned sequences)
{
	struct cov_opts o = { .src_dir = RIG_SOURCE_DIR, .seed = 1000, .runs = RUNS, .jobs = 2,
			      .sequences = sequences };
	char err[512] = "";

	cr_assert_eq(cov_run(&o, &rep, err, sizeof(err)), 0, "%s", err);
	cov_print(&rep, stderr);
	cr_assert_eq(rep.failed, 0, "%u runs failed; the first: %s", rep.failed, rep.first_failure);
}

static void judge(const char *check, size_t min_stats)
{
	double sum_z2 = 0;
	size_t n_stats = 0, n = 0;

	for (size_t i = 0; i < rep.n; i++) {
		const struct cov_stat *s = &rep.stats[i];

		if (strcmp(s->check, check) || s->n == 0)
			continue;
		n_stats++;
		cr_assert_eq(s->n, RUNS, "%s %s compared in %u of %d runs", check, s->name, s->n, RUNS);
		cr_assert(s->covered >= 15, "%s %s: U covered the truth in %u of %u runs only",
			  check, s->name, s->covered, s->n);
		cr_assert(sqrt(s->sum_z2 / s->n) >= 0.6 && sqrt(s->sum_z2 / s->n) <= 1.7,
			  "%s %s: rms of error/(U/2) %.2f", check, s->name, sqrt(s->sum_z2 / s->n));
		sum_z2 += s->sum_z2;
		n += s->n;
	}
	cr_assert(n_stats >= min_stats, "%s: %zu measurements with U compared, expected %zu",
		  check, n_stats, min_stats);
	cr_assert(sqrt(sum_z2 / n) >= 0.5 && sqrt(sum_z2 / n) <= 1.4,
		  "%s: rms of error/(U/2) over every measurement %.2f", check, sqrt(sum_z2 / n));
}

Test(coverage, dose_accuracy_U_covers_the_drawn_truth, .timeout = 900)
{
	run_mc(COV_DOSE_NOMINAL | COV_DOSE_MAX);
	judge("dose_nominal", 4);
	judge("dose_max", 4);
	cov_report_free(&rep);
}

Test(coverage, flow_occlusion_and_battery_U_cover_the_drawn_truth, .timeout = 900)
{
	run_mc(COV_FLOW | COV_OCCLUSION | COV_BATTERY);
	judge("flow", 11);
	judge("occlusion", 3);
	judge("battery", 2);
	cov_report_free(&rep);
}

/* The boluses: the basal taken away from each is the pump's own, drawn
 * within its accuracy tolerance; each bolus, the worst and the mean. */
Test(coverage, bolus_U_covers_the_drawn_truth, .timeout = 900)
{
	run_mc(COV_BOLUS);
	judge("bolus", 7);
	cov_report_free(&rep);
}

/* The reservoir: the refill's weighing drawn within its stated uncertainty
 * and the pump's reading error anywhere within +-0.3 mL; the reading after
 * the refill and the farthest, and what was left at each alarm. */
Test(coverage, reservoir_U_covers_the_drawn_truth, .timeout = 900)
{
	run_mc(COV_RESERVOIR);
	judge("reservoir", 4);
	cov_report_free(&rep);
}
