/* Benchmark: the sample rate the iio backend sustains through the wire-level
 * simulator, next to libiio's own iio_readdev on the same server.
 *
 *   build/bench_iio [SAMPLES]        (from the source tree's top; needs iio_readdev)
 *
 * Starts `build/rig sim serve`, reads SAMPLES values of the pressure channel
 * (ads1015 voltage0) through the iio backend's driver interface, then lets
 * iio_readdev capture SAMPLES samples of the same channel, and prints both
 * rates and their ratio.  The backend reads one attribute per sample (one
 * network round trip); iio_readdev uses buffered capture. */
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
#include "rig/clock.h"

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	char line[256], uri[64] = "", cmd[256];
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .bench = b };
	struct instrument *inst;
	struct reading rd[READINGS_MAX];
	unsigned port = 0;
	double t0, backend_rate, readdev_rate;
	size_t got;
	int fd[2], status, r;
	pid_t pid;
	FILE *out;

	if (n < 100 || !b) {
		fprintf(stderr, "usage: bench_iio [SAMPLES >= 100]\n");
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
		sscanf(line, "iio ip:127.0.0.1:%u", &port);
	if (!port) {
		fprintf(stderr, "bench_iio: the simulator did not start (run from the source top)\n");
		return 1;
	}
	snprintf(uri, sizeof(uri), "ip:127.0.0.1:%u", port);
	env.clock = rig_clock_new_real();
	b->instrument[ROLE_PRESSURE] = (struct instrument_cfg){ .present = true,
		.period_ns = RIG_NS_PER_S, .cal = { .gain = 0.1, .offset = -50 } };
	snprintf(b->instrument[ROLE_PRESSURE].backend, 32, "iio");
	snprintf(b->instrument[ROLE_PRESSURE].uri, sizeof(b->instrument[0].uri), "%s", uri);
	snprintf(b->instrument[ROLE_PRESSURE].device, sizeof(b->instrument[0].device), "ads1015");
	snprintf(b->instrument[ROLE_PRESSURE].channel, sizeof(b->instrument[0].channel), "voltage0");
	r = instrument_open(&inst, ROLE_PRESSURE, &env);
	if (r < 0) {
		fprintf(stderr, "bench_iio: %s\n", strerror(-r));
		return 1;
	}
	t0 = wall_s();
	for (long i = 0; i < n; i++)
		if (sensor_read(inst, rd, READINGS_MAX, &got) < 0)
			return 1;
	backend_rate = n / (wall_s() - t0);
	instrument_close(inst);

	snprintf(cmd, sizeof(cmd), "iio_readdev -u %s -s %ld ads1015 voltage0 > /dev/null", uri, n);
	t0 = wall_s();
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_iio: iio_readdev failed (is libiio-utils installed?)\n");
		return 1;
	}
	readdev_rate = n / (wall_s() - t0);
	printf("samples                 %ld of ads1015 voltage0 over %s\n", n, uri);
	printf("iio backend             %.0f samples/s (one attribute read per sample)\n",
	       backend_rate);
	printf("iio_readdev             %.0f samples/s (buffered capture, process start included)\n",
	       readdev_rate);
	printf("ratio backend/readdev   %.4f\n", backend_rate / readdev_rate);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	rig_clock_free(env.clock);
	free(b);
	return 0;
}
