/* Benchmark: buffered capture through the iio backend from a real kernel
 * device, for the kernel-in-the-loop VM (tests/vm/rig.sh runs it there and
 * iio_readdev beside it on the same device, trigger and buffer size).
 *
 *   build/bench_iio_kernel URI DEVICE CHANNEL TRIGGER HZ SCANS
 *
 * Opens DEVICE/CHANNEL at URI ("local:", or "ip:HOST" through iiod) as a
 * buffered pressure sensor paced by TRIGGER at HZ, collected every 100 ms as
 * the engine collects it, until SCANS scans have arrived, then closes it.
 * Prints one line of key=value pairs:
 *   scans=N seconds=S first_ns=T0 last_ns=T1 lost=L spacing_mean_ns=M spacing_sd_ns=D
 * seconds runs from before the open to after the close (what a process
 * capturing SCANS scans costs, as iio_readdev's wall time does); first_ns and
 * last_ns are the first and last scans' kernel timestamps on CLOCK_MONOTONIC;
 * lost counts the trigger ticks missing between them (a gap of k periods
 * loses k - 1: the kernel's buffer was full); spacing is that of successive
 * timestamps. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/driver.h"
#include "rig/base/clock.h"

#define BATCH_NS (100 * RIG_NS_PER_MS)

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * RIG_NS_PER_S + ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_iio_kernel URI DEVICE CHANNEL TRIGGER HZ SCANS\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct reading rd[READINGS_BATCH];
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .bench = b };
	struct instrument_cfg *ic;
	struct instrument *inst;
	char *end, why[512];
	double hz, sum = 0, sum2 = 0;
	long scans, got_total = 0, lost = 0, n_gaps = 0;
	long long t_start, t_end;
	rig_ns period, t0 = 0, first = 0, prev = -1;
	int r;

	if (argc != 7 || !b)
		return usage();
	hz = strtod(argv[5], &end);
	if (*end || !(hz > 0 && hz <= 1e6))
		return usage();
	scans = strtol(argv[6], &end, 10);
	if (*end || scans < 2)
		return usage();
	period = (rig_ns)llround(RIG_NS_PER_S / hz);
	ic = &b->instrument[ROLE_PRESSURE];
	*ic = (struct instrument_cfg){ .present = true, .period_ns = period, .buffered = true,
				       .batch_ns = BATCH_NS, .cal = { .gain = 1 } };
	snprintf(ic->backend, sizeof(ic->backend), "iio");
	snprintf(ic->uri, sizeof(ic->uri), "%s", argv[1]);
	snprintf(ic->device, sizeof(ic->device), "%s", argv[2]);
	snprintf(ic->channel, sizeof(ic->channel), "%s", argv[3]);
	snprintf(ic->trigger, sizeof(ic->trigger), "%s", argv[4]);
	env.clock = rig_clock_new_real();
	if (!env.clock)
		return 1;
	/* run time 0 on CLOCK_MONOTONIC, to give the timestamps back as the kernel took them */
	t0 = -rig_clock_from_monotonic(env.clock, 0);

	t_start = mono_ns();
	r = instrument_open(&inst, ROLE_PRESSURE, &env);
	if (r < 0) {
		fprintf(stderr, "bench_iio_kernel: %s\n", instrument_error_text(ic, r, why, sizeof(why)));
		return 1;
	}
	while (got_total < scans) {
		size_t got;

		r = sensor_read(inst, rd, READINGS_BATCH, &got);
		if (r < 0) {
			fprintf(stderr, "bench_iio_kernel: %s\n",
				instrument_error_text(ic, r, why, sizeof(why)));
			return 1;
		}
		for (size_t i = 0; i < got && got_total < scans; i++, got_total++) {
			if (prev >= 0) {
				double gap = (double)(rd[i].t_ns - prev);
				long k = lround(gap / (double)period);

				if (k > 1)
					lost += k - 1;
				sum += gap;
				sum2 += gap * gap;
				n_gaps++;
			} else {
				first = rd[i].t_ns;
			}
			prev = rd[i].t_ns;
		}
	}
	instrument_close(inst);
	t_end = mono_ns();
	{
		double mean = sum / (double)n_gaps;
		double sd = sqrt(fmax(0, sum2 / (double)n_gaps - mean * mean));

		printf("scans=%ld seconds=%.6f first_ns=%lld last_ns=%lld lost=%ld spacing_mean_ns=%.0f "
		       "spacing_sd_ns=%.0f\n", got_total, (double)(t_end - t_start) / RIG_NS_PER_S,
		       (long long)(first + t0), (long long)(prev + t0), lost, mean, sd);
	}
	rig_clock_free(env.clock);
	free(b);
	return 0;
}
