/* Both clocks: run time starts at 0, deadlines are absolute, the virtual
 * clock jumps and never goes back, the real one really waits. */
#include <criterion/criterion.h>
#include <time.h>

#include "rig/base/clock.h"

Test(clock, virtual_starts_at_zero_and_jumps_to_deadlines)
{
	struct rig_clock *c = rig_clock_new_virtual();

	cr_assert_not_null(c);
	cr_assert(rig_clock_is_virtual(c));
	cr_assert_eq(rig_clock_now(c), 0);
	cr_assert_eq(rig_clock_sleep_until(c, 72 * RIG_NS_PER_H), 0);
	cr_assert_eq(rig_clock_now(c), 72 * RIG_NS_PER_H);
	rig_clock_free(c);
}

Test(clock, virtual_never_goes_backwards)
{
	struct rig_clock *c = rig_clock_new_virtual();

	rig_clock_sleep_until(c, 10 * RIG_NS_PER_S);
	cr_assert_eq(rig_clock_sleep_until(c, 5 * RIG_NS_PER_S), 0);
	cr_assert_eq(rig_clock_now(c), 10 * RIG_NS_PER_S);
	rig_clock_free(c);
}

Test(clock, virtual_72_hours_in_one_second_steps_takes_no_real_time)
{
	struct rig_clock *c = rig_clock_new_virtual();
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (rig_ns t = RIG_NS_PER_S; t <= 72 * RIG_NS_PER_H; t += RIG_NS_PER_S)
		rig_clock_sleep_until(c, t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_eq(rig_clock_now(c), 72 * RIG_NS_PER_H);
	/* 259 200 sleeps that would take 72 h for real: far below a second. */
	cr_assert_lt(b.tv_sec - a.tv_sec, 5);
	rig_clock_free(c);
}

Test(clock, real_starts_near_zero_and_is_monotonic)
{
	struct rig_clock *c = rig_clock_new_real();
	rig_ns t0, t1;

	cr_assert_not_null(c);
	cr_assert_not(rig_clock_is_virtual(c));
	t0 = rig_clock_now(c);
	t1 = rig_clock_now(c);
	cr_assert_geq(t0, 0);
	cr_assert_lt(t0, RIG_NS_PER_S);
	cr_assert_geq(t1, t0);
	rig_clock_free(c);
}

Test(clock, real_sleeps_until_an_absolute_deadline)
{
	struct rig_clock *c = rig_clock_new_real();
	rig_ns deadline = rig_clock_now(c) + 20 * RIG_NS_PER_MS;

	cr_assert_eq(rig_clock_sleep_until(c, deadline), 0);
	cr_assert_geq(rig_clock_now(c), deadline);
	/* A deadline in the past returns at once. */
	cr_assert_eq(rig_clock_sleep_until(c, 0), 0);
	rig_clock_free(c);
}

Test(clock, free_accepts_null)
{
	rig_clock_free(NULL);
}
