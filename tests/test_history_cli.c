/* `rig history` as a user meets it: what it refuses before it touches a
 * store (a date that is not one, a baseline that could not chart), and a
 * command that only reads never making a store where none was. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "history_synth.h"

/* n synthetic nights of one pump on one bench, stored with rig history
 * import into dir/runs/history.sqlite; the run ids into ids.  (rig runs
 * in the test's folder, not dir: every path given to it is absolute.) */
static void nights(const char *dir, const char *serial, const char *bench, int n,
		   char ids[][64])
{
	char runs[1024], path[2048];

	snprintf(runs, sizeof(runs), "%s/runs", dir);
	mkdir(runs, 0755);
	for (int k = 0; k < n; k++) {
		struct synth_value v = { "dose_accuracy", "steady", "dose_error", 0.1 * (k % 3), 0.05,
					 "%", -10, 10 };
		char started[32];
		struct synth_run s = { .run_id = ids[k], .device_serial = serial, .sequence_id = "QUAL",
				       .bench_id = bench, .started_utc = started, .values = &v,
				       .n_values = 1, .balance_noise_mg = 0.02,
				       .evaporation_mg_per_h = 0.05 };

		snprintf(ids[k], 64, "%s-%02d", serial, k);
		snprintf(started, sizeof(started), "2026-03-%02dT02:00:00Z", k + 1);
		snprintf(path, sizeof(path), "%s/%s", runs, ids[k]);
		cr_assert_eq(synth_run_dir(path, &s), 0, "%s", path);
		cr_assert_eq(th_rig(dir, (const char *const[]){ "history", "import", "--runs", runs,
								  path, NULL }), 0, "%s",
			     th_slurp(dir, "stderr"));
	}
}

Test(history_cli, since_takes_a_date_or_a_utc_time_and_nothing_else)
{
	char *dir = th_tmpdir(), ids[2][64], runs[1024];
	static const char *const bad[] = { "yesterday", "2026-13-45", "2026-02-30", "2026-3-1",
					   "2026-03-01T02:00:00", "2026-03-01 02:00:00Z",
					   "2026-03-01T25:00:00Z", "2026-03-01x", "" };
	static const char *const good[] = { "2026-03-02", "2026-03-02T00:00:00Z" };

	nights(dir, "SN-S", "B1", 2, ids);
	snprintf(runs, sizeof(runs), "%s/runs", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(th_rig(dir, (const char *const[]){ "history", "list", "--runs", runs,
								  "--since", bad[i], NULL }), 2,
			     "--since '%s' was taken", bad[i]);
		cr_assert(strstr(th_slurp(dir, "stderr"), "--since"), "%s", th_slurp(dir, "stderr"));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(th_rig(dir, (const char *const[]){ "history", "list", "--runs", runs,
								  "--since", good[i], "--json", NULL }),
			     0, "%s", th_slurp(dir, "stderr"));
		/* the second night only */
		cr_assert(strstr(th_slurp(dir, "stdout"), ids[1]) &&
			  !strstr(th_slurp(dir, "stdout"), ids[0]), "%s", th_slurp(dir, "stdout"));
	}
	free(dir);
}

Test(history_cli, a_command_that_reads_never_makes_a_store)
{
	char *dir = th_tmpdir(), path[4096], typo[1024], site[1024], nowhere[1100];
	static const char *const subs[][4] = {
		{ "list" }, { "watch" }, { "nights" }, { "show", "SN-X-00" },
		{ "trend", "--device", "SN-X", "--check" }, { "dashboard", "--out", NULL },
	};

	snprintf(typo, sizeof(typo), "%s/typo-runs", dir);
	snprintf(site, sizeof(site), "%s/site", dir);
	snprintf(nowhere, sizeof(nowhere), "sqlite:%s/nowhere.sqlite", dir);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		const char *args[12] = { "history" };
		size_t n = 1;

		for (size_t k = 0; k < 4 && subs[i][k]; k++)
			args[n++] = subs[i][k];
		if (!strcmp(subs[i][0], "dashboard"))
			args[n++] = site;
		if (!strcmp(subs[i][0], "trend"))
			args[n++] = "dose_accuracy";
		args[n++] = "--runs";
		args[n++] = typo;
		args[n] = NULL;
		cr_assert_eq(th_rig(dir, args), 3, "history %s: %s", subs[i][0],
			     th_slurp(dir, "stderr"));
		cr_assert(strstr(th_slurp(dir, "stderr"), "no run history at"), "%s",
			  th_slurp(dir, "stderr"));
		snprintf(path, sizeof(path), "%s/typo-runs", dir);
		cr_assert_neq(access(path, F_OK), 0, "history %s made %s", subs[i][0], path);
		snprintf(path, sizeof(path), "%s/site", dir);
		cr_assert_neq(access(path, F_OK), 0, "history %s made %s", subs[i][0], path);
	}
	/* the same through --db */
	cr_assert_eq(th_rig(dir, (const char *const[]){ "history", "list", "--db", nowhere, NULL }),
		     3);
	snprintf(path, sizeof(path), "%s/nowhere.sqlite", dir);
	cr_assert_neq(access(path, F_OK), 0);
	free(dir);
}

Test(history_cli, a_baseline_of_one_run_per_device_is_refused)
{
	char *dir = th_tmpdir(), a[3][64], b[3][64], runs[1024];

	nights(dir, "SN-A", "B1", 3, a);
	nights(dir, "SN-B", "B1", 3, b);
	snprintf(runs, sizeof(runs), "%s/runs", dir);
	/* one run of each pump: each device's chart would have one point */
	cr_assert_eq(th_rig(dir, (const char *const[]){ "history", "baseline", "set", a[0], b[0],
							  "--runs", runs, "--operator", "Q. A.",
							  NULL }), 2, "%s", th_slurp(dir, "stderr"));
	cr_assert(strstr(th_slurp(dir, "stderr"), "at least 2 runs") &&
		  strstr(th_slurp(dir, "stderr"), "SN-A"), "%s", th_slurp(dir, "stderr"));
	cr_assert_eq(th_rig(dir, (const char *const[]){ "history", "baseline", "set", a[0], "--runs",
							  runs, "--operator", "Q. A.", NULL }), 2);
	/* two of each: taken */
	cr_assert_eq(th_rig(dir, (const char *const[]){ "history", "baseline", "set", a[0], a[1],
							  b[0], b[1], "--runs", runs, "--operator",
							  "Q. A.", NULL }), 0, "%s", th_slurp(dir, "stderr"));
	free(dir);
}
