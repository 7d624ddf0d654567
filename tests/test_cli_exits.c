/* The command line's promises about what it refuses: a RUN_DIR that is not a
 * run's, a command that does not exist, a new run inside an old one.  Each
 * is bad input: exit status 2, said clearly, and nothing touched. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "helpers.h"

/* The names in dir, sorted, one per line ("" for an empty directory, NULL
 * when dir is not a directory). */
static char *listing(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (n < 0)
		return NULL;
	f = open_memstream(&out, &len);
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
			fprintf(f, "%s\n", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	fclose(f);
	return out;
}

Test(exits, a_run_dir_that_is_not_a_run_is_bad_input_and_nothing_is_touched)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *missing, *file, *empty, *other, *stray;
	char *download;
	const char *shapes[6];

	if (asprintf(&missing, "%s/no-such-run", dir) < 0 || asprintf(&empty, "%s/empty", dir) < 0 ||
	    asprintf(&other, "%s/other", dir) < 0)
		abort();
	file = th_write_file(dir, "a-file", "not a run\n");
	cr_assert_eq(mkdir(empty, 0755), 0);
	cr_assert_eq(mkdir(other, 0755), 0);
	free(th_write_file(other, "photo.txt", "the bench, Tuesday\n"));
	/* a run.json alone, and the SHA256SUMS of a download: no run's */
	if (asprintf(&stray, "%s/stray", dir) < 0 || asprintf(&download, "%s/download", dir) < 0)
		abort();
	cr_assert_eq(mkdir(stray, 0755), 0);
	cr_assert_eq(mkdir(download, 0755), 0);
	free(th_write_file(stray, "run.json", "{}\n"));
	free(th_write_file(download, "SHA256SUMS",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  debian.iso\n"));
	shapes[0] = missing;
	shapes[1] = file;
	shapes[2] = empty;
	shapes[3] = other;
	shapes[4] = stray;
	shapes[5] = download;
	for (size_t i = 0; i < 6; i++) {
		const char *d = shapes[i];
		const char *const cmds[][8] = {
			{ "verify", d, NULL },
			{ "report", d, NULL },
			{ "note", d, "a note", NULL },
			{ "resume", d, NULL },
			{ "safe", "--bench", bench, "--run-dir", d, NULL },
		};

		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			int status = th_rig(dir, cmds[c]);
			char *err = th_slurp(dir, "stderr"), *out = th_slurp(dir, "stdout");
			char *list_empty = listing(empty), *list_other = listing(other), *text;
			char *list_stray = listing(stray), *list_download = listing(download);

			cr_assert_eq(status, 2, "rig %s %s: exit %d, not 2\n%s", cmds[c][0], d, status, err);
			cr_assert(strstr(err, i == 0 ? "No such file or directory; expected a run directory" :
					      i == 1 ? "not a run directory (not a directory at all)" :
					      "is not a run directory (no run.json and inputs/, no manifest)"),
				  "rig %s %s said: %s", cmds[c][0], d, err);
			/* rig safe makes the bench safe all the same, and says so */
			if (!strcmp(cmds[c][0], "safe")) {
				cr_assert_not_null(strstr(out, "the bench is safe"), "%s", out);
				cr_assert_not_null(strstr(err, "the bench was made safe all the same"), "%s", err);
			} else {
				cr_assert_not_null(strstr(err, "nothing was done"), "%s", err);
			}
			/* nothing created, nothing changed */
			cr_assert_eq(access(missing, F_OK), -1, "rig %s created %s", cmds[c][0], missing);
			cr_assert_str_eq(list_empty, "", "rig %s wrote into an empty directory", cmds[c][0]);
			cr_assert_str_eq(list_other, "photo.txt\n", "rig %s wrote into %s", cmds[c][0], other);
			cr_assert_str_eq(list_stray, "run.json\n", "rig %s wrote into %s", cmds[c][0], stray);
			cr_assert_str_eq(list_download, "SHA256SUMS\n", "rig %s wrote into %s", cmds[c][0],
					 download);
			free(list_stray);
			free(list_download);
			text = th_read_file(file);
			cr_assert_str_eq(text, "not a run\n");
			free(text);
			free(list_empty);
			free(list_other);
			free(err);
			free(out);
		}
	}
	free(stray);
	free(download);
	free(missing);
	free(file);
	free(empty);
	free(other);
	free(bench);
	free(dir);
}

Test(exits, help_for_a_command_that_does_not_exist_is_bad_input)
{
	char *dir = th_tmpdir(), *err;

	cr_assert_eq(th_rig(dir, (const char *[]){ "help", "nosuch", NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "no command nosuch"), "%s", err);
	free(err);
	cr_assert_eq(th_rig(dir, (const char *[]){ "help", "run", "resume", NULL }), 2);
	/* a command that exists: its usage, exit 0 */
	cr_assert_eq(th_rig(dir, (const char *[]){ "help", "report", NULL }), 0);
	err = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(err, "Usage: rig report"), "%s", err);
	free(err);
	cr_assert_eq(th_rig(dir, (const char *[]){ "help", NULL }), 0);
	free(dir);
}

/* help is a command too: its usage, as any command's (it said "no command
 * help", exit 2). */
Test(exits, help_help_prints_the_usage_of_help)
{
	static const char *const asks[][3] = {
		{ "help", "help" }, { "help", "--help" }, { "help", "-h" }, { "--help", "help" },
	};
	char *dir = th_tmpdir(), *out;

	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		cr_assert_eq(th_rig(dir, (const char *[]){ asks[i][0], asks[i][1], NULL }), 0,
			     "rig %s %s: %s", asks[i][0], asks[i][1], th_slurp(dir, "stderr"));
		out = th_slurp(dir, "stdout");
		cr_assert_not_null(strstr(out, "Usage: rig help [COMMAND]"), "rig %s %s: %s",
				   asks[i][0], asks[i][1], out);
		free(out);
	}
	free(dir);
}

/* A sealed run, and every way of naming a directory inside it. */
Test(exits, an_output_directory_inside_a_run_directory_is_refused_before_anything_is_created)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", short_seq), *run, *link, *crashed, *before, *after;
	char *fresh;
	char *inside[7];

	if (asprintf(&run, "%s/run", dir) < 0 || asprintf(&link, "%s/link", dir) < 0 ||
	    asprintf(&crashed, "%s/crashed", dir) < 0 || asprintf(&fresh, "%s/fresh", dir) < 0)
		abort();
	/* no checks in short_seq: exit 1, nothing judged */
	cr_assert_neq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 2);
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", run, NULL }), 0);
	cr_assert_eq(symlink("run", link), 0);
	/* a run that never got its seal (crashed early): run.json and inputs/,
	 * which rig run writes first, are enough */
	cr_assert_eq(mkdir(crashed, 0755), 0);
	free(th_write_file(crashed, "run.json", "{}\n"));
	{
		char *inputs;

		if (asprintf(&inputs, "%s/inputs", crashed) < 0)
			abort();
		cr_assert_eq(mkdir(inputs, 0755), 0);
		free(inputs);
	}
	if (asprintf(&inside[0], "%s/run/next", dir) < 0 ||
	    asprintf(&inside[1], "%s/run/inputs/next", dir) < 0 ||
	    asprintf(&inside[2], "%s/run/data/deeper/still", dir) < 0 ||
	    asprintf(&inside[3], "%s/not-yet/../run/next", dir) < 0 ||
	    asprintf(&inside[4], "%s/link/next", dir) < 0 ||
	    asprintf(&inside[5], "%s/link/../run/./next", dir) < 0 ||
	    asprintf(&inside[6], "%s/crashed/next", dir) < 0)
		abort();
	before = listing(run);
	for (size_t i = 0; i < 7; i++) {
		int status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
							   "--output", inside[i], "-q", NULL });
		char *err = th_slurp(dir, "stderr");

		cr_assert_eq(status, 2, "-o %s: exit %d\n%s", inside[i], status, err);
		cr_assert_not_null(strstr(err, "lies inside the run directory"), "%s", err);
		cr_assert_not_null(strstr(err, i == 6 ? "/crashed" : "/run "), "%s", err);
		after = listing(run);
		cr_assert_str_eq(after, before, "-o %s wrote into the run", inside[i]);
		free(after);
		free(err);
	}
	cr_assert_eq(access(inside[3], F_OK), -1);
	{
		char *not_yet;

		if (asprintf(&not_yet, "%s/not-yet", dir) < 0)
			abort();
		cr_assert_eq(access(not_yet, F_OK), -1, "created %s", not_yet);
		free(not_yet);
	}
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", run, NULL }), 0, "the seal broke");
	/* beside it, not inside: allowed; and inside a folder that merely holds
	 * someone else's SHA256SUMS (a download's) */
	cr_assert_neq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", fresh, "-q", NULL }), 2);
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", fresh, NULL }), 0);
	{
		char *downloads, *in_downloads;

		if (asprintf(&downloads, "%s/downloads", dir) < 0 ||
		    asprintf(&in_downloads, "%s/downloads/run", dir) < 0)
			abort();
		cr_assert_eq(mkdir(downloads, 0755), 0);
		free(th_write_file(downloads, "SHA256SUMS",
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  debian.iso\n"));
		cr_assert_neq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
							   "--output", in_downloads, "-q", NULL }), 2);
		cr_assert_eq(th_rig(dir, (const char *[]){ "verify", in_downloads, NULL }), 0);
		free(in_downloads);
		free(downloads);
	}
	for (size_t i = 0; i < 7; i++)
		free(inside[i]);
	free(before);
	free(fresh);
	free(crashed);
	free(link);
	free(run);
	free(seq);
	free(dut);
	free(bench);
	free(dir);
}

/* Two runs started in the same second want the same default name: the
 * later one takes the name with a suffix and runs; the earlier run is
 * untouched.  Every second the run may start in holds a run already. */
Test(exits, a_default_name_a_run_of_the_same_second_took_gets_a_suffix)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", short_seq), *runs;
	time_t now = time(NULL);
	int status, suffixed = 0;

	if (asprintf(&runs, "%s/runs", dir) < 0)
		abort();
	cr_assert_eq(mkdir(runs, 0755), 0);
	for (time_t t = now; t < now + 30; t++) {
		char stamp[32], *taken, *inputs;

		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&t));
		if (asprintf(&taken, "%s/%s-T-SHORT", runs, stamp) < 0 ||
		    asprintf(&inputs, "%s/inputs", taken) < 0)
			abort();
		cr_assert_eq(mkdir(taken, 0755), 0);
		cr_assert_eq(mkdir(inputs, 0755), 0);
		free(th_write_file(taken, "run.json", "{\"taken\": true}\n"));
		free(inputs);
		free(taken);
	}
	status = th_rig_wait(th_rig_spawn_with(dir, (const char *[]){ "run", seq, "--bench", bench,
						"--dut", dut, "-q", NULL },
						&(struct th_spawn_opts){ .in_dir = true }));
	{
		char *err = th_slurp(dir, "stderr");

		cr_assert_neq(status, 2, "exit %d\n%s", status, err);
		free(err);
	}
	for (time_t t = now; t < now + 30; t++) {
		char stamp[32], *json, *next;

		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&t));
		if (asprintf(&json, "%s/%s-T-SHORT/run.json", runs, stamp) < 0 ||
		    asprintf(&next, "%s/%s-T-SHORT-2/run.json", runs, stamp) < 0)
			abort();
		{
			char *text = th_slurp(dir, json + strlen(dir) + 1);

			cr_assert_str_eq(text, "{\"taken\": true}\n", "%s was rewritten", json);
			free(text);
		}
		suffixed += access(next, F_OK) == 0;
		free(next);
		free(json);
	}
	cr_assert_eq(suffixed, 1, "%d runs with a -2 suffix", suffixed);
	free(runs);
	free(seq);
	free(dut);
	free(bench);
	free(dir);
}

Test(exits, a_sequence_without_checks_judges_nothing_and_does_not_pass)
{
	/* short_seq: a rate, a hold, a stop; no check step.  It completes, and
	 * every output says nothing was judged instead of PASS; exit 1 */
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", short_seq), *run, *text, *report;
	json_t *res;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 1);
	text = th_slurp(run, "results.json");
	res = json_loads(text, 0, NULL);
	cr_assert_not_null(res, "%s", text);
	cr_assert_str_eq(json_string_value(json_object_get(res, "status")), "completed");
	cr_assert_str_eq(json_string_value(json_object_get(res, "overall_verdict")), "inconclusive");
	cr_assert_str_eq(json_string_value(json_object_get(res, "nothing_judged")),
			 "nothing was judged: the sequence has no checks");
	json_decref(res);
	free(text);
	text = th_slurp(run, "summary.txt");
	cr_assert_not_null(strstr(text, "Overall: inconclusive (nothing was judged"), "%s", text);
	cr_assert_null(strstr(text, "pass"), "%s", text);
	free(text);
	/* CI sees one case in error, not zero cases passed */
	text = th_slurp(run, "junit.xml");
	cr_assert_not_null(strstr(text, "<testsuites tests=\"1\" failures=\"0\" errors=\"1\""), "%s", text);
	cr_assert_not_null(strstr(text, "<error type=\"nothing_judged\" message=\"nothing was judged"),
			   "%s", text);
	free(text);
	/* the test report, both renderings */
	report = report_text(run, dir);
	cr_assert_not_null(report);
	cr_assert(has_words(report, "Overall verdict: INCONCLUSIVE"), "%s", report);
	cr_assert(has_words(report, "nothing was judged"), "%s", report);
	cr_assert(!has_words(report, "Overall verdict: PASS"), "%s", report);
	free(report);
	text = th_slurp(run, "report.html");
	cr_assert_not_null(strstr(text, "nothing was judged"));
	free(text);
	/* judged again from the record: the same */
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 1);
	text = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(text, "Overall: inconclusive (nothing was judged"), "%s", text);
	free(text);
	/* rig validate: valid, with a warning */
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						   NULL }), 0);
	text = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(text, "has no check steps: a run of it judges nothing"), "%s", text);
	free(text);
	free(run);
	free(seq);
	free(dut);
	free(bench);
	free(dir);
}

/* Every rig history subcommand refuses an option it does not read (a filter
 * that would silently not filter), saying which, and opens no store. */
Test(exits, an_option_a_history_subcommand_does_not_read_is_refused_not_ignored)
{
	static const char *const tries[][7] = {
		{ "list", "--check", "dose_accuracy", NULL },
		{ "list", "--previous", NULL },
		{ "show", "RUN-1", "--since", "2026-01-01", NULL },
		{ "compare", "RUN-1", "RUN-2", "--device", "SN-1", NULL },
		{ "trend", "--device", "SN-1", "--check", "dose_accuracy", "--bench", "B" },
		{ "trend", "--device", "SN-1", "--check", "dose_accuracy", "--limit", "3" },
		{ "watch", "--since", "2026-01-01", NULL },
		{ "watch", "--device", "SN-1", NULL },
		{ "trace", "--bench", "B", NULL },
		{ "baseline", "set", "RUN-1", "--window", "steady" },
		{ "nights", "--check", "dose_accuracy", NULL },
		{ "dashboard", "--out", "site", "--model", "ITP-40" },
		{ "import", "RUN-1", "--title", "x", NULL },
		{ "sync", "--limit", "5", NULL },
	};
	char *dir = th_tmpdir(), *runs, *store;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	cr_assert_geq(asprintf(&store, "%s/history.sqlite", runs), 0);
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		const char *argv[12] = { "history" };
		const char *option = NULL;
		size_t n = 1;
		char *err, *out;

		for (size_t k = 0; k < 7 && tries[i][k]; k++) {
			argv[n++] = tries[i][k];
			if (tries[i][k][0] == '-')
				option = tries[i][k];   /* the last one: the unread option */
		}
		argv[n++] = "--runs";
		argv[n++] = runs;
		cr_assert_eq(th_rig(dir, argv), 2, "history %s %s", tries[i][0], option);
		err = th_slurp(dir, "stderr");
		out = th_slurp(dir, "stdout");
		cr_assert(strstr(err, option) && strstr(err, "allowed:") &&
			  strstr(err, tries[i][0]), "history %s %s: %s", tries[i][0], option, err);
		cr_assert_str_eq(out, "");
		cr_assert_neq(access(store, F_OK), 0, "history %s %s opened the store", tries[i][0],
			      option);
		free(err);
		free(out);
	}
	/* what a subcommand does read is still taken (once there is a store:
	 * sync makes it; list, only reading, would not) */
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "sync", "--runs", runs, NULL }), 0,
		     "%s", th_slurp(dir, "stderr"));
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "list", "--bench", "B", "--since",
						   "2026-01-01", "--limit", "3", "--runs", runs,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	free(store);
	free(runs);
	free(dir);
}

/* rig, the process that drives a bench, links what a run needs: the
 * report's drawing libraries and the history's clients are the lab
 * module's (rig/cli/lab/module.h), loaded by a child at the run's end.
 * Read from the running process's own map while it holds its pump. */
Test(exits, the_process_that_drives_the_bench_maps_no_report_or_history_library)
{
	static const char *const not_mapped[] = { "libcairo", "libpango", "libfontconfig",
						  "libharfbuzz", "libsqlite3", "libpq", "rig-lab.so" };
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", tiny_seq), *run, *text, *maps_path, *maps;
	pid_t pid;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	pid = th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						  "--output", run, "--real-time", "-q", NULL });
	text = th_wait_for_text(run, "events.jsonl", "\"kind\":\"set_rate\"", 20000);
	cr_assert_not_null(text, "the run never set its rate");
	free(text);
	if (asprintf(&maps_path, "/proc/%d/maps", (int)pid) < 0)
		abort();
	maps = th_read_file(maps_path);
	cr_assert_not_null(maps);
	cr_assert_not_null(strstr(maps, "libiio"), "the run maps libiio: %s", maps);
	for (size_t i = 0; i < sizeof(not_mapped) / sizeof(not_mapped[0]); i++)
		cr_assert_null(strstr(maps, not_mapped[i]), "the running rig maps %s:\n%s",
			       not_mapped[i], maps);
	/* no check: exit 1; and the report the module's child wrote */
	cr_assert_eq(th_rig_wait(pid), 1);
	text = th_slurp(run, "report.pdf");
	cr_assert(strncmp(text, "%PDF-", 5) == 0);
	free(text);
	free(maps);
	free(maps_path);
	free(run);
	free(seq);
	free(dut);
	free(bench);
	free(dir);
}

/* A rig whose lab module is missing (a package half installed, a binary
 * copied alone) still runs, records and seals; it says why there is no
 * report, and rig report writes it later with the module there. */
Test(exits, a_rig_without_its_lab_module_records_seals_and_says_why_there_is_no_report)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", short_seq), *run, *alone, *cmd, *text, *path;
	struct stat st;
	pid_t pid;

	if (asprintf(&run, "%s/run", dir) < 0 || asprintf(&alone, "%s/bin/rig", dir) < 0 ||
	    asprintf(&cmd, "mkdir -p '%s/bin' && cp '%s' '%s'", dir, RIG_BINARY, alone) < 0)
		abort();
	cr_assert_eq(system(cmd), 0);
	pid = th_rig_spawn_with(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						       "--output", run, "-q", NULL },
				&(struct th_spawn_opts){ .binary = alone });
	cr_assert_eq(th_rig_wait(pid), 3);
	text = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(text, "cannot load the lab module"), "%s", text);
	cr_assert_not_null(strstr(text, "no report: the raw data are intact"), "%s", text);
	free(text);
	for (const char *const *f = (const char *const[]){ "samples.csv.zst", "results.json",
							  "junit.xml", "SHA256SUMS", NULL }; *f; f++) {
		if (asprintf(&path, "%s/%s", run, *f) < 0)
			abort();
		cr_assert_eq(stat(path, &st), 0, "%s is missing", path);
		free(path);
	}
	if (asprintf(&path, "%s/report.pdf", run) < 0)
		abort();
	cr_assert_neq(stat(path, &st), 0, "a report.pdf without the module");
	/* the history's commands need the module: said, not a crash */
	pid = th_rig_spawn_with(dir, (const char *[]){ "history", "list", NULL },
				&(struct th_spawn_opts){ .binary = alone });
	cr_assert_eq(th_rig_wait(pid), 3);
	text = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(text, "cannot load the lab module"), "%s", text);
	free(text);
	/* the build's rig, with its module: the report, from the record */
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 1);
	cr_assert_eq(stat(path, &st), 0, "rig report wrote no report.pdf");
	cr_assert_eq(th_rig(dir, (const char *[]){ "help", "history", NULL }), 0);
	text = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(text, "Usage: rig history"), "%s", text);
	free(text);
	free(path);
	free(cmd);
	free(alone);
	free(run);
	free(seq);
	free(dut);
	free(bench);
	free(dir);
}

/* rig export writes a run's tables where it is told, never into a run
 * directory (its seal), and refuses what is not a run. */
Test(exits, export_writes_the_tables_outside_the_run_and_nowhere_else)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", short_seq), *run, *inside, *tables, *text, *before,
	     *after;

	if (asprintf(&run, "%s/run", dir) < 0 || asprintf(&inside, "%s/run/tables", dir) < 0 ||
	    asprintf(&tables, "%s/tables", dir) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 1);
	before = listing(run);
	cr_assert_null(strstr(before, "data\n"), "the run directory keeps derived tables: %s", before);
	cr_assert_eq(th_rig(dir, (const char *[]){ "export", run, "--out", inside, NULL }), 2);
	text = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(text, "lies inside the run directory"), "%s", text);
	free(text);
	cr_assert_eq(th_rig(dir, (const char *[]){ "export", run, NULL }), 2);
	cr_assert_eq(th_rig(dir, (const char *[]){ "export", dir, "--out", tables, NULL }), 2);
	after = listing(run);
	cr_assert_str_eq(before, after, "rig export changed the run directory");
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", run, NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "export", run, "--out", tables, NULL }), 0);
	text = listing(tables);
	cr_assert_str_eq(text, "README.txt\nflow.csv\npower.csv\npressure.csv\npump.csv\nscale.csv\n");
	free(text);
	text = th_slurp(tables, "pressure.csv");
	cr_assert(strncmp(text, "t_s,pressure_kPa,pressure_flags\n", 32) == 0, "%.60s", text);
	free(text);
	free(before);
	free(after);
	free(tables);
	free(inside);
	free(run);
	free(seq);
	free(dut);
	free(bench);
	free(dir);
}
