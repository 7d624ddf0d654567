/* Benchmark of the dashboard at lab scale: a site generated from 10 000
 * runs (ten benches, one pump each, 1000 nights, ten checks a run, each
 * with a report) and their 10 000 nights, on SQLite, and on PostgreSQL when
 * a store's text is given (tools/pg-scratch starts one).  The run and night
 * directories are written once and reused with --keep; the store is filled
 * again each time (import, as rig history import does).
 *
 *   ./build/bench_dashboard [--runs N] [--postgresql URI] [--keep DIR]
 *
 * Goal (issue "The lab's morning view"): the site generated in under 5 s,
 * the front page under 1 MB. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/history_synth.h"
#include "rig/dashboard/dashboard.h"
#include "rig/history/history.h"

#define BENCHES 10
#define REPEATS 5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int fill(struct history *h, char **runs, char **nights, size_t n)
{
	struct history_ingest_result res[64];
	char err[512];
	size_t i, k;
	double t0 = now_s();
	json_t *have = NULL, *have_nights = NULL;

	/* a store kept from before (--keep) that has them all is used as it is */
	if (history_list(h, NULL, &have, err, sizeof(err)) == 0 &&
	    history_nights(h, NULL, &have_nights, err, sizeof(err)) == 0 &&
	    json_array_size(have) == n && json_array_size(have_nights) == n) {
		printf("  the store has the %zu runs and nights already\n", n);
		json_decref(have);
		json_decref(have_nights);
		return 0;
	}
	json_decref(have);
	json_decref(have_nights);

	for (i = 0; i < n; i += 64) {
		size_t m = n - i < 64 ? n - i : 64;

		if (history_ingest_run_dirs(h, (const char *const *)runs + i, m, res, err,
					    sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", runs[i], err);
			return 1;
		}
		for (k = 0; k < m; k++)
			if (res[k].outcome == HISTORY_REFUSED) {
				fprintf(stderr, "%s: %s\n", runs[i + k], res[k].reason);
				return 1;
			}
	}
	printf("  stored %zu runs in %.1f s\n", n, now_s() - t0);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (history_ingest_night_dir(h, nights[i], &res[0], err, sizeof(err)) < 0 ||
		    res[0].outcome == HISTORY_REFUSED) {
			fprintf(stderr, "%s: %s %s\n", nights[i], err, res[0].reason);
			return 1;
		}
	}
	history_after_bulk(h, n);   /* as import and sync end */
	printf("  stored %zu nights in %.1f s (one transaction each, as rig nightly does)\n", n,
	       now_s() - t0);
	return 0;
}

static int bench_store(const char *engine, const char *uri, const char *root, char **runs,
		       char **nights, size_t n)
{
	struct dashboard_opts o = { 0 };
	struct dashboard_result res = { 0 };
	struct history *h;
	double t[REPEATS], c[REPEATS], rd[REPEATS], wr[REPEATS];
	char err[1024], out[1200];
	size_t i;

	if (history_open(uri, &h, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s (%s)\n", engine, uri);
	if (fill(h, runs, nights, n) != 0)
		return 1;
	snprintf(out, sizeof(out), "%s/site-%s", root, engine);
	o.out_dir = out;
	for (i = 0; i < REPEATS; i++) {
		double t0 = now_s(), c0 = cpu_s();

		if (dashboard_generate(h, &o, &res, err, sizeof(err)) < 0) {
			fprintf(stderr, "dashboard: %s\n", err);
			return 1;
		}
		t[i] = now_s() - t0;
		c[i] = cpu_s() - c0;
		rd[i] = res.read_s;
		wr[i] = res.write_s;
	}
	qsort(t, REPEATS, sizeof(double), cmp_double);
	qsort(c, REPEATS, sizeof(double), cmp_double);
	qsort(rd, REPEATS, sizeof(double), cmp_double);
	qsort(wr, REPEATS, sizeof(double), cmp_double);
	printf("  dashboard of %zu runs, %zu nights, %zu devices, %zu benches, %zu open flags:\n"
	       "    %zu pages, %.1f MB in all; front page %.0f kB%s\n"
	       "    best %.2f s, median %.2f s, worst %.2f s (CPU here %.2f s; reading the store "
	       "%.2f s, writing the pages %.2f s, medians)%s\n",
	       res.runs, res.nights, res.devices, res.benches, res.open_flags, res.pages,
	       res.total_bytes / 1e6, res.front_bytes / 1e3,
	       res.front_bytes < 1000000 ? "" : "  (over 1 MB)", t[0], t[REPEATS / 2],
	       t[REPEATS - 1], c[REPEATS / 2], rd[REPEATS / 2], wr[REPEATS / 2],
	       t[REPEATS / 2] < 5 ? "" : "  (median over 5 s)");
	history_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	const char *pg = NULL, *keep = NULL;
	size_t n = 10000, i;
	char root[1024], dir[2048], **runs, **nights, cmd[1200];
	double t0;
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
		snprintf(root, sizeof(root), "%s/bench_dashboard-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!keep && !mkdtemp(root)) {
		perror(root);
		return 1;
	}
	/* ROOT/runs holds the runs, ROOT/runs/nights the nights, as rig nightly lays them */
	snprintf(cmd, sizeof(cmd), "%s/runs", root);
	snprintf(dir, sizeof(dir), "%s/runs/nights", root);
	if ((mkdir(root, 0755) != 0 && errno != EEXIST) || (mkdir(cmd, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) != 0 && errno != EEXIST)) {
		perror(root);
		return 1;
	}
	runs = calloc(n, sizeof(*runs));
	nights = calloc(n, sizeof(*nights));
	t0 = now_s();
	for (i = 0; i < n; i++) {
		char id[64], started[32], path[4096], compact[32];
		size_t b, night, k, o = 0;
		struct stat st;

		synth_lab_identity(i, BENCHES, &b, &night, id, started);
		snprintf(path, sizeof(path), "%s/runs/%s", root, id);
		if (stat(path, &st) != 0 &&
		    synth_lab_run(cmd, i, BENCHES, true, path, sizeof(path)) < 0) {
			fprintf(stderr, "%s: could not make the run\n", path);
			return 1;
		}
		runs[i] = strdup(path);
		for (k = 0; started[k]; k++)
			if (started[k] != '-' && started[k] != ':')
				compact[o++] = started[k];
		compact[o] = '\0';
		snprintf(path, sizeof(path), "%s/%s-NIGHT-BENCH-%02zu", dir, compact, b);
		if (stat(path, &st) != 0 && synth_lab_night(dir, i, BENCHES, path, sizeof(path)) < 0) {
			fprintf(stderr, "%s: could not make the night\n", path);
			return 1;
		}
		nights[i] = strdup(path);
	}
	printf("%zu sealed run directories with their reports and nights (%d benches, %zu nights, "
	       "%d checks each) in %s: %.1f s\n", n, BENCHES, n / BENCHES, SYNTH_LAB_CHECKS, root,
	       now_s() - t0);
	snprintf(cmd, sizeof(cmd), "sqlite:%s/history.sqlite", root);
	r = bench_store("sqlite", cmd, root, runs, nights, n);
	if (r == 0 && pg)
		r = bench_store("postgresql", pg, root, runs, nights, n);
	for (i = 0; i < n; i++) {
		free(runs[i]);
		free(nights[i]);
	}
	free(runs);
	free(nights);
	if (!keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", root);
	}
	return r;
}
