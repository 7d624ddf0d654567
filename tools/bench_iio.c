/* Benchmark: the sample rate the iio backend sustains through the wire-level
 * simulator, by attribute reads and by buffered capture, next to libiio's
 * own iio_readdev on the same server.
 *
 *   build/bench_iio [SAMPLES [ROUNDS]]  (from the source tree's top; needs iio_readdev)
 *
 * SAMPLES defaults to 1 000 000; the attribute reads stop at 20 000 (one
 * round trip each would otherwise take a minute).
 * Starts `build/rig sim serve` (lockstep: its time moves when written) and
 * reads the load cell's ADC (hx711 voltage0, 24 bits in 32):
 *   1. SAMPLES attribute reads through the driver interface (one network
 *      round trip each);
 *   2. SAMPLES scans by buffered capture through the driver interface, the
 *      device converting at 100 kHz of simulated time and collected every
 *      0.1 s of it (one READBUF per collection), the clock moved by the
 *      benchmark as rig's engine would;
 *   3. SAMPLES scans by iio_readdev, the clock moved the same way while it
 *      runs (its process start included);
 * 2 and 3 in turn ROUNDS times (default 5), and the median of the rounds'
 * ratios.
 * 100 kHz is no HX711's rate (80 per second at most): it is chosen to
 * measure what the transport and the backend sustain, not the chip.  (The
 * ADS1115 would refuse it: it converts only at its listed data rates, up
 * to 860 per second, and the backend asks for one of those.) */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "rig/base/clock.h"

#define DEVICE_HZ 100000
#define BATCH_NS (100 * RIG_NS_PER_MS)
/* iio_readdev -t writes its own fixed rate to the trigger's
 * sampling_frequency (100 Hz in libiio 0.24): its clock steps are longer
 * by DEVICE_HZ / READDEV_HZ, so that each step still yields the same
 * number of scans as one of the backend's batches. */
#define READDEV_HZ 100

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void adc_cfg(struct bench *b, const char *uri, bool buffered)
{
	b->instrument[ROLE_PRESSURE] = (struct instrument_cfg){ .present = true,
		.period_ns = buffered ? RIG_NS_PER_S / DEVICE_HZ : RIG_NS_PER_S,
		.buffered = buffered, .batch_ns = BATCH_NS,
		.cal = { .gain = 0.1, .offset = -50 } };
	snprintf(b->instrument[ROLE_PRESSURE].backend, 32, "iio");
	snprintf(b->instrument[ROLE_PRESSURE].uri, sizeof(b->instrument[0].uri), "%s", uri);
	snprintf(b->instrument[ROLE_PRESSURE].device, sizeof(b->instrument[0].device), "hx711");
	snprintf(b->instrument[ROLE_PRESSURE].channel, sizeof(b->instrument[0].channel), "voltage0");
	/* the hx711 fills its buffer only as its trigger fires */
	if (buffered)
		snprintf(b->instrument[ROLE_PRESSURE].trigger, sizeof(b->instrument[0].trigger),
			 "rig-timer");
	snprintf(b->sim_clock_uri, sizeof(b->sim_clock_uri), "%s", uri);
}

/* 2. SAMPLES scans by buffered capture, collected per batch as the engine
 * does; the rate, or a negative number. */
static double buffered_rate(struct bench *b, struct driver_env *env, struct sim_clock_link *clk,
			    const char *uri, long n, rig_ns *t_sim, long *ret_scans)
{
	static struct reading rd[READINGS_BATCH];
	struct instrument *inst;
	long got_total = 0;
	double t0;
	size_t got;
	int r;

	adc_cfg(b, uri, true);
	r = instrument_open(&inst, ROLE_PRESSURE, env);
	if (r < 0) {
		fprintf(stderr, "bench_iio: buffered: %s\n", strerror(-r));
		return -1;
	}
	t0 = wall_s();
	while (got_total < n) {
		*t_sim += BATCH_NS;
		if (sim_clock_link_set(clk, *t_sim) < 0)
			return -1;
		do {
			if (sensor_read(inst, rd, READINGS_BATCH, &got) < 0)
				return -1;
			got_total += (long)got;
		} while (got == READINGS_BATCH);
	}
	double rate = got_total / (wall_s() - t0);

	*ret_scans = got_total;
	instrument_close(inst);
	return rate;
}

/* 3. iio_readdev on the same device at the same rate, time moved by steps
 * of as many scans while it captures, on the same trigger; the rate, or a
 * negative number. */
static double readdev_rate(struct sim_clock_link *clk, const char *uri, long n, rig_ns *t_sim)
{
	char cmd[256];
	double t0;
	int status = 0;
	pid_t rd_pid;

	snprintf(cmd, sizeof(cmd),
		 "exec iio_readdev -u %s -t rig-timer -b %d -s %ld hx711 voltage0 > /dev/null",
		 uri, (int)(BATCH_NS * DEVICE_HZ / RIG_NS_PER_S) + 1, n);
	t0 = wall_s();
	rd_pid = fork();
	if (rd_pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(98);
	}
	for (long i = 0; i < 10000000 && waitpid(rd_pid, &status, WNOHANG) == 0; i++) {
		*t_sim += BATCH_NS * (DEVICE_HZ / READDEV_HZ);
		if (sim_clock_link_set(clk, *t_sim) < 0)
			return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_iio: iio_readdev failed (is libiio-utils installed?)\n");
		return -1;
	}
	return n / (wall_s() - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000, n_attr, scans = 0;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	char line[256], uri[64] = "";
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .bench = b };
	struct sim_clock_link *clk;
	struct instrument *inst;
	static struct reading rd[READINGS_BATCH];
	unsigned port = 0;
	double t0, attr_rate, buf[16], dev[16], ratio[16];
	rig_ns t_sim = 0;
	size_t got;
	int fd[2], status, r;
	pid_t pid;
	FILE *out;

	if (n < 100 || rounds < 1 || rounds > 16 || !b) {
		fprintf(stderr, "usage: bench_iio [SAMPLES >= 100 [ROUNDS 1..16]]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe(fd) != 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		execl("build/rig", "build/rig", "sim", "serve", "--bench", "fixtures/bench/sim.cfg",
		      (char *)NULL);
		_exit(98);
	}
	close(fd[1]);
	out = fdopen(fd[0], "r");
	while (fgets(line, sizeof(line), out) && strcmp(line, "ready\n") != 0)
		if (strncmp(line, "iio ip:127.0.0.1:", 17) == 0)
			port = (unsigned)strtoul(line + 17, NULL, 10);
	if (!port) {
		fprintf(stderr, "bench_iio: the simulator did not start (run from the source top)\n");
		return 1;
	}
	snprintf(uri, sizeof(uri), "ip:127.0.0.1:%u", port);
	env.clock = rig_clock_new_virtual();
	if (sim_clock_link_open(uri, &clk) < 0)
		return 1;

	/* 1. attribute reads */
	adc_cfg(b, uri, false);
	r = instrument_open(&inst, ROLE_PRESSURE, &env);
	if (r < 0) {
		fprintf(stderr, "bench_iio: %s\n", strerror(-r));
		return 1;
	}
	n_attr = n < 20000 ? n : 20000;
	t0 = wall_s();
	for (long i = 0; i < n_attr; i++)
		if (sensor_read(inst, rd, READINGS_MAX, &got) < 0)
			return 1;
	attr_rate = n_attr / (wall_s() - t0);
	instrument_close(inst);

	/* 2 and 3 in turn, ROUNDS times: the machine's load changes from one
	 * second to the next, so each ratio is of a pair taken together */
	printf("samples                 %ld of hx711 voltage0 over %s\n", n, uri);
	printf("iio backend, attribute  %.0f samples/s (%ld reads, one round trip each)\n",
	       attr_rate, n_attr);
	for (int i = 0; i < rounds; i++) {
		buf[i] = buffered_rate(b, &env, clk, uri, n, &t_sim, &scans);
		dev[i] = buf[i] > 0 ? readdev_rate(clk, uri, n, &t_sim) : -1;
		if (buf[i] <= 0 || dev[i] <= 0)
			return 1;
		ratio[i] = buf[i] / dev[i];
		printf("round %-2d                buffered %.0f samples/s (%ld scans; device at %d Hz "
		       "simulated, collected every %.1f s of it), iio_readdev %.0f samples/s (same "
		       "device, clock steps and buffer size, process start included): %.4f\n",
		       i + 1, buf[i], scans, DEVICE_HZ, (double)BATCH_NS / 1e9, dev[i], ratio[i]);
	}
	qsort(buf, (size_t)rounds, sizeof(double), cmp_double);
	qsort(dev, (size_t)rounds, sizeof(double), cmp_double);
	qsort(ratio, (size_t)rounds, sizeof(double), cmp_double);
	printf("iio backend, buffered   %.0f samples/s (median of %d rounds)\n", buf[rounds / 2], rounds);
	printf("iio_readdev             %.0f samples/s (median)\n", dev[rounds / 2]);
	printf("ratio attribute/readdev %.4f\n", attr_rate / dev[rounds / 2]);
	printf("ratio buffered/readdev  %.4f (median of the rounds' ratios; lowest %.4f, highest %.4f)\n",
	       ratio[rounds / 2], ratio[0], ratio[rounds - 1]);
	sim_clock_link_close(clk);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	rig_clock_free(env.clock);
	free(b);
	return 0;
}
