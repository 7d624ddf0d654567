/* What several commands share: signal handling, loading the three files,
 * the operator and the signing key, judging and sealing a run directory, the
 * bench lock and the calibration gate. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rig/base/signals.h"
#include "rig/engine/lock.h"
#include "rig/engine/recorder.h"
#include "rig/engine/rundir.h"
#include "rig/judge/results.h"
#include "reports/reports.h"

volatile sig_atomic_t stop_signal;
int cli_full_argc;
char **cli_full_argv;

/* Every signal whose default action would end rig ends the run instead,
 * through the safe state, with its name recorded: the handler only sets a
 * flag, which the engine notices (rig/engine/sampler.c).  A second signal
 * sets it again and changes nothing, so it cannot skip the safe-state
 * sequence.
 *
 * SIGPIPE and SIGXFSZ are also what the kernel sends rig itself when a write
 * fails (a socket whose far end went, the file size limit): that write then
 * fails with EPIPE or EFBIG and the code that made it decides (a reconnect,
 * a full disk's abort), so a SIGPIPE or SIGXFSZ from rig's own process is
 * let pass; one sent by another process stops the run like any other. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if ((sig == SIGPIPE || sig == SIGXFSZ) && si->si_code == SI_USER && si->si_pid == getpid())
		return;
	stop_signal = sig;
}

/* A stopped rig would leave the pump delivering with nobody watching the
 * line pressure, the balance or the emergency stop: SIGTSTP (Ctrl-Z) is
 * refused, said on stderr, and the run goes on (Ctrl-C ends it safely). */
static void on_suspend(int sig)
{
	static const char msg[] = "\nrig: not suspended: a stopped rig would leave the pump "
				  "running unwatched; Ctrl-C (SIGINT) ends the run safely\n";
	int saved = errno;

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	errno = saved;
}

/* A crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: rig's own fault) leaves
 * this process untrustworthy, so nothing in it makes the bench safe: the
 * handler, on its own stack, replaces the process by a fresh `rig safe` for
 * the same bench and run directory (execv is async-signal-safe), which stops
 * the pump, sets the valve and output lines safe, records why and reports.
 * The arguments are built before the run; the handler only picks them. */
enum { CRASH_SIGNALS = 5 };
static const int crash_signals[CRASH_SIGNALS] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static const char *const crash_names[CRASH_SIGNALS] = { "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL",
							 "SIGABRT" };
static char crash_bench[RIG_PATH_MAX], crash_run[RIG_PATH_MAX];

static char *crash_argv[CRASH_SIGNALS][9];
static char crash_stack[64 * 1024];

static bool is_crash_signal(int sig)
{
	for (int i = 0; i < CRASH_SIGNALS; i++)
		if (crash_signals[i] == sig)
			return true;
	return false;
}

static void on_crash(int sig)
{
	static const char msg[] = "rig: crashed; making the bench safe in a fresh process "
				  "(rig safe)\n";

	for (int i = 0; i < CRASH_SIGNALS; i++)
		if (crash_signals[i] == sig) {
			(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
			execv("/proc/self/exe", crash_argv[i]);
		}
	raise(sig);   /* SA_RESETHAND: the default action, a core if so configured */
}

void install_crash_handler(const char *bench_path, const char *run_dir)
{
	struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_ONSTACK | SA_RESETHAND };
	stack_t ss = { .ss_sp = crash_stack, .ss_size = sizeof(crash_stack) };
	sigset_t unblock;

	snprintf(crash_bench, sizeof(crash_bench), "%s", bench_path);
	snprintf(crash_run, sizeof(crash_run), "%s", run_dir);
	for (int i = 0; i < CRASH_SIGNALS; i++) {
		char **a = crash_argv[i];

		a[0] = "rig";
		a[1] = "safe";
		a[2] = "--bench";
		a[3] = crash_bench;
		a[4] = "--run-dir";
		a[5] = crash_run;
		a[6] = "--crashed";
		a[7] = (char *)crash_names[i];
		a[8] = NULL;
	}
	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigemptyset(&unblock);
	for (int i = 0; i < CRASH_SIGNALS; i++) {
		sigaction(crash_signals[i], &sa, NULL);
		sigaddset(&unblock, crash_signals[i]);
	}
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

/* The two signals the C library keeps for its own threads (glibc: 32 and
 * 33, which kill -l does not list) end a process by default, and sigaction()
 * refuses them to every program.  glibc's own handlers for them ignore one
 * that another process sent, but it installs them only when a process first
 * creates a thread (33) and first cancels one (32).  So rig does both, once,
 * with a thread that only waits: a stray 32 or 33 is then ignored and the
 * run goes on, instead of ending rig with the pump running. */
static void *wait_to_be_cancelled(void *arg)
{
	for (;;)
		pause();
	return arg;
}

static void arm_reserved_signals(void)
{
	static bool armed;
	pthread_t t;

	if (armed || pthread_create(&t, NULL, wait_to_be_cancelled, NULL) != 0)
		return;
	pthread_cancel(t);
	pthread_join(t, NULL);
	armed = true;
}

/* From the signal table (rig/base/signals.c): whatever the disposition rig
 * was started with (a shell's background job ignores SIGINT and SIGQUIT,
 * nohup SIGHUP, a parent may have blocked some), a signal that can stop a
 * process stops a run safely: an operator whose signal did nothing would
 * reach for kill -9 and leave the pump running.  The crash signals are
 * install_crash_handler()'s.  SIGTTIN and SIGTTOU are ignored (a background
 * rig writing its progress to a terminal set to tostop would otherwise be
 * stopped, its pump unwatched); SIGTSTP is refused (on_suspend).  SIGKILL
 * and SIGSTOP cannot be caught: docs/faults.md says what protects the bench
 * from them. */
void install_signals(void)
{
	struct sigaction stop = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	struct sigaction suspend = { .sa_handler = on_suspend, .sa_flags = SA_RESTART };
	struct sigaction ignore = { .sa_handler = SIG_IGN };
	sigset_t unblock;

	sigemptyset(&stop.sa_mask);
	sigemptyset(&suspend.sa_mask);
	sigemptyset(&ignore.sa_mask);
	sigemptyset(&unblock);
	for (int sig = 1; sig <= rig_signal_max(); sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || rig_signal_reserved(sig) || is_crash_signal(sig))
			continue;
		if (rig_signal_ends_process(sig))
			sigaction(sig, &stop, NULL);
		else if (sig == SIGTSTP)
			sigaction(sig, &suspend, NULL);
		else if (rig_signal_default(sig) == RIG_SIGNAL_STOP)
			sigaction(sig, &ignore, NULL);
		else
			continue;   /* ignored or continue by default: left as they are */
		sigaddset(&unblock, sig);
	}
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	arm_reserved_signals();
}

int parse_files(int argc, char **argv, struct files *f, const char *usage)
{
	static const struct option opts[] = {
		{ "bench", required_argument, NULL, 'b' },
		{ "dut", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "real-time", no_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "operator", required_argument, NULL, 'O' },
		{ "note", required_argument, NULL, 'N' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "allow-expired-calibration", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:d:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'O': f->operator_name = optarg; break;
		case 'K': f->sign_key = optarg; break;
		case 'X': f->allow_expired_calibration = true; break;
		case 'N':
			if (f->n_notes == RUN_NOTES_MAX) {
				fprintf(stderr, "rig: more than %d --note options; put the rest in one "
					"note or add them later with rig note\n", RUN_NOTES_MAX);
				return -1;
			}
			f->notes[f->n_notes++] = optarg;
			break;
		case 'b': f->bench_path = optarg; break;
		case 'd': f->dut_path = optarg; break;
		case 'o': f->out_dir = optarg; break;
		case 'R': f->real_time = true; break;
		case 'q': f->quiet = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return -1;
		}
	}
	if (optind + 1 != argc || !f->bench_path || !f->dut_path) {
		fprintf(stderr, "rig: %s\n\n%s",
			optind >= argc ? "no sequence file given" :
			optind + 1 < argc ? "more than one sequence file given" :
			!f->bench_path ? "--bench is required" : "--dut is required", usage);
		return -1;
	}
	f->seq_path = argv[optind];
	return 0;
}

int load_all(const struct files *f, struct sequence **seq, struct bench **bench,
		    struct device **dev)
{
	struct diag_list diags = { 0 };

	/* Every file is loaded even when an earlier one failed: all problems in
	 * one pass. */
	int rs = seq_load(f->seq_path, seq, &diags);
	int rb = bench_load(f->bench_path, bench, &diags);
	int rd = device_load(f->dut_path, dev, &diags);

	if (rs == 0 && rb == 0 && rd == 0)
		plan_validate(*seq, *bench, *dev, &diags);
	if (diags.n > 0) {
		diag_print(&diags, stderr);
		fprintf(stderr, "rig: %zu problem%s found; nothing was run\n", diags.n,
			diags.n == 1 ? "" : "s");
		diag_clear(&diags);
		return -EINVAL;
	}
	return rs < 0 ? rs : rb < 0 ? rb : rd;
}

int load_bench(const char *path, struct bench **ret)
{
	struct diag_list diags = { 0 };
	int r = bench_load(path, ret, &diags);

	diag_print(&diags, stderr);
	diag_clear(&diags);
	return r;
}

bool all_simulated(const struct bench *bench)
{
	if (bench->sim_clock_uri[0])
		return true;   /* a wire-level simulator in lockstep with rig */
	for (int role = 0; role < ROLE__COUNT; role++)
		if (bench->instrument[role].present && strcmp(bench->instrument[role].backend, "sim") != 0)
			return false;
	return true;
}

/* The operator: --operator, else $PUMPRIG_OPERATOR, else the login name. */
const char *operator_resolve(const char *given)
{
	const char *env = getenv("PUMPRIG_OPERATOR");
	const struct passwd *pw;

	if (given)
		return given;
	if (env && *env)
		return env;
	pw = getpwuid(geteuid());
	return pw && pw->pw_name ? pw->pw_name : "unknown";
}

bool operator_valid(const char *name)
{
	if (!*name || strlen(name) >= RIG_TEXT_MAX)
		return false;
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20)
			return false;
	return true;
}

/* The signing key: --sign-key, else $PUMPRIG_SIGN_KEY, else none (0).
 * Loaded before anything happens, so a bad key never costs a run. */
int sign_key_resolve(const char *given, const char *cmd, struct sig_secret_key *key,
			    bool *ret_have)
{
	const char *path = given ? given : getenv("PUMPRIG_SIGN_KEY");
	int r;

	*ret_have = false;
	if (!path || !*path)
		return 0;
	r = sig_secret_key_load(path, key);
	if (r < 0) {
		fprintf(stderr, "rig %s: %s: %s\n", cmd, path,
			r == -EACCES ? "group or others may read this secret key; chmod 600 it "
				       "(or make a new one with rig keygen)" :
			r == -EBADMSG ? "not a pumprig secret key (rig keygen --out FILE makes one)" :
			strerror(-r));
		return r;
	}
	*ret_have = true;
	return 0;
}

int require_run_dir(const char *run_dir, const char *cmd, const char *outcome)
{
	struct stat st;

	if (stat(run_dir, &st) != 0) {
		fprintf(stderr, "rig %s: %s: %s; expected a run directory (rig run makes one); %s\n",
			cmd, run_dir, strerror(errno), outcome);
		return EXIT_BAD_INPUT;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "rig %s: %s is not a run directory (not a directory at all); %s\n",
			cmd, run_dir, outcome);
		return EXIT_BAD_INPUT;
	}
	if (!rundir_holds_run(run_dir)) {
		fprintf(stderr, "rig %s: %s is not a run directory (no run.json and inputs/, no "
			"manifest); %s\n", cmd, run_dir, outcome);
		return EXIT_BAD_INPUT;
	}
	return 0;
}

void print_change(void *ctx, enum manifest_change c, const char *path)
{
	fprintf((FILE *)ctx, "%-8s %s\n", manifest_change_name(c), path);
}

/* A sealed run must still match its manifest before rig report or rig note
 * write into it (docs/integrity.md): raw_only lets the files that report
 * writes anyway differ.  Returns 0 with *ret_sealed, or an exit status. */
int sealed_precheck(const char *run_dir, const char *cmd, bool raw_only, bool have_key,
			   bool unsign, bool *ret_sealed)
{
	struct integrity_result ir;
	int r;

	*ret_sealed = false;
	fflush(stdout);
	r = integrity_check(run_dir, raw_only ? report_output_is_derived : NULL, NULL,
			    print_change, stderr, &ir);
	if (r < 0) {
		fprintf(stderr, "rig %s: cannot read %s: %s\n", cmd, run_dir, strerror(-r));
		return EXIT_BAD_INPUT;
	}
	if (!ir.manifest_found)
		return 0;
	*ret_sealed = true;
	if (ir.manifest_malformed) {
		fprintf(stderr, "rig %s: %s/%s:%zu: not a manifest line; the seal itself was "
			"altered: nothing written (rig verify says the same)\n", cmd, run_dir,
			MANIFEST_NAME, ir.manifest_bad_line);
		return EXIT_INTEGRITY;
	}
	if (ir.sig_found && (ir.sig_malformed || !ir.sig_valid)) {
		fprintf(stderr, "rig %s: %s/%s does not match the manifest: the seal was altered; "
			"nothing written\n", cmd, run_dir, MANIFEST_SIG_NAME);
		return EXIT_INTEGRITY;
	}
	if (ir.n_added + ir.n_changed + ir.n_missing > 0) {
		fprintf(stderr, "rig %s: %s WAS ALTERED after it was sealed (%zu added, %zu changed, "
			"%zu missing%s, listed above); nothing was written and the old "
			"manifest stays, so rig verify keeps failing\n", cmd, run_dir, ir.n_added,
			ir.n_changed, ir.n_missing, raw_only ? ", not counting the report's own outputs" : "");
		return EXIT_INTEGRITY;
	}
	if ((ir.sig_found || ir.signed_by_key[0]) && !have_key && !unsign) {
		fprintf(stderr, "rig %s: %s is signed (key %s); sealing it again without the key "
			"would leave it unsigned: give --sign-key FILE (or $PUMPRIG_SIGN_KEY)%s; "
			"nothing written\n", cmd, run_dir,
			ir.sig_fingerprint[0] ? ir.sig_fingerprint : ir.signed_by_key,
			strcmp(cmd, "resume") ? ", or --unsign to seal it unsigned on purpose" : "");
		return EXIT_INTEGRITY;
	}
	return 0;
}

int seal(const char *run_dir, const char *cmd, const struct seal_opts *so)
{
	bool stale = false;
	int r = integrity_seal(run_dir, so, &stale);

	if (r < 0) {
		fprintf(stderr, "rig %s: cannot seal %s: %s\n", cmd, run_dir,
			r == -EPERM ? "it is signed, and no key was given (--sign-key, or --unsign)" :
			r == -EINVAL ? "it holds something that is not a regular file or directory "
				       "(a symlink?), or a name with a newline or backslash" :
			strerror(-r));
		return EXIT_INTEGRITY;
	}
	if (stale)
		fprintf(stderr, "rig %s: %s was signed; it is now sealed again unsigned (give "
			"--sign-key or $PUMPRIG_SIGN_KEY to sign it)\n", cmd, run_dir);
	return 0;
}

/* Writing a run's outputs and its seal: a signal then would leave files
 * half written, or rewritten beside a manifest that no longer matches them.
 * Every signal that would end rig waits (blocked) until the writing is
 * done, then does what it does: rig report or rig note ends by it, a run's
 * handler notes it.  The crash signals are not held: a crash is not
 * postponed. */
void hold_signals(sigset_t *ret_old)
{
	sigset_t set;

	sigemptyset(&set);
	for (int sig = 1; sig <= rig_signal_max(); sig++)
		if (rig_signal_ends_process(sig) && sig != SIGKILL && !rig_signal_reserved(sig) &&
		    !is_crash_signal(sig))
			sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, ret_old);
}

void release_signals(const sigset_t *old)
{
	fflush(stdout);   /* what was said while held goes out first */
	sigprocmask(SIG_SETMASK, old, NULL);
}

/* Judges the run, writes every report, then seals the directory (so the
 * manifest covers every report file) when so is not NULL. */
int judge(const char *run_dir, bool print, const char *cmd, const struct seal_opts *so)
{
	struct run_results *res;
	char err[1024] = "";
	sigset_t held;
	int r, status;

	/* the room a crashed recorder kept: not part of the record */
	recorder_drop_reserve(run_dir);
	r = results_analyse(run_dir, &res, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "rig: cannot judge %s: %s\n", run_dir, err);
		return EXIT_ABORTED;
	}
	hold_signals(&held);
	r = report_write_all(res, run_dir);
	if (r < 0) {
		/* a report left from an earlier judgement would now say less than
		 * the record: none is better than a stale one */
		static const char *const documents[] = { "report.pdf", "report.html" };
		char path[RIG_PATH_MAX + 16];

		for (size_t i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/%s", run_dir, documents[i]);
			(void)unlink(path);
		}
		fprintf(stderr, "rig: cannot write the results into %s: %s (no report: the raw "
			"data are intact; rig report %s tries again)\n", run_dir, strerror(-r), run_dir);
	}
	if (print)
		report_write_summary(res, stdout);
	status = results_exit_status(res);
	results_free(res);
	if (so) {
		int rs = seal(run_dir, cmd, so);

		if (rs != 0 && r == 0)
			status = rs;
		else if (r < 0)
			status = EXIT_ABORTED;
	} else if (r < 0) {
		status = EXIT_ABORTED;
	}
	release_signals(&held);
	return status;
}

/* One run per bench: takes the bench's lock or says who holds it.  Returns
 * 0, or the exit status to give up with. */
int take_bench_lock(const struct bench *bench, const char *run_dir,
			   struct bench_lock **lock, char *stale, size_t stale_len)
{
	char holder[1024], words[1200];
	int r = bench_lock_acquire(bench->id, run_dir, lock, holder, sizeof(holder), stale,
				   stale_len);

	if (r == -EBUSY) {
		bench_lock_describe(holder, words, sizeof(words));
		fprintf(stderr, "rig: bench %s is busy: %s; one run per bench at a time "
			"(nothing was started)\n", bench->id, words);
		return EXIT_BENCH_BUSY;
	}
	if (r < 0) {
		fprintf(stderr, "rig: cannot lock bench %s: %s\n", bench->id, holder);
		return EXIT_BAD_INPUT;
	}
	return 0;
}

/* The calibration gate of rig run (starting) and rig resume: each overdue
 * instrument named with its bench file line; false when one is overdue and
 * the operator did not take it on.  today and expired are filled for the
 * record either way. */
bool calibration_gate(const struct bench *bench, bool allow, bool starting,
			     char today[UTC_DATE_LEN + 1], struct cal_expired expired[ROLE__COUNT],
			     size_t *ret_n)
{
	size_t n;

	calgate_today_utc(today);
	n = calgate_expired(bench, today, expired);
	*ret_n = n;
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s:%d: %s (serial %s): calibration was due %s, before today "
			"(%s UTC); %s\n", bench->path, expired[i].line, rig_role_name(expired[i].role),
			expired[i].serial[0] ? expired[i].serial : "not stated", expired[i].due, today,
			allow ? (starting ? "running anyway (--allow-expired-calibration; recorded in "
					    "run.json and events.jsonl)" :
					    "resuming anyway (--allow-expired-calibration; recorded in "
					    "events.jsonl)") :
			starting ? "recalibrate it and update the bench file, or run with "
				   "--allow-expired-calibration (recorded in the run)" :
				   "recalibrate it, or resume with --allow-expired-calibration "
				   "(recorded in the run)");
	if (n > 0 && !allow) {
		fprintf(stderr, "rig: %zu instrument%s overdue for calibration; nothing was %s\n", n,
			n == 1 ? "" : "s", starting ? "run" : "resumed");
		return false;
	}
	return true;
}

int parse_dir_opts(int argc, char **argv, const char *usage, size_t n_pos,
			  const char *allowed, struct dir_opts *d)
{
	static const struct option opts[] = {
		{ "operator", required_argument, NULL, 'O' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "public-key", required_argument, NULL, 'P' },
		{ "unsign", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h' && c != '?' && !strchr(allowed, c)) {
			fprintf(stderr, "rig: %s does not apply here\n\n%s", argv[optind - 1], usage);
			return -1;
		}
		switch (c) {
		case 'O': d->operator_name = optarg; break;
		case 'K': d->sign_key = optarg; break;
		case 'P': d->public_key = optarg; break;
		case 'U': d->unsign = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return -1;
		}
	}
	if ((size_t)(argc - optind) != n_pos) {
		fprintf(stderr, "rig: expected %s\n\n%s", n_pos == 1 ? "one run directory" :
			"a run directory and a text", usage);
		return -1;
	}
	d->run_dir = argv[optind];
	d->text = n_pos > 1 ? argv[optind + 1] : NULL;
	return 0;
}
