/* Two clocks behind one interface.
 *
 * The real clock reads CLOCK_MONOTONIC relative to its creation and sleeps with
 * clock_nanosleep(TIMER_ABSTIME), so periodic deadlines never drift.  The
 * virtual clock jumps straight to the next deadline: a 72-hour sequence on the
 * simulated bench runs in seconds.  Both report run time from 0. */
#ifndef RIG_CLOCK_H
#define RIG_CLOCK_H

#include <stdbool.h>
#include "rtime.h"

struct rig_clock;

struct rig_clock *rig_clock_new_real(void);
struct rig_clock *rig_clock_new_virtual(void);
void rig_clock_free(struct rig_clock *clock);

rig_ns rig_clock_now(struct rig_clock *clock);
/* Returns 0 once now >= deadline_ns; -EINTR if a signal interrupted a real
 * sleep (the caller checks its stop flag and calls again). */
int rig_clock_sleep_until(struct rig_clock *clock, rig_ns deadline_ns);
/* Makes now t_ns: a resumed run's time base continues the crashed one's.
 * Call before any sleep. */
void rig_clock_start_at(struct rig_clock *clock, rig_ns t_ns);
bool rig_clock_is_virtual(const struct rig_clock *clock);
/* Run time of an instant given on CLOCK_MONOTONIC (a kernel event timestamp);
 * on the virtual clock, now. */
rig_ns rig_clock_from_monotonic(struct rig_clock *clock, rig_ns monotonic_ns);

/* Holds /dev/cpu_dma_latency at 0 us (the kernel's PM QoS: no CPU enters an
 * idle state slower to leave) while the returned descriptor is open; close
 * it to end the request.  -1 and errno when refused.  For the sampler on
 * the real clock (bench.realtime_priority) and tools/bench_rt. */
int rig_clock_qos_hold(void);

#endif
