/* Benchmark: analysis throughput and memory against record length.
 *
 *   build/bench_analysis [SAMPLES]
 *
 * Writes a synthetic run directory (a balance read every second at a steady
 * 0.9 mL/h with noise, one dose-accuracy and one flow-accuracy check over the
 * whole record) under $TMPDIR, then judges it with results_analyse in a
 * child process and prints samples per second and the child's peak resident
 * memory.  Without an argument it does this for 1 million and 10 million
 * samples, so the two peaks can be compared: the analysis streams, so the
 * peak must not grow with the record.  Run it from the source tree's top
 * directory (it copies the shipped bench and device files). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rig/base/record.h"
#include "rig/judge/results.h"

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int copy(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");

	if (!in || !out) {
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out);
}

/* A small deterministic generator for the balance noise. */
static double noise(unsigned long long *state)
{
	double s = 0;

	for (int i = 0; i < 4; i++) {
		*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
		s += (double)(*state >> 11) / 9007199254740992.0 - 0.5;
	}
	return s * 0.02e-3;   /* about 0.02 mg */
}

static int make_run(const char *dir, long n)
{
	char path[4096 + 64];
	FILE *f;
	unsigned long long rng = 1;
	long long end_ns = (long long)n * 1000000000LL;

	snprintf(path, sizeof(path), "%s/inputs", dir);
	if (mkdir(dir, 0755) != 0 || mkdir(path, 0755) != 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/inputs/bench.cfg", dir);
	if (copy("fixtures/bench/sim.cfg", path) != 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/inputs/device.cfg", dir);
	if (copy("fixtures/dut/itp-40.cfg", path) != 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/inputs/sequence.cfg", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "sequence = { id = \"BENCH\"; version = \"1\"; title = \"analysis benchmark\";\n"
		   "  steps = (\n"
		   "    { step = \"set_rate\"; rate = \"0.9 mL/h\"; },\n"
		   "    { step = \"mark\"; window = \"all\"; edge = \"begin\"; },\n"
		   "    { step = \"hold\"; duration = \"%ld s\"; },\n"
		   "    { step = \"mark\"; window = \"all\"; edge = \"end\"; },\n"
		   "    { step = \"check\"; check = \"dose_accuracy\"; window = \"all\"; },\n"
		   "    { step = \"check\"; check = \"flow_accuracy\"; window = \"all\"; }\n"
		   "  );\n};\n", n);
	fclose(f);
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "{\"t_ns\":0,\"event\":\"rate\",\"rate_ml_per_h\":0.9}\n"
		   "{\"t_ns\":60000000000,\"event\":\"mark\",\"window\":\"all\",\"edge\":\"begin\"}\n"
		   "{\"t_ns\":%lld,\"event\":\"mark\",\"window\":\"all\",\"edge\":\"end\"}\n"
		   "{\"t_ns\":%lld,\"event\":\"run_end\",\"status\":\"completed\",\"reason\":\"\"}\n",
		end_ns - 60000000000LL, end_ns);
	fclose(f);
	snprintf(path, sizeof(path), "%s/samples.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "t_ns,role,quantity,value,unit,flags\n");
	for (long i = 0; i < n; i++) {
		/* 0.9 mL/h of water: 0.25 uL strokes each second, read as mass */
		double mass_g = i * 0.25e-3 * 0.99715 + noise(&rng);

		char v[SAMPLE_VALUE_TEXT_MAX];

		/* as the recorder writes a reading of a 1 ug balance */
		sample_value_format(v, sizeof(v), round(mass_g * 1e6) / 1e6);
		fprintf(f, "%ld,scale,mass,%s,g,\n", i * 1000000000L, v);
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

static int measure(long n)
{
	char dir[4000];
	const char *tmp = getenv("TMPDIR");
	double t0, t1;
	pid_t pid;
	int status;
	struct rusage ru;

	snprintf(dir, sizeof(dir), "%s/pumprig-bench-analysis-%ld-%d", tmp ? tmp : "/tmp", n,
		 (int)getpid());
	t0 = wall_s();
	if (make_run(dir, n) < 0) {
		fprintf(stderr, "bench_analysis: cannot write %s (run from the source tree's top)\n",
			dir);
		return 1;
	}
	t1 = wall_s();
	printf("samples            %ld (record written in %.1f s)\n", n, t1 - t0);
	fflush(stdout);
	t0 = wall_s();
	pid = fork();
	if (pid == 0) {
		struct run_results *res;
		char err[512];

		if (results_analyse(dir, &res, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_analysis: %s\n", err);
			_exit(1);
		}
		printf("  dose error       %+.4f %%, flow A %+.4f %%\n", res->checks[0].measured,
		       res->checks[1].measured);
		results_free(res);
		fflush(stdout);
		_exit(0);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return 1;
	t1 = wall_s();
	printf("  analysis         %.2f s, %.2f million samples/s\n", t1 - t0, n / (t1 - t0) / 1e6);
	printf("  peak memory      %ld KiB (the analysing process)\n", ru.ru_maxrss);
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_analysis: could not remove %s\n", dir);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		char *end;
		long n = strtol(argv[1], &end, 10);

		if (*end || n < 1000) {
			fprintf(stderr, "usage: bench_analysis [SAMPLES >= 1000]\n");
			return 2;
		}
		return measure(n);
	}
	return measure(1000000) || measure(10000000);
}
