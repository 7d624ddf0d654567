/* The harness of the wire-level suites (wire_server.h). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <time.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "helpers.h"
#include "wire_server.h"
#include "rig/base/clock.h"


struct server start_server_with(const char *bench_rel)
{
	char *bench = th_src(bench_rel);
	struct server s = start_server_at(bench, NULL);

	free(bench);
	return s;
}

static bool g_real_time;

/* The simulator following the wall clock (--real-time). */
struct server start_server_real_time(void)
{
	return start_server_real_time_with("fixtures/bench/sim.cfg");
}

struct server start_server_real_time_with(const char *bench_rel)
{
	char *bench = th_src(bench_rel);
	struct server s;

	g_real_time = true;
	s = start_server_at(bench, NULL);
	g_real_time = false;
	free(bench);
	return s;
}

/* The simulator on a bench file given by path; links_dir: --links. */
struct server start_server_at(const char *bench, const char *links_dir)
{
	char line[256], *dut = th_src("fixtures/dut/itp-40.cfg");
	struct server s = { 0 };
	int fd[2];
	FILE *out;

	cr_assert_eq(pipe(fd), 0);
	s.pid = fork();
	cr_assert_neq(s.pid, -1);
	if (s.pid == 0) {
		/* the simulator goes when the test does, whatever happens to it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		/* the simulated pump says it is the shipped device (IDENT) */
		if (g_real_time)
			execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, "--dut", dut,
			      "--real-time", (char *)NULL);
		else if (links_dir)
			execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, "--dut", dut,
			      "--links", links_dir, (char *)NULL);
		else
			execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, "--dut", dut,
			      (char *)NULL);
		_exit(98);
	}
	free(dut);
	close(fd[1]);
	out = fdopen(fd[0], "r");
	while (fgets(line, sizeof(line), out)) {
		if (sscanf(line, "iio ip:127.0.0.1:%u", &s.port) == 1)
			continue;
		if (sscanf(line, "pump %63s", s.pump) == 1 || sscanf(line, "balance %63s", s.balance) == 1)
			continue;
		if (strcmp(line, "ready\n") == 0)
			break;
	}
	fclose(out);
	cr_assert_neq(s.port, 0, "the simulator announced no port");
	snprintf(s.uri, sizeof(s.uri), "ip:127.0.0.1:%u", s.port);
	return s;
}

struct server start_server(void)
{
	return start_server_with("fixtures/bench/sim.cfg");
}

void stop_server(struct server *s)
{
	int status;

	kill(s->pid, SIGTERM);
	cr_assert_eq(waitpid(s->pid, &status, 0), s->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the simulator did not stop cleanly");
}

/* Runs a shell command, returns its stdout. */
char *sh(const char *fmt, ...)
{
	char *cmd, *out = NULL, buf[4096];
	size_t len = 0;
	va_list ap;
	FILE *p, *m = open_memstream(&out, &len);
	size_t n;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, m);
	pclose(p);
	fclose(m);
	free(cmd);
	return out;
}

/* A shipped wire bench, pointed at this simulator's port and terminals. */
static char *bench_pointed(const char *dir, const struct server *s, const char *bench_rel,
			   const char *from0, const char *to0)
{
	char *src = th_src(bench_rel), *text = th_read_file(src), *path;
	const char *name = strrchr(bench_rel, '/') ? strrchr(bench_rel, '/') + 1 : bench_rel;
	const char *from[] = { from0 ? from0 : "\x01", "ip:127.0.0.1:30431", "/tmp/pumprig-sim/pump",
			       "/tmp/pumprig-sim/balance" };
	const char *to[] = { to0, s->uri, s->pump, s->balance };

	cr_assert_not_null(text);
	for (int k = 0; k < 4; k++) {
		char *at;

		while ((at = strstr(text, from[k]))) {
			char *out;

			cr_assert_geq(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to[k],
					       at + strlen(from[k])), 0);
			free(text);
			text = out;
		}
	}
	path = th_write_file(dir, name, text);
	free(text);
	free(src);
	return path;
}

char *wire_bench_with(const char *dir, const struct server *s, const char *from0,
			     const char *to0)
{
	return bench_pointed(dir, s, "fixtures/bench/wire.cfg", from0, to0);
}

char *wire_bench_of(const char *dir, const struct server *s, const char *bench_rel)
{
	return bench_pointed(dir, s, bench_rel, NULL, NULL);
}

char *wire_bench(const char *dir, const struct server *s)
{
	return wire_bench_with(dir, s, NULL, NULL);
}

json_t *load_results(const char *run)
{
	char *path;
	json_t *root;

	cr_assert_geq(asprintf(&path, "%s/results.json", run), 0);
	root = json_load_file(path, 0, NULL);
	cr_assert_not_null(root, "%s", path);
	free(path);
	return root;
}
