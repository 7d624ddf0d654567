/* Benchmark: how much faster than real time a sequence runs on the simulated
 * bench, recording and judging included.
 *
 *   build/bench_sim [SEQUENCE [BENCH [DUT]]]
 *
 * Defaults to the shipped 24-hour dose-accuracy sequence.  Prints the
 * simulated time, the wall time of the run and of its analysis, the samples
 * recorded, and the simulated-to-wall-time ratio.  Run it from the source
 * tree's top directory. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rig/config/config.h"
#include "rig/engine/engine.h"
#include "rig/judge/results.h"
#include "rig/engine/rundir.h"

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *seq_path = argc > 1 ? argv[1] : "sequences/dose-accuracy-24h.cfg";
	const char *bench_path = argc > 2 ? argv[2] : "fixtures/bench/sim.cfg";
	const char *dut_path = argc > 3 ? argv[3] : "fixtures/dut/itp-40.cfg";
	static volatile sig_atomic_t never;
	struct diag_list diags = { 0 };
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	struct run_results *res = NULL;
	char dir[] = "/tmp/pumprig-bench-XXXXXX", run_dir[sizeof(dir) + 8], err[1024];
	double t0, t1, t2, sim_s;
	int r;

	if (seq_load(seq_path, &seq, &diags) < 0 || bench_load(bench_path, &bench, &diags) < 0 ||
	    device_load(dut_path, &dev, &diags) < 0) {
		diag_print(&diags, stderr);
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	if (rundir_create(run_dir, seq, bench, dev, argc, argv, true, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	t0 = wall_s();
	r = engine_run(&(struct engine_opts){ .seq = seq, .bench = bench, .dev = dev,
					      .run_dir = run_dir, .virtual_time = true,
					      .stop_signal = &never },
		       err, sizeof(err));
	t1 = wall_s();
	if (r < 0) {
		fprintf(stderr, "run failed: %s\n", err);
		return 3;
	}
	if (results_analyse(run_dir, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "analysis failed: %s\n", err);
		return 3;
	}
	t2 = wall_s();
	sim_s = rig_ns_to_s(res->end_t_ns);
	printf("sequence           %s (%s)\n", seq->id, seq_path);
	printf("simulated time     %.0f s (%.2f h)\n", sim_s, sim_s / 3600.0);
	printf("samples recorded   %zu\n", res->n_samples_total);
	printf("wall time run      %.3f s\n", t1 - t0);
	printf("wall time analysis %.3f s\n", t2 - t1);
	printf("sim/wall ratio     %.0f (run and analysis together)\n", sim_s / (t2 - t0));
	printf("run directory      %s\n", run_dir);
	results_free(res);
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return 0;
}
