/* rig nightly and the run history, end to end through the rig binary on the
 * simulated bench: a pump creeping faster night after night is flagged while
 * every run passes, a stable one with other seeds is not; a store that is
 * down during the night loses nothing and counts nothing twice; a run the
 * bench let down is run again once and the retry recorded, a pump that fails
 * is not; the plan is judged whole before anything moves. */
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"
#define SEQ "sequences/dose-accuracy.cfg"

/* The shipped simulated bench with its seed and the pump's rate error set,
 * and more put at the start of its simulator group. */
static char *bench_night(const char *dir, const char *name, unsigned seed, double rate_error_pct,
			 const char *insert)
{
	char *src = th_src(BENCH), *text = th_read_file(src), *out, *path;
	char seed_line[32], rate_line[64];
	const char *s1 = "seed = 1;", *s2 = "rate_error = \"0 %\"";
	char *a = strstr(text, s1), *b = strstr(text, s2), *sim = strstr(text, "simulator = {");

	cr_assert(a && b && sim && a < b && sim < a, "the shipped bench changed");
	snprintf(seed_line, sizeof(seed_line), "seed = %u;", seed);
	snprintf(rate_line, sizeof(rate_line), "rate_error = \"%.3f %%\"", rate_error_pct);
	cr_assert_geq(asprintf(&out, "%.*s\n%s\n%.*s%s%.*s%s%s",
			       (int)(sim + strlen("simulator = {") - text), text, insert ? insert : "",
			       (int)(a - (sim + strlen("simulator = {"))), sim + strlen("simulator = {"),
			       seed_line, (int)(b - (a + strlen(s1))), a + strlen(s1), rate_line,
			       b + strlen(s2)), 0);
	path = th_write_file(dir, name, out);
	free(out);
	free(text);
	free(src);
	return path;
}

static char *plan(const char *dir, const char *name, const char *id, const char *bench,
		  const char *seq, const char *extra)
{
	char *dut = th_src(DUT), *seq_path = th_src(seq), *text, *path;

	cr_assert_geq(asprintf(&text, "night = {\n  id = \"%s\";\n  bench = \"%s\";\n%s"
			       "  jobs = ( { sequence = \"%s\"; dut = \"%s\"; } );\n};\n", id, bench,
			       extra ? extra : "", seq_path, dut), 0);
	path = th_write_file(dir, name, text);
	free(text);
	free(dut);
	free(seq_path);
	return path;
}

/* A night of one dose-accuracy run on a bench with that seed and rate
 * error, into runs; returns rig nightly's exit status. */
static int one_night(const char *dir, const char *runs, unsigned k, unsigned seed, double err)
{
	char name[32], id[32], *bench, *p;
	int st;

	snprintf(name, sizeof(name), "bench-%u.cfg", k);
	snprintf(id, sizeof(id), "NIGHT-%u", k);
	bench = bench_night(dir, name, seed, err, NULL);
	snprintf(name, sizeof(name), "plan-%u.cfg", k);
	p = plan(dir, name, id, bench, SEQ, NULL);
	st = th_rig(dir, (const char *[]){ "nightly", p, "--runs", runs, "--quiet", NULL });
	free(bench);
	free(p);
	return st;
}

static json_t *load(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);

	cr_assert_not_null(j, "%s: %s", path, e.text);
	return j;
}

/* A file of the (newest) night of that plan id. */
static json_t *night_file(const char *runs, const char *id, const char *name)
{
	char *pattern;
	glob_t g;
	json_t *j;

	cr_assert_geq(asprintf(&pattern, "%s/nights/*-%s/%s", runs, id, name), 0);
	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no %s", pattern);
	j = load(g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	free(pattern);
	return j;
}

static json_t *watch(const char *dir, const char *runs, int *ret_status)
{
	char *out;
	json_t *j;

	*ret_status = th_rig(dir, (const char *[]){ "history", "watch", "--json", "--runs", runs,
						    NULL });
	out = th_slurp(dir, "stdout");
	j = json_loads(out, 0, NULL);
	cr_assert(json_is_array(j), "rig history watch --json: %s", out);
	free(out);
	return j;
}

Test(nightly, a_pump_creeping_a_tenth_of_a_point_a_night_is_flagged_while_every_night_passes,
     .timeout = 240)
{
	char *dir = th_tmpdir(), *runs;
	json_t *flags, *f;
	size_t i;
	int st;
	bool named = false;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	for (unsigned k = 1; k <= 15; k++)
		cr_assert_eq(one_night(dir, runs, k, 7 * k + 3, 0.1 * k), 0,
			     "night %u did not pass: %s", k, th_slurp(dir, "stderr"));
	flags = watch(dir, runs, &st);
	cr_assert_eq(st, 1, "rig history watch finds open flags: exit 1");
	cr_assert_gt(json_array_size(flags), 0);
	json_array_foreach(flags, i, f) {
		const json_t *s = json_object_get(f, "series");

		cr_assert_not_null(json_object_get(f, "rule"));
		cr_assert_geq(json_array_size(json_object_get(f, "runs")), 3);
		if (!strcmp(json_string_value(json_object_get(s, "device_serial")) ?: "", "SN-0001") &&
		    !strcmp(json_string_value(json_object_get(s, "sequence_id")) ?: "", "SEQ-DOSE-NOM") &&
		    !strcmp(json_string_value(json_object_get(s, "check")) ?: "", "dose_accuracy") &&
		    !strcmp(json_string_value(json_object_get(s, "measurement")) ?: "", "dose_error"))
			named = true;
	}
	cr_assert(named, "no flag names the creeping series: %s", json_dumps(flags, 0));
	/* and the last night's summary lists them */
	{
		json_t *night = night_file(runs, "NIGHT-15", "nightly.json");

		cr_assert_gt(json_array_size(json_object_get(night, "drift_flags")), 0);
		json_decref(night);
	}
	json_decref(flags);
	free(runs);
	free(dir);
}

/* A stable pump on these 15 seeded nights: its dose error, the value
 * judged, is not flagged, and of the two dozen watched series one raises a
 * chance flag (the bench's flow-sensor cross-check, 4 of 5 beyond 1 sigma).
 * The bounds are these seeds', not the rules': at about 1 false alarm in
 * 130 per series and night (test_spc), 15 nights of two dozen series
 * expect a few over other seeds. The seeds make the test repeatable; what
 * it guards is the order of the chart (it used to pass only because runs
 * started in the same second were charted in the random order of their
 * run ids). */
Test(nightly, a_stable_pump_on_fifteen_seeds_raises_no_flag_on_its_dose_and_at_most_one_by_chance,
     .timeout = 240)
{
	char *dir = th_tmpdir(), *runs;
	json_t *flags, *f;
	size_t i;
	int st;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	for (unsigned k = 1; k <= 15; k++)
		cr_assert_eq(one_night(dir, runs, k, 11 * k + 5, 0), 0, "night %u", k);
	flags = watch(dir, runs, &st);
	cr_assert_leq(json_array_size(flags), 1, "false flags: %s", json_dumps(flags, 0));
	json_array_foreach(flags, i, f) {
		const json_t *s = json_object_get(f, "series");

		cr_assert_str_neq(json_string_value(json_object_get(s, "measurement")) ?: "",
				  "dose_error", "the stable pump's dose flagged: %s", json_dumps(f, 0));
	}
	cr_assert_eq(st, json_array_size(flags) ? 1 : 0, "watch's exit says whether it flagged");
	json_decref(flags);
	free(runs);
	free(dir);
}

/* rig history list --json: how many runs the store has. */
static size_t stored(const char *dir, const char *db)
{
	char *out;
	json_t *j;
	size_t n;

	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "list", "--json", "--db", db, NULL }), 0,
		     "%s", th_slurp(dir, "stderr"));
	out = th_slurp(dir, "stdout");
	j = json_loads(out, 0, NULL);
	cr_assert(json_is_array(j), "%s", out);
	n = json_array_size(j);
	json_decref(j);
	free(out);
	return n;
}

Test(nightly, a_store_down_during_the_night_loses_nothing_and_counts_nothing_twice, .timeout = 120)
{
	char *dir = th_tmpdir(), *runs, *db, *down, *bench, *p, *text;
	char *seq = th_src("sequences/nightly-sim.cfg");
	int st;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	cr_assert_geq(asprintf(&db, "sqlite:%s/lab.sqlite", dir), 0);
	/* a store that cannot be opened: a folder that is not there */
	cr_assert_geq(asprintf(&down, "sqlite:%s/no-such-folder/lab.sqlite", dir), 0);
	bench = bench_night(dir, "bench.cfg", 3, 0, NULL);
	{
		char *dut = th_src(DUT), *q = th_src("sequences/qualification.cfg"),
		     *d = th_src(SEQ);

		cr_assert_geq(asprintf(&text, "night = { id = \"DOWN\"; bench = \"%s\";\n"
				       "  jobs = ( { sequence = \"%s\"; dut = \"%s\"; },\n"
				       "           { sequence = \"%s\"; dut = \"%s\"; repeat = 2; } ); };\n",
				       bench, q, dut, d, dut), 0);
		free(dut);
		free(q);
		free(d);
	}
	p = th_write_file(dir, "plan.cfg", text);
	st = th_rig(dir, (const char *[]){ "nightly", p, "--runs", runs, "--db", down, "--quiet",
					   NULL });
	cr_assert_eq(st, 0, "the night completes whatever the store: %s", th_slurp(dir, "stderr"));
	{
		char *log = th_read_file(runs), *spool;
		glob_t g;

		free(log);
		cr_assert_geq(asprintf(&spool, "%s/.history-pending/*", runs), 0);
		cr_assert_eq(glob(spool, 0, NULL, &g), 0);
		/* the three runs and the night itself (the dashboard's nights) */
		cr_assert_eq(g.gl_pathc, 4, "every run and the night pending, once: %zu", g.gl_pathc);
		globfree(&g);
		free(spool);
	}
	/* the store back: sync stores every run, and again nothing twice */
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "sync", "--runs", runs, "--db", db,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	cr_assert_eq(stored(dir, db), 3);
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "sync", "--runs", runs, "--db", db,
						   NULL }), 0);
	cr_assert_eq(stored(dir, db), 3);
	/* importing the same run directories again: already there */
	{
		char *pattern;
		glob_t g;
		const char *args[16] = { "history", "import", "--db", db };
		size_t n = 4;

		cr_assert_geq(asprintf(&pattern, "%s/*-DOWN-*", runs), 0);
		cr_assert_eq(glob(pattern, 0, NULL, &g), 0);
		cr_assert_eq(g.gl_pathc, 3);
		for (size_t i = 0; i < g.gl_pathc; i++)
			args[n++] = g.gl_pathv[i];
		args[n] = NULL;
		cr_assert_eq(th_rig(dir, args), 0, "%s", th_slurp(dir, "stderr"));
		cr_assert(strstr(th_slurp(dir, "stdout"), "already stored"));
		globfree(&g);
		free(pattern);
	}
	cr_assert_eq(stored(dir, db), 3);
	free(seq);
	free(text);
	free(p);
	free(bench);
	free(down);
	free(db);
	free(runs);
	free(dir);
}

Test(nightly, a_run_the_bench_let_down_is_run_again_once_then_the_night_is_cut_short,
     .timeout = 120)
{
	char *dir = th_tmpdir(), *runs, *bench, *p;
	json_t *night, *r0, *r1;
	int st;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	/* the balance goes silent an hour in, every time: a bench reason */
	bench = bench_night(dir, "bench.cfg", 1, 0, "faults = ( { role = \"scale\"; kind = "
			    "\"dropout\"; at = \"1 h\"; duration = \"0 s\"; } );");
	p = plan(dir, "plan.cfg", "RETRY", bench, SEQ, NULL);
	st = th_rig(dir, (const char *[]){ "nightly", p, "--runs", runs, "--quiet", NULL });
	cr_assert_eq(st, 3, "a run let down by the bench more often than its retries cuts the "
		     "night short: %s", th_slurp(dir, "stderr"));
	night = night_file(runs, "RETRY", "nightly.json");
	cr_assert_str_eq(json_string_value(json_object_get(night, "status")), "cut short");
	cr_assert_eq(json_array_size(json_object_get(night, "runs")), 2, "%s", json_dumps(night, 0));
	r0 = json_array_get(json_object_get(night, "runs"), 0);
	r1 = json_array_get(json_object_get(night, "runs"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(r0, "end_cause")), "bench");
	cr_assert(json_is_false(json_object_get(r0, "retry")));
	cr_assert(json_is_true(json_object_get(r1, "retry")));
	cr_assert_str_eq(json_string_value(json_object_get(r1, "retry_of")),
			 json_string_value(json_object_get(r0, "run_id")));
	cr_assert_str_neq(json_string_value(json_object_get(r0, "run_dir")),
			  json_string_value(json_object_get(r1, "run_dir")));
	/* the run again is a deviation in its own record, naming the run it
	 * repeats (issue 16: every override is a deviation) */
	{
		char *path;
		json_t *res, *d;
		size_t i;
		bool listed = false;

		cr_assert_geq(asprintf(&path, "%s/%s/results.json", runs,
				       json_string_value(json_object_get(r1, "run_dir"))), 0);
		res = json_load_file(path, 0, NULL);
		cr_assert_not_null(res, "%s", path);
		json_array_foreach(json_object_get(res, "deviations"), i, d)
			listed |= !strcmp(json_string_value(json_object_get(d, "kind")), "retry") &&
				  strstr(json_string_value(json_object_get(d, "text")),
					 json_string_value(json_object_get(r0, "run_id")));
		cr_assert(listed, "the retry is not a deviation of %s", path);
		json_decref(res);
		free(path);
	}
	json_decref(night);
	free(p);

	/* two runs again: three runs, each in its own folder, each naming the
	 * one it repeats (the second run again once reused the first's folder) */
	p = plan(dir, "plan3.cfg", "RETRY2", bench, SEQ, "  retries = 2;\n");
	st = th_rig(dir, (const char *[]){ "nightly", p, "--runs", runs, "--quiet", NULL });
	cr_assert_eq(st, 3, "%s", th_slurp(dir, "stderr"));
	night = night_file(runs, "RETRY2", "nightly.json");
	cr_assert_eq(json_array_size(json_object_get(night, "runs")), 3, "%s", json_dumps(night, 0));
	for (size_t i = 1; i < 3; i++) {
		json_t *a = json_array_get(json_object_get(night, "runs"), i - 1);
		json_t *b = json_array_get(json_object_get(night, "runs"), i);
		char *path;

		cr_assert_str_neq(json_string_value(json_object_get(a, "run_dir")),
				  json_string_value(json_object_get(b, "run_dir")));
		cr_assert_str_eq(json_string_value(json_object_get(b, "retry_of")),
				 json_string_value(json_object_get(a, "run_id")));
		cr_assert_str_eq(json_string_value(json_object_get(b, "end_cause")), "bench",
				 "run again %zu: %s", i, json_dumps(b, 0));
		cr_assert_geq(asprintf(&path, "%s/%s/run.json", runs,
				       json_string_value(json_object_get(b, "run_dir"))), 0);
		cr_assert_eq(access(path, F_OK), 0, "%s", path);
		free(path);
	}
	cr_assert(strstr(json_string_value(json_object_get(night, "reason")), "retries"),
		  "%s", json_dumps(night, 0));
	json_decref(night);
	free(p);
	free(bench);

	/* a pump 20 % fast fails its check: the night's finding, not a reason
	 * to stop; the night goes to its end and says so (exit 1) */
	bench = bench_night(dir, "bench2.cfg", 1, 20, NULL);
	p = plan(dir, "plan2.cfg", "FAILS", bench, SEQ, NULL);
	st = th_rig(dir, (const char *[]){ "nightly", p, "--runs", runs, "--quiet", NULL });
	cr_assert_eq(st, 1, "%s", th_slurp(dir, "stderr"));
	night = night_file(runs, "FAILS", "nightly.json");
	cr_assert_str_eq(json_string_value(json_object_get(night, "status")), "completed");
	cr_assert_eq(json_array_size(json_object_get(night, "runs")), 1);
	r0 = json_array_get(json_object_get(night, "runs"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(r0, "verdict")), "fail");
	json_decref(night);
	free(p);
	free(bench);

	/* a pump that stops answering: the device's failure, never run again;
	 * and a pump that does not answer its stop leaves the bench not safe,
	 * which ends the night */
	bench = bench_night(dir, "bench3.cfg", 1, 0, "faults = ( { role = \"pump\"; kind = "
			    "\"no_answer\"; at = \"1 h\"; duration = \"0 s\"; } );");
	p = plan(dir, "plan3.cfg", "DEVICE", bench, SEQ, NULL);
	st = th_rig(dir, (const char *[]){ "nightly", p, "--runs", runs, "--quiet", NULL });
	cr_assert_eq(st, 3, "%s", th_slurp(dir, "stderr"));
	night = night_file(runs, "DEVICE", "nightly.json");
	cr_assert_str_eq(json_string_value(json_object_get(night, "status")), "cut short");
	cr_assert(strstr(json_string_value(json_object_get(night, "reason")), "could not be made safe"));
	cr_assert_eq(json_array_size(json_object_get(night, "runs")), 1, "not run again");
	r0 = json_array_get(json_object_get(night, "runs"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(r0, "end_cause")), "device");
	json_decref(night);
	free(p);
	free(bench);
	free(runs);
	free(dir);
}

/* --runs in folders not yet made: made, as rig run --output makes the
 * folders above a run (an outside audit's "cannot make n1/runs/nights") */
Test(nightly, a_runs_folder_below_folders_not_yet_made_is_made, .timeout = 120)
{
	char *dir = th_tmpdir(), *runs, *nights;

	cr_assert_geq(asprintf(&runs, "%s/not/yet/runs", dir), 0);
	cr_assert_eq(one_night(dir, runs, 1, 1, 0), 0, "%s", th_slurp(dir, "stderr"));
	cr_assert_geq(asprintf(&nights, "%s/nights", runs), 0);
	cr_assert_eq(access(nights, F_OK), 0, "%s", nights);
	free(nights);
	free(runs);
	free(dir);
}

Test(nightly, the_nights_junit_holds_every_run_as_a_suite_read_by_an_independent_parser,
     .timeout = 120)
{
	char *dir = th_tmpdir(), *runs, *plan_path = th_src("sequences/nightly-sim.cfg"), *cmd, *out;
	int st;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	st = th_rig(dir, (const char *[]){ "nightly", plan_path, "--runs", runs, "--quiet", NULL });
	cr_assert_eq(st, 0, "the shipped plan passes: %s", th_slurp(dir, "stderr"));
	/* python3-junitparser, not our code, reads it */
	cr_assert_geq(asprintf(&cmd, "/usr/bin/python3 -c 'import glob, junitparser; "
			       "x = junitparser.JUnitXml.fromfile(glob.glob(\"%s/nights/*/junit.xml\")[0]); "
			       "print(len(list(x)), x.tests, x.failures, x.errors)' > %s/py.txt", runs,
			       dir), 0);
	cr_assert_eq(system(cmd), 0);
	out = th_slurp(dir, "py.txt");
	/* three runs: the qualification's eight checks and two dose checks */
	cr_assert_str_eq(out, "3 10 0 0\n");
	free(out);
	free(cmd);
	free(plan_path);
	free(runs);
	free(dir);
}

Test(nightly, the_plan_is_judged_whole_before_anything_moves)
{
	char *dir = th_tmpdir(), *runs, *bad, *err, *gpio_bench, *late, *text;
	int st;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	/* problems of the plan itself, each at its line */
	bad = th_write_file(dir, "bad.cfg",
			    "night = {\n"
			    "  id = \"BAD\";\n"
			    "  end_by = \"25:00\";\n"
			    "  retries = 7;\n"
			    "  jobs = ( { sequence = \"nope.cfg\"; dut = \"nope.cfg\"; repeat = 0; } );\n"
			    "};\n");
	st = th_rig(dir, (const char *[]){ "validate", bad, NULL });
	err = th_slurp(dir, "stderr");
	cr_assert_eq(st, 2);
	cr_assert(strstr(err, "bad.cfg:1:") && strstr(err, "missing 'bench'"), "%s", err);
	cr_assert(strstr(err, "bad.cfg:3:") && strstr(err, "end_by"), "%s", err);
	cr_assert(strstr(err, "bad.cfg:4:") && strstr(err, "retries"), "%s", err);
	cr_assert(strstr(err, "bad.cfg:5:") && strstr(err, "repeat"), "%s", err);
	free(err);
	st = th_rig(dir, (const char *[]){ "nightly", bad, "--runs", runs, NULL });
	cr_assert_eq(st, 2);
	cr_assert_neq(access(runs, F_OK), 0, "nothing was made");

	/* a real bench (a GPIO valve: real time) whose jobs cannot end by end_by:
	 * said before anything starts */
	{
		char *src = th_src(BENCH), *b = th_read_file(src), *at = strstr(b, "valve = {"), *end;
		time_t now = time(NULL) + 120;
		struct tm tm;
		char hhmm[8];

		/* the shipped valve, on a GPIO line instead */
		cr_assert_not_null(at);
		end = strstr(at, "};");
		cr_assert_not_null(end);
		cr_assert_geq(asprintf(&text, "%.*svalve = { backend = \"gpiod\"; device = \"gpiochip0\"; "
				       "channel = \"valve\"; }%s", (int)(at - b), b, end + 1), 0);
		gpio_bench = th_write_file(dir, "gpio-bench.cfg", text);
		free(text);
		localtime_r(&now, &tm);
		strftime(hhmm, sizeof(hhmm), "%H:%M", &tm);
		cr_assert_geq(asprintf(&text, "  end_by = \"%s\";\n", hhmm), 0);
		late = plan(dir, "late.cfg", "LATE", gpio_bench, SEQ, text);
		free(text);
		free(b);
		free(src);
	}
	st = th_rig(dir, (const char *[]){ "validate", late, NULL });
	err = th_slurp(dir, "stderr");
	cr_assert_eq(st, 2, "%s", err);
	cr_assert(strstr(err, "late.cfg:4:") && strstr(err, "end_by"), "%s", err);
	free(err);
	free(late);
	free(gpio_bench);
	free(bad);
	free(runs);
	free(dir);
}

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *at = strstr(text, what); at; at = strstr(at + 1, what))
		n++;
	return n;
}

/* The audit's plans: a job whose files cannot be loaded used to end the
 * judging, so the jobs after it were never judged, the count said 1 and the
 * sentence at the job's line stopped at "every job must"; a missing bench was
 * blamed on job 1's line.  Now every job is judged, each blamed on its line,
 * and the bench once, on the plan's bench line. */
Test(nightly, every_jobs_problems_are_printed_and_the_bench_is_blamed_on_its_line)
{
	char *dir = th_tmpdir(), *runs, *seq = th_src(SEQ), *dut = th_src(DUT), *bench = th_src(BENCH);
	char *text, *missing, *nobench, *err;
	int st;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	cr_assert_geq(asprintf(&text, "night = {\n  id = \"M2\";\n  bench = \"%s\";\n  jobs = (\n"
			       "    { sequence = \"%s\"; dut = \"nodut.cfg\"; },\n"
			       "    { sequence = \"nope.cfg\"; dut = \"%s\"; },\n"
			       "    { sequence = \"%s\"; dut = \"nodut2.cfg\"; }\n  );\n};\n",
			       bench, seq, dut, seq), 0);
	missing = th_write_file(dir, "missing2.cfg", text);
	free(text);
	for (int k = 0; k < 2; k++) {
		st = th_rig(dir, k == 0 ? (const char *[]){ "validate", missing, NULL } :
			    (const char *[]){ "nightly", missing, "--runs", runs, NULL });
		err = th_slurp(dir, "stderr");
		cr_assert_eq(st, 2, "%s", err);
		cr_assert(strstr(err, "nodut.cfg: cannot read") && strstr(err, "nope.cfg: cannot read") &&
			  strstr(err, "nodut2.cfg: cannot read"), "every job's problem: %s", err);
		cr_assert(strstr(err, "missing2.cfg:5: job 1 cannot run") &&
			  strstr(err, "missing2.cfg:6: job 2 cannot run") &&
			  strstr(err, "missing2.cfg:7: job 3 cannot run"), "each at its line: %s", err);
		cr_assert_null(strstr(err, "every job must\n"), "a whole sentence: %s", err);
		cr_assert(strstr(err, "rig: 3 problems found"), "the count: %s", err);
		cr_assert_neq(access(runs, F_OK), 0, "nothing was made");
		free(err);
	}

	cr_assert_geq(asprintf(&text, "night = {\n  id = \"NB\";\n  bench = \"absent-bench.cfg\";\n"
			       "  jobs = (\n    { sequence = \"%s\"; dut = \"%s\"; },\n"
			       "    { sequence = \"%s\"; dut = \"%s\"; }\n  );\n};\n", seq, dut, seq,
			       dut), 0);
	nobench = th_write_file(dir, "p_nobench.cfg", text);
	free(text);
	st = th_rig(dir, (const char *[]){ "validate", nobench, NULL });
	err = th_slurp(dir, "stderr");
	cr_assert_eq(st, 2, "%s", err);
	cr_assert_eq(count_of(err, "absent-bench.cfg: cannot read"), 1, "once: %s", err);
	cr_assert(strstr(err, "p_nobench.cfg:3: the bench cannot be used"), "its line: %s", err);
	cr_assert_null(strstr(err, "job 1"), "not a job's fault: %s", err);
	cr_assert(strstr(err, "rig: 1 problem found"), "%s", err);
	free(err);
	free(nobench);
	free(missing);
	free(bench);
	free(dut);
	free(seq);
	free(runs);
	free(dir);
}
