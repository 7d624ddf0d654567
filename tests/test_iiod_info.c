/* The wire simulator against Debian's real iiod: iio_info of both shows the
 * same devices, channels and attributes for the same drivers; and the
 * harness refuses to run without root, saying why. */
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
	/* a bench with the measured conditions on iio: the simulator serves
	 * the bme280 and max31865 too */
	char *bench = th_src("fixtures/bench/wire-conditions.cfg"), line[256], *real_info, *sim_info;
	char *a, *s;
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
	/* the real daemon serves the five drivers and the trigger */
	has(real_info, "IIO context has 6 devices");
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
	has(a, "iio:device5: bme280\n");
	has(a, "humidityrelative:  (input)");
	has(a, "iio:device6: max31865\n");
	has(a, "filter:  (input, WARN:iio_channel_get_type()=UNKNOWN)");
	has(a, "attr  0: notch_center_frequency");

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
