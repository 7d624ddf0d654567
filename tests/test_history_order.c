/* The run history's order of runs (rig/history/): runs started in one
 * second (a simulated night's) are listed, compared and charted in the
 * order they were made, against SQLite and a real PostgreSQL server this
 * suite starts (scratch_stores.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "history_synth.h"
#include "scratch_stores.h"
#include "rig/history/history.h"

/* Runs that started in the same second (nights in virtual time) are charted
 * and watched in the order they were stored, not by their run ids (whose
 * tails are random): here the ids sort the other way round, and the last
 * five stored are a step that watch must find at the end of the series. */
static void same_second_runs_in_the_order_stored(const char *uri)
{
	char *root = th_tmpdir(), err[256], id[64], *dir;
	struct history *h = open_store(uri);
	struct history_trend_query q = { .device_serial = "SN-TIE", .check = "dose_accuracy" };
	struct spc_params p;
	json_t *trend, *points, *flags, *f;
	size_t i;
	bool found = false;

	spc_params_default(&p);
	for (int k = 0; k < 20; k++) {
		struct synth_value v = { "dose_accuracy", "steady", "dose_error",
					 k < 15 ? 0.1 * (k % 3 - 1) : 3.0, 0.05, "%", -10, 10 };
		struct synth_run sr = { .run_id = id, .device_serial = "SN-TIE", .sequence_id = "QUAL",
					.bench_id = "B9", .started_utc = "2026-03-01T02:00:00Z",
					.values = &v, .n_values = 1, .balance_noise_mg = 0.02,
					.evaporation_mg_per_h = 0.05 };

		snprintf(id, sizeof(id), "TIE-%03d", 99 - k);
		cr_assert_geq(asprintf(&dir, "%s/%s", root, id), 0);
		cr_assert_eq(synth_run_dir(dir, &sr), 0, "%s", dir);
		ingest(h, dir, HISTORY_INGESTED, NULL);
		free(dir);
	}
	cr_assert_eq(history_trend(h, &q, &p, &trend, err, sizeof(err)), 0, "%s", err);
	points = json_object_get(json_array_get(trend, 0), "points");
	cr_assert_eq(json_array_size(points), 20);
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "TIE-%03zu", 99 - i);
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(points, i), "run_id")),
				 id, "point %zu", i);
	}
	json_decref(trend);
	cr_assert_eq(history_watch(h, &p, &flags, err, sizeof(err)), 0, "%s", err);
	json_array_foreach(flags, i, f) {
		const json_t *runs = json_object_get(f, "runs");
		const char *serial = json_string_value(json_object_get(json_object_get(f, "series"),
									"device_serial"));

		if (serial && !strcmp(serial, "SN-TIE"))
			found = found || !strcmp(json_string_value(json_array_get(runs,
						json_array_size(runs) - 1)) ?: "", "TIE-080");
	}
	cr_assert(found, "no flag ends at the last run stored: %s", json_dumps(flags, 0));
	json_decref(flags);
	history_close(h);
	free(root);
}

/* Runs that record their start to the nanosecond (run.json started_unix_ns)
 * are in the order they were made, whatever the order they were stored in
 * (import takes folders by name, and names end in a random tail) and
 * whatever versions came later: list, compare --previous and the charts
 * agree.  Here the ids sort one way, storage goes another, the starts a
 * third; then the first run made is judged again (a new version). */
static void same_second_runs_in_the_order_made(const char *uri)
{
	static const int made[6] = { 3, 0, 5, 1, 4, 2 };   /* stored k-th: made made[k]-th */
	char *root = th_tmpdir(), err[256], id[64], prev[HISTORY_RUN_ID_MAX], *dirs[6];
	struct history *h = open_store(uri);
	struct history_trend_query q = { .device_serial = "SN-NS", .check = "dose_accuracy" };
	struct history_filter f = { .device_serial = "SN-NS" };
	struct spc_params p;
	json_t *trend, *points, *list;
	int k, pass;

	spc_params_default(&p);
	for (k = 0; k < 6; k++) {
		struct synth_value v = { "dose_accuracy", "steady", "dose_error", 0.1 * made[k], 0.05,
					 "%", -10, 10 };
		struct synth_run sr = { .run_id = id, .device_serial = "SN-NS", .sequence_id = "QUAL",
					.bench_id = "B9", .started_utc = "2026-03-01T02:00:00Z",
					.started_unix_ns = 1772330400000000000LL + 1000 * made[k],
					.values = &v, .n_values = 1, .balance_noise_mg = 0.02,
					.evaporation_mg_per_h = 0.05 };

		snprintf(id, sizeof(id), "NS-%c", 'a' + k);   /* ids: the order stored */
		cr_assert_geq(asprintf(&dirs[k], "%s/%s", root, id), 0);
		cr_assert_eq(synth_run_dir(dirs[k], &sr), 0, "%s", dirs[k]);
		ingest(h, dirs[k], HISTORY_INGESTED, NULL);
	}
	for (pass = 0; pass < 2; pass++) {
		if (pass) {
			/* the first run made (NS-b), judged again by a later rig: its
			 * version 2 is stored last */
			struct synth_value v = { "dose_accuracy", "steady", "dose_error", 0.0, 0.05,
						 "%", -10, 10 };
			struct synth_run sr = { .run_id = "NS-b", .device_serial = "SN-NS",
						.sequence_id = "QUAL", .bench_id = "B9",
						.started_utc = "2026-03-01T02:00:00Z",
						.started_unix_ns = 1772330400000000000LL,
						.software = "pumprig test, again", .values = &v,
						.n_values = 1, .balance_noise_mg = 0.02,
						.evaporation_mg_per_h = 0.05 };
			char *again;
			struct history_ingest_result res;

			cr_assert_geq(asprintf(&again, "%s/NS-b-again", root), 0);
			cr_assert_eq(synth_run_dir(again, &sr), 0, "%s", again);
			cr_assert_eq(history_ingest_run_dir(h, again, &res, err, sizeof(err)), 0, "%s",
				     err);
			cr_assert_eq(res.outcome, HISTORY_INGESTED, "%s", res.reason);
			cr_assert_eq(res.version, 2);
			free(again);
		}
		cr_assert_eq(history_trend(h, &q, &p, &trend, err, sizeof(err)), 0, "%s", err);
		points = json_object_get(json_array_get(trend, 0), "points");
		cr_assert_eq(json_array_size(points), 6);
		for (k = 0; k < 6; k++)
			cr_assert_float_eq(json_number_value(json_object_get(json_array_get(points,
					   (size_t)k), "value")), 0.1 * k, 1e-9, "pass %d point %d", pass, k);
		json_decref(trend);
		cr_assert_eq(history_list(h, &f, &list, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(json_array_size(list), 6);
		for (k = 0; k < 6; k++) {
			/* newest first: made 5th, 4th, ... 0th; stored index m with made[m] */
			int m = 0;

			while (made[m] != 5 - k)
				m++;
			snprintf(id, sizeof(id), "NS-%c", 'a' + m);
			cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list,
					 (size_t)k), "run_id")), id, "pass %d row %d", pass, k);
		}
		json_decref(list);
		/* previous of the run made 3rd (NS-a) is the one made 2nd (NS-f) */
		cr_assert_eq(history_previous(h, "NS-a", prev, err, sizeof(err)), 0, "%s", err);
		cr_assert_str_eq(prev, "NS-f", "pass %d", pass);
		/* the run made first has none */
		cr_assert_eq(history_previous(h, "NS-b", prev, err, sizeof(err)), -ENOENT,
			     "pass %d: %s", pass, prev);
	}
	for (k = 0; k < 6; k++)
		free(dirs[k]);
	history_close(h);
	free(root);
}

#define BOTH(name)                                                                           \
	Test(history_sqlite, name, .timeout = 120)                                           \
	{                                                                                    \
		char *uri = sqlite_store();                                                  \
		name(uri);                                                                   \
		free(uri);                                                                   \
	}                                                                                    \
	Test(history_postgresql, name, .timeout = 120)                                       \
	{                                                                                    \
		char *uri = pg_store("o_" #name);                                            \
		name(uri);                                                                   \
		free(uri);                                                                   \
	}

BOTH(same_second_runs_in_the_order_stored)
BOTH(same_second_runs_in_the_order_made)
