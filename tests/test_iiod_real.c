/* The iio backend against Debian's real iiod (0.24), serving a fake
 * kernel-shaped sysfs tree (tests/iiod/fake-sysfs: hx711, ina226, an
 * ADS1115 and an hrtimer trigger, as the Linux 6.1 drivers name them) in a
 * private mount and network namespace.  The wire simulator is our own
 * imitation of iiod, so it cannot show where it differs from the real one:
 * these tests can, for everything but buffers (which need /dev/iio:deviceN:
 * every buffer open fails here, which is how the failure paths of a
 * buffered open are tested).
 *
 * They need root (unshare -m -n, a mount on /sys/bus), as CI has.  Where
 * that is not permitted they fail and say why: never skip. */
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
#include "rig/base/clock.h"

/* ------------------------------------------------------------ harness -- */

struct real {
	pid_t pid;           /* tests/iiod/fake-sysfs serve */
	int in_fd;           /* its stdin: closing it takes everything down */
	pid_t iiod;
	char uri[64];
	char sysfs[256];     /* the tree, seen from here */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the harness with extra options (NULL-terminated), waits for its
 * "ready" and moves this test into its network namespace. */
static struct real start_real_with(const char *const *extra)
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

static struct real start_real(void)
{
	return start_real_with(NULL);
}

static void stop_real(struct real *r)
{
	int status;

	kill(r->iiod, SIGCONT);
	close(r->in_fd);
	cr_assert_eq(waitpid(r->pid, &status, 0), r->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the harness did not stop cleanly (status %d)", status);
}

static char *path_of(const struct real *r, const char *rel)
{
	char *p;

	cr_assert_geq(asprintf(&p, "%s/%s", r->sysfs, rel), 0);
	return p;
}

/* Gives a sysfs file of the tree a new value, as the driver would show it. */
static void sysfs_set(const struct real *r, const char *rel, const char *value)
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

static char *tree_snapshot(const struct real *r)
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
struct watch {
	int fd;
	int wd[16];
	char dir[16][64];
	size_t n;
};

static void watch_start(struct watch *w, const struct real *r, const char *const *dirs)
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
static char *watch_writes(struct watch *w)
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
static void freeze(const struct real *r)
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

static struct instrument_cfg *iio_cfg(struct bench *b, const struct real *r, enum rig_role role,
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

static void buffered(struct instrument_cfg *ic, rig_ns period_ns, const char *trigger)
{
	ic->buffered = true;
	ic->period_ns = period_ns;
	ic->batch_ns = RIG_NS_PER_S;
	snprintf(ic->trigger, sizeof(ic->trigger), "%s", trigger ? trigger : "");
}

static struct instrument *open_ok(struct driver_env *env, enum rig_role role)
{
	struct instrument *inst = NULL;
	char why[512];
	int r = instrument_open(&inst, role, env);

	cr_assert_eq(r, 0, "%s: %s", rig_role_name(role),
		     instrument_error_text(&env->bench->instrument[role], r, why, sizeof(why)));
	return inst;
}

/* Opens the role, which must fail with err; returns the account. */
static char *open_fails(struct driver_env *env, enum rig_role role, int err)
{
	struct instrument *inst = NULL;
	char why[512];
	int r = instrument_open(&inst, role, env);

	instrument_error_text(&env->bench->instrument[role], r, why, sizeof(why));
	cr_assert_eq(r, err, "%s: %d (%s), not %d", rig_role_name(role), r, why, err);
	cr_assert_null(inst);
	return strdup(why);
}

static double read_one(struct instrument *inst, size_t k)
{
	struct reading rd[READINGS_MAX];
	size_t n = 0;
	int r = sensor_read(inst, rd, READINGS_MAX, &n);

	cr_assert_eq(r, 0, "read: %d", r);
	cr_assert_gt(n, k);
	return rd[k].value;
}

#define has(text, part) cr_assert_not_null(strstr(text, part), "no [%s] in: %s", part, text)
#define hasnt(text, part) cr_assert_null(strstr(text, part), "[%s] in: %s", part, text)

/* -------------------------------------------------------------- tests -- */

Test(real_iiod, every_role_reads_the_value_the_kernel_abi_gives, .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct instrument *scale, *pressure, *flow, *power;

	/* value = raw * scale, the scale as the driver prints it: hx711
	 * 0.000002327 mV (AVDD 5 V, gain 128), ADS1115 0.1875 mV (+-6.144 V),
	 * ina226 0.0001 mA (25 ohm shunt) and 1.25 mV; the calibration is
	 * left at gain 1, so the role's value is the channel's mV (mA as uA) */
	sysfs_set(&r, "iio:device0/in_voltage0_raw", "8389608");
	sysfs_set(&r, "iio:device2/in_voltage0_raw", "-1234");
	sysfs_set(&r, "iio:device2/in_voltage0-voltage1_raw", "-32768");
	sysfs_set(&r, "iio:device1/in_current3_raw", "-400");
	sysfs_set(&r, "iio:device1/in_voltage1_raw", "2560");
	iio_cfg(b, &r, ROLE_SCALE, "hx711", "voltage0");
	iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0");
	iio_cfg(b, &r, ROLE_FLOW, "ads1015", "voltage0-voltage1");
	iio_cfg(b, &r, ROLE_POWER, "ina226", "current3");
	scale = open_ok(&env, ROLE_SCALE);
	pressure = open_ok(&env, ROLE_PRESSURE);
	flow = open_ok(&env, ROLE_FLOW);
	power = open_ok(&env, ROLE_POWER);

	cr_assert(fabs(read_one(scale, 0) - 19.522617816) < 1e-9, "%.9f", read_one(scale, 0));
	cr_assert(fabs(read_one(pressure, 0) - -231.375) < 1e-9, "%.9f", read_one(pressure, 0));
	cr_assert(fabs(read_one(flow, 0) - -6144.0) < 1e-9, "%.9f", read_one(flow, 0));
	/* the current flowing back: the driver prints the register signed */
	cr_assert(fabs(read_one(power, 0) - -40.0) < 1e-9, "%.9f uA", read_one(power, 0));
	cr_assert(fabs(read_one(power, 1) - 3.2) < 1e-12, "%.9f V", read_one(power, 1));

	/* each read is a fresh read of the file */
	sysfs_set(&r, "iio:device0/in_voltage0_raw", "8387608");
	sysfs_set(&r, "iio:device2/in_voltage0_raw", "32767");
	sysfs_set(&r, "iio:device1/in_current3_raw", "32767");
	cr_assert(fabs(read_one(scale, 0) - 19.517963816) < 1e-9, "%.9f", read_one(scale, 0));
	cr_assert(fabs(read_one(pressure, 0) - 6143.8125) < 1e-9, "%.9f", read_one(pressure, 0));
	cr_assert(fabs(read_one(power, 0) - 3276.7) < 1e-9, "%.9f uA", read_one(power, 0));

	/* and the calibration of the bench file maps it: the pressure
	 * transducer's 10 mV/kPa above 500 mV */
	b->instrument[ROLE_PRESSURE].cal = (struct calibration){ .gain = 0.1, .offset = -50 };
	sysfs_set(&r, "iio:device2/in_voltage0_raw", "-1234");
	cr_assert(fabs(read_one(pressure, 0) - -73.1375) < 1e-9, "%.9f kPa", read_one(pressure, 0));

	instrument_close(scale);
	instrument_close(pressure);
	instrument_close(flow);
	instrument_close(power);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

static const char *const watched[] = { "iio:device0", "iio:device0/trigger", "iio:device1",
				       "iio:device2", "iio:device2/trigger", "trigger0", NULL };

Test(real_iiod, buffered_settings_are_found_set_read_back_and_put_back_when_the_open_fails,
     .timeout = 60)
{
	/* the ina226 averaging 1 until rig needs 4: a setting to change */
	struct real r = start_real_with((const char *[]){ "--set", "iio:device1/in_oversampling_ratio=1",
							  NULL });
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	char *before = tree_snapshot(&r), *after, *writes, *why;
	struct watch w;

	/* ina226 at 10 ms: no trigger, its rate from averaging (1e6 / (2200 us
	 * x 4) = 114 per second is the slowest at least 100), not from its
	 * read-only in_sampling_frequency, which libiio 0.24 shows as channel
	 * "sampling", attribute "frequency" */
	buffered(iio_cfg(b, &r, ROLE_POWER, "ina226", "current3"), 10 * RIG_NS_PER_MS, NULL);
	watch_start(&w, &r, watched);
	why = open_fails(&env, ROLE_POWER, -ENOENT);
	writes = watch_writes(&w);
	/* it got as far as the buffer, every setting made and read back
	 * before (a file iiod cannot open: /dev/iio:device1) */
	has(why, "opening a buffer of");
	has(why, "on ina226 (channels current3, voltage1 and the timestamp)");
	has(why, "No such file or directory (ENOENT)");
	hasnt(why, "no channel");
	cr_assert_str_eq(writes, "iio:device1/in_oversampling_ratio\n"
				 "iio:device1/current_timestamp_clock\n"
				 "iio:device1/current_timestamp_clock\n"
				 "iio:device1/in_oversampling_ratio\n");
	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(writes);
	free(why);

	/* the ADS1115 at 20 ms on the hrtimer trigger: the channel's data rate
	 * (64, the slowest of its list at least 50), the trigger's rate, the
	 * trigger itself, the timestamp clock; put back newest first */
	buffered(iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0"), 20 * RIG_NS_PER_MS,
		 "rig-timer");
	watch_start(&w, &r, watched);
	why = open_fails(&env, ROLE_PRESSURE, -ENOENT);
	writes = watch_writes(&w);
	has(why, "on ads1015 (channel voltage0 and the timestamp)");
	has(why, "No such file or directory (ENOENT)");
	cr_assert_str_eq(writes, "iio:device2/in_voltage0_sampling_frequency\n"
				 "trigger0/sampling_frequency\n"
				 "iio:device2/trigger/current_trigger\n"
				 "iio:device2/current_timestamp_clock\n"
				 "iio:device2/current_timestamp_clock\n"
				 "iio:device2/trigger/current_trigger\n"
				 "trigger0/sampling_frequency\n"
				 "iio:device2/in_voltage0_sampling_frequency\n");
	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(writes);
	free(why);

	/* the hx711: no rate of its own to set (its RATE pin), the trigger's */
	buffered(iio_cfg(b, &r, ROLE_SCALE, "hx711", "voltage0"), 25 * RIG_NS_PER_MS, "rig-timer");
	watch_start(&w, &r, watched);
	why = open_fails(&env, ROLE_SCALE, -ENOENT);
	writes = watch_writes(&w);
	has(why, "on hx711 (channel voltage0 and the timestamp)");
	cr_assert_str_eq(writes, "trigger0/sampling_frequency\n"
				 "iio:device0/trigger/current_trigger\n"
				 "iio:device0/current_timestamp_clock\n"
				 "iio:device0/current_timestamp_clock\n"
				 "iio:device0/trigger/current_trigger\n"
				 "trigger0/sampling_frequency\n");
	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(writes);
	free(why);

	free(before);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

Test(real_iiod, a_setting_rig_needs_that_the_device_lacks_is_refused_with_nothing_changed,
     .timeout = 60)
{
	struct real r = start_real_with((const char *[]){
		"--remove", "iio:device1/in_oversampling_ratio",
		"--remove", "iio:device2/current_timestamp_clock",
		"--remove", "iio:device0/trigger", NULL });
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	char *before = tree_snapshot(&r), *after, *why;

	buffered(iio_cfg(b, &r, ROLE_POWER, "ina226", "current3"), 10 * RIG_NS_PER_MS, NULL);
	why = open_fails(&env, ROLE_POWER, -ENOENT);
	has(why, "IIO device \"ina226\"");
	has(why, "has no oversampling_ratio");
	has(why, "in_oversampling_ratio");
	has(why, "rig sets it to 4");
	free(why);

	/* the ADS1115's trigger and rates set, then the missing clock: the
	 * open refuses, and puts back what it had set */
	buffered(iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0"), 20 * RIG_NS_PER_MS,
		 "rig-timer");
	why = open_fails(&env, ROLE_PRESSURE, -ENOENT);
	has(why, "IIO device \"ads1015\"");
	has(why, "has no current_timestamp_clock");
	has(why, "monotonic");
	free(why);

	/* a trigger named for a device whose driver takes none */
	buffered(iio_cfg(b, &r, ROLE_SCALE, "hx711", "voltage0"), 25 * RIG_NS_PER_MS, "rig-timer");
	why = open_fails(&env, ROLE_SCALE, -ENOENT);
	has(why, "IIO device \"hx711\" takes no trigger");
	free(why);

	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

Test(real_iiod, a_period_faster_than_the_converter_is_refused_with_its_rates, .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	char *before = tree_snapshot(&r), *after, *why;

	/* 1000 per second: the ADS1115 lists 860 at most */
	buffered(iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0"), RIG_NS_PER_MS, "rig-timer");
	why = open_fails(&env, ROLE_PRESSURE, -ERANGE);
	has(why, "ads1015/voltage0 converts at most 860 times per second");
	has(why, "sampling_frequency_available");
	free(why);
	/* the INA226 converts at most 455 per second with its 1.1 ms times */
	buffered(iio_cfg(b, &r, ROLE_POWER, "ina226", "current3"), RIG_NS_PER_MS, NULL);
	why = open_fails(&env, ROLE_POWER, -ERANGE);
	has(why, "ina226 converts at most 455 times per second");
	has(why, "in_voltage0_integration_time");
	free(why);
	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

Test(real_iiod, errors_name_what_failed_where_with_the_errno, .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct instrument_cfg *ic;
	struct instrument *flow;
	struct reading rd[READINGS_MAX];
	char *why, text[512];
	size_t n;
	int err;

	/* a wrong bus voltage channel is named, not the current channel */
	ic = iio_cfg(b, &r, ROLE_POWER, "ina226", "current3");
	snprintf(ic->channel2, sizeof(ic->channel2), "voltage7");
	why = open_fails(&env, ROLE_POWER, -ENOENT);
	has(why, "IIO device \"ina226\" has no input channel \"voltage7\" (voltage_channel");
	hasnt(why, "current3");
	free(why);
	ic = iio_cfg(b, &r, ROLE_POWER, "ina226", "current9");
	why = open_fails(&env, ROLE_POWER, -ENOENT);
	has(why, "IIO device \"ina226\" has no input channel \"current9\" (channel;");
	free(why);
	iio_cfg(b, &r, ROLE_POWER, "ina219", "current3");
	why = open_fails(&env, ROLE_POWER, -ENODEV);
	has(why, "no IIO device \"ina219\" in ");
	free(why);
	/* a trigger that is not there */
	buffered(iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0"), 20 * RIG_NS_PER_MS,
		 "no-such-timer");
	why = open_fails(&env, ROLE_PRESSURE, -ENXIO);
	has(why, "no IIO trigger \"no-such-timer\"");
	free(why);

	/* a read that fails says which file, and the errno iiod gave */
	iio_cfg(b, &r, ROLE_FLOW, "ads1015", "voltage1");
	flow = open_ok(&env, ROLE_FLOW);
	{
		char *p = path_of(&r, "iio:device2/in_voltage1_raw");

		cr_assert_eq(unlink(p), 0);
		free(p);
	}
	err = sensor_read(flow, rd, READINGS_MAX, &n);
	cr_assert_eq(err, -ENOENT, "%d", err);
	instrument_error_text(&b->instrument[ROLE_FLOW], err, text, sizeof(text));
	cr_assert_str_eq(text, "reading ads1015 voltage1 raw: No such file or directory (ENOENT)");
	instrument_close(flow);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

Test(real_iiod, a_stopped_iiod_is_reported_within_one_answer_timeout_for_all_its_instruments,
     .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b,
				  .answer_timeout_ns = RIG_NS_PER_S };
	static const enum rig_role roles[] = { ROLE_SCALE, ROLE_PRESSURE, ROLE_FLOW, ROLE_POWER };
	struct instrument *inst[4];
	struct reading rd[READINGS_MAX];
	char text[512], *expect;
	long long t0, took;
	size_t n;

	iio_cfg(b, &r, ROLE_SCALE, "hx711", "voltage0");
	iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0");
	iio_cfg(b, &r, ROLE_FLOW, "ads1015", "voltage1");
	iio_cfg(b, &r, ROLE_POWER, "ina226", "current3");
	for (size_t i = 0; i < 4; i++) {
		inst[i] = open_ok(&env, roles[i]);
		cr_assert_eq(sensor_read(inst[i], rd, READINGS_MAX, &n), 0);
	}
	cr_assert_geq(asprintf(&expect, "no answer from %s within 1 s (reading hx711 voltage0 raw)",
			       r.uri), 0);

	/* the process stopped: its port still takes connections, nothing
	 * answers.  The first instrument waits the bound out; the others on
	 * the same board learn it and fail at once. */
	freeze(&r);
	t0 = mono_ms();
	for (size_t i = 0; i < 4; i++) {
		int err = sensor_read(inst[i], rd, READINGS_MAX, &n);

		cr_assert_eq(err, -ETIMEDOUT, "%s: %d", rig_role_name(roles[i]), err);
		instrument_error_text(&b->instrument[roles[i]], err, text, sizeof(text));
		cr_assert_str_eq(text, expect, "%s", rig_role_name(roles[i]));
	}
	took = mono_ms() - t0;
	fprintf(stderr, "real_iiod: SIGSTOP of iiod to the 4th instrument's error: %lld ms "
		"(answer timeout 1 s)\n", took);
	cr_assert(took >= 900 && took < 1500, "%lld ms for four instruments", took);

	/* opened again at once: not asked again within the bound */
	for (size_t i = 0; i < 4; i++)
		instrument_close(inst[i]);
	t0 = mono_ms();
	for (size_t i = 0; i < 4; i++) {
		struct instrument *again = NULL;

		cr_assert_eq(instrument_open(&again, roles[i], &env), -ETIMEDOUT);
	}
	took = mono_ms() - t0;
	cr_assert(took < 300, "%lld ms to refuse four opens", took);
	/* after the bound, an open asks again: within the bound too (libiio
	 * alone would give the stopped daemon 5 s) */
	{
		struct timespec pause = { .tv_sec = 1, .tv_nsec = 100 * 1000000 };
		struct instrument *again = NULL;

		nanosleep(&pause, NULL);   /* past the bound: this is what is tested */
		t0 = mono_ms();
		cr_assert_eq(instrument_open(&again, ROLE_SCALE, &env), -ETIMEDOUT);
		took = mono_ms() - t0;
		fprintf(stderr, "real_iiod: an open of a stopped iiod failed after %lld ms\n", took);
		cr_assert(took >= 900 && took < 1500, "%lld ms", took);
		instrument_error_text(&b->instrument[ROLE_SCALE], -ETIMEDOUT, text, sizeof(text));
		has(text, "no answer from");
		has(text, "within 1 s (connecting)");
	}
	/* the daemon back: everything opens and reads again */
	cr_assert_eq(kill(r.iiod, SIGCONT), 0);
	{
		struct timespec pause = { .tv_sec = 1, .tv_nsec = 100 * 1000000 };

		nanosleep(&pause, NULL);   /* past the bound again */
	}
	for (size_t i = 0; i < 4; i++) {
		inst[i] = open_ok(&env, roles[i]);
		cr_assert_eq(sensor_read(inst[i], rd, READINGS_MAX, &n), 0);
		instrument_close(inst[i]);
	}
	free(expect);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

/* ------------------------------------------- the wire simulator's view -- */

/* iio_info's text, for comparison: from the device list on, only the
 * devices whose line is in `keep` (the real daemon's output), values cut,
 * and the channels libiio makes of shared in_ attributes (no index: they
 * come in the order of the sysfs directory, which differs from one
 * filesystem to another) sorted. */
struct norm {
	FILE *out;
	char *aside[64];      /* channel blocks without an index, to sort */
	size_t n_aside;
	FILE *block;          /* the one being collected */
	char *text;
	size_t len;
};

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void norm_end_block(struct norm *z)
{
	if (!z->block)
		return;
	fclose(z->block);
	z->block = NULL;
	cr_assert_lt(z->n_aside, 64);
	z->aside[z->n_aside++] = z->text;
	z->text = NULL;
}

static void norm_flush(struct norm *z)
{
	norm_end_block(z);
	qsort(z->aside, z->n_aside, sizeof(z->aside[0]), by_text);
	for (size_t k = 0; k < z->n_aside; k++) {
		fputs(z->aside[k], z->out);
		free(z->aside[k]);
	}
	z->n_aside = 0;
}

static char *normalised_iio_info(const char *text, const char *keep)
{
	char *copy = strdup(text), *save = NULL, *line, *out = NULL;
	size_t len = 0;
	struct norm z = { .out = open_memstream(&out, &len) };
	bool in_dev = false, started = false;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strstr(line, " value: ");
		bool channel = strncmp(line, "\t\t\t", 3) == 0 && line[3] != '\t' &&
			       strstr(line, ":  (") != NULL;

		if (!started) {
			started = strncmp(line, "IIO context has ", 16) == 0 && strstr(line, "devices");
			continue;
		}
		if (v)
			*v = '\0';
		if (line[0] == '\t' && line[1] != '\t') {   /* a device */
			norm_flush(&z);
			in_dev = strstr(keep, line) != NULL;
			if (in_dev)
				fprintf(z.out, "%s\n", line);
			continue;
		}
		if (!in_dev)
			continue;
		if (channel)
			norm_end_block(&z);
		if (channel && !strstr(line, "index:"))
			z.block = open_memstream(&z.text, &z.len);
		else if (channel || (strncmp(line, "\t\t", 2) == 0 && line[2] != '\t'))
			norm_flush(&z);   /* an indexed channel, or the device's own lines */
		fprintf(z.block ? z.block : z.out, "%s\n", line);
	}
	norm_flush(&z);
	fclose(z.out);
	free(copy);
	return out;
}

static char *run(const char *fmt, ...)
{
	char *cmd, *out = NULL, buf[4096];
	size_t len = 0, n;
	va_list ap;
	FILE *p, *m = open_memstream(&out, &len);

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

Test(real_iiod, the_wire_simulator_shows_iio_info_what_the_real_iiod_shows, .timeout = 60)
{
	struct real r = start_real();
	char *bench = th_src("fixtures/bench/sim.cfg"), line[256], *real_info, *sim_info, *a, *s;
	char *dir = th_tmpdir(), *pa, *ps, *diff;
	unsigned port = 0;
	int fd[2], status;
	pid_t sim;
	FILE *out;

	/* the simulator in the same network namespace, on its own port */
	cr_assert_eq(pipe(fd), 0);
	sim = fork();
	cr_assert_neq(sim, -1);
	if (sim == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, (char *)NULL);
		_exit(98);
	}
	close(fd[1]);
	out = fdopen(fd[0], "r");
	while (fgets(line, sizeof(line), out) && strcmp(line, "ready\n") != 0)
		sscanf(line, "iio ip:127.0.0.1:%u", &port);
	fclose(out);
	cr_assert_neq(port, 0);

	real_info = run("timeout 20 iio_info -u %s 2>&1", r.uri);
	sim_info = run("timeout 20 iio_info -u ip:127.0.0.1:%u 2>&1", port);
	/* the real daemon serves the three drivers and the trigger */
	has(real_info, "IIO context has 4 devices");
	a = normalised_iio_info(real_info, real_info);
	s = normalised_iio_info(sim_info, real_info);
	pa = th_write_file(dir, "real", a);
	ps = th_write_file(dir, "simulator", s);
	diff = run("diff -u %s %s", pa, ps);
	cr_assert_str_eq(s, a, "the wire simulator differs from the real iiod:\n%s", diff);
	/* and the comparison compared something */
	has(a, "iio:device1: ina226 (buffer capable)");
	has(a, "sampling:  (input, WARN:iio_channel_get_type()=UNKNOWN)");
	has(a, "attr  0: frequency");
	has(a, "voltage0:  (input, index: 4, format: le:S16/16>>0)");

	kill(sim, SIGTERM);
	cr_assert_eq(waitpid(sim, &status, 0), sim);
	stop_real(&r);
	free(real_info);
	free(sim_info);
	free(a);
	free(s);
	free(pa);
	free(ps);
	free(diff);
	free(dir);
	free(bench);
}

Test(real_iiod, without_root_the_harness_says_so_and_fails, .timeout = 60)
{
	/* a copy everyone can read, run as nobody: the message, not a skip */
	char *src = th_src("tests/iiod/fake-sysfs"), *dir = th_tmpdir(), *text = th_read_file(src);
	char *copy = th_write_file(dir, "fake-sysfs", text), *out;

	if (geteuid() != 0)
		cr_assert_fail("needs root to become nobody (CI runs as root)");
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_assert_eq(chmod(copy, 0755), 0);
	out = run("setpriv --reuid=65534 --regid=65534 --clear-groups %s serve 2>&1 </dev/null; "
		  "echo \"exit $?\"", copy);
	has(out, "fake-sysfs: must run as root");
	has(out, "exit 1");
	free(out);
	free(copy);
	free(text);
	free(dir);
	free(src);
}
