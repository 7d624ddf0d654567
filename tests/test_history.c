/* The run history (rig/history/): the store against SQLite and against a real PostgreSQL
 * server that this suite starts (scratch_stores.h).  A PostgreSQL that
 * cannot be started fails the PostgreSQL tests with the reason; nothing is
 * skipped. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "helpers.h"
#include "rng.h"
#include "history_synth.h"
#include "scratch_stores.h"
#include "rig/history/history.h"

/* A synthetic run of `serial` on `bench`, night `night` (from 2026-01-01),
 * with one dose-accuracy value. */
static char *night_run(const char *root, const char *serial, const char *bench,
		       const char *sequence, int night, double dose_error)
{
	struct synth_value v = { "dose_accuracy", "steady", "dose_error", dose_error, 0.05, "%",
				 -10, 10 };
	char *dir, id[128], started[32];
	struct tm tm = { .tm_year = 126, .tm_mon = 0, .tm_mday = 1 + night, .tm_hour = 2 };
	time_t t = timegm(&tm);

	gmtime_r(&t, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(id, sizeof(id), "%s-%s-%s-%03d", serial, bench, sequence, night);
	if (asprintf(&dir, "%s/%s", root, id) < 0)
		abort();
	struct synth_run s = { .run_id = id, .device_serial = serial, .sequence_id = sequence,
			       .bench_id = bench, .started_utc = started, .values = &v,
			       .n_values = 1, .balance_noise_mg = 0.02,
			       .evaporation_mg_per_h = 0.05 };
	cr_assert_eq(synth_run_dir(dir, &s), 0, "%s", dir);
	return dir;
}

/* Runs stored (their newest versions), through the public API. */
static size_t count_runs(struct history *h)
{
	json_t *a = NULL;
	char err[256];
	size_t n;

	cr_assert_eq(history_list(h, NULL, &a, err, sizeof(err)), 0, "%s", err);
	n = json_array_size(a);
	json_decref(a);
	return n;
}

/* --- the same tests on both engines --- */

static void ingest_a_real_run(const char *uri)
{
	char *root = th_tmpdir(), *run, *seq = th_src("sequences/dose-accuracy.cfg");
	char *bench = th_src("fixtures/bench/sim.cfg"), *dut = th_src("fixtures/dut/itp-40.cfg");
	struct history *h = open_store(uri);
	struct history_ingest_result a, b, c;
	json_t *show = NULL, *list = NULL, *inst;
	char err[512], id[HISTORY_RUN_ID_MAX];
	size_t i;

	if (asprintf(&run, "%s/run", root) < 0)
		abort();
	cr_assert_eq(th_rig(root, (const char *const[]){ "run", seq, "--bench", bench, "--dut", dut,
							  "-o", run, "-q", NULL }), 0);
	ingest(h, run, HISTORY_INGESTED, &a);
	cr_assert_eq(a.version, 1);
	/* run.json has no run_id yet: <start>-<bench>-<digest of run.json> */
	cr_assert_eq(history_run_id_of_dir(run, id), 0);
	cr_assert_str_eq(a.run_id, id);
	cr_assert(strstr(id, "-SIM-1-") && strlen(id) == 16 + 7 + 8, "%s", id);
	ingest(h, run, HISTORY_ALREADY_PRESENT, &b);
	cr_assert_eq(b.version, 1);
	cr_assert_str_eq(b.manifest_sha256, a.manifest_sha256);

	cr_assert_eq(history_show(h, run, &show, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(json_string_value(json_object_get(show, "device_serial")), "SN-0001");
	cr_assert_str_eq(json_string_value(json_object_get(show, "device_firmware")), "1.0.0");
	cr_assert_str_eq(json_string_value(json_object_get(show, "bench_id")), "SIM-1");
	cr_assert_str_eq(json_string_value(json_object_get(show, "clock")), "virtual");
	cr_assert_str_eq(json_string_value(json_object_get(show, "verdict")), "pass");
	cr_assert(*json_string_value(json_object_get(show, "ended")));
	cr_assert_eq(json_array_size(json_object_get(show, "inputs")), 3);
	inst = NULL;
	json_array_foreach(json_object_get(show, "instruments"), i, inst)
		if (strcmp(json_string_value(json_object_get(inst, "role")), "scale") == 0)
			break;
	cr_assert_str_eq(json_string_value(json_object_get(inst, "serial")), "SIM-SCALE");
	cr_assert_str_eq(json_string_value(json_object_get(inst, "cal_due")), "2028-11-16");
	cr_assert_geq(json_array_size(json_object_get(show, "checks")), 1);
	cr_assert_geq(json_array_size(json_object_get(show, "health")), 1);
	json_decref(show);

	/* judged again: a new version, the first kept */
	cr_assert_eq(th_rig(root, (const char *const[]){ "report", run, NULL }), 0);
	ingest(h, run, HISTORY_INGESTED, &c);
	cr_assert_eq(c.version, 2);
	cr_assert_str_eq(c.run_id, a.run_id);
	cr_assert_str_neq(c.manifest_sha256, a.manifest_sha256);
	cr_assert_eq(history_show(h, a.run_id, &show, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(json_object_get(show, "versions")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
		json_object_get(show, "versions"), 0), "manifest_sha256")), a.manifest_sha256);
	cr_assert_eq(history_list(h, NULL, &list, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(list), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(list, 0), "versions")), 2);
	json_decref(show);
	json_decref(list);
	history_close(h);
	free(run);
	free(root);
	free(seq);
	free(bench);
	free(dut);
}

static void refuse_a_broken_seal(const char *uri)
{
	char *root = th_tmpdir(), *a = night_run(root, "SN-1", "B1", "SEQ", 0, 0.1);
	char *b = night_run(root, "SN-1", "B1", "SEQ", 1, 0.1), path[4096];
	struct history *h = open_store(uri);
	struct history_ingest_result res;
	FILE *f;

	snprintf(path, sizeof(path), "%s/samples.csv", a);
	f = fopen(path, "a");
	fputs("1,scale,mass,1.1,g,\n", f);
	fclose(f);
	ingest(h, a, HISTORY_REFUSED, &res);
	cr_assert(strstr(res.reason, "the seal does not verify") &&
		  strstr(res.reason, "CHANGED samples.csv"), "%s", res.reason);
	snprintf(path, sizeof(path), "%s/SHA256SUMS", b);
	cr_assert_eq(unlink(path), 0);
	ingest(h, b, HISTORY_REFUSED, &res);
	cr_assert(strstr(res.reason, "not sealed"), "%s", res.reason);
	cr_assert_eq(count_runs(h), 0);
	history_close(h);
	free(a);
	free(b);
	free(root);
}

static void list_filters_and_order(const char *uri)
{
	char *root = th_tmpdir();
	struct history *h = open_store(uri);
	struct history_filter f = { 0 };
	json_t *a = NULL, *o;
	char err[256];
	size_t i;
	int night;

	for (night = 0; night < 6; night++) {
		char *d[4] = { night_run(root, "SN-1", "B1", "QUAL", night, 0.1),
			       night_run(root, "SN-2", "B2", "QUAL", night, 0.2),
			       night_run(root, "SN-1", "B1", "DOSE", night, 0.3),
			       night_run(root, "SN-3", "B1", "QUAL", night, 0.4) };
		for (i = 0; i < 4; i++) {
			ingest(h, d[i], HISTORY_INGESTED, NULL);
			free(d[i]);
		}
	}
	cr_assert_eq(history_list(h, NULL, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(a), 24);
	for (i = 1; i < json_array_size(a); i++)
		cr_assert_geq(strcmp(json_string_value(json_object_get(json_array_get(a, i - 1), "started")),
				     json_string_value(json_object_get(json_array_get(a, i), "started"))), 0,
			      "newest first");
	o = json_array_get(a, 0);
	cr_assert(json_object_get(o, "run_id") && json_object_get(o, "device_serial") &&
		  json_object_get(o, "sequence_id") && json_object_get(o, "bench_id") &&
		  json_object_get(o, "started") && json_object_get(o, "verdict"));
	json_decref(a);
	f.device_serial = "SN-1";
	cr_assert_eq(history_list(h, &f, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(a), 12);
	json_decref(a);
	f.sequence_id = "QUAL";
	cr_assert_eq(history_list(h, &f, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(a), 6);
	json_decref(a);
	f = (struct history_filter){ .bench_id = "B1", .since_utc = "2026-01-05" };
	cr_assert_eq(history_list(h, &f, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(a), 6);   /* nights 4 and 5, three runs of bench B1 each */
	json_decref(a);
	f = (struct history_filter){ .limit = 5 };
	cr_assert_eq(history_list(h, &f, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(a), 5);
	json_decref(a);
	history_close(h);
	free(root);
}

static const json_t *find_value(const json_t *values, const char *measurement)
{
	size_t i;
	json_t *v;

	json_array_foreach(values, i, v)
		if (strcmp(json_string_value(json_object_get(v, "measurement")), measurement) == 0)
			return v;
	return NULL;
}

static const json_t *find_field(const json_t *a, const char *field)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(json_object_get(v, "field")), field) == 0)
			return v;
	return NULL;
}

static void compare_runs(const char *uri)
{
	char *root = th_tmpdir(), dir_a[4096], dir_b[4096], prev[HISTORY_RUN_ID_MAX], err[256];
	struct synth_value va[] = {
		{ "dose_accuracy", "steady", "dose_error", 0.10, 0.05, "%", -10, 10 },
		{ "occlusion", "occ", "time_to_alarm", 70.0, 2.0, "s", 0, 14400 },
	}, vb[] = {
		{ "dose_accuracy", "steady", "dose_error", 0.30, 0.05, "%", -10, 10 },   /* 0.2 > 0.071 */
		{ "occlusion", "occ", "time_to_alarm", 71.0, 2.0, "s", 0, 14400 },       /* 1 < 2.83 */
	};
	struct synth_run a = { .run_id = "run-a", .device_serial = "SN-9", .sequence_id = "QUAL",
			       .bench_id = "B1", .started_utc = "2026-02-01T02:00:00Z",
			       .values = va, .n_values = 2, .balance_noise_mg = NAN,
			       .evaporation_mg_per_h = 0.05 };
	struct synth_run b = a;
	struct history *h = open_store(uri);
	json_t *cmp = NULL, *v, *inst;

	b.run_id = "run-b";
	b.started_utc = "2026-02-02T02:00:00Z";
	b.values = vb;
	b.firmware = "1.0.1";
	b.cal_date = "2026-01-20";
	snprintf(dir_a, sizeof(dir_a), "%s/a", root);
	snprintf(dir_b, sizeof(dir_b), "%s/b", root);
	cr_assert_eq(synth_run_dir(dir_a, &a), 0);
	cr_assert_eq(synth_run_dir(dir_b, &b), 0);
	ingest(h, dir_a, HISTORY_INGESTED, NULL);
	ingest(h, dir_b, HISTORY_INGESTED, NULL);

	cr_assert_eq(history_previous(h, "run-b", prev, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(prev, "run-a");
	cr_assert_eq(history_previous(h, dir_b, prev, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(prev, "run-a");
	cr_assert_eq(history_previous(h, "run-a", prev, err, sizeof(err)), -ENOENT);

	cr_assert_eq(history_compare(h, "run-a", dir_b, &cmp, err, sizeof(err)), 0, "%s", err);
	v = (json_t *)find_value(json_object_get(cmp, "values"), "dose_error");
	cr_assert_float_eq(json_real_value(json_object_get(v, "delta")), 0.2, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(v, "U_combined")), sqrt(2) * 0.05, 1e-9);
	cr_assert(json_is_true(json_object_get(v, "significant")));
	v = (json_t *)find_value(json_object_get(cmp, "values"), "time_to_alarm");
	cr_assert(json_is_false(json_object_get(v, "significant")));
	v = (json_t *)find_field(json_object_get(cmp, "identity"), "device_firmware");
	cr_assert(json_is_true(json_object_get(v, "changed")));
	cr_assert(json_is_false(json_object_get(find_field(json_object_get(cmp, "identity"),
							   "software"), "changed")));
	inst = json_array_get(json_object_get(cmp, "instruments"), 1);   /* pump, then scale */
	cr_assert_str_eq(json_string_value(json_object_get(inst, "role")), "scale");
	cr_assert(json_is_true(json_object_get(inst, "changed")));
	cr_assert(json_is_true(json_object_get(find_field(json_object_get(inst, "fields"),
							  "cal_date"), "changed")));
	/* the device file differs (firmware), so does its digest */
	cr_assert(json_is_true(json_object_get(json_array_get(json_object_get(cmp, "inputs"), 1),
					       "changed")));
	json_decref(cmp);
	history_close(h);
	free(root);
}

/* 45 nights of three pumps: SN-OK stable, SN-CREEP drifting by 0.1 pp a
 * night from night 20, SN-STEP stepping up by 1 pp at night 25. */
static void trend_watch_and_baseline(const char *uri)
{
	char *root = th_tmpdir(), err[256], *dir;
	struct history *h = open_store(uri);
	struct history_trend_query q = { .device_serial = "SN-CREEP", .check = "dose_accuracy" };
	struct spc_params p;
	struct rng r = { 99 };
	json_t *flags = NULL, *trend = NULL, *f, *series, *chart, *points;
	const char *base_runs[20];
	char ids[20][128];
	size_t i;
	int night;
	bool creep = false, step = false;

	spc_params_default(&p);
	p.baseline_n = 20;   /* these series: twenty steady nights, then the change */
	for (night = 0; night < 45; night++) {
		double noise[3] = { 0.25 * rng_gauss(&r), 0.25 * rng_gauss(&r), 0.25 * rng_gauss(&r) };

		dir = night_run(root, "SN-OK", "B1", "QUAL", night, noise[0]);
		ingest(h, dir, HISTORY_INGESTED, NULL);
		free(dir);
		dir = night_run(root, "SN-CREEP", "B2", "QUAL", night,
				noise[1] + (night >= 20 ? 0.1 * (night - 19) : 0));
		ingest(h, dir, HISTORY_INGESTED, NULL);
		free(dir);
		dir = night_run(root, "SN-STEP", "B3", "QUAL", night, noise[2] + (night >= 25 ? 1.0 : 0));
		ingest(h, dir, HISTORY_INGESTED, NULL);
		free(dir);
		if (night >= 25) {
			snprintf(ids[night - 25], sizeof(ids[0]), "SN-STEP-B3-QUAL-%03d", night);
			base_runs[night - 25] = ids[night - 25];
		}
	}
	cr_assert_eq(history_watch(h, &p, &flags, err, sizeof(err)), 0, "%s", err);
	json_array_foreach(flags, i, f) {
		const char *serial = json_string_value(json_object_get(json_object_get(f, "series"),
									"device_serial"));

		cr_assert(json_object_get(f, "rule") && json_array_size(json_object_get(f, "runs")) >= 2);
		series = json_object_get(f, "series");
		if (!serial) {   /* a bench-health series: identical figures every night */
			cr_assert_fail("bench health flagged: %s", json_dumps(f, 0));
		}
		cr_assert_str_neq(serial, "SN-OK", "a stable pump flagged: %s", json_dumps(f, 0));
		creep = creep || strcmp(serial, "SN-CREEP") == 0;
		step = step || strcmp(serial, "SN-STEP") == 0;
		cr_assert_str_eq(json_string_value(json_object_get(series, "check")), "dose_accuracy");
		cr_assert_str_eq(json_string_value(json_object_get(series, "measurement")), "dose_error");
		cr_assert_str_eq(json_string_value(json_object_get(series, "sequence_id")), "QUAL");
	}
	cr_assert(creep && step, "%s", json_dumps(flags, 0));
	json_decref(flags);

	cr_assert_eq(history_trend(h, &q, &p, &trend, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(trend), 1);
	chart = json_object_get(json_array_get(trend, 0), "chart");
	points = json_object_get(json_array_get(trend, 0), "points");
	cr_assert(json_is_true(json_object_get(chart, "valid")));
	cr_assert_eq(json_integer_value(json_object_get(chart, "n_baseline")), 20);
	cr_assert_eq(json_array_size(points), 45);
	cr_assert(json_is_true(json_object_get(json_array_get(points, 0), "baseline")));
	cr_assert_gt(json_array_size(json_object_get(json_array_get(points, 44), "rules")), 0);
	cr_assert_gt(json_array_size(json_object_get(json_array_get(trend, 0), "open_flags")), 0);
	json_decref(trend);
	/* a measurement without an acceptance of its own is charted on request */
	q.measurement = "balance_noise";
	cr_assert_eq(history_trend(h, &q, &p, &trend, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(trend), 1);
	cr_assert_eq(json_array_size(json_object_get(json_array_get(trend, 0), "points")), 45);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(trend, 0),
		"series"), "measurement")), "balance_noise");
	json_decref(trend);
	q.measurement = NULL;

	/* the step was a deliberate change (a new catheter, say): its runs since
	 * become the baseline, and the flag closes */
	cr_assert_eq(history_baseline_set(h, base_runs, 20, "tester", &trend, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(json_array_size(trend), 2);   /* the device's, and the bench's */
	json_decref(trend);
	cr_assert_eq(history_watch(h, &p, &flags, err, sizeof(err)), 0, "%s", err);
	json_array_foreach(flags, i, f) {
		const char *serial = json_string_value(json_object_get(json_object_get(f, "series"),
									"device_serial"));

		cr_assert(!serial || strcmp(serial, "SN-STEP") != 0, "%s", json_dumps(f, 0));
	}
	json_decref(flags);
	q.device_serial = "SN-STEP";
	cr_assert_eq(history_trend(h, &q, &p, &trend, err, sizeof(err)), 0, "%s", err);
	chart = json_object_get(json_array_get(trend, 0), "chart");
	cr_assert(strstr(json_string_value(json_object_get(chart, "baseline")), "chosen"));
	cr_assert_float_eq(json_real_value(json_object_get(chart, "centre")), 1.0, 0.2);
	json_decref(trend);
	cr_assert_eq(history_baseline_set(h, (const char *[]){ "nope" }, 1, "t", NULL, err,
					  sizeof(err)), -ENOENT);
	history_close(h);
	free(root);
}

static long long scalar(struct history *h, const char *sql);

static void migrations_apply_once(const char *uri)
{
	struct history *h;
	pid_t kids[2];
	int i, st;

	/* two processes open the fresh store at once */
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char err[512];

			if (history_open(uri, &h, err, sizeof(err)) == 0)
				_exit(0);
			fprintf(stderr, "migrations_apply_once: %s\n", err);
			_exit(1);
		}
	}
	for (i = 0; i < 2; i++) {
		cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	h = open_store(uri);
	cr_assert_eq(history_schema_version(h), history_schema_latest());
	/* each once (their numbering: test_history_schema.c) */
	cr_assert_eq(scalar(h, "SELECT MAX(version) FROM schema_migrations"), history_schema_latest());
	/* every version is recorded in both engines, applied or not (store.c migrate) */
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM schema_migrations"), history_schema_latest());
	history_close(h);
	h = open_store(uri);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM schema_migrations"), history_schema_latest());
	history_close(h);
}

static void store_and_forward(const char *uri)
{
	char *root = th_tmpdir(), spool[2048], err[512], **pend;
	char *a = night_run(root, "SN-1", "B1", "QUAL", 0, 0.1);
	char *b = night_run(root, "SN-1", "B1", "QUAL", 1, 0.1), path[4096];
	struct history_ingest_result res;
	struct history_sync_result sync;
	struct history *h;
	size_t n;

	snprintf(spool, sizeof(spool), "%s/" HISTORY_SPOOL_DIR, root);
	/* the store is down: the runs stay pending (and are never touched) */
	cr_assert_eq(history_ingest_or_queue(NULL, spool, a, &res, err, sizeof(err)), -ENOTCONN);
	cr_assert_eq(history_ingest_or_queue(NULL, spool, b, &res, err, sizeof(err)), -ENOTCONN);
	cr_assert_eq(history_ingest_or_queue(NULL, spool, b, &res, err, sizeof(err)), -ENOTCONN);
	cr_assert_eq(history_pending_list(spool, &pend, &n), 0);
	cr_assert_eq(n, 2);
	history_strv_free(pend, n);
	/* one of them is spoiled before the store comes back */
	snprintf(path, sizeof(path), "%s/samples.csv", b);
	cr_assert_eq(truncate(path, 3), 0);
	h = open_store(uri);
	cr_assert_eq(history_sync(h, spool, NULL, NULL, &sync, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sync.ingested, 1);
	cr_assert_eq(sync.refused, 1);
	cr_assert_eq(history_pending_list(spool, &pend, &n), 0);
	cr_assert_eq(n, 0);
	snprintf(path, sizeof(path), "%s/refused", spool);
	cr_assert_eq(history_pending_list(path, &pend, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert(strstr(pend[0], "SN-1-B1-QUAL-001"), "%s", pend[0]);
	history_strv_free(pend, n);
	/* forwarded twice (a crash after the commit, before the unmark): once */
	cr_assert_eq(history_ingest_or_queue(h, spool, a, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res.outcome, HISTORY_ALREADY_PRESENT);
	cr_assert_eq(count_runs(h), 1);
	history_close(h);
	free(a);
	free(b);
	free(root);
}

/* Two benches forwarding the same runs at once: each stored once. */
static void concurrent_ingest(const char *uri)
{
	char *root = th_tmpdir(), *dirs[12];
	struct history *h = open_store(uri);
	pid_t kids[2];
	int i, st;

	for (i = 0; i < 12; i++)
		dirs[i] = night_run(root, i % 2 ? "SN-1" : "SN-2", "B1", "QUAL", i, 0.1);
	history_close(h);
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			struct history_ingest_result res;
			char err[512];
			int k, bad = 0;

			if (history_open(uri, &h, err, sizeof(err)) < 0)
				_exit(2);
			for (k = 0; k < 12; k++)
				if (history_ingest_run_dir(h, dirs[i ? 11 - k : k], &res, err,
							   sizeof(err)) < 0 ||
				    res.outcome == HISTORY_REFUSED)
					bad++;
			history_close(h);
			_exit(bad ? 1 : 0);
		}
	}
	for (i = 0; i < 2; i++) {
		cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: %d", i, st);
	}
	h = open_store(uri);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM runs"), 12);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM checks"), 12);
	history_close(h);
	for (i = 0; i < 12; i++)
		free(dirs[i]);
	free(root);
}

/* Backfill: several runs in one transaction, one of them already stored,
 * one given twice, one refused. */
static void batch_ingest(const char *uri)
{
	char *root = th_tmpdir(), *dirs[6], err[512], path[4096];
	struct history_ingest_result res[7];
	struct history *h = open_store(uri);
	const char *batch[7];
	int i;

	for (i = 0; i < 6; i++)
		dirs[i] = night_run(root, "SN-1", "B1", "QUAL", i, 0.1 * i);
	ingest(h, dirs[2], HISTORY_INGESTED, NULL);
	snprintf(path, sizeof(path), "%s/SHA256SUMS", dirs[5]);
	cr_assert_eq(unlink(path), 0);
	for (i = 0; i < 6; i++)
		batch[i] = dirs[i];
	batch[6] = dirs[0];
	cr_assert_eq(history_ingest_run_dirs(h, batch, 7, res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res[0].outcome, HISTORY_INGESTED);
	cr_assert_eq(res[1].outcome, HISTORY_INGESTED);
	cr_assert_eq(res[2].outcome, HISTORY_ALREADY_PRESENT);
	cr_assert_eq(res[3].outcome, HISTORY_INGESTED);
	cr_assert_eq(res[4].outcome, HISTORY_INGESTED);
	cr_assert_eq(res[5].outcome, HISTORY_REFUSED);
	cr_assert_eq(res[6].outcome, HISTORY_ALREADY_PRESENT, "%d", res[6].outcome);
	for (i = 0; i < 5; i++)
		cr_assert_eq(res[i].version, 1, "run %d: version %d", i, res[i].version);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM runs"), 5);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM measurements"), 10);   /* dose_error, balance_noise */
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM points"), 15);         /* + noise, evaporation */
	history_close(h);
	for (i = 0; i < 6; i++)
		free(dirs[i]);
	free(root);
}

/* An occlusion run's line pressure baseline is a bench-health figure: a
 * health row and a point of the bench's series, charted per sequence and
 * window like the balance's noise. */
static void an_occlusion_run_gives_a_pressure_baseline_point(const char *uri)
{
	char *root = th_tmpdir(), *run, *seq = th_src("sequences/occlusion.cfg");
	char *bench = th_src("fixtures/bench/sim.cfg"), *dut = th_src("fixtures/dut/itp-40.cfg");
	struct history *h = open_store(uri);
	json_t *show = NULL, *hv, *found = NULL;
	char err[512];
	size_t i;

	if (asprintf(&run, "%s/run", root) < 0)
		abort();
	cr_assert_eq(th_rig(root, (const char *const[]){ "run", seq, "--bench", bench, "--dut", dut,
							  "-o", run, "-q", NULL }), 0);
	ingest(h, run, HISTORY_INGESTED, NULL);
	cr_assert_eq(history_show(h, run, &show, err, sizeof(err)), 0, "%s", err);
	json_array_foreach(json_object_get(show, "health"), i, hv)
		if (!strcmp(json_string_value(json_object_get(hv, "figure")), "pressure_baseline"))
			found = hv;
	cr_assert_not_null(found, "no pressure_baseline in %s",
			   json_dumps(json_object_get(show, "health"), 0));
	cr_assert_str_eq(json_string_value(json_object_get(found, "window")), "occlusion");
	cr_assert_str_eq(json_string_value(json_object_get(found, "unit")), "kPa");
	/* 1 mL/h through the simulated line: Q tau / C = 6.94 kPa above its 0 kPa */
	cr_assert(fabs(json_number_value(json_object_get(found, "value")) - 6.94) <=
		  json_number_value(json_object_get(found, "U")), "%s", json_dumps(found, 0));
	json_decref(show);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM points WHERE scope = 'bench' AND subject = "
			       "'SIM-1' AND check_kind = 'bench_health' AND check_window = 'occlusion' "
			       "AND measurement = 'pressure_baseline'"), 1);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM series WHERE scope = 'bench' AND "
			       "measurement = 'pressure_baseline' AND unit = 'kPa'"), 1);
	history_close(h);
	free(run);
	free(seq);
	free(bench);
	free(dut);
	free(root);
}

/* One number from SQL, through a second connection of the store's own kind. */

/* The audit trail of rig sign, in the history too: each signature once,
 * whichever versions of the run carried it, checked as it came in. */
static void signatures_in_the_history(const char *uri)
{
	char *root = th_tmpdir(), *run, *seq = th_src("sequences/dose-accuracy.cfg");
	char *bench = th_src("fixtures/bench/sim.cfg"), *dut = th_src("fixtures/dut/itp-40.cfg"), *ann, *bob;
	struct history *h = open_store(uri);

	if (asprintf(&run, "%s/run", root) < 0 || asprintf(&ann, "%s/ann", root) < 0 ||
	    asprintf(&bob, "%s/bob", root) < 0)
		abort();
	cr_assert_eq(th_rig(root, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "-o",
						    run, "-q", NULL }), 0);
	ingest(h, run, HISTORY_INGESTED, NULL);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM signatures"), 0);
	cr_assert_eq(th_rig(root, (const char *[]){ "keygen", "--out", ann, NULL }), 0);
	cr_assert_eq(th_rig(root, (const char *[]){ "keygen", "--out", bob, NULL }), 0);
	cr_assert_eq(th_rig(root, (const char *[]){ "sign", run, "--meaning", "reviewed", "--signer",
						    "Ann Reviewer", "--key", ann, NULL }), 0);
	ingest(h, run, HISTORY_INGESTED, NULL);
	cr_assert_eq(th_rig(root, (const char *[]){ "sign", run, "--meaning", "approved", "--signer",
						    "Bob Approver", "--key", bob, NULL }), 0);
	ingest(h, run, HISTORY_INGESTED, NULL);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM signatures"), 2);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM signatures WHERE valid = 1"), 2);  /* no quotes: sh */
	cr_assert_eq(scalar(h, "SELECT SUM(line) FROM signatures"), 3);
	cr_assert_eq(scalar(h, "SELECT COUNT(DISTINCT meaning) + COUNT(DISTINCT signer) FROM signatures"), 4);
	cr_assert_eq(scalar(h, "SELECT COUNT(*) FROM signatures s JOIN runs r ON r.id = s.run_pk"
			       " WHERE s.run_id = r.run_id"), 2);
	history_close(h);
	free(ann), free(bob), free(run), free(seq);
	free(bench);
	free(dut);
	free(root);
}

static long long scalar(struct history *h, const char *sql)
{
	long long v = -1;
	if (strcmp(history_engine(h), "postgresql") == 0) {
		/* the test's own connection, as the scratch server's owner */
		PGconn *c = PQconnectdb(getenv("TEST_HISTORY_PG_URI"));
		PGresult *res = PQexec(c, sql);

		cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		PQfinish(c);
	} else {
		char cmd[4096], quoted[2048];
		size_t k = 0;
		FILE *p;

		/* the SQL inside the shell's single quotes: each ' as '\'' */
		cr_assert_lt(4 * strlen(sql), sizeof(quoted), "%s", sql);
		for (const char *q = sql; *q && k + 5 < sizeof(quoted); q++)
			if (*q == '\'') {
				memcpy(quoted + k, "'\\''", 4);
				k += 4;
			} else {
				quoted[k++] = *q;
			}
		quoted[k] = '\0';
		snprintf(cmd, sizeof(cmd), "sqlite3 '%s' '%s'", getenv("TEST_HISTORY_SQLITE"), quoted);
		p = popen(cmd, "r");
		cr_assert(p && fscanf(p, "%lld", &v) == 1, "%s", cmd);
		pclose(p);
	}
	return v;
}

static char *sqlite_for_test(void)
{
	char *uri = sqlite_store();

	setenv("TEST_HISTORY_SQLITE", uri + strlen("sqlite:"), 1);
	return uri;
}

static char *pg_for_test(const char *name)
{
	char *uri = pg_store(name);

	setenv("TEST_HISTORY_PG_URI", uri, 1);
	return uri;
}

#define BOTH(name)                                                                           \
	Test(history_sqlite, name, .timeout = 120)                                           \
	{                                                                                    \
		char *uri = sqlite_for_test();                                               \
		name(uri);                                                                   \
		free(uri);                                                                   \
	}                                                                                    \
	Test(history_postgresql, name, .timeout = 120)                                       \
	{                                                                                    \
		char *uri = pg_for_test("t_" #name);                                         \
		name(uri);                                                                   \
		free(uri);                                                                   \
	}

BOTH(ingest_a_real_run)
BOTH(refuse_a_broken_seal)
BOTH(list_filters_and_order)
BOTH(compare_runs)
BOTH(trend_watch_and_baseline)
BOTH(migrations_apply_once)

BOTH(store_and_forward)
BOTH(concurrent_ingest)
BOTH(batch_ingest)
BOTH(signatures_in_the_history)
BOTH(an_occlusion_run_gives_a_pressure_baseline_point)

/* A bulk load (import, sync of many runs) leaves the planner statistics of
 * what it loaded: without them a server plans watch over 10 000 fresh runs
 * as over empty tables (0.5 s instead of 0.04 s, tools/bench_history).
 * reltuples is -1 until a table is first analysed, and autovacuum does not
 * analyse a table of a few rows. */
Test(history_postgresql, a_bulk_load_refreshes_the_statistics, .timeout = 120)
{
	char *uri = pg_for_test("t_analyze"), *root = th_tmpdir();
	char *dir = night_run(root, "SN-1", "B1", "QUAL", 0, 0.1);
	struct history *h = open_store(uri);
	static const char never[] = "SELECT COUNT(*) FROM pg_class WHERE relname IN ('runs',"
				    " 'measurements', 'points', 'nights') AND reltuples < 0";

	ingest(h, dir, HISTORY_INGESTED, NULL);
	cr_assert_eq(scalar(h, never), 4, "a fresh store's tables were analysed already");
	history_after_bulk(h, HISTORY_BULK_RUNS - 1);   /* a night's few runs: left to autovacuum */
	cr_assert_eq(scalar(h, never), 4);
	history_after_bulk(h, HISTORY_BULK_RUNS);
	cr_assert_eq(scalar(h, never), 0, "a bulk load left tables without statistics");
	cr_assert_eq(scalar(h, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'runs'"), 1);
	history_close(h);
	free(dir);
	free(root);
	free(uri);
}

/* Least privilege: a bench's login may add runs and read, never change or
 * remove history; a reviewer's may only read. */
Test(history_postgresql, the_bench_role_cannot_update_or_delete, .timeout = 120)
{
	char *uri = pg_for_test("t_roles"), *root = th_tmpdir(), *bench_uri, *rev_uri, err[512];
	char *dir = night_run(root, "SN-1", "B1", "QUAL", 0, 0.1);
	char *dir2 = night_run(root, "SN-1", "B1", "QUAL", 1, 0.1);
	struct history *h = open_store(uri);   /* the owner migrates */
	static const char *const denied[] = {
		"UPDATE runs SET verdict = 'pass'", "DELETE FROM runs", "DELETE FROM measurements",
		"UPDATE measurements SET value = 0", "TRUNCATE runs", "DELETE FROM baselines",
		"DROP TABLE runs", "UPDATE schema_migrations SET version = 99",
	};
	PGconn *c;
	PGresult *res;
	size_t i;

	history_close(h);
	pg_exec(pg_admin(), "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench7')"
		      " THEN CREATE ROLE bench7 LOGIN IN ROLE pumprig_bench; END IF;"
		      " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'alice')"
		      " THEN CREATE ROLE alice LOGIN IN ROLE pumprig_reviewer; END IF; END $$");
	bench_uri = strdup(uri);
	rev_uri = strdup(uri);
	strcpy(strstr(bench_uri, "user=pumprig_admin"), "user=bench7");
	strcpy(strstr(rev_uri, "user=pumprig_admin"), "user=alice");

	/* the bench ingests through the library, as rig will */
	cr_assert_eq(history_open(bench_uri, &h, err, sizeof(err)), 0, "%s", err);
	ingest(h, dir, HISTORY_INGESTED, NULL);
	history_close(h);

	c = PQconnectdb(bench_uri);
	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		res = PQexec(c, denied[i]);
		cr_assert_eq(PQresultStatus(res), PGRES_FATAL_ERROR, "bench7 may: %s", denied[i]);
		cr_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501", "%s: %s",
				 denied[i], PQresultErrorMessage(res));
		PQclear(res);
	}
	res = PQexec(c, "SELECT COUNT(*) FROM check_values");
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);

	/* the reviewer reads, and may not even add */
	cr_assert_eq(history_open(rev_uri, &h, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count_runs(h), 1);
	{
		struct history_ingest_result r2;

		cr_assert_eq(history_ingest_run_dir(h, dir2, &r2, err, sizeof(err)), -EACCES, "%s", err);
	}
	history_close(h);
	c = PQconnectdb(rev_uri);
	res = PQexec(c, "DELETE FROM runs");
	cr_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	PQfinish(c);
	free(bench_uri);
	free(rev_uri);
	free(dir);
	free(dir2);
	free(root);
	free(uri);
}
