/* What the hostile-input suites share (tests/test_hostile_input.c: text;
 * tests/test_hostile_files.c: special files, keys, results): running the rig
 * binary bounded in time, with its output captured, and asserting that
 * nothing was started and that no control character reached the terminal. */
#ifndef RIG_TEST_HOSTILE_H
#define RIG_TEST_HOSTILE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define SEQ "sequences/dose-accuracy.cfg"
#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* ------------------------------------------------------------ running -- */

struct outcome {
	int status;            /* exit status */
	char *out, *err;       /* what rig wrote to stdout and stderr */
};

static inline void outcome_free(struct outcome *o)
{
	free(o->out);
	free(o->err);
}

/* Runs rig with args in dir (stdout, stderr and the bench locks there),
 * with env ("NAME=value", or "NAME" to unset; NULL-terminated, may be NULL)
 * and stdin from /dev/null.  SIGALRM ends it after limit_s: a rig that
 * blocked (on a FIFO) fails the test instead of hanging it. */
static inline struct outcome rig_env(const char *dir, const char *const *args,
				     const char *const *env, unsigned limit_s)
{
	const char *argv[40] = { RIG_BINARY };
	struct outcome o = { 0 };
	char *out, *err;
	int n = 1, status;
	pid_t pid;

	while (*args && n < 39)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (asprintf(&out, "%s/stdout", dir) < 0 || asprintf(&err, "%s/stderr", dir) < 0)
		abort();
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (!freopen("/dev/null", "r", stdin) || !freopen(out, "w", stdout) ||
		    !freopen(err, "w", stderr))
			_exit(99);
		setenv("PUMPRIG_LOCK_DIR", dir, 1);
		/* its own seal journal, never the station's (as tests/helpers.c) */
		if (!getenv("PUMPRIG_JOURNAL")) {
			char *journal;

			if (asprintf(&journal, "%s/seal-journal.jsonl", dir) < 0)
				_exit(96);
			setenv("PUMPRIG_JOURNAL", journal, 1);
		}
		unsetenv("PUMPRIG_SIGN_KEY");
		/* the station's operator (rig takes no login name); a test's env
		 * may unset it */
		if (!getenv("PUMPRIG_OPERATOR"))
			setenv("PUMPRIG_OPERATOR", "Test Operator", 1);
		for (; env && *env; env++) {
			char *eq = strchr(*env, '=');

			if (eq) {
				char *name = strndup(*env, (size_t)(eq - *env));

				setenv(name, eq + 1, 1);
			} else {
				unsetenv(*env);
			}
		}
		alarm(limit_s);
		execv(argv[0], (char *const *)argv);
		_exit(98);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	o.out = th_read_file(out);
	o.err = th_read_file(err);
	cr_assert(WIFEXITED(status), "rig %s %s was ended by signal %d%s; stderr: %s", argv[1],
		  argv[2] ? argv[2] : "", WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		  WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
		  " (SIGALRM: it blocked)" : "", o.err);
	o.status = WEXITSTATUS(status);
	free(out);
	free(err);
	return o;
}

static inline struct outcome rig(const char *dir, const char *const *args)
{
	return rig_env(dir, args, NULL, 10);
}

/* Nothing was started: no run directory dir/run, no bench lock taken. */
static inline void assert_nothing_started(const char *dir, const char *what)
{
	char *path, *lock;
	struct stat st;

	if (asprintf(&path, "%s/run", dir) < 0 || asprintf(&lock, "%s/SIM-1.lock", dir) < 0)
		abort();
	cr_assert_neq(stat(path, &st), 0, "%s: the run directory was created", what);
	cr_assert_neq(stat(lock, &st), 0, "%s: the bench lock was taken", what);
	free(path);
	free(lock);
}

static inline bool has_byte(const char *s, unsigned char b)
{
	return s && strchr(s, (char)b) != NULL;
}

/* No byte a terminal would act on: C0 controls but tab and newline, DEL,
 * and the UTF-8 form of a C1 control (C2 80..C2 9F). */
static inline void assert_terminal_clean(const char *s, const char *what)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		cr_assert(!((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7F),
			  "%s: a raw control byte 0x%02X reached the terminal: %s", what, *p, s);
		cr_assert(!(p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F),
			  "%s: a raw C1 control reached the terminal: %s", what, s);
	}
}

static inline char *path_in(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static inline void write_bytes(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* args from a template: "@" is value, $S, $B, $D the shipped sequence,
 * bench and device, $O out (the run directory), $T tmp, "--output=@" the
 * option with value. */
static inline void expand(const char *const *tmpl, const char *value, const char *tmp,
			  const char *out, const char **args)
{
	static char *seq, *bench, *dut;
	size_t n = 0;

	if (!seq) {
		seq = th_src(SEQ);
		bench = th_src(BENCH);
		dut = th_src(DUT);
	}
	for (; n < 11 && tmpl[n]; n++) {
		const char *a = tmpl[n];

		if (!strcmp(a, "@"))
			a = value;
		else if (!strcmp(a, "$S"))
			a = seq;
		else if (!strcmp(a, "$B"))
			a = bench;
		else if (!strcmp(a, "$D"))
			a = dut;
		else if (!strcmp(a, "$O"))
			a = out;
		else if (!strcmp(a, "$T"))
			a = tmp;
		else if (!strcmp(a, "--output=@")) {
			static char buf[256];

			snprintf(buf, sizeof(buf), "--output=%s", value);
			a = buf;
		}
		args[n] = a;
	}
	args[n] = NULL;
}

/* The shipped nominal dose-accuracy run into tmp/name, with extra options;
 * returns the run directory. */
static inline char *make_run(const char *tmp, const char *name, const char *const *extra)
{
	char *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *run = path_in(tmp, name);
	const char *args[24] = { "run", seq, "--bench", bench, "--dut", dut, "-o", run, "-q" };
	size_t n = 9;
	struct outcome o;

	while (extra && *extra && n < 22)
		args[n++] = *extra++;
	args[n] = NULL;
	o = rig_env(tmp, args, NULL, 300);
	cr_assert_eq(o.status, 0, "the run failed: %s", o.err);
	outcome_free(&o);
	free(seq);
	free(bench);
	free(dut);
	return run;
}

static inline void sh(const char *fmt, const char *a, const char *b)
{
	char *cmd;

	if (asprintf(&cmd, fmt, a, b) < 0)
		abort();
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
}

#endif
