/* Dose-accuracy arithmetic, against values worked out by hand. */
#include <criterion/criterion.h>
#include <errno.h>

#include "rig/analysis/dose.h"

Test(dose, interpolates_between_bracketing_samples)
{
	struct interp_at it;
	double v;

	interp_at_init(&it, 45 * RIG_NS_PER_S);
	interp_at_add(&it, 0, 1.0);
	interp_at_add(&it, 30 * RIG_NS_PER_S, 2.0);
	cr_assert_eq(interp_at_value(&it, &v), -ENODATA);
	interp_at_add(&it, 60 * RIG_NS_PER_S, 4.0);
	interp_at_add(&it, 90 * RIG_NS_PER_S, 100.0);   /* later samples do not matter */
	cr_assert_eq(interp_at_value(&it, &v), 0);
	/* halfway from 2.0 at 30 s to 4.0 at 60 s */
	cr_assert_float_eq(v, 3.0, 1e-12);
}

Test(dose, a_sample_exactly_at_the_target_is_used_as_is)
{
	struct interp_at it;
	double v;

	interp_at_init(&it, 30 * RIG_NS_PER_S);
	interp_at_add(&it, 0, 1.0);
	interp_at_add(&it, 30 * RIG_NS_PER_S, 2.5);
	interp_at_add(&it, 60 * RIG_NS_PER_S, 9.0);
	cr_assert_eq(interp_at_value(&it, &v), 0);
	cr_assert_float_eq(v, 2.5, 1e-12);
}

Test(dose, programmed_volume_integrates_rate_changes)
{
	/* 0.5 mL/h from 0 h, 1 mL/h from 2 h, stopped at 3 h.
	 * Window 1 h .. 4 h: 0.5*1 + 1*1 + 0 = 1.5 mL. */
	struct rate_change rates[] = {
		{ 0, 0.5 }, { 2 * RIG_NS_PER_H, 1.0 }, { 3 * RIG_NS_PER_H, 0.0 } };

	cr_assert_float_eq(programmed_volume_ml(rates, 3, NULL, 0, RIG_NS_PER_H, 4 * RIG_NS_PER_H),
			   1.5, 1e-12);
}

Test(dose, programmed_volume_counts_the_part_of_a_bolus_inside_the_window)
{
	/* 0.1 mL at 1 mL/h lasts 6 min, from 0:57 to 1:03: the window from
	 * 1 h on gets 3 min of it = 0.05 mL, plus 0.25 mL/h basal for 1 h. */
	struct rate_change rates[] = { { 0, 0.25 } };
	struct bolus_cmd bolus[] = { { 57 * RIG_NS_PER_MIN, 0.1, 1.0 } };

	cr_assert_float_eq(programmed_volume_ml(rates, 1, bolus, 1, RIG_NS_PER_H, 2 * RIG_NS_PER_H),
			   0.30, 1e-9);
}

Test(dose, error_from_mass_density_and_evaporation)
{
	/* 6 h at 0.25 mL/h = 1.5 mL programmed.  Collected 1.5423 g - 0.0123 g
	 * = 1.53 g; evaporation 0.05 mg/h * 6 h = 0.3 mg added back:
	 * 1.5303 g / 0.9982 g/mL = 1.533059507 mL; error +2.2039671 %. */
	struct dose_inputs in = {
		.t_begin_ns = RIG_NS_PER_H, .t_end_ns = 7 * RIG_NS_PER_H,
		.mass_begin_g = 0.0123, .mass_end_g = 1.5423,
		.density_g_per_ml = 0.9982, .evaporation_g_per_h = 0.05e-3,
		.programmed_ml = 1.5,
	};
	struct dose_result out;

	cr_assert_eq(dose_accuracy(&in, &out), 0);
	cr_assert_float_eq(out.collected_g, 1.53, 1e-12);
	cr_assert_float_eq(out.evaporation_g, 0.0003, 1e-12);
	cr_assert_float_eq(out.delivered_ml, 1.533059507, 1e-9);
	cr_assert_float_eq(out.error_pct, 2.2039671, 1e-6);
}

Test(dose, refuses_what_has_no_meaning)
{
	struct dose_inputs in = {
		.t_begin_ns = RIG_NS_PER_H, .t_end_ns = RIG_NS_PER_H,
		.density_g_per_ml = 1.0, .programmed_ml = 1.0,
	};
	struct dose_result out;

	cr_assert_eq(dose_accuracy(&in, &out), -EINVAL);          /* empty window */
	in.t_end_ns = 2 * RIG_NS_PER_H;
	in.programmed_ml = 0.0;
	cr_assert_eq(dose_accuracy(&in, &out), -EINVAL);          /* nothing programmed */
	in.programmed_ml = 1.0;
	in.density_g_per_ml = 0.0;
	cr_assert_eq(dose_accuracy(&in, &out), -EINVAL);          /* no density */
}
