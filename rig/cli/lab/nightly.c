/* rig nightly PLAN: a night's jobs run one after another on one bench, each a
 * normal sealed run directory made by its own `rig run` process, and a night
 * directory that says what the night did (nightly.json, junit.xml with every
 * run as a suite, summary.txt).  docs/nightly.md.
 *
 * A run that ended incomplete for a bench reason (its results.json end_cause
 * "bench": an instrument lost, a limit on the bench side) is run again after
 * `rig safe` has made the bench safe, up to the plan's retries; a pump that
 * fails or stops answering is the night's finding, not a reason to run again.
 * A bench that cannot be made safe, an operator's signal, a bench held by
 * another run: the night is cut short. */
#include "rig/base/utc.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "rig/base/text.h"
#include "rig/base/wholefile.h"
#include "rig/judge/results.h"
#include "rig/seal/digest.h"
#include "reports/reports.h"

static const char usage_nightly[] =
	"Usage: rig nightly PLAN [--runs DIR] [--db TEXT] [--operator NAME] [--sign-key FILE]\n"
	"                   [--allow-expired-calibration] [--quiet]\n"
	"\n"
	"Runs a night's plan on its bench: each job (a sequence, a device file, how many\n"
	"times) one after another, each a sealed run directory in the runs folder, stored\n"
	"in the run history.  The whole plan is judged first, as rig validate PLAN does\n"
	"(every file, every sequence against the bench and device, the calibration gate,\n"
	"and whether the jobs fit before the plan's end_by): nothing moves unless all of\n"
	"it is right.\n"
	"\n"
	"A run that ends incomplete for a bench reason (results.json end_cause \"bench\")\n"
	"is run again, after rig safe, up to the plan's retries (default 1); a device\n"
	"that fails a check or stops answering does not stop the night.\n"
	"\n"
	"  --runs DIR     the runs folder (default runs); the night's directory is\n"
	"                 DIR/nights/<UTC time>-<plan id>: nightly.json, junit.xml (every\n"
	"                 run a test suite), summary.txt (with the run history's open\n"
	"                 drift flags)\n"
	"  --db TEXT      the run history (as for rig run; default $PUMPRIG_HISTORY, else\n"
	"                 sqlite:DIR/history.sqlite)\n"
	"  --operator, --sign-key, --allow-expired-calibration: as for rig run, for every run\n"
	"\n"
	"Exit status: 0 every run passed, 1 a check failed or was inconclusive (or a\n"
	"run could not complete for a reason of the device's), 2 bad input (nothing\n"
	"ran), 3 the night was cut short (a signal, a bench that could not be made\n"
	"safe, a bench held by another run, a run that failed for a bench reason once\n"
	"more than its retries), 5 the bench is busy at the start.\n";

struct nopts {
	const char *plan, *runs, *db, *operator_name, *sign_key;
	bool allow_expired, quiet;
};

/* One job's files, loaded and judged. */
struct job_files {
	struct sequence *seq;
	struct device *dev;
	rig_ns least_ns;
};

/* ------------------------------------------------------------ judging -- */

/* The minutes from now to the plan's end_by (today's, or tomorrow's when it
 * has passed), on the station's clock. */
static long minutes_until(const struct night_plan *p, time_t now)
{
	struct tm tm;
	long now_min;

	if (p->end_by_utc)
		gmtime_r(&now, &tm);
	else
		localtime_r(&now, &tm);
	now_min = tm.tm_hour * 60L + tm.tm_min;
	return p->end_by_min > now_min ? p->end_by_min - now_min : p->end_by_min + 24 * 60 - now_min;
}

/* One list of problems printed, then at the plan's line what they stop.
 * Returns how many there were. */
static size_t print_problems(struct diag_list *diags, const struct night_plan *p, int line,
			     const char *what)
{
	size_t n = diags->n;

	if (n == 0)
		return 0;
	diag_print(diags, stderr);
	diag_clear(diags);
	fprintf(stderr, "%s:%d: %s\n", TERM_SAFE(p->path), line, what);
	return n;
}

/* The whole plan judged before anything moves, every problem printed as
 * file:line (the same messages rig validate gives each job): the bench once,
 * blamed on the plan's bench line, then every job, each blamed on its own
 * line, the next job judged whatever the one before it holds.  Returns 0
 * with the plan, its bench and its jobs loaded, or an exit status. */
static int night_judge(const struct nopts *o, struct night_plan **ret_plan,
		       struct bench **ret_bench, struct job_files **ret_jobs, bool *ret_virtual)
{
	struct diag_list diags = { 0 };
	struct night_plan *p = NULL;
	struct bench *bench = NULL;
	struct job_files *jobs = NULL;
	struct cal_gate cal = { 0 };
	size_t n_problems = 0;
	rig_ns least = 0;
	bool failed = false;
	int r, rb;

	*ret_plan = NULL;
	*ret_bench = NULL;
	*ret_jobs = NULL;
	r = night_load(o->plan, &p, &diags);
	if (r < 0) {
		diag_print(&diags, stderr);
		diag_clear(&diags);
		if (r == -ENOMEM)
			fprintf(stderr, "rig nightly: out of memory\n");
		return EXIT_BAD_INPUT;
	}
	jobs = calloc(p->n_jobs, sizeof(*jobs));
	if (!jobs) {
		night_free(p);
		return EXIT_ABORTED;
	}
	/* The bench every job runs on, and its calibration gate: its problems
	 * are the plan's bench line's, said once, not once a job. */
	rb = bench_load(p->bench, &bench, &diags);
	if (rb == 0)
		calibration_problems(bench, o->allow_expired, true, &cal, &diags);
	else if (diags.n == 0)
		diag_add(&diags, p->bench, 0, "cannot be loaded (%s)", strerror(-rb));
	failed = rb < 0 || diags.n > 0;
	n_problems += print_problems(&diags, p, p->bench_line,
				     "the bench cannot be used as it is (above), and every job "
				     "runs on it; allowed: a bench file that loads without a "
				     "problem (or --allow-expired-calibration for an overdue "
				     "calibration)");
	for (size_t i = 0; i < p->n_jobs; i++) {
		struct files f = { .seq_path = p->jobs[i].sequence, .bench_path = p->bench,
				   .dut_path = p->jobs[i].dut,
				   .allow_expired_calibration = o->allow_expired };
		/* the very judgement rig run makes of each job */
		int rs = seq_load(f.seq_path, &jobs[i].seq, &diags);
		int rd = device_load(f.dut_path, &jobs[i].dev, &diags);
		char what[160];

		judge_job(&f, true, rs == 0 ? jobs[i].seq : NULL, rb == 0 ? bench : NULL,
			  rd == 0 ? jobs[i].dev : NULL, &diags);
		if ((rs < 0 || rd < 0) && diags.n == 0)
			diag_add(&diags, rs < 0 ? f.seq_path : f.dut_path, 0,
				 "cannot be loaded (%s)", strerror(-(rs < 0 ? rs : rd)));
		if (rs < 0 || rd < 0 || diags.n > 0) {
			failed = true;
			snprintf(what, sizeof(what), "job %zu cannot run as it is (above); allowed: "
				 "a plan whose every job can run, judged before the night "
				 "starts", i + 1);
			n_problems += print_problems(&diags, p, p->jobs[i].line, what);
			continue;
		}
		jobs[i].least_ns = plan_least_duration_ns(jobs[i].seq, jobs[i].dev);
		least += jobs[i].least_ns * (rig_ns)p->jobs[i].repeat;
	}
	if (failed) {
		fprintf(stderr, "rig: %zu problem%s found in the plan %s; nothing was run\n",
			n_problems, n_problems == 1 ? "" : "s", TERM_SAFE(p->path));
		goto out;
	}
	calibration_warnings(bench, &cal, true);
	*ret_virtual = all_simulated(bench);
	/* Virtual time costs next to nothing of the night; a real bench's jobs
	 * take at least their timed steps. */
	if (p->has_end_by && !*ret_virtual) {
		long have = minutes_until(p, time(NULL));
		double need_h = rig_ns_to_h(least);

		if (need_h * 60 > (double)have) {
			fprintf(stderr, "%s:%d: the jobs need at least %.2f h of bench time (their "
				"timed steps, primes and boluses, each repeat), and end_by %02d:%02d%s "
				"is %ld min away; allowed: a plan that fits before its end_by (fewer "
				"jobs or repeats, a later end_by); nothing was run\n",
				TERM_SAFE(p->path), p->end_by_line, need_h, p->end_by_min / 60,
				p->end_by_min % 60, p->end_by_utc ? " UTC" : "", have);
			goto out;
		}
	}
	*ret_plan = p;
	*ret_bench = bench;
	*ret_jobs = jobs;
	return 0;
out:
	for (size_t i = 0; i < p->n_jobs; i++) {
		seq_free(jobs[i].seq);
		device_free(jobs[i].dev);
	}
	free(jobs);
	bench_free(bench);
	night_free(p);
	return EXIT_BAD_INPUT;
}

static void jobs_free(struct job_files *jobs, size_t n)
{
	for (size_t i = 0; jobs && i < n; i++) {
		seq_free(jobs[i].seq);
		device_free(jobs[i].dev);
	}
	free(jobs);
}

/* ---------------------------------------------------------- the night -- */

static volatile sig_atomic_t child_pid;

/* A child rig run or rig safe; its stdout and stderr go to log (appended)
 * and, unless quiet, stderr.  Signals for the night are passed on to it: it
 * ends safe and says why, and the night ends after it. */
static int spawn_rig(const char *const *args, const char *log, int *ret_status)
{
	char self[PATH_MAX];
	const char *argv[32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int n_args = 0, st;
	pid_t pid;

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	argv[n_args++] = "rig";
	for (; *args && n_args < 31; args++)
		argv[n_args++] = *args;
	argv[n_args] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execv(self, (char *const *)argv);
		_exit(127);
	}
	child_pid = pid;
	for (;;) {
		if (waitpid(pid, &st, 0) == pid)
			break;
		if (errno != EINTR)
			return -errno;
		if (stop_signal)
			kill(pid, (int)stop_signal);   /* it obeys, goes safe, and ends */
	}
	child_pid = 0;
	*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

static json_t *read_json(const char *dir, const char *name)
{
	char path[RIG_PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return json_load_file(path, 0, NULL);
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void utc_text(time_t t, char buf[32], const char *fmt)
{
	rig_utc_text((int64_t)t, fmt, buf, 32);
}

/* The night's junit.xml: every run a test suite, named by its job. */
static int write_junit(const char *night_dir, json_t *runs)
{
	char err[512], *text = NULL;
	struct junit_counts total = { 0 };
	struct run_results **res;
	size_t n = json_array_size(runs), i, len = 0;
	json_t *jr;
	FILE *f;
	int r = 0;

	res = calloc(n + 1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	json_array_foreach(runs, i, jr) {
		struct junit_counts c;

		if (results_analyse(history_jstr(jr, "run_dir_path"), &res[i], err,
				    sizeof(err)) < 0) {
			res[i] = NULL;
			total.tests++;
			total.errors++;
			continue;
		}
		report_junit_counts(res[i], &c);
		total.tests += c.tests;
		total.failures += c.failures;
		total.errors += c.errors;
		total.time_s += c.time_s;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		r = -errno;
		goto out;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" "
		"time=\"%.3f\">\n", total.tests, total.failures, total.errors, total.time_s);
	json_array_foreach(runs, i, jr) {
		char name[256], retry[8];
		const char *props[] = { "run_id", history_jstr(jr, "run_id"), "run_dir",
		history_jstr(jr, "run_dir"),
					"retry", retry, "retry_of", history_jstr(jr, "retry_of"),
					NULL };

		snprintf(name, sizeof(name), "job %lld %s #%lld%s",
			 (long long)json_integer_value(json_object_get(jr, "job")),
			 history_jstr(jr, "sequence_id"),
			 (long long)json_integer_value(json_object_get(jr, "repeat_index")),
			 json_is_true(json_object_get(jr, "retry")) ? " (run again)" : "");
		snprintf(retry, sizeof(retry), "%s",
			 json_is_true(json_object_get(jr, "retry")) ? "true" : "false");
		if (res[i]) {
			report_junit_suite(f, res[i], history_jstr(jr, "run_dir_path"), name,
					   props);
		} else {
			fprintf(f, "  <testsuite name=\"job\" tests=\"1\" failures=\"0\" errors=\"1\" "
				"skipped=\"0\" time=\"0\">\n    <testcase classname=\"run\" "
				"name=\"run\"><error type=\"not_judged\" message=\"the run directory "
				"could not be judged\"/></testcase>\n  </testsuite>\n");
		}
	}
	fputs("</testsuites>\n", f);
	if (ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = wholefile_replace(night_dir, "junit.xml", text, len);
out:
	for (i = 0; i < n; i++)
		results_free(res[i]);
	free(res);
	free(text);
	return r;
}

static int write_file_json(const char *dir, const char *name, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int r;

	if (!text)
		return -ENOMEM;
	r = wholefile_replace(dir, name, text, strlen(text));
	free(text);
	return r;
}

/* summary.txt: the night in words, its runs, and the history's open flags. */
static int write_summary(const char *night_dir, const json_t *night, const json_t *flags)
{
	char *text = NULL;
	const json_t *r;
	size_t i, len = 0;
	FILE *f;
	int ret = 0;

	f = open_memstream(&text, &len);
	if (!f)
		return -errno;
	fprintf(f, "Night    %s on bench %s, %s .. %s UTC\n", history_jstr(night, "plan_id"),
		history_jstr(night, "bench_id"), history_jstr(night, "started_utc"),
		history_jstr(night, "ended_utc"));
	fprintf(f, "Plan     %s (SHA-256 %s)\n", history_jstr(night, "plan"),
		history_jstr(night, "plan_sha256"));
	fprintf(f, "Status   %s%s%s\n\n", history_jstr(night, "status"),
		history_jstr(night, "reason")[0] ? ": " : "", history_jstr(night, "reason"));
	json_array_foreach(json_object_get(night, "runs"), i, r)
		fprintf(f, "%-13s job %lld #%lld %-14s %-10s %8.1f s%s  %s\n",
			history_jstr(r, "verdict"),
			(long long)json_integer_value(json_object_get(r, "job")),
			(long long)json_integer_value(json_object_get(r, "repeat_index")),
			history_jstr(r, "sequence_id"), history_jstr(r, "status"),
			json_number_value(json_object_get(r, "duration_s")),
			json_is_true(json_object_get(r, "retry")) ? " (run again)" : "",
			history_jstr(r, "run_dir"));
	{
		const json_t *pend = json_object_get(night, "history_pending");
		json_int_t fwd = json_integer_value(json_object_get(night, "history_forwarded"));

		fprintf(f, "\nHistory  ");
		if (!json_is_integer(pend))
			fprintf(f, "the runs folder's pending runs could not be listed\n");
		else if (json_integer_value(pend) > 0)
			fprintf(f, "%lld run(s) wait for the run history (%s); rig history sync, or the "
				"next night, stores them\n", (long long)json_integer_value(pend),
				history_jstr(night, "history_error"));
		else if (fwd > 0)
			fprintf(f, "every run is in the run history (%lld left pending while it was "
				"away were stored at the end of the night)\n", (long long)fwd);
		else
			fprintf(f, "every run is in the run history\n");
	}
	fprintf(f, "Drift    ");
	if (!flags) {
		fprintf(f, "not known: the run history could not be read (%s)\n",
			history_jstr(night, "history_error"));
	} else if (json_array_size(flags) == 0) {
		fprintf(f, "no open flag in the run history\n");
	} else {
		const json_t *fl;

		fprintf(f, "%zu open flag(s) in the run history (rig history watch):\n",
			json_array_size(flags));
		json_array_foreach(flags, i, fl) {
			const json_t *s = json_object_get(fl, "series");

			fprintf(f, "  %s: %s; %s %s %s [%s] %s\n", history_jstr(fl, "rule"),
				history_jstr(fl, "rule_text"),
				history_jstr(s, "device_serial")[0] ? history_jstr(s, "device_serial") :
										history_jstr(s, "bench_id"),
				history_jstr(s, "sequence_id"), history_jstr(s, "check"),
				history_jstr(s, "window"),
				history_jstr(s, "measurement"));
		}
	}
	fprintf(f, "\nOverall: %s (exit status %lld)\n", history_jstr(night, "verdict"),
		(long long)json_integer_value(json_object_get(night, "exit_status")));
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0)
		ret = wholefile_replace(night_dir, "summary.txt", text, len);
	free(text);
	return ret;
}

static int nightly_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'R' }, { "db", required_argument, NULL, 'D' },
		{ "operator", required_argument, NULL, 'O' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "allow-expired-calibration", no_argument, NULL, 'X' },
		{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct nopts o = { .runs = "runs" };
	struct night_plan *plan = NULL;
	struct bench *bench = NULL;
	struct job_files *jobs = NULL;
	char night_dir[RIG_PATH_MAX], log[RIG_PATH_MAX + 16], stamp[32], started[32], ended[32];
	char plan_hex[DIGEST_HEX_LEN + 1] = "", db[RIG_PATH_MAX + 32], err[512] = "";
	json_t *night = NULL, *runs = NULL, *flags = NULL;
	size_t n_pending = 0, n_listed = 0, n_forwarded = 0;
	bool virtual_time = false, cut_short = false, any_bad = false, made;
	const char *reason = "";
	time_t start_time;
	int c, status;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'R': o.runs = optarg; break;
		case 'D': o.db = optarg; break;
		case 'O': o.operator_name = optarg; break;
		case 'K': o.sign_key = optarg; break;
		case 'X': o.allow_expired = true; break;
		case 'q': o.quiet = true; break;
		case 'h': fputs(usage_nightly, stdout); return EXIT_PASS;
		default: bad_option(argv, usage_nightly); return EXIT_BAD_INPUT;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "rig nightly: give one plan file\n\n%s", usage_nightly);
		return EXIT_BAD_INPUT;
	}
	o.plan = argv[optind];
	if (operator_require("nightly", o.operator_name, &o.operator_name) < 0)
		return EXIT_BAD_INPUT;
	status = night_judge(&o, &plan, &bench, &jobs, &virtual_time);
	if (status != 0)
		return status;
	digest_file_sha256(plan->path, plan_hex);
	history_resolve(o.db, o.runs, db, sizeof(db));

	/* the night's own directory, never reused; one clock reading, so the
	 * directory's stamp and started_utc (hence night_id) name one second */
	start_time = time(NULL);
	utc_text(start_time, started, "%Y-%m-%dT%H:%M:%SZ");
	utc_text(start_time, stamp, "%Y%m%dT%H%M%SZ");
	/* the runs folder and the folders above it, as rig run --output makes
	 * the folders above a run's */
	snprintf(night_dir, sizeof(night_dir), "%s/nights", o.runs);
	made = true;
	for (char *q = night_dir + 1; *q && made; q++)
		if (*q == '/') {
			*q = '\0';   /* night_dir names the folder above, for a while */
			made = mkdir(night_dir, 0755) == 0 || errno == EEXIST;
			if (made)
				*q = '/';
		}
	if (!made || (mkdir(night_dir, 0755) != 0 && errno != EEXIST)) {
		fprintf(stderr, "rig nightly: cannot make %s: %s\n", TERM_SAFE(night_dir),
			strerror(errno));
		status = EXIT_BAD_INPUT;
		goto out;
	}
	snprintf(night_dir, sizeof(night_dir), "%s/nights/%s-%s", o.runs, stamp, plan->id);
	if (mkdir(night_dir, 0755) != 0) {
		fprintf(stderr, "rig nightly: cannot make %s: %s%s\n", TERM_SAFE(night_dir),
			strerror(errno), errno == EEXIST ? " (a night started this second)" : "");
		status = errno == EEXIST ? EXIT_BENCH_BUSY : EXIT_BAD_INPUT;
		goto out;
	}
	snprintf(log, sizeof(log), "%s/rig.log", night_dir);
	install_signals();
	if (!o.quiet)
		fprintf(stderr, "rig nightly: %s on bench %s, %zu job(s); the night's directory is %s\n",
			TERM_SAFE(plan->id), TERM_SAFE(bench->id), plan->n_jobs, TERM_SAFE(night_dir));
	runs = json_array();
	for (size_t j = 0; j < plan->n_jobs && !cut_short; j++) {
		const struct night_job *job = &plan->jobs[j];

		for (unsigned k = 1; k <= job->repeat && !cut_short; k++) {
			char prev_run_id[128] = "";

			for (unsigned attempt = 0; attempt <= plan->retries && !cut_short; attempt++) {
				char run_dir[RIG_PATH_MAX + 64], name[RIG_PATH_MAX], again_n[24] = "";
				const char *args[24];
				json_t *res, *meta, *entry;
				int n_args = 0, st = 0, r;
				double t0 = wall_s();
				bool again;

				/* each run again its own folder: -again, -again2, ... */
				if (attempt)
					snprintf(again_n, sizeof(again_n), attempt > 1 ? "-again%u" : "-again",
						 attempt);
				snprintf(name, sizeof(name), "%s-%s-%02zu-%u%s-%s", stamp, plan->id, j + 1, k,
					 again_n, jobs[j].seq->id);
				snprintf(run_dir, sizeof(run_dir), "%s/%s", o.runs, name);
				args[n_args++] = "run";
				args[n_args++] = job->sequence;
				args[n_args++] = "--bench";
				args[n_args++] = plan->bench;
				args[n_args++] = "--dut";
				args[n_args++] = job->dut;
				args[n_args++] = "--output";
				args[n_args++] = run_dir;
				args[n_args++] = "--quiet";
				args[n_args++] = "--operator";
				args[n_args++] = o.operator_name;
				args[n_args++] = "--db";
				args[n_args++] = db;
				if (o.sign_key) {
					args[n_args++] = "--sign-key";
					args[n_args++] = o.sign_key;
				}
				if (o.allow_expired)
					args[n_args++] = "--allow-expired-calibration";
				/* the run again says whose: a deviation in its own report */
				if (attempt && prev_run_id[0]) {
					args[n_args++] = "--retry-of";
					args[n_args++] = prev_run_id;
				}
				args[n_args] = NULL;
				if (!o.quiet)
					fprintf(stderr, "rig nightly: job %zu (%s) run %u of %u%s\n", j + 1,
						TERM_SAFE(jobs[j].seq->id), k, job->repeat,
						attempt ? ", run again" : "");
				r = spawn_rig(args, log, &st);
				if (r < 0) {
					cut_short = true;
					reason = "rig run could not be started";
					break;
				}
				res = read_json(run_dir, "results.json");
				meta = read_json(run_dir, "run.json");
				entry = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O,"
						  " s:f, s:b, s:o, s:i}",
					"job", (int)j + 1, "repeat_index", (int)k,
					"sequence", job->sequence, "sequence_id", jobs[j].seq->id,
					"dut", job->dut, "device_serial", jobs[j].dev->serial,
					"run_id", history_jstr(meta, "run_id"), "run_dir", name,
					"verdict",
					res ? history_jstr(res, "overall_verdict") : "not judged",
					"status", res ? history_jstr(res, "status") : "no results",
					"end_cause", res ? json_object_get(res, "end_cause") : json_null(),
					"end_reason", res ? json_object_get(res, "end_reason") : json_null(),
					"duration_s", wall_s() - t0, "retry", attempt > 0,
					"retry_of", prev_run_id[0] ? json_string(prev_run_id) : json_null(),
					"exit_status", st);
				json_object_set_new(entry, "run_dir_path", json_string(run_dir));
				json_array_append_new(runs, entry);
				snprintf(prev_run_id, sizeof(prev_run_id), "%s",
					 history_jstr(meta, "run_id"));
				again = false;
				if (stop_signal) {
					cut_short = true;
					reason = "stopped by a signal (the run in progress ended safe)";
				} else if (st == EXIT_BENCH_BUSY) {
					cut_short = true;
					reason = "the bench is held by another run";
				} else if (st == EXIT_BAD_INPUT) {
					cut_short = true;
					reason = "a run refused its files (they changed since the night began?)";
				} else if (res && json_is_false(json_object_get(res, "bench_left_safe"))) {
					cut_short = true;
					reason = "the bench could not be made safe after a run";
				} else if (!res) {
					cut_short = true;
					reason = "a run left no results (see rig.log)";
				} else if (!strcmp(history_jstr(res, "status"), "completed") ||
					   strcmp(history_jstr(res, "end_cause"), "bench") != 0) {
					/* done: judged as it is, pass or not */
					any_bad |= strcmp(history_jstr(res, "overall_verdict"),
							  "pass") != 0;
					if (!strcmp(history_jstr(res, "end_cause"), "operator")) {
						cut_short = true;
						reason = "a run was stopped by the operator";
					}
				} else if (attempt < plan->retries) {
					/* the bench let the run down: safe first, then again */
					const char *safe_args[] = { "safe", "--bench", plan->bench,
								    "--reason", "rig nightly: the bench made "
								    "safe before a run is run again", NULL };
					int sst = 0;

					if (spawn_rig(safe_args, log, &sst) < 0 || sst != 0) {
						cut_short = true;
						reason = "the bench could not be made safe before running again";
					} else {
						again = true;
					}
				} else {
					cut_short = true;
					reason = "a run ended incomplete for a bench reason more often than "
						 "the plan's retries";
				}
				json_decref(res);
				json_decref(meta);
				if (!again)
					break;
			}
		}
	}
	utc_text(time(NULL), ended, "%Y-%m-%dT%H:%M:%SZ");
	status = cut_short ? EXIT_ABORTED : any_bad ? EXIT_CHECK_FAILED : EXIT_PASS;

	/* The history after the night: the runs folder's pending runs (this
	 * night's and any earlier one's that the store missed) forwarded, so
	 * that a bench nobody looks after catches up by itself; what still
	 * waits; and the open drift flags. */
	{
		struct history *h = NULL;
		struct history_sync_result sr = { 0 };
		struct spc_params p;
		char spool[RIG_PATH_MAX + 32], **pend = NULL, why[512] = "";

		snprintf(spool, sizeof(spool), "%s/%s", o.runs, HISTORY_SPOOL_DIR);
		spc_params_default(&p);
		if (lab_open_history(db, o.runs, &h, why, sizeof(why)) == 0) {
			if (history_sync(h, spool, NULL, NULL, &sr, why, sizeof(why)) == 0)
				why[0] = '\0';
			if (history_watch(h, &p, &flags, err, sizeof(err)) < 0)
				flags = NULL;
		}
		history_close(h);
		if (why[0] && !err[0])
			snprintf(err, sizeof(err), "%s", why);
		/* runs only: the spool holds nights too (an earlier night's
		 * record that the store missed; this night's own goes after its
		 * nightly.json is written) */
		if (history_pending_list(spool, &pend, &n_listed) < 0) {
			n_pending = SIZE_MAX;
		} else {
			for (size_t k = 0; k < n_listed; k++)
				n_pending += !history_is_night_dir(pend[k]);
			history_strv_free(pend, n_listed);
		}
		n_forwarded = sr.ingested;
	}
	night = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:O, s:b}",
		"schema", "pumprig.nightly/1", "plan_id", plan->id, "plan", plan->path,
		"plan_sha256", plan_hex, "bench_id", bench->id, "started_utc", started,
		"ended_utc", ended, "status", cut_short ? "cut short" : "completed",
		"reason", reason,
		"verdict", cut_short ? "incomplete" : any_bad ? "fail or inconclusive" : "pass",
		"exit_status", status, "runs", runs, "virtual_time", virtual_time);
	if (night) {
		json_object_set_new(night, "drift_flags", flags ? json_incref(flags) : json_null());
		json_object_set_new(night, "history", json_string(db));
		json_object_set_new(night, "history_forwarded", json_integer((json_int_t)n_forwarded));
		json_object_set_new(night, "history_pending", n_pending == SIZE_MAX ? json_null() :
				    json_integer((json_int_t)n_pending));
		if (err[0])
			json_object_set_new(night, "history_error", json_string(err));
	}
	if (!night || write_junit(night_dir, runs) < 0 || write_summary(night_dir, night, flags) < 0) {
		fprintf(stderr, "rig nightly: cannot write the night's files into %s\n",
			TERM_SAFE(night_dir));
		status = EXIT_ABORTED;
	}
	/* run_dir_path is this process's: the record names runs by their folder */
	{
		json_t *r;
		size_t i;

		json_array_foreach(runs, i, r)
			json_object_del(r, "run_dir_path");
	}
	if (night && write_file_json(night_dir, "nightly.json", night) < 0) {
		fprintf(stderr, "rig nightly: cannot write %s/nightly.json\n", TERM_SAFE(night_dir));
		status = EXIT_ABORTED;
	} else if (night) {
		/* the night itself into the history, as its runs went: a store
		 * that cannot be reached leaves it pending for rig history sync */
		lab_history_store_in(night_dir, o.runs, db, true);
	}
	if (!o.quiet) {
		char path[RIG_PATH_MAX + 32];
		char *text;
		FILE *f;

		snprintf(path, sizeof(path), "%s/summary.txt", night_dir);
		f = fopen(path, "r");
		if (f) {
			size_t len = 0;
			ssize_t n;

			text = NULL;
			/* line by line: each escaped, the line ends kept */
			while ((n = getline(&text, &len, f)) > 0) {
				if (text[n - 1] == '\n')
					text[n - 1] = '\0';
				printf("%s\n", TERM_SAFE(text));
			}
			free(text);
			fclose(f);
		}
	}
	fprintf(stderr, "rig nightly: the night's directory: %s\n", TERM_SAFE(night_dir));
out:
	json_decref(night);
	json_decref(runs);
	json_decref(flags);
	jobs_free(jobs, plan ? plan->n_jobs : 0);
	bench_free(bench);
	night_free(plan);
	return status;
}

const struct rig_command cmd_nightly = { "nightly", usage_nightly, nightly_main };

/* rig validate PLAN: the same judgement rig nightly makes before it starts. */
int nightly_validate(const char *plan_path, bool allow_expired)
{
	struct nopts o = { .plan = plan_path, .allow_expired = allow_expired };
	struct night_plan *plan;
	struct bench *bench;
	struct job_files *jobs;
	bool virtual_time;
	int status = night_judge(&o, &plan, &bench, &jobs, &virtual_time);
	unsigned n_runs = 0;
	rig_ns least = 0;

	if (status != 0)
		return status;
	for (size_t i = 0; i < plan->n_jobs; i++) {
		n_runs += plan->jobs[i].repeat;
		least += jobs[i].least_ns * (rig_ns)plan->jobs[i].repeat;
	}
	printf("%s: night %s, %zu job(s), %u run(s) on bench %s, at least %.2f h of bench time "
	       "(%s)\n", TERM_SAFE(plan->path), TERM_SAFE(plan->id), plan->n_jobs, n_runs,
	       TERM_SAFE(bench->id), rig_ns_to_h(least),
	       virtual_time ? "simulated: virtual time, minutes of wall time" : "real time");
	jobs_free(jobs, plan->n_jobs);
	bench_free(bench);
	night_free(plan);
	return EXIT_PASS;
}
