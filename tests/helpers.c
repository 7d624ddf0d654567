#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

char *th_slurp(const char *dir, const char *name)
{
	char *path, *text;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	text = th_read_file(path);
	free(path);
	return text;
}

pid_t th_rig_spawn(const char *dir, const char *const *args)
{
	const char *argv[32] = { RIG_BINARY };
	char *out, *err;
	int n = 1;
	pid_t pid;

	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (asprintf(&out, "%s/stdout", dir) < 0 || asprintf(&err, "%s/stderr", dir) < 0)
		abort();
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
			_exit(99);
		execv(argv[0], (char *const *)argv);
		_exit(98);
	}
	free(out);
	free(err);
	return pid;
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
