/* Benchmark: does each check's stated uncertainty (U, k = 2) cover the truth
 * in 95 % of runs?  A seeded Monte Carlo over the simulated bench
 * (tools/coverage.h says how).
 *
 *   build/bench_coverage [--runs N] [--seed S] [--jobs J] [--only LIST]
 *                        [--bench FILE] [--dut FILE] [--no-alarm-line] [--no-linearity] [-v]
 *
 * Defaults: 200 runs of every shipped sequence (dose accuracy at the minimum,
 * nominal and maximum rate, trumpet, occlusion, battery), seeds 1..200, two
 * processes.  --only takes a comma-separated list of dose_min, dose_nominal,
 * dose_max, flow, occlusion, battery, bolus, reservoir.  Prints, for every measurement, how
 * many runs its U covered, with the binomial standard deviation of that
 * fraction; exits 1 when any is outside 95 +- 3 %.  Run it from the top of
 * the source tree.  --no-linearity draws the balance without its deviation
 * from linearity: what that curve does to a figure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coverage.h"

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned parse_only(const char *list)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "dose_min", COV_DOSE_MIN }, { "dose_nominal", COV_DOSE_NOMINAL },
		{ "dose_max", COV_DOSE_MAX }, { "flow", COV_FLOW }, { "occlusion", COV_OCCLUSION },
		{ "battery", COV_BATTERY }, { "bolus", COV_BOLUS }, { "reservoir", COV_RESERVOIR },
	};
	unsigned bits = 0;
	char *copy = strdup(list), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned b = 0;

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(t, names[i].name))
				b = names[i].bit;
		if (!b) {
			fprintf(stderr, "bench_coverage: unknown sequence '%s'; allowed: dose_min, "
				"dose_nominal, dose_max, flow, occlusion, battery\n", t);
			exit(2);
		}
		bits |= b;
	}
	free(copy);
	return bits;
}

/* uint64_t, not unsigned long: a seed up to 2^40 must parse on the 32-bit boards too */
static uint64_t number(const char *opt, const char *text, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = text ? strtoull(text, &end, 10) : 0;
	if (!text || errno || end == text || *end || v > max) {
		fprintf(stderr, "bench_coverage: %s needs a whole number up to %" PRIu64 "\n", opt, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct cov_opts o = { .src_dir = ".", .seed = 1, .runs = 200, .jobs = 2,
			      .sequences = COV_ALL };
	struct cov_report rep;
	char err[512];
	double t0;
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--runs"))
			o.runs = (unsigned)number(a, v, 100000), i++;
		else if (!strcmp(a, "--seed"))
			o.seed = number(a, v, UINT64_C(1) << 40), i++;
		else if (!strcmp(a, "--jobs"))
			o.jobs = (unsigned)number(a, v, 64), i++;
		else if (!strcmp(a, "--only") && v)
			o.sequences = parse_only(v), i++;
		else if (!strcmp(a, "--bench") && v)
			o.bench_path = v, i++;
		else if (!strcmp(a, "--dut") && v)
			o.dut_path = v, i++;
		else if (!strcmp(a, "--no-alarm-line"))
			o.no_alarm_line = true;
		else if (!strcmp(a, "--no-linearity"))
			o.no_linearity = true;
		else if (!strcmp(a, "-v"))
			o.verbose = stdout;
		else {
			fprintf(stderr, "usage: bench_coverage [--runs N] [--seed S] [--jobs J] "
				"[--only LIST] [--bench FILE] [--dut FILE] [--no-alarm-line] "
				"[--no-linearity] [-v]\n");
			return 2;
		}
	}
	if (o.jobs == 0 || o.runs == 0) {
		fprintf(stderr, "bench_coverage: --runs and --jobs must be at least 1\n");
		return 2;
	}
	t0 = wall_s();
	if (cov_run(&o, &rep, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_coverage: %s\n", err);
		return 2;
	}
	printf("%u runs (seeds %llu..%llu) of each sequence, %u process(es), %.1f s wall time\n\n",
	       o.runs, (unsigned long long)o.seed, (unsigned long long)(o.seed + o.runs - 1), o.jobs,
	       wall_s() - t0);
	cov_print(&rep, stdout);
	for (size_t i = 0; i < rep.n; i++) {
		double c = cov_coverage_pct(&rep.stats[i]);

		bad |= rep.stats[i].n > 0 && (c < 92 || c > 98);
	}
	bad |= rep.failed > 0;
	cov_report_free(&rep);
	return bad;
}
