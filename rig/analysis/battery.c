/* Coulomb counting and longevity projection: see battery.h. */
#include "battery.h"

#include <errno.h>
#include <math.h>

void charge_init(struct charge_counter *c, rig_ns max_gap_ns)
{
	*c = (struct charge_counter){ .max_gap_ns = max_gap_ns };
}

void charge_add(struct charge_counter *c, rig_ns t_ns, double current_ua)
{
	if (c->have_prev && t_ns > c->prev_t_ns) {
		rig_ns dt = t_ns - c->prev_t_ns;

		if (dt <= c->max_gap_ns) {
			c->charge_uah += 0.5 * (c->prev_ua + current_ua) * rig_ns_to_h(dt);
			c->covered_ns += dt;
		} else {
			c->gap_ns += dt;
		}
	}
	c->have_prev = true;
	c->prev_t_ns = t_ns;
	c->prev_ua = current_ua;
	c->sum_ua += current_ua;
	c->sum_sq_ua += current_ua * current_ua;
	c->n++;
}

void charge_break(struct charge_counter *c)
{
	c->have_prev = false;
}

double charge_mah(const struct charge_counter *c)
{
	return c->charge_uah / 1000;
}

double charge_mean_ua(const struct charge_counter *c)
{
	if (c->covered_ns <= 0)
		return NAN;
	return c->charge_uah / rig_ns_to_h(c->covered_ns);
}

int longevity_project(const struct longevity_inputs *in, struct longevity_result *ret)
{
	double q_day = (in->idle_current_ua * 24 / 1000) +
		       in->charge_per_ml_mah * in->reference_rate_ml_per_h * 24;

	if (!(in->capacity_mah > 0) || !(q_day > 0))
		return -EINVAL;
	ret->charge_per_day_mah = q_day;
	ret->days_to_depletion = in->capacity_mah / q_day;
	ret->days_to_replacement = ret->days_to_depletion - in->reserve_days;
	ret->years_to_replacement = ret->days_to_replacement / DAYS_PER_YEAR;
	return 0;
}
