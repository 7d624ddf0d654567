/* Benchmark of the run history store at lab scale: 10 000 runs (ten
 * benches, one pump each, 1000 nights, ten checks a run), ingested from
 * real sealed run directories through history_ingest_run_dir (the same
 * path as `rig history import`: seal check, reading the files, inserting),
 * then the queries `rig history` makes: list, compare --previous, trend
 * and watch.  On SQLite, and on PostgreSQL when a store's text is given
 * (tools/pg-scratch starts one).
 *
 *   ./build/bench_history [--runs N] [--postgresql URI] [--keep DIR]
 *
 * Goals (issue "Nightly bench runs and the run history"): ingest at least
 * 200 runs/s; every query under 100 ms. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/history_synth.h"
#include "rig/history/history.h"

#define BENCHES 10
#define CHECKS 10

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* This process's CPU time: on a machine shared with other work the wall
 * time also counts the waiting; SQLite's work is in here, PostgreSQL's
 * server is not. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 12345;

static double gauss(void)
{
	double u1, u2;

	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	u1 = (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0 + 1e-300;
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	u2 = (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static const char *const kinds[CHECKS] = {
	"dose_accuracy", "dose_accuracy", "dose_accuracy", "flow_accuracy", "occlusion",
	"occlusion", "occlusion", "battery", "dose_accuracy", "flow_accuracy",
};
static const char *const windows[CHECKS] = {
	"dose_min", "dose_nominal", "dose_max", "second_hour", "occlusion", "occlusion_low",
	"occlusion_high", "drain", "dose_bolus", "first_hour",
};

/* Writes run k (bench k % BENCHES, night k / BENCHES) under root. */
static int make_run(const char *root, size_t k, char *ret_dir, size_t len)
{
	struct synth_value v[CHECKS];
	char id[64], serial[32], bench[32], started[32];
	size_t b = k % BENCHES, night = k / BENCHES, i;
	struct tm tm = { .tm_year = 123, .tm_mon = 0, .tm_mday = 1 + (int)night, .tm_hour = 1 };
	time_t t = timegm(&tm);

	gmtime_r(&t, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(serial, sizeof(serial), "SN-%04zu", b);
	snprintf(bench, sizeof(bench), "BENCH-%02zu", b);
	snprintf(id, sizeof(id), "%s-%05zu", bench, night);
	for (i = 0; i < CHECKS; i++)
		v[i] = (struct synth_value){ kinds[i], windows[i], "value",
			/* bench 3's pump creeps from night 900 */
			0.25 * gauss() + (b == 3 && night >= 900 ? 0.1 * (double)(night - 899) : 0),
			0.05, "%", -10, 10 };
	if ((size_t)snprintf(ret_dir, len, "%s/%s", root, id) >= len)
		return -ENAMETOOLONG;
	struct synth_run s = { .run_id = id, .device_serial = serial, .sequence_id = "SEQ-QUAL",
			       .bench_id = bench, .started_utc = started, .values = v,
			       .n_values = CHECKS, .balance_noise_mg = 0.02 + 0.002 * gauss(),
			       .evaporation_mg_per_h = 0.05 + 0.002 * gauss() };
	return synth_run_dir(ret_dir, &s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define REPEATS 7

/* Times fn REPEATS times; prints the median and the worst. */
#define TIME_QUERY(label, call)                                                              \
	do {                                                                                 \
		double t_[REPEATS], c_[REPEATS];                                             \
		size_t i_;                                                                   \
		for (i_ = 0; i_ < REPEATS; i_++) {                                           \
			json_t *out_ = NULL;                                                 \
			double t0_ = now_s(), c0_ = cpu_s();                                 \
			if ((call) < 0) {                                                    \
				fprintf(stderr, "%s: %s\n", label, err);                     \
				return 1;                                                    \
			}                                                                    \
			t_[i_] = now_s() - t0_;                                              \
			c_[i_] = cpu_s() - c0_;                                              \
			json_decref(out_);                                                   \
		}                                                                            \
		qsort(t_, REPEATS, sizeof(double), cmp_double);                              \
		qsort(c_, REPEATS, sizeof(double), cmp_double);                              \
		printf("  %-44s best %6.1f ms, median %6.1f ms, worst %6.1f ms"               \
		       " (CPU here %5.1f ms)%s\n", label, t_[0] * 1e3, t_[REPEATS / 2] * 1e3,   \
		       t_[REPEATS - 1] * 1e3, c_[REPEATS / 2] * 1e3,                          \
		       t_[REPEATS / 2] < 0.1 ? "" : "  (median over 100 ms)");               \
	} while (0)

static int bench_store(const char *engine, const char *uri, char **dirs, size_t n)
{
	struct history *h;
	struct history_filter all = { .limit = 50 }, everything = { 0 },
			      device = { .device_serial = "SN-0003" };
	struct history_trend_query tq = { .device_serial = "SN-0003", .check = "dose_accuracy",
					  .window = "dose_nominal" };
	struct spc_params p;
	char err[512], prev[HISTORY_RUN_ID_MAX], last[HISTORY_RUN_ID_MAX];
	double t0, t, c0;
	size_t i, flags = 0, single;
	json_t *w = NULL;

	spc_params_default(&p);
	if (history_open(uri, &h, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s (%s)\n", engine, uri);
	/* The first tenth one run to a transaction, as each rig run forwards
	 * its own run; the rest as import and sync do, 64 to a transaction. */
	single = n / 10;
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < single; i++) {
		struct history_ingest_result res;

		if (history_ingest_run_dir(h, dirs[i], &res, err, sizeof(err)) < 0 ||
		    res.outcome != HISTORY_INGESTED) {
			fprintf(stderr, "%s: %s %s\n", dirs[i], err, res.reason);
			return 1;
		}
	}
	t = now_s() - t0;
	printf("  ingest %zu runs one by one (a commit each): %.1f s, %.0f runs/s (CPU here %.1f s)\n",
	       single, t, (double)single / t, cpu_s() - c0);
	t0 = now_s();
	c0 = cpu_s();
	for (i = single; i < n; i += 64) {
		struct history_ingest_result res[64];
		size_t m = n - i < 64 ? n - i : 64, k;

		if (history_ingest_run_dirs(h, (const char *const *)dirs + i, m, res, err,
					    sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", dirs[i], err);
			return 1;
		}
		for (k = 0; k < m; k++) {
			if (res[k].outcome != HISTORY_INGESTED) {
				fprintf(stderr, "%s: %s\n", dirs[i + k], res[k].reason);
				return 1;
			}
		}
	}
	history_after_bulk(h, n - single);   /* as import and sync end */
	t = now_s() - t0;
	printf("  ingest %zu runs 64 to a transaction (import, sync): %.1f s, %.0f runs/s"
	       " (CPU here %.1f s)%s\n", n - single, t, (double)(n - single) / t, cpu_s() - c0,
	       (double)(n - single) / t >= 200 ? "" : "  (under 200 runs/s)");
	t0 = now_s();
	for (i = 0; i < 200 && i < n; i++) {
		struct history_ingest_result res;

		history_ingest_run_dir(h, dirs[i], &res, err, sizeof(err));
	}
	printf("  ingest again (already present): %.0f runs/s\n", (double)i / (now_s() - t0));

	snprintf(last, sizeof(last), "BENCH-03-%05zu", (n - 1) / BENCHES);
	TIME_QUERY("list (newest 50)", history_list(h, &all, &out_, err, sizeof(err)));
	TIME_QUERY("list --device (1000 runs)", history_list(h, &device, &out_, err, sizeof(err)));
	TIME_QUERY("list (all 10 000 runs)", history_list(h, &everything, &out_, err, sizeof(err)));
	TIME_QUERY("show", history_show(h, last, &out_, err, sizeof(err)));
	TIME_QUERY("compare --previous",
		   (history_previous(h, last, prev, err, sizeof(err)) < 0 ? -1 :
		    history_compare(h, prev, last, &out_, err, sizeof(err))));
	TIME_QUERY("trend --device --check --window (1000 pts)",
		   history_trend(h, &tq, &p, &out_, err, sizeof(err)));
	TIME_QUERY("watch (150 series, 10 000 runs)", history_watch(h, &p, &out_, err, sizeof(err)));
	if (history_watch(h, &p, &w, err, sizeof(err)) == 0)
		flags = json_array_size(w);
	printf("  open flags: %zu (bench 3's pump creeps from night 900: its ten checks)\n", flags);
	json_decref(w);
	history_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	const char *pg = NULL, *keep = NULL;
	size_t n = 10000, i;
	char root[1024], **dirs, cmd[1200];
	double t0, c0;
	int a, r = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--runs") == 0 && a + 1 < argc)
			n = strtoul(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--postgresql") == 0 && a + 1 < argc)
			pg = argv[++a];
		else if (strcmp(argv[a], "--keep") == 0 && a + 1 < argc)
			keep = argv[++a];
		else {
			fprintf(stderr, "usage: %s [--runs N] [--postgresql URI] [--keep DIR]\n", argv[0]);
			return 2;
		}
	}
	if (n < BENCHES)
		n = BENCHES;
	if (keep)
		snprintf(root, sizeof(root), "%s", keep);
	else
		snprintf(root, sizeof(root), "%s/bench_history-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!keep && !mkdtemp(root)) {
		perror(root);
		return 1;
	}
	if (keep && mkdir(root, 0755) != 0 && errno != EEXIST) {
		perror(root);
		return 1;
	}
	dirs = calloc(n, sizeof(*dirs));
	t0 = now_s();
	for (i = 0; i < n; i++) {
		char dir[2048];
		struct stat st;

		snprintf(dir, sizeof(dir), "%s/runs", root);
		mkdir(dir, 0755);
		snprintf(dir, sizeof(dir), "%s/runs/BENCH-%02zu-%05zu", root, i % BENCHES, i / BENCHES);
		if (stat(dir, &st) != 0) {
			char runs[1100];

			snprintf(runs, sizeof(runs), "%s/runs", root);
			if (make_run(runs, i, dir, sizeof(dir)) < 0) {
				fprintf(stderr, "%s: could not make the run\n", dir);
				return 1;
			}
		}
		dirs[i] = strdup(dir);
	}
	printf("%zu sealed run directories (%d benches, %zu nights, %d checks each) in %s: %.1f s\n",
	       n, BENCHES, n / BENCHES, CHECKS, root, now_s() - t0);
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < n; i++) {
		json_t *rec;
		char reason[512];

		if (history_read_run_dir(dirs[i], &rec, reason, sizeof(reason)) < 0) {
			fprintf(stderr, "%s: %s\n", dirs[i], reason);
			return 1;
		}
		json_decref(rec);
	}
	printf("reading and checking the run directories alone (no store): %.0f runs/s"
	       " (CPU %.2f ms a run)\n", (double)n / (now_s() - t0), (cpu_s() - c0) * 1e3 / (double)n);

	snprintf(cmd, sizeof(cmd), "sqlite:%s/history.sqlite", root);
	unlink(cmd + 7);
	r = bench_store("SQLite", cmd, dirs, n);
	if (r == 0 && pg)
		r = bench_store("PostgreSQL", pg, dirs, n);
	for (i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	if (!keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", root);
	}
	return r;
}
