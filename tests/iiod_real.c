/* The harness of the suites against Debian's real iiod (iiod_real.h). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "helpers.h"
#include "iiod_real.h"
#include "rig/base/clock.h"


long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the harness with extra options (NULL-terminated), waits for its
 * "ready" and moves this test into its network namespace. */
struct real start_real_with(const char *const *extra)
{
	char *harness = th_src("tests/iiod/fake-sysfs"), *dir = th_tmpdir(), *err_path, line[512];
	char netns[256] = "";
	struct real r = { .pid = -1 };
	int in[2], out[2], nsfd;
	FILE *f;

	if (geteuid() != 0)
		cr_assert_fail("these tests run Debian's real iiod over a fake sysfs tree in a private mount "
			 "and network namespace (unshare -m -n, a tmpfs on /sys/bus): they need root, "
			 "which CI has.  Run them as root: sudo ctest --test-dir build -R test_iiod_real");
	cr_assert_geq(asprintf(&err_path, "%s/stderr", dir), 0);
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	r.pid = fork();
	cr_assert_neq(r.pid, -1);
	if (r.pid == 0) {
		const char *argv[32] = { harness, "serve" };
		int n = 2, e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		for (size_t i = 0; extra && extra[i] && n < 31; i++)
			argv[n++] = extra[i];
		/* the harness goes when the test does, whatever happens to it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(e, STDERR_FILENO);
		execv(harness, (char **)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	r.in_fd = in[1];
	f = fdopen(out[0], "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "iio ", 4) == 0)
			sscanf(line + 4, "%63s", r.uri);
		else if (strncmp(line, "iiod ", 5) == 0)
			sscanf(line + 5, "%d", &r.iiod);
		else if (strncmp(line, "sysfs ", 6) == 0)
			sscanf(line + 6, "%255s", r.sysfs);
		else if (strncmp(line, "netns ", 6) == 0)
			sscanf(line + 6, "%255s", netns);
		if (strcmp(line, "ready\n") == 0)
			break;
	}
	fclose(f);
	if (!netns[0] || !r.iiod) {
		char *err;
		int status = 0;

		close(r.in_fd);
		waitpid(r.pid, &status, 0);
		err = th_read_file(err_path);
		cr_assert_fail("the real iiod could not be started (tests/iiod/fake-sysfs serve, exit "
			 "status %d): %s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 err ? err : "(no message)");
	}
	/* this test process only: its connections to 127.0.0.1 now reach
	 * the namespace's loopback, where iiod listens */
	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(nsfd, 0, "%s: %s", netns, strerror(errno));
	cr_assert_eq(setns(nsfd, CLONE_NEWNET), 0, "setns(%s): %s", netns, strerror(errno));
	close(nsfd);
	free(err_path);
	free(dir);
	free(harness);
	/* libiio writes to its sockets without MSG_NOSIGNAL (DESIGN.md) */
	signal(SIGPIPE, SIG_IGN);
	return r;
}

struct real start_real(void)
{
	return start_real_with(NULL);
}

void stop_real(struct real *r)
{
	int status;

	kill(r->iiod, SIGCONT);
	close(r->in_fd);
	cr_assert_eq(waitpid(r->pid, &status, 0), r->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the harness did not stop cleanly (status %d)", status);
}

char *path_of(const struct real *r, const char *rel)
{
	char *p;

	cr_assert_geq(asprintf(&p, "%s/%s", r->sysfs, rel), 0);
	return p;
}

/* Gives a sysfs file of the tree a new value, as the driver would show it. */
void sysfs_set(const struct real *r, const char *rel, const char *value)
{
	char *p = path_of(r, rel);
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fprintf(f, "%s\n", value);
	cr_assert_eq(fclose(f), 0);
	free(p);
}

/* Every file of the tree and its text, but those libiio itself writes
 * when it opens a buffer (buffer/, buffer0/, the scan elements' _en):
 * what rig may change, and must put back. */
static FILE *g_snap;
static size_t g_root_len;

static int snap_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + g_root_len;
	char *text;

	(void)st;
	(void)ftw;
	if (flag != FTW_F || strstr(rel, "/buffer/") || strstr(rel, "/buffer0/") ||
	    (strstr(rel, "/scan_elements/") && strstr(rel, "_en")))
		return 0;
	/* the first line: what a client reads (libiio writes a value back
	 * without the newline, and with a NUL) */
	text = th_read_file(path);
	if (text)
		text[strcspn(text, "\n")] = '\0';
	fprintf(g_snap, "%s=%s\n", rel, text ? text : "(unreadable)");
	free(text);
	return 0;
}

char *tree_snapshot(const struct real *r)
{
	char *out = NULL;
	size_t len = 0;

	g_snap = open_memstream(&out, &len);
	g_root_len = strlen(r->sysfs);
	cr_assert_eq(nftw(r->sysfs, snap_one, 16, FTW_PHYS), 0);
	fclose(g_snap);
	return out;
}

/* Writes to the tree's files, in order (inotify: IN_CLOSE_WRITE, one per
 * write libiio makes through iiod; IN_MODIFY is watched too only so that
 * two writes of one file in a row are not coalesced into one event). */

void watch_start(struct watch *w, const struct real *r, const char *const *dirs)
{
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert_geq(w->fd, 0);
	w->n = 0;
	for (; *dirs; dirs++) {
		char *p = path_of(r, *dirs);

		w->wd[w->n] = inotify_add_watch(w->fd, p, IN_CLOSE_WRITE | IN_MODIFY);
		cr_assert_geq(w->wd[w->n], 0, "%s: %s", p, strerror(errno));
		snprintf(w->dir[w->n++], sizeof(w->dir[0]), "%s", *dirs);
		free(p);
	}
}

/* "iio:device1/in_oversampling_ratio\n" once per write, in order; libiio's
 * own buffer files left out. */
char *watch_writes(struct watch *w)
{
	char buf[16384] __attribute__((aligned(8))), *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			for (size_t i = 0; i < w->n; i++)
				if (w->wd[i] == e->wd && e->len && (e->mask & IN_CLOSE_WRITE) &&
				    !strstr(e->name, "_en"))
					fprintf(m, "%s/%s\n", w->dir[i], e->name);
			p += sizeof(*e) + e->len;
		}
	}
	fclose(m);
	close(w->fd);
	return out;
}

/* Stops iiod and returns once every one of its threads is stopped: kill()
 * only sends the signal, and a thread running on another CPU answers a
 * request or two before it takes it.  (A condition checked, not a time
 * guessed: the state of each thread in /proc.) */
void freeze(const struct real *r)
{
	long long deadline = mono_ms() + 5000;
	char dir[64];

	cr_assert_eq(kill(r->iiod, SIGSTOP), 0);
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)r->iiod);
	for (;;) {
		DIR *d = opendir(dir);
		struct dirent *e;
		bool all = d != NULL;

		while (d && (e = readdir(d))) {
			char path[384], *stat, *close_paren;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/stat", dir, e->d_name);
			stat = th_read_file(path);
			close_paren = stat ? strrchr(stat, ')') : NULL;
			/* "pid (comm) S ...": the state after the name */
			if (close_paren && close_paren[1] == ' ' && close_paren[2] != 'T' &&
			    close_paren[2] != 't')
				all = false;
			free(stat);
		}
		if (d)
			closedir(d);
		if (all)
			return;
		cr_assert_lt(mono_ms(), deadline, "iiod did not stop within 5 s of SIGSTOP");
		sched_yield();
	}
}

/* ------------------------------------------------------- instruments -- */

struct instrument_cfg *iio_cfg(struct bench *b, const struct real *r, enum rig_role role,
				      const char *device, const char *channel)
{
	struct instrument_cfg *ic = &b->instrument[role];

	*ic = (struct instrument_cfg){ .present = true, .period_ns = RIG_NS_PER_S,
				       .cal = { .gain = 1 } };
	snprintf(ic->backend, sizeof(ic->backend), "iio");
	snprintf(ic->uri, sizeof(ic->uri), "%s", r->uri);
	snprintf(ic->device, sizeof(ic->device), "%s", device);
	snprintf(ic->channel, sizeof(ic->channel), "%s", channel);
	return ic;
}

void buffered(struct instrument_cfg *ic, rig_ns period_ns, const char *trigger)
{
	ic->buffered = true;
	ic->period_ns = period_ns;
	ic->batch_ns = RIG_NS_PER_S;
	snprintf(ic->trigger, sizeof(ic->trigger), "%s", trigger ? trigger : "");
}

struct instrument *open_ok(struct driver_env *env, enum rig_role role)
{
	struct instrument *inst = NULL;
	char why[512];
	int r = instrument_open(&inst, role, env);

	cr_assert_eq(r, 0, "%s: %s", rig_role_name(role),
		     instrument_error_text(&env->bench->instrument[role], r, why, sizeof(why)));
	return inst;
}

/* Opens the role, which must fail with err; returns the account. */
char *open_fails(struct driver_env *env, enum rig_role role, int err)
{
	struct instrument *inst = NULL;
	char why[512];
	int r = instrument_open(&inst, role, env);

	instrument_error_text(&env->bench->instrument[role], r, why, sizeof(why));
	cr_assert_eq(r, err, "%s: %d (%s), not %d", rig_role_name(role), r, why, err);
	cr_assert_null(inst);
	return strdup(why);
}

double read_one(struct instrument *inst, size_t k)
{
	struct reading rd[READINGS_MAX];
	size_t n = 0;
	int r = sensor_read(inst, rd, READINGS_MAX, &n);

	cr_assert_eq(r, 0, "read: %d", r);
	cr_assert_gt(n, k);
	return rd[k].value;
}
