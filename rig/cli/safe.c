/* rig safe: the bench made safe by a process of its own. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>

#include "cli.h"
#include "lab/lab.h"
#include "rig/engine/engine.h"
#include "rig/engine/lock.h"
#include "rig/engine/rundir.h"

static const char usage_safe[] =
	"Usage: rig safe --bench FILE [--run-dir RUN_DIR] [--reason TEXT]\n"
	"\n"
	"Makes the bench safe from a process of its own: opens only its pump, valve\n"
	"and output lines (a broken sensor cannot stand in the way), stops the pump\n"
	"(retried), sets the valve and the output lines to their safe levels, and\n"
	"prints what each did.  With --run-dir, a run that was interrupted (no run_end\n"
	"in its events.jsonl) gets the fault, the safe state and its end recorded,\n"
	"then is judged and sealed as rig report would.  rig run starts this itself\n"
	"when it crashes (--crashed SIGNAL).  It waits for no lock and takes none: a\n"
	"bench held by a run is made safe all the same (and said to be held).\n"
	"Exit status 0 when the bench is safe, 3\n"
	"when something did not answer (or after a crash), 2 for bad input (a RUN_DIR\n"
	"that is not a run directory: the bench is made safe all the same, nothing is\n"
	"recorded there).\n";

static int safe_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bench", required_argument, NULL, 'b' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "reason", required_argument, NULL, 'R' },
		{ "crashed", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *bench_path = NULL, *run_dir = NULL, *reason = NULL, *crashed = NULL;
	struct bench *bench = NULL;
	char why[512], err[1024] = "";
	bool recorded = false, not_a_run;
	struct stat st;
	int c, r, status;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bench_path = optarg; break;
		case 'r': run_dir = optarg; break;
		case 'R': reason = optarg; break;
		case 'C': crashed = optarg; break;
		case 'h': fputs(usage_safe, stdout); return EXIT_PASS;
		default: bad_option(argv, usage_safe); return EXIT_BAD_INPUT;
		}
	}
	if (!bench_path || optind != argc) {
		fprintf(stderr, "rig safe: --bench FILE is required\n\n%s", usage_safe);
		return EXIT_BAD_INPUT;
	}
	/* the reason goes into the record: one line of text */
	if (reason && (!*reason || strlen(reason) >= 400 ||
		       !text_check(reason, strlen(reason), TEXT_ALLOW_TAB, NULL))) {
		fprintf(stderr, "rig safe: --reason must be one line of UTF-8 text, 1 to 399 bytes, "
			"without control characters (tab aside)\n");
		return EXIT_BAD_INPUT;
	}
	if (load_bench(bench_path, &bench) < 0)
		return EXIT_BAD_INPUT;
	/* A safety action waits for no lock and takes none: it must act at
	 * once, also on a bench that a run holds (whose pump it then stops
	 * under it, which the run records as the fault it is).  It says so. */
	{
		struct lock_busy busy;
		char words[RIG_PATH_MAX + 1200];

		if (bench_lock_query(bench, &busy) == -EBUSY) {
			bench_lock_describe(busy.holder, words, sizeof(words));
			fprintf(stderr, "rig safe: %s is held by %s; making the bench safe anyway "
				"(a safety action waits for no lock)\n", busy.what, words);
		}
	}
	if (crashed)
		snprintf(why, sizeof(why), "internal error: rig crashed (%s); the bench was made "
			 "safe by a fresh process (rig safe)", crashed);
	else
		snprintf(why, sizeof(why), "%s", reason ? reason : "made safe by hand (rig safe)");
	/* A --run-dir that is not a run's is bad input, but the bench comes
	 * first: it is made safe all the same, and nothing is recorded there. */
	not_a_run = run_dir && (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
				!rundir_holds_run(run_dir));
	install_signals();   /* a signal now is noted, never obeyed: see engine.c */
	r = engine_make_safe(&(struct engine_opts){ .bench = bench,
		.run_dir = not_a_run ? NULL : run_dir,
		.virtual_time = all_simulated(bench), .stop_signal = &stop_signal,
		.after_crash = crashed != NULL }, why, &recorded,
		err, sizeof(err));
	if (r < 0 && r != -EIO)
		fprintf(stderr, "rig safe: %s\n", err[0] ? TERM_SAFE(err) : strerror(-r));
	status = r == 0 && !crashed ? EXIT_PASS : EXIT_ABORTED;
	printf("rig safe: the bench %s%s\n", r == 0 ? "is safe" : "MAY NOT BE SAFE",
	       recorded ? "; the run's record says so" : "");
	if (not_a_run) {
		fflush(stdout);
		(void)require_run_dir(run_dir, "safe", r == 0 ? "the bench was made safe all the "
				      "same; nothing was recorded there" : "nothing was recorded there");
		if (status == EXIT_PASS)
			status = EXIT_BAD_INPUT;
	}
	if (recorded) {
		struct sig_secret_key key;
		bool have_key;

		if (sign_key_resolve(NULL, "safe", &key, &have_key) == 0) {
			if (judge(run_dir, false, "safe", &(struct seal_opts){
				.sealed_by = "rig safe", .key = have_key ? &key : NULL, .first = true,
				.why = crashed ? "made safe after rig crashed" : "made safe by hand" },
				NULL) != EXIT_INTEGRITY)
				lab_history_store(run_dir, NULL, true);
			if (have_key)
				sodium_memzero(&key, sizeof(key));
		}
	}
	bench_free(bench);
	return status;
}

const struct rig_command cmd_safe = { "safe", usage_safe, safe_main };
