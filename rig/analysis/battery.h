/* Battery drain: coulomb counting and longevity projection.  Pure and
 * streaming (no I/O, no clock).
 *
 * Charge is the trapezoidal integral of the power monitor's current over
 * time.  Longevity for the device's reference regimen (a basal rate r) is
 * projected from two measured quantities: the idle current I0 (pump powered,
 * not delivering) and the charge per mL delivered q (delivery current above
 * idle, integrated, divided by the volume):
 *
 *     Q_day = I0 * 24 h + q * r * 24 h
 *     days to depletion = C / Q_day
 *     days to the replacement indicator = C / Q_day - reserve
 *
 * where C is the capacity and the reserve is how long the pump runs after its
 * elective-replacement indicator.  Check value (DESIGN.md): 12 uA mean ->
 * 0.288 mAh/day -> 1000 mAh last 3472 days = 9.51 years. */
#ifndef RIG_ANALYSIS_BATTERY_H
#define RIG_ANALYSIS_BATTERY_H

#include <stdbool.h>
#include <stddef.h>
#include "rig/base/rtime.h"

#define DAYS_PER_YEAR 365.25

struct charge_counter {
	rig_ns max_gap_ns;       /* samples further apart leave the gap unintegrated */
	bool have_prev;
	rig_ns prev_t_ns;
	double prev_ua;
	double charge_uah;       /* integrated charge, uA h */
	rig_ns covered_ns;       /* time integrated over */
	rig_ns gap_ns;           /* time skipped in gaps */
	double sum_sq_ua;        /* for the scatter of the readings */
	double sum_ua;
	size_t n;
};

void charge_init(struct charge_counter *c, rig_ns max_gap_ns);
/* One current reading.  The segment from the previous reading is
 * integrated when it is no longer than max_gap. */
void charge_add(struct charge_counter *c, rig_ns t_ns, double current_ua);
/* Ends a segment: the next reading starts afresh (a mode change). */
void charge_break(struct charge_counter *c);
double charge_mah(const struct charge_counter *c);
/* Mean current over the covered time, uA; NAN when nothing was covered. */
double charge_mean_ua(const struct charge_counter *c);

struct longevity_inputs {
	double capacity_mah;
	double idle_current_ua;          /* I0 */
	double charge_per_ml_mah;        /* q */
	double reference_rate_ml_per_h;  /* r */
	double reserve_days;
};

struct longevity_result {
	double charge_per_day_mah;       /* Q_day */
	double days_to_depletion;
	double days_to_replacement;      /* to the elective-replacement indicator */
	double years_to_replacement;
};

/* -EINVAL for a non-positive capacity or daily charge. */
int longevity_project(const struct longevity_inputs *in, struct longevity_result *ret);

#endif
