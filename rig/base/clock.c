#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <time.h>

struct rig_clock {
	bool is_virtual;
	rig_ns now_ns;            /* virtual: the current time */
	struct timespec origin;   /* real: CLOCK_MONOTONIC at creation */
};

static rig_ns timespec_to_ns(const struct timespec *ts)
{
	return (rig_ns)ts->tv_sec * RIG_NS_PER_S + ts->tv_nsec;
}

struct rig_clock *rig_clock_new_real(void)
{
	struct rig_clock *clock = calloc(1, sizeof(*clock));

	if (!clock)
		return NULL;
	if (clock_gettime(CLOCK_MONOTONIC, &clock->origin) != 0) {
		free(clock);
		return NULL;
	}
	return clock;
}

struct rig_clock *rig_clock_new_virtual(void)
{
	struct rig_clock *clock = calloc(1, sizeof(*clock));

	if (clock)
		clock->is_virtual = true;
	return clock;
}

void rig_clock_free(struct rig_clock *clock)
{
	free(clock);
}

bool rig_clock_is_virtual(const struct rig_clock *clock)
{
	return clock->is_virtual;
}

rig_ns rig_clock_now(struct rig_clock *clock)
{
	struct timespec ts;

	if (clock->is_virtual)
		return clock->now_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return timespec_to_ns(&ts) - timespec_to_ns(&clock->origin);
}

int rig_clock_sleep_until(struct rig_clock *clock, rig_ns deadline_ns)
{
	rig_ns abs_ns;
	struct timespec ts;
	int r;

	if (clock->is_virtual) {
		/* Virtual time never goes backwards: a deadline already passed is
		 * simply due now. */
		if (deadline_ns > clock->now_ns)
			clock->now_ns = deadline_ns;
		return 0;
	}
	/* An absolute deadline on the monotonic clock: a late wake-up delays
	 * one sample, never the ones after it. */
	abs_ns = timespec_to_ns(&clock->origin) + deadline_ns;
	ts.tv_sec = abs_ns / RIG_NS_PER_S;
	ts.tv_nsec = abs_ns % RIG_NS_PER_S;
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	return r == 0 ? 0 : -r;
}

rig_ns rig_clock_from_monotonic(struct rig_clock *clock, rig_ns monotonic_ns)
{
	if (clock->is_virtual)
		return clock->now_ns;
	return monotonic_ns - timespec_to_ns(&clock->origin);
}

void rig_clock_start_at(struct rig_clock *clock, rig_ns t_ns)
{
	if (clock->is_virtual) {
		clock->now_ns = t_ns;
		return;
	}
	/* now = monotonic - origin: move the origin back by t_ns */
	{
		rig_ns origin = timespec_to_ns(&clock->origin) - t_ns;

		clock->origin.tv_sec = origin / RIG_NS_PER_S;
		clock->origin.tv_nsec = origin % RIG_NS_PER_S;
		if (clock->origin.tv_nsec < 0) {
			clock->origin.tv_nsec += RIG_NS_PER_S;
			clock->origin.tv_sec--;
		}
	}
}

/* Asks the kernel's PM QoS to keep every CPU out of idle states slower to
 * leave than 0 us for as long as the returned descriptor is open (the
 * interface cyclictest uses: /dev/cpu_dma_latency, a 32-bit value; the
 * request ends when it is closed).  An idle CPU that halts wakes late: on
 * the development machine, a virtual machine, the sampler's p99 at 1 kHz
 * went from 117 us to 38 us (README, "bench_rt").  It costs power: the
 * CPUs poll instead of sleeping.  -1 and errno when refused. */
int rig_clock_qos_hold(void)
{
	int32_t zero = 0;
	int fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	errno = 0;
	if (write(fd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero)) {
		int saved = errno;

		close(fd);
		errno = saved ? saved : EIO;
		return -1;
	}
	return fd;
}
