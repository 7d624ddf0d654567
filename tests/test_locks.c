/* One user per physical instrument, whatever bench file names it.  A real
 * run on the wire-level simulator (its pump on a pseudo-terminal, its
 * sensors over libiio's network protocol) holds its instruments in real
 * time; other bench files, under other ids, that name one of them are
 * refused (exit 5) naming the instrument and the run that holds it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"
#include "helpers.h"
#include "rig/engine/lock.h"

struct server {
	pid_t pid;
	char uri[64], pump[64], balance[64];
};

/* rig sim serve on the wire bench, its pump also reached through
 * links/pump; waited for by its "ready" line. */
static struct server start_server(const char *links)
{
	char *bench = th_src("fixtures/bench/wire.cfg"), line[256];
	char *dut = th_src("fixtures/dut/itp-40.cfg");
	struct server s = { 0 };
	unsigned port = 0;
	int fd[2];
	FILE *out;

	cr_assert_eq(pipe(fd), 0);
	s.pid = fork();
	cr_assert_neq(s.pid, -1);
	if (s.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, "--dut", dut, "--links",
		      links, (char *)NULL);
		_exit(98);
	}
	close(fd[1]);
	out = fdopen(fd[0], "r");
	while (fgets(line, sizeof(line), out)) {
		if (sscanf(line, "iio ip:127.0.0.1:%u", &port) == 1 ||
		    sscanf(line, "pump %63s", s.pump) == 1 || sscanf(line, "balance %63s", s.balance) == 1)
			continue;
		if (strcmp(line, "ready\n") == 0)
			break;
	}
	fclose(out);
	free(dut);
	free(bench);
	cr_assert_neq(port, 0, "the simulator announced no port");
	snprintf(s.uri, sizeof(s.uri), "ip:127.0.0.1:%u", port);
	return s;
}

static void stop_server(struct server *s)
{
	int status;

	kill(s->pid, SIGTERM);
	cr_assert_eq(waitpid(s->pid, &status, 0), s->pid);
}

/* Every occurrence of from in text replaced by to. */
static char *replace_all(char *text, const char *from, const char *to)
{
	char *at;

	while ((at = strstr(text, from))) {
		char *out;

		if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) < 0)
			abort();
		free(text);
		text = out;
	}
	return text;
}

/* A bench file from a shipped one, with the replacements given in pairs. */
static char *bench_from(const char *dir, const char *name, const char *src_rel, ...)
{
	char *src = th_src(src_rel), *text = th_read_file(src), *path;
	const char *from, *to;
	va_list ap;

	cr_assert_not_null(text);
	va_start(ap, src_rel);
	while ((from = va_arg(ap, const char *))) {
		to = va_arg(ap, const char *);
		cr_assert_not_null(strstr(text, from), "'%s' not in %s", from, src_rel);
		text = replace_all(text, from, to);
	}
	va_end(ap);
	path = th_write_file(dir, name, text);
	free(text);
	free(src);
	return path;
}

/* The files in dir, one a line, sorted: what the lock directory holds. */
static char *listing(const char *dir)
{
	struct dirent **names;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int n = scandir(dir, &names, NULL, alphasort);

	cr_assert_geq(n, 0);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			fprintf(m, "%s\n", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	fclose(m);
	return out;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static const char crashed_line[] =
	"{\"pid\":999999,\"host\":\"bench-pc\",\"run_dir\":\"/runs/crashed\","
	"\"since\":\"2026-11-24T03:00:00Z\"}\n";

struct holder {
	struct server s;
	char *dir, *locks, *links, *bench, *seq, *dut, *run;
	pid_t pid;
};

/* The wire bench (id WIRE-1) running short_seq in real time, inside its
 * hold: it holds every instrument of the bench. */
static struct holder hold_wire_bench(void)
{
	struct holder h = { .dir = th_tmpdir(), .locks = th_tmpdir(), .dut = th_src(DUT) };
	char *events;

	if (asprintf(&h.links, "%s/links", h.dir) < 0 || asprintf(&h.run, "%s/run-a", h.dir) < 0)
		abort();
	setenv("PUMPRIG_LOCK_DIR", h.locks, 1);
	h.s = start_server(h.links);
	h.bench = bench_from(h.dir, "wire.cfg", "fixtures/bench/wire.cfg",
			     "ip:127.0.0.1:30431", h.s.uri, "/tmp/pumprig-sim/pump", h.s.pump,
			     "/tmp/pumprig-sim/balance", h.s.balance, (const char *)NULL);
	h.seq = th_write_file(h.dir, "seq.cfg", short_seq);
	h.pid = th_rig_spawn(h.dir, (const char *[]){ "run", h.seq, "--bench", h.bench, "--dut",
						       h.dut, "--output", h.run, "--real-time", "-q",
						       NULL });
	events = th_wait_for_text(h.run, "events.jsonl", "\"kind\":\"hold\"", 30000);
	cr_assert_not_null(events, "the holding run never reached its hold");
	free(events);
	return h;
}

static void holder_end(struct holder *h)
{
	kill(h->pid, SIGTERM);
	cr_assert_eq(th_rig_wait(h->pid), 3);
	stop_server(&h->s);
	unsetenv("PUMPRIG_LOCK_DIR");
	free(h->dir);
	free(h->locks);
	free(h->links);
	free(h->bench);
	free(h->seq);
	free(h->dut);
	free(h->run);
}

/* A copy of the simulated bench under another id whose pump is the running
 * bench's pump, reached through a symbolic link to its terminal. */
Test(locks, another_bench_file_naming_a_running_pump_is_refused_naming_the_run)
{
	struct holder h = hold_wire_bench();
	char *dir = th_tmpdir(), *bench, *seq = th_write_file(dir, "seq.cfg", tiny_seq), *err;
	char *link, *want, *run;

	if (asprintf(&link, "%s/pump", h.links) < 0 || asprintf(&run, "%s/run-b", dir) < 0)
		abort();
	bench = bench_from(dir, "other.cfg", "fixtures/bench/sim.cfg", "id = \"SIM-1\"",
			   "id = \"OTHER-1\"", "pump = { backend = \"sim\";",
			   "pump = { backend = \"pumplink\"; device = \"PUMP\";", "PUMP", link,
			   (const char *)NULL);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", h.dut,
						   "--output", run, "-q", NULL }), 5,
		     "%s", th_slurp(dir, "stderr"));
	err = th_slurp(dir, "stderr");
	if (asprintf(&want, "rig: serial device %s (%s) (pump, %s:", link, h.s.pump, bench) < 0)
		abort();
	cr_assert_not_null(strstr(err, want), "no '%s' in: %s", want, err);
	free(want);
	if (asprintf(&want, "is held by run %s (pid %d on host ", h.run, (int)h.pid) < 0)
		abort();
	cr_assert_not_null(strstr(err, want), "no '%s' in: %s", want, err);
	cr_assert_not_null(strstr(err, ", bench WIRE-1); one run per physical instrument"), "%s", err);
	cr_assert_eq(access(run, F_OK), -1, "the refused run created its directory");
	free(want);
	free(err);
	/* a probe talks to the instruments: not to those of a running bench */
	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 5,
		     "%s", th_slurp(dir, "stdout"));
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "(nothing was opened)"), "%s", err);
	free(err);
	/* rig safe waits for no lock: it makes the bench safe and says whose */
	cr_assert_eq(th_rig(dir, (const char *[]){ "safe", "--bench", bench, NULL }), 0);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "is held by run "), "%s", err);
	cr_assert_not_null(strstr(err, "making the bench safe anyway"), "%s", err);
	free(err);
	holder_end(&h);
	/* let go at the end: the same probe now talks to the pump */
	setenv("PUMPRIG_LOCK_DIR", dir, 1);
	cr_assert_neq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 5);
	unsetenv("PUMPRIG_LOCK_DIR");
	free(link);
	free(run);
	free(bench);
	free(seq);
	free(dir);
}

/* A second node made with mknod for a running bench's terminal (its major
 * and minor numbers, another path, no link to it): the same terminal.  The
 * lock keyed a serial device by its real path, so two runs could drive one
 * tty; it is keyed by the device's number now.  The first bench is held
 * here, in the test's process, through the same lock files. */
Test(locks, a_second_device_node_of_a_held_terminal_is_refused)
{
	char *dir = th_tmpdir(), *node, *held, *other, *err, *want;
	int pty = posix_openpt(O_RDWR | O_NOCTTY);
	struct bench *bench = NULL;
	struct diag_list diags = { 0 };
	struct bench_lock *lock = NULL;
	struct lock_busy busy;
	struct stat st;
	char stale[1024];

	cr_assert_geq(pty, 0);
	cr_assert_eq(grantpt(pty), 0);
	cr_assert_eq(unlockpt(pty), 0);
	cr_assert_eq(stat(ptsname(pty), &st), 0);
	/* in a short folder of its own: a bench file's device path is at most
	 * 63 characters, and the test's folder under CI is longer than that */
	node = strdup("/tmp/rig-node-XXXXXX");
	cr_assert(node && mkdtemp(node), "mkdtemp");
	node = realloc(node, strlen(node) + 3);
	strcat(node, "/n");
	cr_assert_eq(mknod(node, S_IFCHR | 0600, st.st_rdev), 0, "mknod (tests run as root)");
	held = bench_from(dir, "held.cfg", "fixtures/bench/sim.cfg", "id = \"SIM-1\"",
			  "id = \"HELD-1\"", "pump = { backend = \"sim\";",
			  "pump = { backend = \"pumplink\"; device = \"PUMP\";", "PUMP",
			  ptsname(pty), (const char *)NULL);
	other = bench_from(dir, "other.cfg", "fixtures/bench/sim.cfg", "id = \"SIM-1\"",
			   "id = \"OTHER-1\"", "pump = { backend = \"sim\";",
			   "pump = { backend = \"pumplink\"; device = \"PUMP\";", "PUMP", node,
			   (const char *)NULL);
	setenv("PUMPRIG_LOCK_DIR", dir, 1);
	cr_assert_eq(bench_load(held, &bench, &diags), 0);
	cr_assert_eq(bench_lock_acquire(bench, "", "rig probe", &lock, &busy, stale,
					sizeof(stale)), 0, "%s", busy.holder);
	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", other, NULL }), 5,
		     "%s", th_slurp(dir, "stderr"));
	err = th_slurp(dir, "stderr");
	if (asprintf(&want, "rig: serial device %s (character device %u:%u) (pump, %s:", node,
		     major(st.st_rdev), minor(st.st_rdev), other) < 0)
		abort();
	cr_assert_not_null(strstr(err, want), "no '%s' in: %s", want, err);
	cr_assert_not_null(strstr(err, "(nothing was opened)"), "%s", err);
	bench_lock_release(lock);
	/* let go: the other bench file is not refused */
	cr_assert_neq(th_rig(dir, (const char *[]){ "probe", "--bench", other, NULL }), 5,
		      "%s", th_slurp(dir, "stderr"));
	unsetenv("PUMPRIG_LOCK_DIR");
	bench_free(bench);
	diag_clear(&diags);
	close(pty);
	free(want);
	free(err);
	free(other);
	free(held);
	unlink(node);
	*strrchr(node, '/') = '\0';
	rmdir(node);
	free(node);
	free(dir);
}

/* Locks are taken in the order of the resources' keys, not of the file:
 * this bench lists a free pump terminal first and the running bench's flow
 * channel after it, whose key ("iio|...") sorts before the terminal's
 * ("serial|...").  It is refused at the flow channel without having taken
 * (or created a lock file for) the pump: two runs needing the same
 * resources meet at the same first one, so one of them gets them all.
 * What it gave up is as it found it. */
Test(locks, resources_are_locked_in_the_order_of_their_keys)
{
	struct holder h = hold_wire_bench();
	char *dir = th_tmpdir(), *bench, *seq = th_write_file(dir, "seq.cfg", tiny_seq), *err;
	char *before, *after, *want, *flow;

	int pty = posix_openpt(O_RDWR | O_NOCTTY);

	cr_assert_geq(pty, 0);
	cr_assert_eq(grantpt(pty), 0);
	cr_assert_eq(unlockpt(pty), 0);
	if (asprintf(&flow, "backend = \"iio\"; uri = \"%s\"; device = \"ads1015\"; "
		     "channel = \"voltage1\";", h.s.uri) < 0)
		abort();
	bench = bench_from(dir, "order.cfg", "fixtures/bench/sim.cfg", "id = \"SIM-1\"",
			   "id = \"ORDER-1\"", "pump = { backend = \"sim\";",
			   "pump = { backend = \"pumplink\"; device = \"PUMP\";", "PUMP", ptsname(pty),
			   "backend = \"sim\"; model = \"flow sensor (model)\";", flow,
			   (const char *)NULL);
	/* the bench's own file holds the line of a run that crashed: giving up
	 * must put it back, for the next run to note */
	free(th_write_file(h.locks, "ORDER-1.lock", crashed_line));
	before = listing(h.locks);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", h.dut,
						   "-q", NULL }), 5, "%s", th_slurp(dir, "stderr"));
	err = th_slurp(dir, "stderr");
	if (asprintf(&want, "rig: IIO input channel voltage1 of device ads1015 on %s (flow, %s:",
		     h.s.uri, bench) < 0)
		abort();
	cr_assert_not_null(strstr(err, want), "no '%s' in: %s", want, err);
	cr_assert_not_null(strstr(err, h.run), "%s", err);
	after = listing(h.locks);
	/* no file is new: the pump's was never taken nor created */
	for (char *line = before, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		cr_assert_not_null(strstr(after, line), "%s went", line);
		*nl = '\n';
	}
	cr_assert_eq(count_lines(after), count_lines(before),
		     "a file is new:\nbefore:\n%safter:\n%s", before, after);
	{
		char *path, *text;

		if (asprintf(&path, "%s/ORDER-1.lock", h.locks) < 0)
			abort();
		text = th_read_file(path);
		cr_assert_str_eq(text, crashed_line, "the crashed run's line was not put back");
		free(text);
		free(path);
	}
	close(pty);
	free(want);
	free(flow);
	free(before);
	free(after);
	free(err);
	holder_end(&h);
	free(bench);
	free(seq);
	free(dir);
}
