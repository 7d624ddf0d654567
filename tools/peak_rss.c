/* peak_rss OUT CMD [ARG...]: runs CMD and writes to the file OUT, when it
 * ends, "<own peak kB> <anon kB> <file kB> <tree peak kB> <exit status>"
 * where the own peak is VmHWM of CMD's own process read at the moment it
 * exits (stopped there by ptrace's PTRACE_EVENT_EXIT, so no sampling can
 * miss it), anon and file are its RssAnon and RssFile at that moment, and
 * the tree peak is the largest peak of CMD and every child it waited for
 * (getrusage RUSAGE_CHILDREN).  CMD's own children are not traced: a
 * report written in a child process counts in the tree, not in CMD.
 * tools/bench-memory prints these for rig's main jobs. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	long hwm = -1, anon = -1, file = -1;
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int st;

	if (argc < 3) {
		fprintf(stderr, "usage: peak_rss OUT CMD [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0)
		return perror("fork"), 1;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(126);
		raise(SIGSTOP);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFSTOPPED(st))
		return fprintf(stderr, "peak_rss: the child did not stop\n"), 1;
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)) < 0)
		return perror("ptrace"), 1;
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	for (;;) {
		int sig = 0;

		if (waitpid(pid, &st, 0) < 0) {
			if (errno == EINTR)
				continue;
			return perror("waitpid"), 1;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
			hwm = status_kb(pid, "VmHWM");
			anon = status_kb(pid, "RssAnon");
			file = status_kb(pid, "RssFile");
		} else if (WSTOPSIG(st) != SIGTRAP) {
			sig = WSTOPSIG(st);   /* a signal for the command: deliver it */
		}
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	out = fopen(argv[1], "w");
	if (!out)
		return perror(argv[1]), 1;
	fprintf(out, "%ld %ld %ld %ld %d\n", hwm, anon, file, ru.ru_maxrss,
		WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return fclose(out) == 0 ? 0 : 1;
}
