#include "helpers.h"
#include "rig/base/record.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RIG_SOURCE_DIR
#define RIG_SOURCE_DIR "."
#endif

char *th_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&path, "%s/pumprig-test-XXXXXX", base) < 0)
		abort();
	if (!mkdtemp(path))
		abort();
	return path;
}

char *th_write_file(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	if (fclose(f) != 0)
		abort();
	return path;
}

char *th_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

char *th_src(const char *relative)
{
	char *path;

	if (asprintf(&path, "%s/%s", RIG_SOURCE_DIR, relative) < 0)
		abort();
	return path;
}

char *th_src_edited(const char *dir, const char *relative, const char *name,
		    const char *const *pairs)
{
	char *src = th_src(relative), *text = th_read_file(src), *path;

	cr_assert_not_null(text, "%s", src);
	for (; pairs && pairs[0]; pairs += 2) {
		char *k = strstr(text, pairs[0]), *edited;

		cr_assert_not_null(k, "%s has no '%s'", relative, pairs[0]);
		if (asprintf(&edited, "%.*s%s%s", (int)(k - text), text, pairs[1],
			     k + strlen(pairs[0])) < 0)
			abort();
		free(text);
		text = edited;
	}
	path = th_write_file(dir, name, text);
	free(text);
	free(src);
	return path;
}

char *th_slurp(const char *dir, const char *name)
{
	char *path, *text;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	text = th_read_file(path);
	free(path);
	/* an ended run's samples.csv is samples.csv.zst: read it as rig does */
	if (!text && !strcmp(name, "samples.csv")) {
		FILE *f = samples_open(dir);
		size_t cap = 0;

		if (f) {
			FILE *out = open_memstream(&text, &cap);
			char buf[65536];
			size_t n;

			if (!out)
				abort();
			while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
				fwrite(buf, 1, n, out);
			fclose(f);
			fclose(out);
		}
	}
	return text;
}

/* In the child before exec: every signal at its default disposition and
 * unblocked, as `env --default-signal` and an empty mask would leave it,
 * whatever the test runner inherited (a background job of a shell ignores
 * SIGINT and SIGQUIT); then the ones opts asks to ignore or block. */
static void child_signals(const struct th_spawn_opts *opts)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);   /* SIGKILL, SIGSTOP and the C library's own refuse: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (const int *sig = opts->ignored; sig && *sig; sig++)
		signal(*sig, SIG_IGN);
	if (opts->blocked) {
		sigset_t set;

		sigemptyset(&set);
		for (const int *sig = opts->blocked; *sig; sig++)
			sigaddset(&set, *sig);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
}

pid_t th_rig_spawn_with(const char *dir, const char *const *args, const struct th_spawn_opts *opts)
{
	/* a cross build's rig runs under its emulator (RIG_EMULATOR, from
	 * CMAKE_CROSSCOMPILING_EMULATOR): an exec of it alone would need
	 * binfmt_misc */
	const char *argv[40] = {
#ifdef RIG_EMULATOR
		RIG_EMULATOR,
#endif
		RIG_BINARY
	};
	char *out, *err;
	int n = 0;
	pid_t pid;

	while (argv[n])
		n++;
	if (opts->binary)
		argv[n - 1] = opts->binary;
	while (*args && n < 39)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (asprintf(&out, "%s/stdout", dir) < 0 || asprintf(&err, "%s/stderr", dir) < 0)
		abort();
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
			_exit(99);
		/* each test its own bench locks: suites run in parallel on the
		 * same bench ids */
		if (!getenv("PUMPRIG_LOCK_DIR"))
			setenv("PUMPRIG_LOCK_DIR", dir, 1);
		/* the station's operator: rig takes no login name for one */
		if (!getenv("PUMPRIG_OPERATOR"))
			setenv("PUMPRIG_OPERATOR", "Test Operator", 1);
		/* and its own seal journal, never the station's */
		if (!getenv("PUMPRIG_JOURNAL")) {
			char *journal;

			if (asprintf(&journal, "%s/seal-journal.jsonl", dir) < 0)
				_exit(96);
			setenv("PUMPRIG_JOURNAL", journal, 1);
		}
		child_signals(opts);
		if (opts->in_dir && chdir(dir) != 0)
			_exit(95);
		if (opts->own_process_group && setpgid(0, 0) != 0)
			_exit(96);
		if (opts->fsize_bytes > 0) {
			struct rlimit rl = { (rlim_t)opts->fsize_bytes, (rlim_t)opts->fsize_bytes };

			if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
				_exit(97);
		}
		/* execvp: the emulator is named as the toolchain file names it,
		 * found on PATH (RIG_BINARY is an absolute path) */
		execvp(argv[0], (char *const *)argv);
		_exit(98);
	}
	free(out);
	free(err);
	return pid;
}

pid_t th_rig_spawn(const char *dir, const char *const *args)
{
	return th_rig_spawn_with(dir, args, &(struct th_spawn_opts){ 0 });
}

pid_t th_rig_spawn_limited(const char *dir, const char *const *args, long fsize_bytes)
{
	return th_rig_spawn_with(dir, args, &(struct th_spawn_opts){ .fsize_bytes = fsize_bytes,
		.ignored = (const int[]){ SIGXFSZ, 0 } });
}

int th_rig_wait_raw(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

int th_rig_wait(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "rig did not exit normally (signal %d)",
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return WEXITSTATUS(status);
}

int th_rig(const char *dir, const char *const *args)
{
	return th_rig_wait(th_rig_spawn(dir, args));
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t occurrences(const char *hay, const char *text)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, text)); p += strlen(text))
		n++;
	return n;
}

char *th_wait_for_text(const char *dir, const char *name, const char *text, int timeout_ms)
{
	return th_wait_for_text_n(dir, name, text, 1, timeout_ms);
}

char *th_wait_for_text_n(const char *dir, const char *name, const char *text, size_t count,
			 int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char *found = NULL;

	cr_assert_geq(fd, 0);
	/* the directory may not exist yet: watch it as soon as it does; the
	 * file is read after each wake-up (and once after arming the watch, so
	 * nothing written before it is missed) */
	for (bool watching = false;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char buf[4096];
		long long left;

		if (!watching)
			watching = inotify_add_watch(fd, dir, IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE) >= 0;
		found = th_slurp(dir, name);
		if (found && occurrences(found, text) >= count)
			break;
		free(found);
		found = NULL;
		left = deadline - mono_ms();
		if (left <= 0)
			break;
		/* unwatched (no directory yet): wake every 10 ms to look again */
		if (poll(&pfd, 1, watching ? (int)left : 10) > 0)
			while (read(fd, buf, sizeof(buf)) > 0)
				;
	}
	close(fd);
	return found;
}

double th_samples_buffer_span_s(const char *samples)
{
	const char *end = strrchr(samples, '\n'), *row = NULL;
	double last_s;

	/* the last whole row: a torn one that rig resume or rig safe ended
	 * with a newline has fewer than the row's five commas */
	while (end && end > samples) {
		int commas = 0;

		for (row = end; row > samples && row[-1] != '\n'; row--)
			commas += row[-1] == ',';
		if (commas >= 5)
			break;
		end = row > samples ? row - 1 : NULL;
		row = NULL;
	}
	cr_assert_not_null(row, "no rows");
	last_s = strtoll(row, NULL, 10) / 1e9;
	cr_assert_gt(last_s, 0, "no rows after t = 0");
	return 65536 / ((double)(row - samples) / last_s) + 2;
}

/* "-0.000" (or -0.0, -0.00000...) with no other digit after it: a value
 * that rounds to zero shown negative.  -0.00004 is a small negative value,
 * shown as it is. */
bool th_negative_zero(const char *text)
{
	for (const char *s = strstr(text, "-0."); s; s = strstr(s + 1, "-0.")) {
		const char *d = s + 3;
		bool nonzero = false;

		if (!(*d >= '0' && *d <= '9'))
			continue;
		for (; *d >= '0' && *d <= '9'; d++)
			nonzero |= *d != '0';
		if (!nonzero)
			return true;
	}
	return false;
}

struct th_run th_run_seq(const char *sequence, const char *bench_src,
			 const char *const *bench_pairs, const char *dut_src,
			 const char *const *dut_pairs)
{
	char *dir = th_tmpdir(), *bench = th_src_edited(dir, bench_src, "bench.cfg", bench_pairs);
	char *dut = th_src_edited(dir, dut_src, "dut.cfg", dut_pairs);
	char *seq = strncmp(sequence, "sequence =", 10) == 0 ? th_write_file(dir, "seq.cfg", sequence)
							   : th_src(sequence);
	char *out, *path;
	struct th_run r;

	if (asprintf(&out, "%s/run", dir) < 0 || asprintf(&path, "%s/run/results.json", dir) < 0)
		abort();
	r.status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						 "--output", out, "-q", NULL });
	r.err = th_slurp(dir, "stderr");
	r.results = json_load_file(path, 0, NULL);
	r.dir = dir;
	free(bench);
	free(seq);
	free(dut);
	free(out);
	free(path);
	return r;
}

void th_run_free(struct th_run *r)
{
	json_decref(r->results);
	free(r->err);
	free(r->dir);
}

char *th_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}
