/* battery: coulomb counting over a marked window and the longevity it
 * implies for the device's reference regimen (analysis/battery.h).
 *
 * Every current reading is assigned to the pump's mode at its time (idle,
 * basal delivery at a rate, bolus) from the commands in events.jsonl; each
 * mode integrates its own charge.  The idle current and the charge per mL
 * delivered (delivery charge above idle over the programmed volume) project
 * the daily charge at the reference rate. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rig/analysis/battery.h"

#define MODE_IDLE (-1.0)
#define MODE_BOLUS (-2.0)

struct battery_mode {
	double rate_ml_per_h;                /* MODE_IDLE, MODE_BOLUS or the basal rate */
	struct charge_counter charge;
};

struct check_priv {
	struct battery_mode *modes;
	size_t n_modes;
	int last_mode;
	struct interp_at v_eri;
	rig_ns t_alarm_ns;
};

#define MODES_MAX 16

static int check_battery_init(struct analysis_ctx *ax, struct check_result *c, struct check_state *st)
{
	const struct device *dev = ax->dev;
	const struct timeline *tl = ax->tl;

	st->priv = calloc(1, sizeof(*st->priv));
	if (!st->priv)
		return -ENOMEM;
	snprintf(c->requirement, sizeof(c->requirement), "%s",
		 st->step->requirement[0] ? st->step->requirement : dev->battery_requirement);
	snprintf(c->unit, sizeof(c->unit), "year");
	c->limit_low = rig_ns_to_s(dev->longevity_min_ns) / 86400 / DAYS_PER_YEAR;
	c->limit_high = INFINITY;
	snprintf(c->criterion, sizeof(c->criterion),
		 "projected years to the replacement indicator at %.4g mL/day >= %.3g (promised "
		 "%.3g to %.3g)", dev->reference_rate_ml_per_h * 24, c->limit_low, c->limit_low,
		 rig_ns_to_s(dev->longevity_max_ns) / 86400 / DAYS_PER_YEAR);
	st->priv->modes = calloc(MODES_MAX, sizeof(*st->priv->modes));
	if (!st->priv->modes)
		return -ENOMEM;
	st->priv->last_mode = -1;
	st->priv->t_alarm_ns = -1;   /* here: the replacement indicator */
	for (size_t i = 0; i < tl->n_pump_low_battery && st->priv->t_alarm_ns < 0; i++)
		if (tl->pump_low_battery[i].on)
			st->priv->t_alarm_ns = tl->pump_low_battery[i].t_ns;
	interp_at_init(&st->priv->v_eri, st->priv->t_alarm_ns);
	return 0;
}

static int mode_index(struct check_state *st, double rate)
{
	for (size_t i = 0; i < st->priv->n_modes; i++)
		if (st->priv->modes[i].rate_ml_per_h == rate)
			return (int)i;
	if (st->priv->n_modes >= MODES_MAX)
		return -1;
	st->priv->modes[st->priv->n_modes].rate_ml_per_h = rate;
	/* readings further apart than 10 s are a gap, not a segment */
	charge_init(&st->priv->modes[st->priv->n_modes].charge, 10 * RIG_NS_PER_S);
	return (int)st->priv->n_modes++;
}

static void check_battery_sample(struct analysis_ctx *ax, struct check_result *c,
			  struct check_state *st, const struct sample *s)
{
	double rate;
	int k;

	if (s->role != ROLE_POWER)
		return;
	if (strcmp(s->quantity, "voltage") == 0) {
		if (st->priv->t_alarm_ns >= 0)
			interp_at_add(&st->priv->v_eri, s->t_ns, s->value);
		return;
	}
	if (strcmp(s->quantity, "current") != 0 || c->t_end_ns <= c->t_begin_ns ||
	    s->t_ns < c->t_begin_ns || s->t_ns > c->t_end_ns)
		return;
	rate = timeline_bolus_at(ax->tl, s->t_ns) ? MODE_BOLUS : timeline_rate_at(ax->tl, s->t_ns);
	if (rate == 0)
		rate = MODE_IDLE;
	k = mode_index(st, rate);
	if (k < 0)
		return;
	if (k != st->priv->last_mode)
		charge_break(&st->priv->modes[k].charge);
	st->priv->last_mode = k;
	charge_add(&st->priv->modes[k].charge, s->t_ns, s->value);
}

static void check_battery_judge(struct analysis_ctx *ax, struct check_result *c,
			 struct check_state *st)
{
	const struct device *dev = ax->dev;
	const struct timeline *tl = ax->tl;
	double u_cal = ax->bench->instrument[ROLE_POWER].cal.uncertainty;
	double u_gain = ax->bench->instrument[ROLE_POWER].cal.gain_u_rel;
	double total_mah = 0, deliv_mah = 0, idle_ua = NAN, u_idle = 0, u_scatter = 0, volume_ml;
	double q_per_ml, years_per_mah_day;
	size_t n_idle = 0;
	rig_ns deliv_ns = 0;
	struct longevity_inputs li;
	struct longevity_result lr;
	struct measurement *m;
	char name[48];

	if (window_incomplete(c))
		return;
	for (size_t i = 0; i < st->priv->n_modes; i++) {
		const struct battery_mode *bm = &st->priv->modes[i];
		double mean = charge_mean_ua(&bm->charge);

		total_mah += charge_mah(&bm->charge);
		if (bm->rate_ml_per_h == MODE_IDLE)
			snprintf(name, sizeof(name), "mean_current_idle");
		else if (bm->rate_ml_per_h == MODE_BOLUS)
			snprintf(name, sizeof(name), "mean_current_bolus");
		else
			snprintf(name, sizeof(name), "mean_current_at_%.4gmL_per_h", bm->rate_ml_per_h);
		if (bm->rate_ml_per_h == MODE_IDLE) {
			double n = (double)bm->charge.n;
			double var = n > 1 ? (bm->charge.sum_sq_ua - bm->charge.sum_ua * bm->charge.sum_ua / n) /
					     (n - 1) : 0;

			idle_ua = mean;
			u_scatter = n > 0 ? sqrt(fmax(var, 0) / n) : 0;
			u_idle = hypot(u_cal, u_scatter);
			n_idle = bm->charge.n;
		} else {
			deliv_mah += charge_mah(&bm->charge);
			deliv_ns += bm->charge.covered_ns;
		}
		m = check_measure(c, name, mean, NAN, "uA");
		if (m)
			snprintf(m->source, sizeof(m->source), "samples.csv power current, trapezoidal "
				 "over %.4f h (%zu readings)", rig_ns_to_h(bm->charge.covered_ns),
				 bm->charge.n);
	}
	m = check_measure(c, "charge_drawn", total_mah, NAN, "mAh");
	if (m)
		snprintf(m->source, sizeof(m->source), "samples.csv power current, trapezoidal "
			 "integration over window \"%s\"", c->window);
	if (!isfinite(idle_ua)) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "window \"%s\" holds no idle period (pump powered, not delivering): the idle "
			 "current cannot be separated from the delivery charge", c->window);
		return;
	}
	volume_ml = programmed_volume_ml(tl->rates, tl->n_rates, tl->boluses, tl->n_boluses,
					 c->t_begin_ns, c->t_end_ns);
	if (!(volume_ml > 0) || deliv_ns <= 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "window \"%s\" holds no delivery: the charge per mL cannot be measured",
			 c->window);
		return;
	}
	q_per_ml = (deliv_mah - idle_ua / 1000 * rig_ns_to_h(deliv_ns)) / volume_ml;
	m = check_measure(c, "charge_per_ml", q_per_ml, NAN, "mAh/mL");
	if (m)
		snprintf(m->source, sizeof(m->source), "(delivery charge %.6f mAh - idle current x "
			 "%.4f h) / %.6f mL programmed", deliv_mah, rig_ns_to_h(deliv_ns), volume_ml);
	li = (struct longevity_inputs){
		.capacity_mah = dev->battery_capacity_mah,
		.idle_current_ua = idle_ua,
		.charge_per_ml_mah = q_per_ml,
		.reference_rate_ml_per_h = dev->reference_rate_ml_per_h,
		.reserve_days = rig_ns_to_s(dev->replacement_reserve_ns) / 86400,
	};
	if (longevity_project(&li, &lr) < 0) {
		snprintf(c->explanation, sizeof(c->explanation),
			 "the measured currents give no positive daily charge");
		return;
	}
	/* the monitor's offset and the idle readings' scatter on the idle
	 * current; its gain on every current it reads, so on the whole daily
	 * charge (idle and delivery alike) */
	m = check_measure(c, "charge_per_day", lr.charge_per_day_mah,
			  2 * hypot(u_idle * 24 / 1000, u_gain * lr.charge_per_day_mah), "mAh/day");
	if (m)
		snprintf(m->source, sizeof(m->source), "idle current x 24 h + charge per mL x %.4g "
			 "mL/day (device battery.reference_rate)", dev->reference_rate_ml_per_h * 24);
	c->measured = lr.years_to_replacement;
	/* the idle current dominates the daily charge: its uncertainty (the
	 * power monitor's stated calibration uncertainty and the scatter of
	 * the readings) carries over in proportion */
	years_per_mah_day = lr.days_to_depletion / DAYS_PER_YEAR / lr.charge_per_day_mah;
	budget_add(c, "years_to_replacement", "power monitor calibration",
		   years_per_mah_day * u_cal * 24 / 1000, "year", "bench power "
		   "calibration.uncertainty %.3g uA on the idle current, carried through the daily "
		   "charge", u_cal);
	budget_add(c, "years_to_replacement", "power monitor gain", years_per_mah_day * u_gain *
		   lr.charge_per_day_mah, "year", "bench power calibration.gain_uncertainty %.3g "
		   "relative on every current read, so on the whole daily charge (%.4g mAh/day)",
		   u_gain, lr.charge_per_day_mah);
	budget_add(c, "years_to_replacement", "scatter of the idle current", years_per_mah_day *
		   u_scatter * 24 / 1000, "year", "standard error of the mean of %zu idle readings "
		   "(%.3g uA)", n_idle, u_scatter);
	c->u_expanded = 2 * budget_u(c, "years_to_replacement");
	c->has_measured = true;
	m = check_measure(c, "years_to_replacement", c->measured, c->u_expanded, "year");
	measure_limit(m, c->limit_low, INFINITY);
	if (m)
		snprintf(m->source, sizeof(m->source), "%.6g mAh (device battery.capacity) / %.6g "
			 "mAh/day - %.0f day reserve", dev->battery_capacity_mah,
			 lr.charge_per_day_mah, li.reserve_days);
	m = check_measure(c, "years_to_depletion", lr.days_to_depletion / DAYS_PER_YEAR, NAN,
			  "year");
	if (st->priv->t_alarm_ns >= 0) {
		double v = NAN;

		interp_at_value(&st->priv->v_eri, &v);
		m = check_measure(c, "replacement_indicator_at", rig_ns_to_s(st->priv->t_alarm_ns), NAN, "s");
		if (m)
			snprintf(m->source, sizeof(m->source), "events.jsonl pump_alarms low_battery; "
				 "battery at %.3f V (samples.csv power voltage)", v);
	}
	c->verdict = c->measured >= c->limit_low ? VERDICT_PASS : VERDICT_FAIL;
	snprintf(c->explanation, sizeof(c->explanation),
		 "idle %.3f uA and %.4g mAh per mL give %.4f mAh/day at %.4g mL/day: %.2f years "
		 "to the replacement indicator (U = %.2f, k = 2), %s the promised minimum of %.3g "
		 "years%s", idle_ua, q_per_ml, lr.charge_per_day_mah,
		 dev->reference_rate_ml_per_h * 24, c->measured, c->u_expanded,
		 c->verdict == VERDICT_PASS ? "meeting" : "short of", c->limit_low,
		 st->priv->t_alarm_ns >= 0 ? "; the replacement indicator was observed during the run" : "");
	snprintf(c->source, sizeof(c->source), "samples.csv power current and voltage; "
		 "events.jsonl commands (modes) and pump_alarms; inputs/device.cfg battery");
}

static void check_battery_free(struct check_priv *priv)
{
	if (!priv)
		return;
	free(priv->modes);
	free(priv);
}

const struct check_ops check_battery_ops = {
	.kind = CHECK_BATTERY,
	.init = check_battery_init,
	.sample = check_battery_sample,
	.judge = check_battery_judge,
	.free = check_battery_free,
};
