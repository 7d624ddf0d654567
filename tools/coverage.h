/* The Monte Carlo of the uncertainty budgets: does the stated U (k = 2) cover
 * the truth in 95 % of runs?
 *
 * Each run draws every error the budgets name from the distribution the bench
 * file states for it (the fluid's temperature and the air's density, the
 * evaporation, the balance's span, linearity and zero drift, the flow
 * sensor's, pressure sensor's and power monitor's offset and gain, the time
 * base, and the balance's linearity period, log-uniform from 5 to 100 mg; the
 * pump's rate error, uniform within the device's accuracy tolerance, which
 * the bolus and released-bolus budgets name for the basal they take away (and
 * its strokes then fall at no fixed phase against the readings); for the reservoir sequence the refill's weighing,
 * normal within the step's mass_uncertainty, and the pump's reading error,
 * uniform within +-0.3 mL), gives the drawn values to the simulated bench as
 * its true physics,
 * runs the shipped sequences in-process in virtual time, judges each run
 * from its record alone (results_analyse, as rig report does), and sets
 * every measured value against what the simulator was told (sim_model_truth,
 * watched through the engine's observer).  Measured value and truth are
 * compared: |measured - truth| <= U or not.
 *
 * Used by tools/bench_coverage.c (the benchmark: 200 runs and more) and by
 * tests/test_coverage.c (a small fixed set of seeds). */
#ifndef RIG_TOOLS_COVERAGE_H
#define RIG_TOOLS_COVERAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The shipped sequences the runs go through. */
enum {
	COV_DOSE_MIN = 1u << 0,     /* sequences/dose-accuracy-min.cfg */
	COV_DOSE_NOMINAL = 1u << 1, /* sequences/dose-accuracy.cfg */
	COV_DOSE_MAX = 1u << 2,     /* sequences/dose-accuracy-max.cfg */
	COV_FLOW = 1u << 3,         /* sequences/trumpet.cfg */
	COV_OCCLUSION = 1u << 4,    /* sequences/occlusion.cfg */
	COV_BATTERY = 1u << 5,      /* sequences/battery.cfg */
	COV_BOLUS = 1u << 6,        /* sequences/bolus.cfg */
	COV_RESERVOIR = 1u << 7,    /* sequences/reservoir.cfg */
	COV_ALL = (1u << 8) - 1,
};

struct cov_opts {
	const char *src_dir;        /* the source tree (sequences/, fixtures/) */
	const char *bench_path;     /* the stated bench (default fixtures/bench/sim.cfg) */
	const char *dut_path;       /* default fixtures/dut/itp-40.cfg */
	uint64_t seed;              /* run i uses seed + i, for its draws and its noise */
	unsigned runs;
	unsigned jobs;              /* processes in parallel (at least 1) */
	unsigned sequences;         /* COV_* */
	/* the alarm line taken off the bench: the pump's alarm is then seen in
	 * its status, polled once a second */
	bool no_alarm_line;
	/* the balance drawn without its deviation from linearity (which the
	 * bench file states only as a reading uncertainty): what that curve
	 * does to a figure, seen by its absence */
	bool no_linearity;
	FILE *verbose;              /* one line per measurement of every run, or NULL */
};

/* One measured quantity over every run. */
struct cov_stat {
	char check[24];             /* the sequence's label: "dose_min", "flow", ... */
	char name[48];              /* the measurement: "dose_error", "Ep_max_2min" */
	char unit[16];
	unsigned n;                 /* runs that measured it with a U */
	unsigned covered;           /* |measured - truth| <= U */
	double sum_z2;              /* sum of ((measured - truth) / (U / 2))^2 */
	double sum_z;               /* sum of (measured - truth) / (U / 2) */
	double max_ratio;           /* the largest |measured - truth| / U */
};

struct cov_report {
	struct cov_stat *stats;
	size_t n;
	unsigned runs;
	unsigned failed;            /* sequence runs that did not complete */
	char first_failure[256];
};

/* Runs the Monte Carlo; 0, or a negative errno with err set. */
int cov_run(const struct cov_opts *o, struct cov_report *ret, char *err, size_t err_len);
void cov_report_free(struct cov_report *r);
/* The stat of one measurement, or NULL. */
const struct cov_stat *cov_find(const struct cov_report *r, const char *check, const char *name);
/* Coverage in % and its binomial standard deviation. */
double cov_coverage_pct(const struct cov_stat *s);
double cov_binomial_sd_pct(const struct cov_stat *s);
/* The table the benchmark prints. */
void cov_print(const struct cov_report *r, FILE *out);

#endif
