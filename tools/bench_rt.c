/* Benchmark: how late the real-time clock wakes the sampler.
 *
 *   build/bench_rt [--seconds N] [--hog] [--fifo] [--qos] [--slack-ns N]
 *
 * The sampler sleeps to absolute deadlines, multiples of its period from
 * the run's start (rig_clock_sleep_until on the real clock:
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)).  This loop does the same
 * at 100 Hz and at 1 kHz for N seconds each (default 60) and prints the
 * wake-up latency (now - deadline) at p50, p99 and max.  --hog runs a child
 * that spins on every core beside it (a CPU hog); --fifo asks for
 * SCHED_FIFO (priority 50), mlockall and /dev/cpu_dma_latency held at 0
 * (rig_clock_qos_hold: idle CPUs poll instead of halting) first, all that
 * bench.realtime_priority = 50 asks of rig, and says whether each was
 * permitted; --qos asks for the last alone.  The loop's timer slack is 1 ns, as rig sets it for a run on
 * the real clock (the kernel's default, 50 us, lets an ordinary task's
 * wake-up be put off by that much to save power); --slack-ns sets another
 * to compare.  Deadlines missed by more than a period are counted, not
 * skipped: the next deadline is still the next multiple. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rig/base/clock.h"

static int cmp_ns(const void *a, const void *b)
{
	rig_ns x = *(const rig_ns *)a, y = *(const rig_ns *)b;

	return x < y ? -1 : x > y;
}

static void run(struct rig_clock *clock, double hz, double seconds, const char *label)
{
	rig_ns period = (rig_ns)(1e9 / hz), start;
	size_t n = (size_t)(seconds * hz), late = 0;
	rig_ns *lat = calloc(n, sizeof(*lat));

	if (!lat) {
		perror("calloc");
		exit(1);
	}
	start = rig_clock_now(clock);
	for (size_t i = 0; i < n; i++) {
		rig_ns deadline = start + (rig_ns)(i + 1) * period;

		rig_clock_sleep_until(clock, deadline);
		lat[i] = rig_clock_now(clock) - deadline;
		if (lat[i] > period)
			late++;
	}
	qsort(lat, n, sizeof(*lat), cmp_ns);
	printf("%-6s %5.0f Hz  %zu wake-ups  p50 %7.1f us  p99 %8.1f us  max %9.1f us  "
	       "later than a period: %zu\n", label, hz, n, lat[n / 2] / 1e3,
	       lat[(size_t)(n * 0.99)] / 1e3, lat[n - 1] / 1e3, late);
	free(lat);
}

int main(int argc, char **argv)
{
	double seconds = 60;
	bool hog = false, fifo = false, qos = false;
	int qos_fd = -1;
	unsigned long slack_ns = 1;
	pid_t hogs[64];
	long n_hogs = 0;
	struct rig_clock *clock;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--hog"))
			hog = true;
		else if (!strcmp(argv[i], "--fifo"))
			fifo = true;
		else if (!strcmp(argv[i], "--qos"))
			qos = true;
		else if (!strcmp(argv[i], "--slack-ns") && i + 1 < argc)
			slack_ns = strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_rt [--seconds N] [--hog] [--fifo] [--qos] [--slack-ns N]\n");
			return 2;
		}
	}
	if (!(seconds > 0 && seconds <= 3600)) {
		fprintf(stderr, "bench_rt: --seconds must be in (0, 3600]\n");
		return 2;
	}
	if (slack_ns < 1 || prctl(PR_SET_TIMERSLACK, slack_ns) != 0) {
		fprintf(stderr, "bench_rt: --slack-ns %lu: %s\n", slack_ns,
			slack_ns < 1 ? "at least 1 ns" : strerror(errno));
		return 2;
	}
	printf("timer slack: %lu ns\n", slack_ns);
	if (fifo || qos) {
		qos_fd = rig_clock_qos_hold();
		printf("/dev/cpu_dma_latency held at 0: %s\n", qos_fd >= 0 ? "yes" : strerror(errno));
	}
	if (fifo) {
		/* as rig does with bench.realtime_priority = 50 (rig/engine/engine.c) */
		struct sched_param sp = { .sched_priority = 50 };
		int a = sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? 0 : errno;
		int b = mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : errno;

		printf("SCHED_FIFO 50: %s; mlockall: %s\n", a == 0 ? "yes" : strerror(a),
		       b == 0 ? "yes" : strerror(b));
	}
	if (hog) {
		n_hogs = sysconf(_SC_NPROCESSORS_ONLN);
		if (n_hogs < 1 || n_hogs > 64)
			n_hogs = 1;
		for (long k = 0; k < n_hogs; k++) {
			hogs[k] = fork();
			if (hogs[k] == 0) {
				struct sched_param sp = { 0 };

				sched_setscheduler(0, SCHED_OTHER, &sp);
				for (volatile unsigned long x = 0;; x++)
					;
			}
		}
		printf("CPU hog: %ld spinning process(es)\n", n_hogs);
	}
	printf("load average at the start: ");
	fflush(stdout);
	system("cut -d' ' -f1-3 /proc/loadavg");
	clock = rig_clock_new_real();
	run(clock, 100, seconds, hog ? "hog" : "idle");
	run(clock, 1000, seconds, hog ? "hog" : "idle");
	rig_clock_free(clock);
	for (long k = 0; k < n_hogs; k++) {
		kill(hogs[k], SIGKILL);
		waitpid(hogs[k], NULL, 0);
	}
	if (qos_fd >= 0)
		close(qos_fd);
	return 0;
}
