/* The fork runner behind tests/cross/criterion/criterion.h: every test of
 * the program in a forked child (never an exec, so it works under qemu-user
 * without binfmt_misc), one at a time, with the suite's init and fini and the
 * test's timeout (alarm).  Prints one line per failure and Criterion's
 * closing line; exit status 1 when a test failed.
 *   PROGRAM [--filter SUITE/NAME-GLOB] [any Criterion option, ignored] */
#include "criterion/criterion.h"

#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum { EXIT_SKIP = 77 };

static struct crs_test *tests, *suites;
static bool failed;

void crs_register(struct crs_test *test)
{
	test->next = tests;
	tests = test;
}

void crs_register_suite(struct crs_test *suite)
{
	suite->next = suites;
	suites = suite;
}

bool crs_str_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static const struct crs_test *current;

void crs_check(bool ok, bool fatal, const char *file, int line, const char *expr,
	       const char *fmt, ...)
{
	if (ok)
		return;
	failed = true;
	fprintf(stderr, "%s:%d: %s::%s: failed: %s", file, line, current->suite, current->name,
		expr);
	if (fmt[1] != '\0') { /* the macros put a space before every message */
		va_list ap;
		va_start(ap, fmt);
		fputc(':', stderr);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	if (fatal) {
		if (current->fini)
			current->fini();
		fflush(NULL);
		_exit(1);
	}
}

void crs_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s::%s: skipped:", current->suite, current->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fflush(NULL);
	_exit(EXIT_SKIP);
}

void crs_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Runs one test in a child: 0 passed, 1 failed, 2 skipped. */
static int run_one(struct crs_test *t)
{
	for (const struct crs_test *s = suites; s; s = s->next) {
		if (strcmp(s->suite, t->suite) != 0)
			continue;
		if (!t->init)
			t->init = s->init;
		if (!t->fini)
			t->fini = s->fini;
		if (t->timeout <= 0)
			t->timeout = s->timeout;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		current = t;
		if (t->timeout > 0)
			alarm((unsigned)t->timeout + 1);
		if (t->init)
			t->init();
		t->fn();
		if (t->fini)
			t->fini();
		fflush(NULL);
		_exit(failed ? 1 : 0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP)
		return 2;
	if (WIFSIGNALED(status))
		fprintf(stderr, "%s::%s: %s\n", t->suite, t->name,
			WTERMSIG(status) == SIGALRM ? "timed out" : strsignal(WTERMSIG(status)));
	return 1;
}

int main(int argc, char **argv)
{
	const char *filter = "*";
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
			filter = argv[++i];
		else if (strncmp(argv[i], "--filter=", 9) == 0)
			filter = argv[i] + 9;
	int counts[3] = { 0 };
	for (struct crs_test *t = tests; t; t = t->next) {
		char id[512];
		snprintf(id, sizeof id, "%s/%s", t->suite, t->name);
		if (t->disabled || fnmatch(filter, id, 0) != 0)
			continue;
		int r = run_one(t);
		counts[r]++;
		if (r == 1)
			fprintf(stderr, "[FAIL] %s::%s\n", t->suite, t->name);
	}
	printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Skipped: %d\n",
	       counts[0] + counts[1], counts[0], counts[1], counts[2]);
	return counts[1] ? 1 : 0;
}
