/* What several commands share: signal handling, loading the three files,
 * the operator and the signing key, judging and sealing a run directory, the
 * bench lock and the calibration gate. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rig/base/record.h"
#include "rig/base/signals.h"
#include "rig/engine/lock.h"
#include "rig/engine/recorder.h"
#include "rig/engine/rundir.h"
#include "rig/judge/results.h"
#include "lab/lab.h"
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

void bad_option(char **argv, const char *usage)
{
	fprintf(stderr, "rig: %s: unknown option, or one given without its value\n\n%s",
		TERM_SAFE(argv[optind - 1]), usage);
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
		{ "db", required_argument, NULL, 'D' },
		{ "retry-of", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	opterr = 0;   /* getopt would echo a bad option raw: bad_option() shows it */
	while ((c = getopt_long(argc, argv, "b:d:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'D': f->history_db = optarg; break;
		case 'T': f->retry_of = optarg; break;
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
		default: bad_option(argv, usage); return -1;
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

size_t calibration_problems(const struct bench *bench, bool allow, bool starting,
			    struct cal_gate *cal, struct diag_list *diags)
{
	calgate_today_utc(cal->today);
	cal->n = calgate_expired(bench, cal->today, cal->expired);
	if (allow)
		return 0;
	for (size_t i = 0; i < cal->n; i++) {
		const struct cal_expired *x = &cal->expired[i];

		diag_add(diags, bench->path, x->line, "%s (serial %s): calibration was due %s, "
			 "before today (%s UTC); %s", rig_role_name(x->role),
			 x->serial[0] ? x->serial : "not stated", x->due, cal->today,
			 starting ? "recalibrate it and update the bench file, or run with "
				    "--allow-expired-calibration (recorded in the run)" :
				    "recalibrate it, or resume with --allow-expired-calibration "
				    "(recorded in the run)");
	}
	return cal->n;
}

void calibration_warnings(const struct bench *bench, const struct cal_gate *cal, bool starting)
{
	for (size_t i = 0; i < cal->n; i++)
		fprintf(stderr, "%s:%d: %s (serial %s): calibration was due %s, before today "
			"(%s UTC); %s anyway (--allow-expired-calibration; recorded in %s)\n",
			TERM_SAFE(bench->path), cal->expired[i].line,
			rig_role_name(cal->expired[i].role),
			cal->expired[i].serial[0] ? TERM_SAFE(cal->expired[i].serial) : "not stated",
			cal->expired[i].due, cal->today, starting ? "running" : "resuming",
			starting ? "run.json and events.jsonl" : "events.jsonl");
}

void judge_job(const struct files *f, bool starting, const struct sequence *seq,
	       const struct bench *bench, const struct device *dev, struct diag_list *diags)
{
	/* The firmware the pump reports is compared with the device file's and
	 * recorded as the run's: a device file that states none would leave
	 * the pump's answer unchecked and out of the results.  Runs recorded
	 * with one (rig report, rig resume) are judged as they are. */
	if (dev && starting && !dev->firmware[0])
		diag_add(diags, f->dut_path, dev->line, "missing 'firmware' in device; the "
			 "device file must state the firmware the device under test runs "
			 "(firmware = \"1.0.0\";): it is compared with what the pump reports");
	if (seq && bench && dev)
		plan_validate(seq, bench, dev, diags);
}

int load_all(const struct files *f, bool starting, struct sequence **seq, struct bench **bench,
	     struct device **dev, struct cal_gate *cal)
{
	struct diag_list diags = { 0 };

	/* Every file is loaded even when an earlier one failed: all problems in
	 * one pass. */
	int rs = seq_load(f->seq_path, seq, &diags);
	int rb = bench_load(f->bench_path, bench, &diags);
	int rd = device_load(f->dut_path, dev, &diags);

	*cal = (struct cal_gate){ 0 };
	judge_job(f, starting, rs == 0 ? *seq : NULL, rb == 0 ? *bench : NULL,
		  rd == 0 ? *dev : NULL, &diags);
	if (rb == 0)
		calibration_problems(*bench, f->allow_expired_calibration, starting, cal, &diags);
	if (diags.n > 0) {
		diag_print(&diags, stderr);
		fprintf(stderr, "rig: %zu problem%s found; nothing was %s\n", diags.n,
			diags.n == 1 ? "" : "s", starting ? "run" : "resumed");
		diag_clear(&diags);
		return -EINVAL;
	}
	if (rs < 0 || rb < 0 || rd < 0)
		return rs < 0 ? rs : rb < 0 ? rb : rd;
	calibration_warnings(*bench, cal, starting);
	return 0;
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
		char why[128];

		fprintf(stderr, "rig %s: %s: %s\n", cmd, TERM_SAFE(path),
			r == -ENOKEY ? "this is a public key (the .pub file); --sign-key takes the "
				       "secret key, the file rig keygen --out FILE wrote as FILE" :
			r == -EACCES ? "group or others may read this secret key; chmod 600 it "
				       "(or make a new one with rig keygen)" :
			r == -EBADMSG ? "not a pumprig secret key (rig keygen --out FILE makes one)" :
			infile_strerror(path, r, why, sizeof(why)));
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
			cmd, TERM_SAFE(run_dir), strerror(errno), outcome);
		return EXIT_BAD_INPUT;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "rig %s: %s is %s, not a run directory (not a directory at all); "
			"%s\n", cmd, TERM_SAFE(run_dir), file_kind_name(st.st_mode), outcome);
		return EXIT_BAD_INPUT;
	}
	if (!rundir_holds_run(run_dir)) {
		fprintf(stderr, "rig %s: %s is not a run directory (no run.json and inputs/, no "
			"manifest); %s\n", cmd, TERM_SAFE(run_dir), outcome);
		return EXIT_BAD_INPUT;
	}
	return 0;
}

void print_change(void *ctx, enum manifest_change c, const char *path)
{
	/* a run directory may hold any name: shown, not obeyed */
	fprintf((FILE *)ctx, "%-8s %s\n", manifest_change_name(c), TERM_SAFE(path));
}

const char *times_words(size_t n, char buf[32])
{
	if (n == 1)
		return "once";
	if (n == 2)
		return "twice";
	snprintf(buf, 32, "%zu times", n);
	return buf;
}

int journal_where_resolve(const char *cmd, struct journal_where *w)
{
	int r = journal_station(w);

	if (r < 0)
		fprintf(stderr, "rig %s: the station's seal journal cannot be named: %s (set $%s to "
			"its file, or make %s)\n", cmd, r == -ENOENT ? "no $HOME" : strerror(-r),
			JOURNAL_ENV, JOURNAL_SYSTEM_DIR);
	return r;
}

int journal_refuse_special(const char *cmd, const struct journal_where *w)
{
	struct stat st;
	char why[128];

	/* stat opens nothing: a FIFO is never waited on, a device never opened */
	if (stat(w->path, &st) != 0 || S_ISREG(st.st_mode))
		return 0;
	fprintf(stderr, "rig %s: the seal journal %s (from %s) %s; nothing was done\n", cmd,
		TERM_SAFE(w->path), w->source, infile_strerror(w->path, RIG_ENOTREG, why, sizeof(why)));
	return -RIG_ENOTREG;
}

int journal_ready(const char *cmd, const char *nothing)
{
	struct journal_where w;
	struct journal *j;
	int r = journal_where_resolve(cmd, &w);

	if (r < 0)
		return r;
	r = journal_open(w.path, true, w.make_dir, &j);
	if (r < 0) {
		char why[128];

		fprintf(stderr, "rig %s: the station's seal journal %s (from %s) cannot be written: %s; "
			"every seal is journalled there (docs/integrity.md): set $%s to a file rig "
			"may append to; %s\n", cmd, TERM_SAFE(w.path), w.source,
			r == -EINVAL ? "it is a symbolic link" : infile_strerror(w.path, r, why, sizeof(why)),
			JOURNAL_ENV, nothing);
		return r;
	}
	journal_close(j);
	return 0;
}

/* The station's journal must hold the run's seal as its latest before a
 * command seals the run again (or, for a run with no SHA256SUMS, hold none):
 * else the command would bless a manifest rig did not write.  will_seal:
 * the journal must also take the new seal. */
static int journal_precheck(const char *run_dir, const char *cmd, bool will_seal)
{
	struct journal_where w;
	struct journal_check c;
	bool ok;
	int r;

	if (journal_where_resolve(cmd, &w) < 0)
		return EXIT_INTEGRITY;
	if (journal_refuse_special(cmd, &w) < 0)
		return EXIT_BAD_INPUT;
	r = integrity_journal_check(run_dir, w.path, &c);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;   /* no such run directory: the command says so itself */
	if (r < 0) {
		fprintf(stderr, "rig %s: cannot check %s against the station's seal journal %s: %s; "
			"nothing written\n", cmd, run_dir, w.path, strerror(-r));
		return EXIT_INTEGRITY;
	}
	ok = !c.l.broken_line && !c.l.same_id_found &&
	     ((c.verdict == JOURNAL_NONE && !c.manifest[0]) || c.verdict == JOURNAL_UNSEALED ||
	      integrity_journal_ok(&c));
	if (!ok) {
		journal_print(stderr, &c, w.path, w.source, false);
		fprintf(stderr, "rig %s: %s: its seal is not what the station's seal journal holds "
			"for it (above): nothing was written, and the run stays as it is for rig "
			"verify to say so\n", cmd, run_dir);
	}
	integrity_journal_check_free(&c);
	if (!ok)
		return EXIT_INTEGRITY;
	if (will_seal && journal_ready(cmd, "nothing was written") < 0)
		return EXIT_INTEGRITY;
	return 0;
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
	r = integrity_check(run_dir, raw_only ? manifest_path_derived : NULL, NULL,
			    print_change, stderr, &ir);
	if (r < 0) {
		fprintf(stderr, "rig %s: cannot read %s: %s\n", cmd, TERM_SAFE(run_dir), strerror(-r));
		return EXIT_BAD_INPUT;
	}
	/* rig note on a run never sealed only appends: it seals nothing */
	if (!ir.manifest_found)
		return journal_precheck(run_dir, cmd, strcmp(cmd, "note") != 0);
	*ret_sealed = true;
	if (ir.manifest_malformed) {
		fprintf(stderr, "rig %s: %s/%s:%zu: not a manifest line; the seal itself was "
			"altered: nothing written (rig verify says the same)\n", cmd, TERM_SAFE(run_dir),
			MANIFEST_NAME, ir.manifest_bad_line);
		return EXIT_INTEGRITY;
	}
	if (ir.sig_found && (ir.sig_malformed || !ir.sig_valid)) {
		fprintf(stderr, "rig %s: %s/%s does not match the manifest: the seal was altered; "
			"nothing written\n", cmd, TERM_SAFE(run_dir), MANIFEST_SIG_NAME);
		return EXIT_INTEGRITY;
	}
	if (ir.n_added + ir.n_changed + ir.n_missing > 0) {
		fprintf(stderr, "rig %s: %s WAS ALTERED after it was sealed (%zu added, %zu changed, "
			"%zu missing%s, listed above); nothing was written and the old "
			"manifest stays, so rig verify keeps failing\n", cmd, TERM_SAFE(run_dir), ir.n_added,
			ir.n_changed, ir.n_missing, raw_only ? ", not counting the report's own outputs" : "");
		return EXIT_INTEGRITY;
	}
	if ((ir.sig_found || ir.signed_by_key[0]) && !have_key && !unsign) {
		fprintf(stderr, "rig %s: %s is signed (key %s); sealing it again without the key "
			"would leave it unsigned: give --sign-key FILE (or $PUMPRIG_SIGN_KEY)%s; "
			"nothing written\n", cmd, TERM_SAFE(run_dir),
			TERM_SAFE(ir.sig_fingerprint[0] ? ir.sig_fingerprint : ir.signed_by_key),
			strcmp(cmd, "resume") ? ", or --unsign to seal it unsigned on purpose" : "");
		return EXIT_INTEGRITY;
	}
	return journal_precheck(run_dir, cmd, true);
}

int seal(const char *run_dir, const char *cmd, const struct seal_opts *so)
{
	struct seal_opts o = *so;
	struct seal_outcome out;
	struct journal_where w;
	int r;

	if (journal_where_resolve(cmd, &w) < 0) {
		fprintf(stderr, "rig %s: %s was not sealed\n", cmd, run_dir);
		return EXIT_INTEGRITY;
	}
	o.journal = w.path;
	o.journal_make_dir = w.make_dir;
	r = integrity_seal(run_dir, &o, &out);
	if (r < 0 && out.journal_failed) {
		fprintf(stderr, "rig %s: cannot seal %s: the station's seal journal %s (from %s): %s; "
			"no seal was made, the previous one (if any) stands and the record is kept "
			"as it is: rig report %s seals it once the journal takes the seal\n", cmd,
			run_dir, w.path, w.source, r == -EINVAL ? "not a regular file" : strerror(-r),
			run_dir);
		return EXIT_INTEGRITY;
	}
	if (r == -ESTALE && out.same_id_sealed) {
		fprintf(stderr, "rig %s: cannot seal %s: a run with run_id %s was already sealed at %s "
			"by %s with another run.json (journal line %zu): it is not this run's first "
			"seal; it is left as it is (rig verify says so)\n", cmd, TERM_SAFE(run_dir),
			out.same_id.run_id, out.same_id.utc, out.same_id.sealed_by, out.same_id.line);
		return EXIT_INTEGRITY;
	}
	if (r < 0) {
		fprintf(stderr, "rig %s: cannot seal %s: %s\n", cmd, TERM_SAFE(run_dir),
			r == -ESTALE ? "its SHA256SUMS is not the seal the station's journal last "
				       "recorded of this run, so sealing it again would bless it; it "
				       "is left as it is (rig verify says what it is)" :
			r == -EPERM ? "it is signed, and no key was given (--sign-key, or --unsign)" :
			r == -EINVAL ? "it holds something that is not a regular file or directory "
				       "(a symlink?), or a name with a newline or backslash" :
			strerror(-r));
		return EXIT_INTEGRITY;
	}
	if (out.unsigned_stale)
		fprintf(stderr, "rig %s: %s was signed; it is now sealed again unsigned (give "
			"--sign-key or $PUMPRIG_SIGN_KEY to sign it)\n", cmd, TERM_SAFE(run_dir));
	/* Not the run's first seal: said every time, so that nobody takes it
	 * for one. */
	if (out.n_seals > 1) {
		char words[32];

		fprintf(stderr, "rig %s: %s sealed %s: first by %s at %s (%s), this time by %s (%s); "
			"journal %s line %zu\n", cmd, TERM_SAFE(run_dir), times_words(out.n_seals, words),
			out.first.sealed_by, out.first.utc, out.first.why, out.seal.sealed_by,
			out.seal.why, w.path, out.seal.line);
	}
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
int judge(const char *run_dir, bool print, const char *cmd, const struct seal_opts *so,
	  bool *ret_results_written)
{
	struct run_results *res;
	char err[1024] = "";
	bool written = false;
	sigset_t held;
	int r, status;

	if (ret_results_written)
		*ret_results_written = false;
	/* the room a crashed recorder kept: not part of the record */
	recorder_drop_reserve(run_dir);
	r = results_analyse(run_dir, &res, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "rig: cannot judge %s: %s\n", TERM_SAFE(run_dir), TERM_SAFE(err));
		return EXIT_ABORTED;
	}
	hold_signals(&held);
	/* an ended run (no longer resumable) of a bench that compresses its
	 * record: samples.csv.zst before the documents (which then describe
	 * the directory as it is) and the seal (which covers it) */
	if (so && res->record_zstd && res->status != RUN_INTERRUPTED) {
		int rc = samples_compress(run_dir);

		if (rc < 0)
			fprintf(stderr, "rig: warning: samples.csv of %s not compressed (%s): it stays "
				"plain and is sealed as it is\n", TERM_SAFE(run_dir), strerror(-rc));
	}
	r = report_write_records(res, run_dir, &written);
	if (r >= 0)
		r = lab_write_documents(res, run_dir);
	if (r < 0) {
		/* a report left from an earlier judgement would now say less than
		 * the record: none is better than a stale one */
		static const char *const documents[] = { "report.pdf", "report.html" };
		char path[RIG_PATH_MAX + 16];

		for (size_t i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/%s", run_dir, documents[i]);
			(void)unlink(path);
		}
		fprintf(stderr, "rig: cannot write the %s into %s: %s (no report: the raw "
			"data are intact; rig report %s tries again)\n",
			written ? "reports" : "results", TERM_SAFE(run_dir), strerror(-r),
			TERM_SAFE(run_dir));
	}
	if (ret_results_written)
		*ret_results_written = written;
	if (print)
		report_print_summary(res, stdout);
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

/* One run per bench and one user per physical instrument: takes the bench's
 * lock and its resources' or says who holds which.  command: "rig run";
 * nothing: what a refusal leaves undone ("started", "opened").  Returns 0,
 * or the exit status to give up with. */
int take_bench_lock(const struct bench *bench, const char *run_dir, const char *command,
		    const char *nothing, struct bench_lock **lock, char *stale, size_t stale_len)
{
	struct lock_busy busy;
	char words[RIG_PATH_MAX + 1200];
	int r = bench_lock_acquire(bench, run_dir, command, lock, &busy, stale, stale_len);

	if (r == -EBUSY) {
		bench_lock_describe(busy.holder, words, sizeof(words));
		if (busy.bench)
			fprintf(stderr, "rig: bench %s is busy: held by %s; one run per bench at a "
				"time (nothing was %s)\n", TERM_SAFE(bench->id), TERM_SAFE(words), nothing);
		else
			fprintf(stderr, "rig: %s (%s, %s:%d) is held by %s; one run per physical "
				"instrument at a time, whatever bench file names it (nothing was %s)\n",
				TERM_SAFE(busy.what), TERM_SAFE(busy.user), TERM_SAFE(bench->path), busy.line,
				TERM_SAFE(words), nothing);
		return EXIT_BENCH_BUSY;
	}
	if (r < 0) {
		fprintf(stderr, "rig: cannot lock bench %s: %s\n", TERM_SAFE(bench->id),
			busy.holder[0] ? TERM_SAFE(busy.holder) : strerror(-r));
		return EXIT_BAD_INPUT;
	}
	return 0;
}

int parse_dir_opts(int argc, char **argv, const char *usage, size_t n_pos,
			  const char *allowed, struct dir_opts *d)
{
	static const struct option opts[] = {
		{ "operator", required_argument, NULL, 'O' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "public-key", required_argument, NULL, 'P' },
		{ "unsign", no_argument, NULL, 'U' },
		{ "journal", required_argument, NULL, 'J' },
		{ "no-journal", no_argument, NULL, 'n' },
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	opterr = 0;   /* getopt would echo a bad option raw: bad_option() shows it */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h' && c != '?' && !strchr(allowed, c)) {
			fprintf(stderr, "rig: %s does not apply here\n\n%s", TERM_SAFE(argv[optind - 1]), usage);
			return -1;
		}
		switch (c) {
		case 'O': d->operator_name = optarg; break;
		case 'K': d->sign_key = optarg; break;
		case 'P': d->public_key = optarg; break;
		case 'U': d->unsign = true; break;
		case 'J': d->journal = optarg; break;
		case 'n': d->no_journal = true; break;
		case 'D': d->history_db = optarg; break;
		case 'h': fputs(usage, stdout); return 1;
		default: bad_option(argv, usage); return -1;
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
