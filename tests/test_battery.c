/* Coulomb counting and the longevity projection, against values worked out
 * by hand. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "rig/analysis/battery.h"

Test(battery, design_check_value_12_uA_lasts_9_51_years)
{
	/* DESIGN.md: 12 uA mean -> 0.288 mAh/day -> 1000 mAh last 3472 days. */
	struct longevity_inputs in = { .capacity_mah = 1000, .idle_current_ua = 12 };
	struct longevity_result out;

	cr_assert_eq(longevity_project(&in, &out), 0);
	cr_assert_float_eq(out.charge_per_day_mah, 0.288, 1e-12);
	cr_assert(fabs(out.days_to_depletion - 3472.2) < 0.1, "%.2f days", out.days_to_depletion);
	cr_assert(fabs(out.years_to_replacement - 9.51) < 0.005);
}

Test(battery, delivery_charge_and_reserve_shorten_the_life)
{
	/* 10 uA idle (0.24 mAh/day) + 0.1 mAh/mL at 0.5 mL/day (0.05 mAh/day):
	 * 0.29 mAh/day; 500 mAh: 1724.14 days, 90 fewer to the indicator. */
	struct longevity_inputs in = { .capacity_mah = 500, .idle_current_ua = 10,
				       .charge_per_ml_mah = 0.1,
				       .reference_rate_ml_per_h = 0.5 / 24, .reserve_days = 90 };
	struct longevity_result out;

	cr_assert_eq(longevity_project(&in, &out), 0);
	cr_assert_float_eq(out.charge_per_day_mah, 0.29, 1e-12);
	cr_assert_float_eq(out.days_to_depletion, 500 / 0.29, 1e-9);
	cr_assert_float_eq(out.days_to_replacement, 500 / 0.29 - 90, 1e-9);
	in.capacity_mah = 0;
	cr_assert_eq(longevity_project(&in, &out), -EINVAL);
}

Test(battery, trapezoidal_charge_over_a_ramp_and_a_gap)
{
	struct charge_counter c;

	charge_init(&c, 10 * RIG_NS_PER_S);
	/* 0 -> 36 uA over one hour, read every second: a ramp's trapezoid is
	 * exact, 18 uA h */
	for (int s = 0; s <= 3600; s++)
		charge_add(&c, s * RIG_NS_PER_S, 36.0 * s / 3600);
	cr_assert_float_eq(charge_mah(&c), 0.018, 1e-12);
	cr_assert_float_eq(charge_mean_ua(&c), 18, 1e-9);
	/* a 60 s gap is not integrated */
	charge_add(&c, 3660 * RIG_NS_PER_S, 36);
	cr_assert_float_eq(charge_mah(&c), 0.018, 1e-12);
	cr_assert_eq(c.gap_ns, 60 * RIG_NS_PER_S);
	/* after a break, the next reading starts afresh */
	charge_break(&c);
	charge_add(&c, 3661 * RIG_NS_PER_S, 36);
	cr_assert_float_eq(charge_mah(&c), 0.018, 1e-12);
}
