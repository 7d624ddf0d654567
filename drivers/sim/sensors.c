/* The simulated bench's sensors and digital lines, read from the physics of
 * model.c: the balance, the flow, pressure and power sensors, the pump's
 * alarm line and the emergency stop; and the truth the tests compare with. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- sensors -- */

static double quantise(double v, double resolution)
{
	return resolution > 0 ? resolution * round(v / resolution) : v;
}

static size_t read_scale(struct sim_model *m, rig_ns t_ns, struct reading *rd)
{
	double v = model_scale_indication_g(m) - m->tare_g +
		   m->cfg.scale_noise_g * rng_gauss(&m->rng[ROLE_SCALE]);
	bool settling = m->tared && m->t < m->tare_t + (double)m->cfg.scale_settle_ns;

	rd[0] = (struct reading){ .t_ns = t_ns, .quantity = QUANT_MASS_G,
				  .value = quantise(v, m->cfg.scale_resolution_g),
				  .flags = settling ? SAMPLE_UNSTABLE : 0 };
	return 1;
}

/* The flow sensor integrates: each reading is the mean outflow over the
 * interval since the previous reading (from t = 0 for the first).  A reading
 * at the same instant as the previous one gives the instantaneous flow V/tau. */
static size_t read_flow(struct sim_model *m, rig_ns t_ns, struct reading *rd)
{
	double dt = m->t - m->flow_last_t, q;

	if (dt > 0) {
		q = (ksum_value(&m->outflow_ml) - m->flow_last_outflow_ml) / (dt / NS_PER_H);
	} else {
		double tau_h = (double)m->cfg.time_constant_ns / NS_PER_H;

		q = !m->valve_closed && tau_h > 0 ? m->line_ml / tau_h : 0;
	}
	m->flow_last_t = m->t;
	m->flow_last_outflow_ml = ksum_value(&m->outflow_ml);
	q = q * (1 + m->cfg.flow_gain_rel) + m->cfg.flow_offset_ml_per_h +
	    m->cfg.flow_noise_ml_per_h * rng_gauss(&m->rng[ROLE_FLOW]);
	rd[0] = (struct reading){ .t_ns = t_ns, .quantity = QUANT_FLOW_ML_PER_H, .value = q };
	return 1;
}

static size_t read_pressure(struct sim_model *m, rig_ns t_ns, struct reading *rd)
{
	double p = model_line_pressure_kpa(m) * (1 + m->cfg.pressure_gain_rel) +
		   m->cfg.pressure_offset_kpa +
		   m->cfg.pressure_noise_kpa * rng_gauss(&m->rng[ROLE_PRESSURE]);

	rd[0] = (struct reading){ .t_ns = t_ns, .quantity = QUANT_PRESSURE_KPA, .value = p };
	return 1;
}

/* The power monitor averages the current since its previous read: the
 * quiescent draw plus each stroke's charge spread over the interval,
 * I = I_q + n Q_stroke / dt (mAh -> uAh: x1000). */
static size_t read_power(struct sim_model *m, rig_ns t_ns, struct reading *rd, size_t max)
{
	double dt_h = (m->t - m->power_last_t) / NS_PER_H;
	double i_ua = m->cfg.quiescent_current_ua;
	size_t n = 1;

	if (dt_h > 0)
		i_ua += (double)(m->strokes - m->power_last_strokes) * m->cfg.stroke_charge_mah *
			1000.0 / dt_h;
	m->power_last_t = m->t;
	m->power_last_strokes = m->strokes;
	i_ua = i_ua * (1 + m->cfg.current_gain_rel) + m->cfg.current_offset_ua +
	       m->cfg.current_noise_ua * rng_gauss(&m->rng[ROLE_POWER]);
	rd[0] = (struct reading){ .t_ns = t_ns, .quantity = QUANT_CURRENT_UA, .value = i_ua };
	if (max >= 2) {
		rd[1] = (struct reading){ .t_ns = t_ns, .quantity = QUANT_VOLTAGE_V,
					  .value = model_battery_voltage_v(m) };
		n = 2;
	}
	return n;
}

/* The measured conditions: the true fluid and air of the simulator, as a
 * MAX31865 (an RTD converter, 1/32 K a count) and a BME280 (0.01 K,
 * 1/1024 %, about 0.2 Pa) read them, each with its offset and scatter. */
static size_t read_condition(struct sim_model *m, enum rig_role role, rig_ns t_ns,
			     struct reading *rd)
{
	const struct sim_cfg *c = &m->cfg;
	double truth, resolution;
	enum quantity q = QUANT_TEMPERATURE_C;

	switch (role) {
	case ROLE_FLUID_TEMP:
		truth = isnan(c->fluid_temperature_c) ? 20 : c->fluid_temperature_c;
		resolution = 1.0 / 32;
		break;
	case ROLE_AIR_TEMP:
		truth = c->air_temperature_c;
		resolution = 0.01;
		break;
	case ROLE_HUMIDITY:
		truth = c->air_humidity_pct;
		resolution = 1.0 / 1024;
		q = QUANT_HUMIDITY_PCT;
		break;
	default:
		truth = c->air_pressure_kpa;
		resolution = 0.0002;
		q = QUANT_PRESSURE_KPA;
		break;
	}
	rd[0] = (struct reading){ .t_ns = t_ns, .quantity = q,
				  .value = quantise(truth + c->cond_offset[role] +
						    c->cond_noise[role] * rng_gauss(&m->rng[role]),
						    resolution) };
	if (role == ROLE_HUMIDITY)
		rd[0].value = fmin(100, fmax(0, rd[0].value));
	return 1;
}

/* A stuck sensor repeats the last readings it returned before the fault,
 * flagged stale; one never read before has nothing to repeat and gives -EIO.
 * Stale repeats are not conversions: the averaging sensors' intervals run on
 * across the fault, and no noise is drawn. */
int sim_read(struct sim_model *model, rig_ns t_ns, enum rig_role role,
	     struct reading *ret, size_t max, size_t *ret_n)
{
	struct reading rd[READINGS_MAX];
	unsigned mods;
	size_t n;
	int r;

	if (ret_n)
		*ret_n = 0;
	if (!role_is_sensor(role))
		return -EINVAL;
	if (!ret || max == 0)
		return -EINVAL;
	sim_model_advance(model, t_ns);
	r = model_fault_check(model, role, t_ns, &mods);
	if (r < 0)
		return r;
	if (max > READINGS_MAX)
		max = READINGS_MAX;
	if (mods & MOD_STALE)
		return 0;   /* answered, but nothing new to give */
	if (mods & (MOD_STUCK | MOD_FROZEN)) {
		if (model->n_last[role] == 0)
			return -EIO;
		n = model->n_last[role] < max ? model->n_last[role] : max;
		for (size_t i = 0; i < n; i++) {
			ret[i] = model->last[role][i];
			ret[i].t_ns = t_ns;
			if (mods & MOD_STUCK)
				ret[i].flags |= SAMPLE_STALE;
		}
		if (ret_n)
			*ret_n = n;
		return 0;
	}
	switch (role) {
	case ROLE_SCALE: n = read_scale(model, t_ns, rd); break;
	case ROLE_FLOW: n = read_flow(model, t_ns, rd); break;
	case ROLE_PRESSURE: n = read_pressure(model, t_ns, rd); break;
	case ROLE_POWER: n = read_power(model, t_ns, rd, READINGS_MAX); break;
	default: n = read_condition(model, role, t_ns, rd); break;
	}
	/* Spoiled answers are what the instrument sends; the physics drew its
	 * noise as usual.  1e12 is beyond any range a bench could declare. */
	if (mods & MOD_NAN)
		rd[0].value = NAN;
	if (mods & MOD_RANGE)
		rd[0].value = 1e12;
	if (mods & MOD_INTERNAL)
		rd[0].quantity = QUANT__COUNT;
	memcpy(model->last[role], rd, n * sizeof(rd[0]));
	model->n_last[role] = n;
	n = n < max ? n : max;
	memcpy(ret, rd, n * sizeof(rd[0]));
	if (ret_n)
		*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------ alarm line -- */

/* The alarm line shows the pump's occlusion alarm output.  Faults on the
 * alarm role: disconnect -ENODEV, dropout -EIO; stuck freezes the level at
 * its last reported value and withholds the edges, which are lost (the line
 * did not move as far as the rig can tell). */
int sim_alarm_level(struct sim_model *model, rig_ns t_ns, bool *ret_active)
{
	unsigned mods;
	bool stuck;
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_ALARM, t_ns, &mods);
	stuck = mods & (MOD_STUCK | MOD_FROZEN);
	if (r < 0)
		return r;
	if (!stuck)
		model->last_level = model->asserted;
	*ret_active = model->last_level;
	return 0;
}

/* Returns 1 with the oldest pending edge, 0 when none is pending.  While the
 * line is stuck nothing new is seen; edges that happened during a stuck or
 * dropout spell are skipped afterwards. */
int sim_alarm_next_edge(struct sim_model *model, rig_ns t_ns, struct edge *ret)
{
	struct edge_queue *q = &model->edges;
	unsigned mods;
	bool stuck;
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_ALARM, t_ns, &mods);
	stuck = mods & (MOD_STUCK | MOD_FROZEN);
	if (r < 0)
		return r;
	if (stuck)
		return 0;
	while (q->len > 0) {
		struct edge e = q->v[q->head];

		q->head = q->len == 1 ? 0 : q->head + 1;
		q->len--;
		if (model_fault_check(model, ROLE_ALARM, e.t_ns, &mods) < 0 || (mods & (MOD_STUCK | MOD_FROZEN)))
			continue;
		*ret = e;
		model->last_level = e.rising;
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------- emergency stop -- */

/* The bench's emergency-stop button is a mechanical contact: nothing in the
 * physics presses it, a test does, with a `pressed` fault on the estop role
 * (held for its duration; 0: until the end).  Its edges fall exactly where
 * each press begins and ends, as a kernel timestamp would put them. */
int sim_estop_level(struct sim_model *model, rig_ns t_ns, bool *ret_active)
{
	int r = model_fault_check(model, ROLE_ESTOP, t_ns, NULL);

	if (r < 0)
		return r;
	*ret_active = false;
	for (size_t i = 0; i < model->cfg.n_faults; i++) {
		const struct sim_fault *f = &model->cfg.faults[i];

		if (f->role == ROLE_ESTOP && f->kind == SIM_FAULT_PRESSED && model_fault_active(f, t_ns))
			*ret_active = true;
	}
	return 0;
}

/* Returns 1 with the oldest edge after the last one reported and at or
 * before t_ns, 0 when there is none. */
int sim_estop_next_edge(struct sim_model *model, rig_ns t_ns, struct edge *ret)
{
	bool found = false;
	int r = model_fault_check(model, ROLE_ESTOP, t_ns, NULL);

	if (r < 0)
		return r;
	for (size_t i = 0; i < model->cfg.n_faults; i++) {
		const struct sim_fault *f = &model->cfg.faults[i];
		rig_ns at[2] = { f->at_ns, f->at_ns + f->duration_ns };

		if (f->role != ROLE_ESTOP || f->kind != SIM_FAULT_PRESSED)
			continue;
		for (int k = 0; k < (f->duration_ns > 0 ? 2 : 1); k++)
			if (at[k] > model->estop_seen_ns && at[k] <= t_ns &&
			    (!found || at[k] < ret->t_ns)) {
				ret->t_ns = at[k];
				ret->rising = k == 0;
				found = true;
			}
	}
	if (found)
		model->estop_seen_ns = ret->t_ns;
	return found;
}

/* ---------------------------------------------------------------- truth -- */

void sim_model_truth(const struct sim_model *model, struct sim_truth *ret)
{
	*ret = (struct sim_truth){
		.t_true_s = model->t / 1e9,
		.pumped_ml = ksum_value(&model->pumped_ml),
		.in_line_ml = model->line_ml,
		.outflow_ml = ksum_value(&model->outflow_ml),
		.in_vessel_ml = ksum_value(&model->vessel_ml),
		.evaporated_ml = ksum_value(&model->evaporated_ml),
		.line_pressure_kpa = model_line_pressure_kpa(model),
		.battery_used_mah = model_battery_used_mah(model),
		.alarm_active = model->asserted,
		.alarm_rise_t_true_s = model->alarm_rise_t >= 0 ? model->alarm_rise_t / 1e9 : NAN,
		.alarm_rise_kpa = model->alarm_rise_t >= 0 ? model->alarm_rise_kpa : NAN,
		.strokes = (unsigned long)model->strokes,
		.reservoir_ml = model_reservoir_true_ml(model),
		.strokes_dry = (unsigned long)model->strokes_dry,
	};
}

void sim_scale_place_weight(struct sim_model *model, rig_ns t_ns, double grams)
{
	sim_model_advance(model, t_ns);
	/* a steel reference weight reads its conventional mass: no buoyancy */
	model->pan_weight_g = grams;
}
