/* rig resume: a run interrupted by a crash or power loss, continued. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lab/lab.h"
#include "rig/engine/engine.h"
#include "rig/engine/lock.h"
#include "rig/engine/resume.h"

static const char usage_resume[] =
	"Usage: rig resume RUN_DIR [--quiet] [--allow-expired-calibration] [--sign-key FILE]\n"
	"                  [--db TEXT]\n"
	"\n"
	"Continues a run that was interrupted (crash, kill, power loss: no run_end in\n"
	"its events.jsonl) with the inputs copied into RUN_DIR/inputs/: re-opens the\n"
	"bench, makes it safe, sets again the rate and valve state the sequence had\n"
	"set, and runs the sequence again from the step that was in progress (an\n"
	"interrupted bolus is not given again), appending to samples.csv and\n"
	"events.jsonl.  The gap is recorded (a resume event with gap_begin_s and\n"
	"gap_s, wall time since the record was last written) and run time continues\n"
	"across it; checks whose window spans it are inconclusive.  Exit status as\n"
	"for run; 2 for a run that ended, 5 when the bench is busy.  A run sealed\n"
	"after the fact (rig report) must still match its manifest; the resumed run\n"
	"is sealed again at its end, signed with --sign-key FILE or $PUMPRIG_SIGN_KEY.\n"
	"The calibration gate of rig run applies again on the day of the resume: an\n"
	"instrument whose calibration fell due meanwhile stops it (exit 2) unless\n"
	"--allow-expired-calibration is given, which events.jsonl and the report record.\n";

static int resume_main(int argc, char **argv)
{
	struct files f = { 0 };
	char seq_path[RIG_PATH_MAX], bench_path[RIG_PATH_MAX], dut_path[RIG_PATH_MAX];
	char err[1024] = "", stale[1024] = "";
	struct cal_gate cal;
	const char *run_dir = NULL;
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	struct bench_lock *lock = NULL;
	struct engine_resume rs;
	struct engine_opts o;
	struct sig_secret_key key;
	bool virtual_time = false, have_key = false, sealed = false;
	int r, status;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_resume, stdout);
			return EXIT_PASS;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			f.quiet = true;
		} else if (!strcmp(argv[i], "--allow-expired-calibration")) {
			f.allow_expired_calibration = true;
		} else if (!strcmp(argv[i], "--sign-key") && i + 1 < argc) {
			f.sign_key = argv[++i];
		} else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			f.history_db = argv[++i];
		} else if (argv[i][0] == '-' || run_dir) {
			fprintf(stderr, "rig: resume: unexpected '%s'\n\n%s", TERM_SAFE(argv[i]),
				usage_resume);
			return EXIT_BAD_INPUT;
		} else {
			run_dir = argv[i];
		}
	}
	if (!run_dir) {
		fprintf(stderr, "rig: resume takes one run directory\n\n%s", usage_resume);
		return EXIT_BAD_INPUT;
	}
	if (require_run_dir(run_dir, "resume", "nothing was done") != 0)
		return EXIT_BAD_INPUT;
	snprintf(seq_path, sizeof(seq_path), "%s/inputs/sequence.cfg", run_dir);
	snprintf(bench_path, sizeof(bench_path), "%s/inputs/bench.cfg", run_dir);
	snprintf(dut_path, sizeof(dut_path), "%s/inputs/device.cfg", run_dir);
	f.seq_path = seq_path;
	f.bench_path = bench_path;
	f.dut_path = dut_path;
	/* The plan judged again, the calibration gate as for rig run on the
	 * day of the resume: a run of days may outlive an instrument's due date. */
	if (load_all(&f, false, &seq, &bench, &dev, &cal) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	if (sign_key_resolve(f.sign_key, "resume", &key, &have_key) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	status = sealed_precheck(run_dir, "resume", true, have_key, false, &sealed);
	if (status != 0)
		goto out;
	status = take_bench_lock(bench, run_dir, "rig resume", "resumed", &lock, stale,
				 sizeof(stale));
	if (status != 0)
		goto out;
	r = resume_plan(run_dir, seq, bench, &rs, &virtual_time, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "rig: cannot resume: %s\n", TERM_SAFE(err));
		status = EXIT_BAD_INPUT;
		goto out;
	}
	if (!all_simulated(bench))
		virtual_time = false;
	if (!f.quiet)
		fprintf(stderr, "rig: resuming %s at step %zu of %zu after a gap of %.0f s from t = %.3f s\n",
			TERM_SAFE(run_dir), rs.first_step + 1, seq->n_steps, rig_ns_to_s(rs.gap_ns),
			rig_ns_to_s(rs.gap_begin_ns));
	install_signals();
	install_crash_handler(bench_path, run_dir);
	o = (struct engine_opts){
		.seq = seq, .bench = bench, .dev = dev, .run_dir = run_dir,
		.virtual_time = virtual_time,
		.progress = f.quiet ? NULL : stderr,
		.progress_live = isatty(STDERR_FILENO),
		.stop_signal = &stop_signal,
		.lock_path = bench_lock_stale_path(lock), .lock_stale_holder = stale,
		.calibration_today = cal.n > 0 ? cal.today : NULL,
		.resume = &rs,
	};
	r = engine_run(&o, err, sizeof(err));
	if (r < 0 && r != -ECANCELED)
		fprintf(stderr, "rig: %s\n", TERM_SAFE(err));
	else if (r == -ECANCELED)
		fprintf(stderr, "rig: run aborted: %s\n", TERM_SAFE(err));
	status = judge(run_dir, !f.quiet, "resume", &(struct seal_opts){
		.sealed_by = "rig resume", .key = have_key ? &key : NULL, .first = !sealed,
		.why = "end of resumed run" }, NULL);
	if (status != EXIT_INTEGRITY)
		lab_history_store(run_dir, f.history_db, f.quiet);
	if (r < 0 && status != EXIT_INTEGRITY)
		status = EXIT_ABORTED;
out:
	if (have_key)
		sodium_memzero(&key, sizeof(key));
	bench_lock_release(lock);
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return status;
}

const struct rig_command cmd_resume = { "resume", usage_resume, resume_main };
