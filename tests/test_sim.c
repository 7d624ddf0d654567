/* The simulated bench's physics, tested through its own API and its truth.
 *
 * Expected values are computed here by hand from the parameters each test
 * sets, never by asking the model. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/sim/model.h"
#include "rig/base/clock.h"

#define S RIG_NS_PER_S
#define MS (RIG_NS_PER_S / 1000)
#define MIN RIG_NS_PER_MIN
#define H RIG_NS_PER_H

extern const struct backend sim_backend;

/* The defaults documented in rig/config.h, in canonical units; noise off so a
 * test states the noise it wants. */
static struct sim_cfg base_cfg(void)
{
	return (struct sim_cfg){
		.seed = 1,
		.stroke_volume_ml = 0.25e-3,
		.alarm_pressure_kpa = 100,
		.alarm_enabled = true,
		.stall_pressure_kpa = 300,
		.compliance_ml_per_kpa = 0.2e-3,
		.time_constant_ns = 5 * S,
		.vessel_mass_g = 20,
		.scale_settle_ns = 2 * S,
		.battery_capacity_mah = 1000,
		.quiescent_current_ua = 8,
		.stroke_charge_mah = 10e-6 / 3.6,   /* 10 uC */
		.battery_full_v = 3.2,
		.battery_empty_v = 2.6,
	};
}

static struct sim_model *model_new(const struct sim_cfg *cfg)
{
	struct sim_model *m = sim_model_new(cfg, 0.998);

	cr_assert_not_null(m);
	return m;
}

static struct sim_truth truth(const struct sim_model *m)
{
	struct sim_truth t;

	sim_model_truth(m, &t);
	return t;
}

static void assert_mass_balance(const struct sim_model *m)
{
	struct sim_truth t = truth(m);
	double rhs = t.in_vessel_ml + t.evaporated_ml + t.in_line_ml;

	cr_assert(t.in_vessel_ml >= 0, "vessel %g", t.in_vessel_ml);
	cr_assert(t.evaporated_ml >= 0);
	cr_assert(fabs(t.pumped_ml - rhs) <= 1e-9 * fmax(t.pumped_ml, 1e-12),
		  "pumped %.15g, vessel+evaporated+line %.15g", t.pumped_ml, rhs);
	cr_assert(fabs(t.outflow_ml - t.in_vessel_ml - t.evaporated_ml) <= 1e-9 * fmax(t.outflow_ml, 1e-12));
}

/* The same scripted run, sampled at `step_ns` (0: only at the commands). */
struct script_step {
	rig_ns t_ns;
	enum { CMD_RATE, CMD_BOLUS, CMD_STOP, CMD_CLOSE, CMD_OPEN, CMD_END } cmd;
	double a, b;
};

static const struct script_step script[] = {
	{ 0, CMD_RATE, 1.0, 0 },
	{ 20 * MIN, CMD_BOLUS, 0.05, 6.0 },
	{ 50 * MIN, CMD_RATE, 0.3, 0 },
	{ 1 * H, CMD_CLOSE, 0, 0 },
	{ 3 * H, CMD_OPEN, 0, 0 },
	{ 3 * H + 30 * MIN, CMD_RATE, 2.0, 0 },
	{ 4 * H, CMD_STOP, 0, 0 },
	{ 4 * H + 17 * MIN, CMD_RATE, 0.02, 0 },
	{ 5 * H, CMD_END, 0, 0 },
};

static void run_script(struct sim_model *m, rig_ns step_ns, bool check_balance)
{
	rig_ns t = 0;

	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		const struct script_step *s = &script[i];

		while (step_ns > 0 && t + step_ns < s->t_ns) {
			t += step_ns;
			sim_model_advance(m, t);
			if (check_balance)
				assert_mass_balance(m);
		}
		t = s->t_ns;
		switch (s->cmd) {
		case CMD_RATE: cr_assert_eq(sim_pump_set_rate(m, t, s->a), 0); break;
		case CMD_BOLUS: cr_assert_eq(sim_pump_bolus(m, t, s->a, s->b, BOLUS_CLINICIAN), 0); break;
		case CMD_STOP: cr_assert_eq(sim_pump_stop(m, t), 0); break;
		case CMD_CLOSE: cr_assert_eq(sim_valve_set_closed(m, t, true), 0); break;
		case CMD_OPEN: cr_assert_eq(sim_valve_set_closed(m, t, false), 0); break;
		case CMD_END: sim_model_advance(m, t); break;
		}
		if (check_balance)
			assert_mass_balance(m);
	}
}

/* ---------------------------------------------------------- mass balance -- */

Test(sim, mass_balance_through_rate_changes_bolus_occlusion_and_evaporation)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct sim_truth t;

	cfg.evaporation_g_per_h = 0.02;   /* 20 mg/h: the vessel runs dry at 0.02 mL/h */
	m = model_new(&cfg);
	run_script(m, 7 * S + 13, true);
	t = truth(m);
	cr_assert(t.pumped_ml > 1.0);
	cr_assert(t.evaporated_ml > 0.05);
	cr_assert(t.strokes > 0);
	sim_model_free(m);
}

Test(sim, evaporation_never_drives_the_vessel_negative)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct sim_truth t;

	cfg.evaporation_g_per_h = 5.0;    /* far above the inflow */
	m = model_new(&cfg);
	sim_pump_set_rate(m, 0, 1.0);
	for (rig_ns x = 0; x <= 2 * H; x += 61 * S)
		sim_model_advance(m, x);
	assert_mass_balance(m);
	t = truth(m);
	cr_assert(t.in_vessel_ml >= 0 && t.in_vessel_ml < 1e-3, "vessel %g", t.in_vessel_ml);
	/* Almost everything that reached the vessel evaporated. */
	cr_assert(t.evaporated_ml > 0.99 * t.outflow_ml - 1e-6);
	sim_model_free(m);
}

/* ---------------------------------------------------- delivery and timing -- */

Test(sim, fast_pump_delivers_3_percent_more)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	double v0, v1, expected = 1.03 * 1.0 * 10.0;   /* mL in 10 h at 1 mL/h, 3 % fast */

	cfg.rate_error_pct = 3;
	m = model_new(&cfg);
	sim_pump_set_rate(m, 0, 1.0);
	sim_model_advance(m, 1 * H);
	v0 = truth(m).pumped_ml;
	sim_model_advance(m, 11 * H);
	v1 = truth(m).pumped_ml;
	/* Pulsatile delivery: exact to within one stroke at each end. */
	cr_assert(fabs((v1 - v0) - expected) <= 2 * cfg.stroke_volume_ml, "delivered %.9f mL, want %.9f",
		  v1 - v0, expected);
	cr_assert(fabs((v1 - v0) / 10.0 - 1.0) > 0.029);
	sim_model_free(m);
}

Test(sim, strokes_come_at_the_exact_interval)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m = model_new(&cfg);
	/* 0.25 uL at 1 mL/h: one stroke every 0.9 s; the first at the start. */
	rig_ns interval = 900 * RIG_NS_PER_MS;

	sim_pump_set_rate(m, 0, 1.0);
	sim_model_advance(m, 0);
	cr_assert_eq(truth(m).strokes, 1);
	sim_model_advance(m, 100 * interval - 1);
	cr_assert_eq(truth(m).strokes, 100);
	sim_model_advance(m, 100 * interval);
	cr_assert_eq(truth(m).strokes, 101);
	sim_model_free(m);
}

Test(sim, nothing_is_delivered_before_the_startup_delay)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	rig_ns start = 10 * S, delay = 45 * S;
	struct pump_status st;

	cfg.startup_delay_ns = delay;
	m = model_new(&cfg);
	sim_pump_set_rate(m, start, 1.0);
	sim_pump_status(m, start + delay - 1, &st);
	cr_assert(st.running);
	cr_assert_eq(truth(m).strokes, 0);
	cr_assert_eq(truth(m).pumped_ml, 0);
	cr_assert_eq(truth(m).outflow_ml, 0);
	sim_model_advance(m, start + delay);
	cr_assert_eq(truth(m).strokes, 1);
	/* A rate change while running brings no new delay. */
	sim_pump_set_rate(m, start + delay + 10 * S, 2.0);
	sim_model_advance(m, start + delay + 10 * S + 450 * RIG_NS_PER_MS);
	cr_assert_geq(truth(m).strokes, 12);
	/* After a stop, the delay applies again. */
	sim_pump_stop(m, 2 * MIN);
	sim_pump_set_rate(m, 3 * MIN, 1.0);
	{
		unsigned long n = truth(m).strokes;

		sim_model_advance(m, 3 * MIN + delay - 1);
		cr_assert_eq(truth(m).strokes, n);
		sim_model_advance(m, 3 * MIN + delay);
		cr_assert_eq(truth(m).strokes, n + 1);
	}
	sim_model_free(m);
}

Test(sim, bolus_delivers_its_volume_on_top_of_basal)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m = model_new(&cfg);
	struct pump_status st;
	/* 1 mL/h basal: 0.9 s strokes; 0.1 mL bolus at 6 mL/h: 400 strokes every
	 * 0.15 s, done in 60 s (its first stroke at the command). */
	double basal_in_100s;

	sim_pump_set_rate(m, 0, 1.0);
	sim_model_advance(m, 10 * MIN);
	double v0 = truth(m).pumped_ml;

	cr_assert_eq(sim_pump_bolus(m, 10 * MIN, 0.1, 6.0, BOLUS_CLINICIAN), 0);
	cr_assert_eq(sim_pump_bolus(m, 10 * MIN, 0.1, 6.0, BOLUS_CLINICIAN), -EBUSY);
	sim_pump_status(m, 10 * MIN + 59 * S, &st);
	cr_assert(st.bolus_active);
	cr_assert(st.running);
	sim_pump_status(m, 10 * MIN + 60 * S, &st);
	cr_assert(!st.bolus_active);
	sim_model_advance(m, 10 * MIN + 100 * S);
	basal_in_100s = 100.0 / 3600.0;
	cr_assert(fabs(truth(m).pumped_ml - v0 - 0.1 - basal_in_100s) <= 2 * cfg.stroke_volume_ml);
	sim_model_free(m);
}

/* A pump whose boluses run 5 % short delivers 5 % fewer strokes; its basal
 * is untouched. */
Test(sim, bolus_error_scales_the_bolus_alone)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	double v0;

	cfg.bolus_error_pct = -5;
	m = model_new(&cfg);
	cr_assert_eq(sim_pump_bolus(m, 0, 0.1, 6.0, BOLUS_CLINICIAN), 0);
	sim_model_advance(m, 5 * MIN);
	cr_assert_float_eq(truth(m).pumped_ml, 0.095, 0.5 * cfg.stroke_volume_ml,
			   "pumped %.6f mL", truth(m).pumped_ml);
	v0 = truth(m).pumped_ml;
	sim_pump_set_rate(m, 5 * MIN, 1.0);
	sim_model_advance(m, 65 * MIN);
	cr_assert_float_eq(truth(m).pumped_ml - v0, 1.0, 2 * cfg.stroke_volume_ml);
	sim_model_free(m);
}

/* The lockout refuses a patient's bolus within it, on the pump's clock,
 * never a clinician's; a refused demand does not restart it. */
Test(sim, patient_bolus_lockout)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;

	cfg.bolus_lockout_ns = 60 * MIN;
	m = model_new(&cfg);
	cr_assert_eq(sim_pump_bolus(m, 0, 0.01, 6.0, BOLUS_PATIENT), 0);
	cr_assert_eq(sim_pump_bolus(m, 30 * MIN, 0.01, 6.0, BOLUS_PATIENT), -EAGAIN);
	cr_assert_eq(sim_pump_bolus(m, 31 * MIN, 0.01, 6.0, BOLUS_CLINICIAN), 0);
	cr_assert_eq(sim_pump_bolus(m, 59 * MIN, 0.01, 6.0, BOLUS_PATIENT), -EAGAIN);
	cr_assert_eq(sim_pump_bolus(m, 61 * MIN, 0.01, 6.0, BOLUS_PATIENT), 0);
	sim_model_advance(m, 70 * MIN);
	cr_assert_float_eq(truth(m).pumped_ml, 0.03, 0.5 * cfg.stroke_volume_ml);
	sim_model_free(m);
	/* no lockout configured: never refused */
	cfg.bolus_lockout_ns = 0;
	m = model_new(&cfg);
	cr_assert_eq(sim_pump_bolus(m, 0, 0.01, 6.0, BOLUS_PATIENT), 0);
	cr_assert_eq(sim_pump_bolus(m, 10 * MIN, 0.01, 6.0, BOLUS_PATIENT), 0);
	sim_model_free(m);
}

/* ------------------------------------------------------------- occlusion -- */

Test(sim, occlusion_builds_pressure_and_alarms_after_latency)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct edge e;
	struct pump_status st;
	bool level;

	cfg.alarm_pressure_kpa = 101;
	cfg.alarm_latency_ns = 10 * S;
	cfg.baseline_pressure_kpa = 3;
	m = model_new(&cfg);
	/* Closed from the start, empty line: stroke k (k = 1, 2, ...) at
	 * (k - 1) * 0.9 s raises P - P0 by 0.25 uL / 0.2 uL/kPa = 1.25 kPa.
	 * 101 kPa / 1.25 kPa = 80.8, so stroke 81 at 80 * 0.9 s = 72 s reaches
	 * it; the alarm rises 10 s later, at 82 s.  DESIGN.md's estimate
	 * C (P_alarm - P0) / Q + latency = 0.0202 mL / (1 mL/h) + 10 s = 82.72 s
	 * agrees to within one stroke interval. */
	sim_valve_set_closed(m, 0, true);
	sim_pump_set_rate(m, 0, 1.0);
	sim_model_advance(m, 40 * S);
	{
		struct sim_truth t = truth(m);

		cr_assert_eq(t.strokes, 45);   /* at 0, 0.9, ..., 39.6 s */
		cr_assert(fabs(t.line_pressure_kpa - 3 - 45 * 1.25) < 1e-9, "P = %.12g", t.line_pressure_kpa);
		cr_assert_eq(t.outflow_ml, 0);
	}
	cr_assert_eq(sim_alarm_next_edge(m, 81 * S, &e), 0);
	sim_alarm_level(m, 82 * S - 1, &level);
	cr_assert(!level);
	cr_assert_eq(sim_alarm_next_edge(m, 200 * S, &e), 1);
	cr_assert(e.rising);
	cr_assert(llabs(e.t_ns - 82 * S) <= 1, "edge at %lld ns", (long long)e.t_ns);
	cr_assert(fabs(rig_ns_to_s(e.t_ns) - (0.0202 * 3600 + 10)) < 0.9);
	cr_assert_eq(sim_alarm_next_edge(m, 200 * S, &e), 0);
	sim_alarm_level(m, 200 * S, &level);
	cr_assert(level);
	sim_pump_status(m, 200 * S, &st);
	cr_assert(st.alarms & PUMP_ALARM_OCCLUSION);
	sim_model_free(m);
}

Test(sim, occlusion_from_steady_flow_then_release_delivers_the_stored_bolus)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m = model_new(&cfg);
	struct sim_truth t0, t1, t2, t3;
	struct edge e;
	unsigned long n;

	sim_pump_set_rate(m, 0, 1.0);
	sim_model_advance(m, 30 * MIN);
	cr_assert_eq(sim_valve_set_closed(m, 30 * MIN, true), 0);
	t0 = truth(m);
	/* Closed: nothing leaves, every stroke adds stroke_volume / C. */
	sim_model_advance(m, 30 * MIN + 50 * S);
	t1 = truth(m);
	n = t1.strokes - t0.strokes;
	cr_assert(fabs((t1.line_pressure_kpa - t0.line_pressure_kpa) - n * 0.25e-3 / 0.2e-3) < 1e-9);
	cr_assert(fabs(t1.in_line_ml - t0.in_line_ml - n * 0.25e-3) < 1e-12);
	cr_assert_eq(t1.outflow_ml, t0.outflow_ml);
	/* Until the alarm, then stop and release. */
	sim_model_advance(m, 40 * MIN);
	cr_assert(truth(m).alarm_active);
	cr_assert_eq(sim_pump_stop(m, 40 * MIN), 0);
	t2 = truth(m);
	cr_assert(t2.line_pressure_kpa >= 100);
	sim_valve_set_closed(m, 40 * MIN, false);
	sim_model_advance(m, 50 * MIN);   /* 120 time constants */
	t3 = truth(m);
	/* The whole stored volume C (P - P0) ends up in the vessel. */
	cr_assert(fabs((t3.in_vessel_ml - t2.in_vessel_ml) - 0.2e-3 * t2.line_pressure_kpa) < 1e-12,
		  "bolus %.12g mL, stored %.12g mL", t3.in_vessel_ml - t2.in_vessel_ml,
		  0.2e-3 * t2.line_pressure_kpa);
	cr_assert(t3.in_line_ml < 1e-12);
	cr_assert(!t3.alarm_active);
	/* Rising at the alarm, falling when P - P0 decayed to 50 kPa:
	 * 40 min + tau ln(P / 50 kPa). */
	cr_assert_eq(sim_alarm_next_edge(m, 50 * MIN, &e), 1);
	cr_assert(e.rising);
	cr_assert_eq(sim_alarm_next_edge(m, 50 * MIN, &e), 1);
	cr_assert(!e.rising);
	{
		double want = 40 * 60 + 5.0 * log(t2.line_pressure_kpa / 50.0);

		cr_assert(fabs(rig_ns_to_s(e.t_ns) - want) < 1e-6, "fell at %.9f s, want %.9f s",
			  rig_ns_to_s(e.t_ns), want);
	}
	sim_model_free(m);
}

Test(sim, pump_with_alarm_disabled_never_alarms_and_stalls)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct pump_status st;
	struct edge e;
	bool level;
	struct sim_truth t;

	cfg.alarm_enabled = false;
	m = model_new(&cfg);
	sim_valve_set_closed(m, 0, true);
	sim_pump_set_rate(m, 0, 1.0);
	for (rig_ns x = 0; x <= 2 * H; x += 10 * S) {
		sim_pump_status(m, x, &st);
		cr_assert(!(st.alarms & PUMP_ALARM_OCCLUSION));
		sim_alarm_level(m, x, &level);
		cr_assert(!level);
	}
	cr_assert_eq(sim_alarm_next_edge(m, 2 * H, &e), 0);
	t = truth(m);
	/* Stalled at 300 kPa: 240 strokes fill the line, the rest deliver nothing. */
	cr_assert(fabs(t.line_pressure_kpa - 300) < 1e-9, "P = %g", t.line_pressure_kpa);
	cr_assert(fabs(t.pumped_ml - 240 * 0.25e-3) < 1e-12);
	cr_assert_eq(t.strokes, 8001);   /* 0 .. 7200 s every 0.9 s */
	cr_assert(!t.alarm_active);
	assert_mass_balance(m);
	sim_model_free(m);
}

/* --------------------------------------------------------------- battery -- */

Test(sim, battery_charge_is_quiescent_plus_strokes)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m = model_new(&cfg);
	struct reading rd[READINGS_MAX];
	size_t n;
	double q_stroke = 10e-6 / 3.6, used;
	struct sim_truth t;

	sim_pump_set_rate(m, 0, 1.0);
	cr_assert_eq(sim_read(m, 6 * H, ROLE_POWER, rd, READINGS_MAX, &n), 0);
	t = truth(m);
	used = 8.0 * 6 / 1000.0 + t.strokes * q_stroke;   /* uA * h -> mAh */
	cr_assert_eq(t.strokes, 24001);
	cr_assert(fabs(t.battery_used_mah - used) < 1e-12);
	cr_assert_eq(n, 2);
	cr_assert_eq(rd[0].quantity, QUANT_CURRENT_UA);
	cr_assert(fabs(rd[0].value - used * 1000 / 6) < 1e-9, "I = %.12g uA", rd[0].value);
	cr_assert_eq(rd[1].quantity, QUANT_VOLTAGE_V);
	cr_assert(fabs(rd[1].value - (3.2 - 0.6 * used / 1000)) < 1e-12);
	cr_assert_eq(rd[0].t_ns, 6 * H);
	/* The next read averages only over its own interval: stopped, quiescent only. */
	sim_pump_stop(m, 6 * H);
	sim_read(m, 7 * H, ROLE_POWER, rd, READINGS_MAX, &n);
	cr_assert(fabs(rd[0].value - 8.0) < 1e-9);
	sim_model_free(m);
}

Test(sim, low_battery_below_ten_percent_of_the_voltage_span)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct pump_status st;

	/* 8 uA quiescent only, 1 mAh: 90 % used after 112.5 h. */
	cfg.battery_capacity_mah = 1.0;
	m = model_new(&cfg);
	sim_pump_status(m, 112 * H, &st);
	cr_assert(!(st.alarms & PUMP_ALARM_LOW_BATTERY));
	sim_pump_status(m, 113 * H, &st);
	cr_assert(st.alarms & PUMP_ALARM_LOW_BATTERY);
	sim_pump_status(m, 1000 * H, &st);
	cr_assert(fabs(st.battery_v - 2.6) < 1e-12);   /* clamped at empty */
	sim_model_free(m);
}

/* ----------------------------------------------------------------- noise -- */

static void read_series(struct sim_model *m, enum rig_role role, double *v, size_t n, bool extra)
{
	struct reading rd[READINGS_MAX], other[READINGS_MAX];
	size_t k;

	for (size_t i = 0; i < n; i++) {
		if (extra) {
			sim_read(m, (rig_ns)i * S, ROLE_PRESSURE, other, READINGS_MAX, &k);
			sim_read(m, (rig_ns)i * S, ROLE_FLOW, other, READINGS_MAX, &k);
		}
		cr_assert_eq(sim_read(m, (rig_ns)i * S, role, rd, READINGS_MAX, &k), 0);
		v[i] = rd[0].value;
	}
}

Test(sim, noise_is_reproducible_per_seed_and_per_role)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *a, *b, *c, *d;
	double va[50], vb[50], vc[50], vd[50], mean = 0, var = 0;
	int same_c = 0;

	cfg.scale_noise_g = 1e-3;
	cfg.pressure_noise_kpa = 0.5;
	cfg.flow_noise_ml_per_h = 0.01;
	a = model_new(&cfg);
	b = model_new(&cfg);
	d = model_new(&cfg);
	cfg.seed = 2;
	c = model_new(&cfg);
	read_series(a, ROLE_SCALE, va, 50, false);
	read_series(b, ROLE_SCALE, vb, 50, false);
	read_series(c, ROLE_SCALE, vc, 50, false);
	read_series(d, ROLE_SCALE, vd, 50, true);   /* other sensors read in between */
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(va[i], vb[i]);
		cr_assert_eq(va[i], vd[i]);
		same_c += va[i] == vc[i];
		mean += va[i] / 50;
	}
	cr_assert_lt(same_c, 5);
	for (int i = 0; i < 50; i++)
		var += (va[i] - mean) * (va[i] - mean) / 49;
	/* Resolution 0 here, so the spread is the noise: sigma 1 mg, loosely. */
	cr_assert(sqrt(var) > 0.5e-3 && sqrt(var) < 1.6e-3, "sigma %g", sqrt(var));
	cr_assert(fabs(mean - 20) < 1e-3);
	sim_model_free(a);
	sim_model_free(b);
	sim_model_free(c);
	sim_model_free(d);
}

/* ----------------------------------------------------------------- scale -- */

Test(sim, tare_zeroes_and_flags_unstable_for_settle_time)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct reading rd[READINGS_MAX];
	size_t n;

	cfg.scale_noise_g = 0.02e-3;
	cfg.scale_resolution_g = 0.01e-3;
	cfg.scale_drift_g_per_h = 1e-3;
	cfg.scale_settle_ns = 3 * S;
	m = model_new(&cfg);
	sim_pump_bolus(m, 0, 0.5, 6.0, BOLUS_CLINICIAN);   /* 5 min; the line stays below 50 kPa */
	sim_read(m, 10 * MIN, ROLE_SCALE, rd, READINGS_MAX, &n);
	cr_assert(fabs(rd[0].value - (20 + 0.5 * 0.998 + 1e-3 / 6)) < 1e-4);
	cr_assert_eq(rd[0].flags & SAMPLE_UNSTABLE, 0);
	cr_assert_eq(sim_scale_tare(m, 10 * MIN), 0);
	for (rig_ns dt = 0; dt < 3 * S; dt += 500 * RIG_NS_PER_MS) {
		cr_assert_eq(sim_read(m, 10 * MIN + dt, ROLE_SCALE, rd, READINGS_MAX, &n), 0);
		cr_assert(rd[0].flags & SAMPLE_UNSTABLE);
		cr_assert(fabs(rd[0].value) < 1e-4, "after tare: %g g", rd[0].value);
	}
	sim_read(m, 10 * MIN + 3 * S, ROLE_SCALE, rd, READINGS_MAX, &n);
	cr_assert_eq(rd[0].flags & SAMPLE_UNSTABLE, 0);
	cr_assert(fabs(rd[0].value) < 1e-4);
	/* Quantised to the resolution. */
	cr_assert(fabs(rd[0].value / 1e-5 - round(rd[0].value / 1e-5)) < 1e-6);
	sim_model_free(m);
}

Test(sim, flow_sensor_reads_mean_outflow_since_last_read)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct reading rd[READINGS_MAX];
	size_t n;
	double o0, o1;

	cfg.flow_offset_ml_per_h = 0.05;
	m = model_new(&cfg);
	sim_pump_set_rate(m, 0, 1.0);
	sim_read(m, 1 * H, ROLE_FLOW, rd, READINGS_MAX, &n);
	o0 = truth(m).outflow_ml;
	cr_assert(fabs(rd[0].value - (o0 + 0.05)) < 1e-9);   /* first read: since t = 0, over 1 h */
	sim_read(m, 2 * H, ROLE_FLOW, rd, READINGS_MAX, &n);
	o1 = truth(m).outflow_ml;
	cr_assert(fabs(rd[0].value - (o1 - o0 + 0.05)) < 1e-9);
	cr_assert(fabs(rd[0].value - 1.05) < 1e-3);
	cr_assert_eq(rd[0].quantity, QUANT_FLOW_ML_PER_H);
	cr_assert_eq(sim_read(m, 2 * H, ROLE_PUMP, rd, READINGS_MAX, &n), -EINVAL);
	cr_assert_eq(sim_read(m, 2 * H, ROLE_VALVE, rd, READINGS_MAX, &n), -EINVAL);
	sim_model_free(m);
}

/* ---------------------------------------------------------------- faults -- */

static void add_fault(struct sim_cfg *cfg, enum rig_role role, enum sim_fault_kind kind, rig_ns at,
		      rig_ns duration)
{
	cfg->faults[cfg->n_faults++] = (struct sim_fault){ .role = role, .kind = kind, .at_ns = at,
							   .duration_ns = duration };
}

Test(sim, dropout_returns_eio_while_active)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct reading rd[READINGS_MAX];
	size_t n;

	add_fault(&cfg, ROLE_SCALE, SIM_FAULT_DROPOUT, 10 * S, 5 * S);
	add_fault(&cfg, ROLE_PRESSURE, SIM_FAULT_DROPOUT, 10 * S, 0);
	m = model_new(&cfg);
	cr_assert_eq(sim_read(m, 10 * S - 1, ROLE_SCALE, rd, READINGS_MAX, &n), 0);
	cr_assert_eq(sim_read(m, 10 * S, ROLE_SCALE, rd, READINGS_MAX, &n), -EIO);
	cr_assert_eq(n, 0);
	cr_assert_eq(sim_read(m, 15 * S - 1, ROLE_SCALE, rd, READINGS_MAX, &n), -EIO);
	cr_assert_eq(sim_read(m, 15 * S, ROLE_SCALE, rd, READINGS_MAX, &n), 0);
	cr_assert_eq(sim_read(m, 15 * S, ROLE_FLOW, rd, READINGS_MAX, &n), 0);
	cr_assert_eq(sim_read(m, 100 * H, ROLE_PRESSURE, rd, READINGS_MAX, &n), -EIO);
	sim_model_free(m);
}

Test(sim, stuck_repeats_the_last_value_flagged_stale)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct reading rd[READINGS_MAX];
	size_t n;
	double before;

	add_fault(&cfg, ROLE_PRESSURE, SIM_FAULT_STUCK, 1 * MIN, 10 * MIN);
	add_fault(&cfg, ROLE_FLOW, SIM_FAULT_STUCK, 0, 0);
	m = model_new(&cfg);
	sim_valve_set_closed(m, 0, true);
	sim_pump_set_rate(m, 0, 1.0);
	sim_read(m, 1 * MIN - 1, ROLE_PRESSURE, rd, READINGS_MAX, &n);
	before = rd[0].value;
	cr_assert_eq(rd[0].flags, 0);
	cr_assert_eq(sim_read(m, 5 * MIN, ROLE_PRESSURE, rd, READINGS_MAX, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(rd[0].value, before);
	cr_assert(rd[0].flags & SAMPLE_STALE);
	cr_assert_eq(rd[0].t_ns, 5 * MIN);
	cr_assert(truth(m).line_pressure_kpa > before + 50);
	sim_read(m, 11 * MIN, ROLE_PRESSURE, rd, READINGS_MAX, &n);
	cr_assert_eq(rd[0].flags, 0);
	cr_assert(rd[0].value > before + 50);
	/* Stuck from the start: nothing to repeat. */
	cr_assert_eq(sim_read(m, 11 * MIN, ROLE_FLOW, rd, READINGS_MAX, &n), -EIO);
	sim_model_free(m);
}

Test(sim, pump_no_answer_times_out_but_keeps_pumping)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct pump_status st;
	unsigned long n;

	add_fault(&cfg, ROLE_PUMP, SIM_FAULT_NO_ANSWER, 1 * MIN, 1 * MIN);
	m = model_new(&cfg);
	sim_pump_set_rate(m, 0, 1.0);
	cr_assert_eq(sim_pump_status(m, 1 * MIN, &st), -ETIMEDOUT);
	cr_assert_eq(sim_pump_stop(m, 90 * S), -ETIMEDOUT);
	cr_assert_eq(sim_pump_set_rate(m, 90 * S, 2.0), -ETIMEDOUT);
	cr_assert_eq(sim_pump_bolus(m, 90 * S, 0.1, 5.0, BOLUS_CLINICIAN), -ETIMEDOUT);
	n = truth(m).strokes;
	cr_assert_eq(n, 101);   /* still 1 mL/h: 0 .. 90 s */
	cr_assert_eq(sim_pump_status(m, 2 * MIN, &st), 0);
	cr_assert(st.running);
	cr_assert_eq(st.rate_ml_per_h, 1.0);
	sim_model_free(m);
}

Test(sim, disconnect_is_enodev_from_then_on_for_every_role)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct reading rd[READINGS_MAX];
	struct pump_status st;
	struct edge e;
	bool level;
	size_t n;

	for (int r = 0; r < ROLE__COUNT; r++)
		add_fault(&cfg, r, SIM_FAULT_DISCONNECT, 1 * H, 1 * S);   /* duration ignored */
	m = model_new(&cfg);
	cr_assert_eq(sim_pump_status(m, 1 * H - 1, &st), 0);
	cr_assert_eq(sim_alarm_level(m, 1 * H - 1, &level), 0);
	cr_assert_eq(sim_pump_status(m, 2 * H, &st), -ENODEV);
	cr_assert_eq(sim_pump_set_rate(m, 2 * H, 1.0), -ENODEV);
	cr_assert_eq(sim_pump_stop(m, 2 * H), -ENODEV);
	cr_assert_eq(sim_valve_set_closed(m, 2 * H, true), -ENODEV);
	cr_assert_eq(sim_scale_tare(m, 2 * H), -ENODEV);
	cr_assert_eq(sim_alarm_level(m, 2 * H, &level), -ENODEV);
	cr_assert_eq(sim_alarm_next_edge(m, 2 * H, &e), -ENODEV);
	for (int r = ROLE_SCALE; r <= ROLE_POWER; r++)
		cr_assert_eq(sim_read(m, 2 * H, r, rd, READINGS_MAX, &n), -ENODEV);
	sim_model_free(m);
}

/* ------------------------------------------------------ sampling-free -- */

Test(sim, the_emergency_stop_has_edges_exactly_where_each_press_begins_and_ends)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m;
	struct edge ed;
	bool pressed;

	add_fault(&cfg, ROLE_ESTOP, SIM_FAULT_PRESSED, 1500 * MS, 2 * S);
	add_fault(&cfg, ROLE_ESTOP, SIM_FAULT_PRESSED, 10 * S, 0);   /* held to the end */
	m = model_new(&cfg);
	cr_assert_eq(sim_estop_level(m, 1 * S, &pressed), 0);
	cr_assert_not(pressed);
	cr_assert_eq(sim_estop_next_edge(m, 1 * S, &ed), 0);
	cr_assert_eq(sim_estop_level(m, 2 * S, &pressed), 0);
	cr_assert(pressed);
	/* looked at late, the edges still come in order with their own times */
	cr_assert_eq(sim_estop_next_edge(m, 20 * S, &ed), 1);
	cr_assert(ed.rising);
	cr_assert_eq(ed.t_ns, 1500 * MS);
	cr_assert_eq(sim_estop_next_edge(m, 20 * S, &ed), 1);
	cr_assert_not(ed.rising);
	cr_assert_eq(ed.t_ns, 3500 * MS);
	cr_assert_eq(sim_estop_next_edge(m, 20 * S, &ed), 1);
	cr_assert(ed.rising);
	cr_assert_eq(ed.t_ns, 10 * S);
	cr_assert_eq(sim_estop_next_edge(m, 20 * S, &ed), 0);
	cr_assert_eq(sim_estop_level(m, 20 * S, &pressed), 0);
	cr_assert(pressed);
	sim_model_free(m);
}

static bool close_rel(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(fmax(fabs(a), fabs(b)), 1e-9);
}

Test(sim, one_jump_or_many_small_steps_give_the_same_truth)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *a, *b;
	struct sim_truth ta, tb;
	struct edge ea, eb;
	int ra, rb, edges = 0;

	cfg.evaporation_g_per_h = 0.02;
	cfg.alarm_latency_ns = 7 * S;
	cfg.startup_delay_ns = 13 * S;
	a = model_new(&cfg);
	b = model_new(&cfg);
	run_script(a, 0, false);
	run_script(b, 333 * RIG_NS_PER_MS + 7, false);
	ta = truth(a);
	tb = truth(b);
	cr_assert_eq(ta.strokes, tb.strokes);
	cr_assert(close_rel(ta.pumped_ml, tb.pumped_ml));
	cr_assert(close_rel(ta.in_line_ml, tb.in_line_ml));
	cr_assert(close_rel(ta.outflow_ml, tb.outflow_ml), "%.17g %.17g", ta.outflow_ml, tb.outflow_ml);
	cr_assert(close_rel(ta.in_vessel_ml, tb.in_vessel_ml), "%.17g %.17g", ta.in_vessel_ml, tb.in_vessel_ml);
	cr_assert(close_rel(ta.evaporated_ml, tb.evaporated_ml));
	cr_assert(close_rel(ta.line_pressure_kpa, tb.line_pressure_kpa));
	cr_assert(close_rel(ta.battery_used_mah, tb.battery_used_mah));
	cr_assert_eq(ta.alarm_active, tb.alarm_active);
	do {
		ra = sim_alarm_next_edge(a, 5 * H, &ea);
		rb = sim_alarm_next_edge(b, 5 * H, &eb);
		cr_assert_eq(ra, rb);
		if (ra == 1) {
			cr_assert_eq(ea.rising, eb.rising);
			cr_assert(llabs(ea.t_ns - eb.t_ns) <= 1);
			edges++;
		}
	} while (ra == 1);
	cr_assert_eq(edges, 2);   /* the occlusion in the script: rise and fall */
	sim_model_free(a);
	sim_model_free(b);
}

Test(sim, invalid_parameters_are_refused)
{
	struct sim_cfg cfg = base_cfg();
	struct sim_model *m = model_new(&cfg);

	cr_assert_eq(sim_pump_set_rate(m, 0, -1.0), -EINVAL);
	cr_assert_eq(sim_pump_set_rate(m, 0, NAN), -EINVAL);
	cr_assert_eq(sim_pump_bolus(m, 0, 0, 1.0, BOLUS_CLINICIAN), -EINVAL);
	cr_assert_eq(sim_pump_bolus(m, 0, 1.0, 0, BOLUS_CLINICIAN), -EINVAL);
	cr_assert_eq(sim_pump_set_rate(m, 0, 1e12), -EINVAL);
	cr_assert_eq(sim_pump_set_rate(m, 0, INFINITY), -EINVAL);
	sim_model_free(m);
	cfg.compliance_ml_per_kpa = 0;
	cr_assert_null(sim_model_new(&cfg, 0.998));
	sim_model_free(NULL);
}

/* ---------------------------------------------------------- the backend -- */

/* inst on the heap, as instrument_open would leave it, for instrument_close */
static struct instrument *instrument_copy(const struct instrument *inst,
					  const struct instrument_cfg *cfg)
{
	struct instrument *copy = malloc(sizeof(*copy));

	cr_assert_not_null(copy);
	*copy = *inst;
	copy->cfg = cfg;
	return copy;
}

Test(sim, backend_glue_uses_the_clock_and_closes_safe)
{
	static const struct instrument_cfg safe_cfg = { .safe_closed = false };
	struct sim_cfg cfg = base_cfg();
	struct rig_clock *clock = rig_clock_new_virtual();
	struct driver_env env = { .clock = clock };
	struct instrument pump = { .role = ROLE_PUMP, .backend = &sim_backend, .env = &env };
	struct instrument valve = { .role = ROLE_VALVE, .backend = &sim_backend, .env = &env };
	struct instrument scale = { .role = ROLE_SCALE, .backend = &sim_backend, .env = &env };
	struct reading rd[READINGS_MAX];
	struct pump_status st;
	size_t n;

	cr_assert_str_eq(sim_backend.name, "sim");
	/* every role, the emergency stop a button that a `pressed` fault presses */
	cr_assert_eq(sim_backend.roles, (1u << ROLE__COUNT) - 1);
	cr_assert_eq(sim_backend.open(&pump), -EINVAL);   /* no model */
	env.sim = model_new(&cfg);
	cr_assert_eq(sim_backend.open(&pump), 0);
	cr_assert_eq(sim_backend.open(&valve), 0);
	cr_assert_eq(sim_backend.open(&scale), 0);

	cr_assert_eq(sim_backend.valve->set_closed(&valve, true), 0);
	cr_assert_eq(sim_backend.pump->set_rate(&pump, 1.0), 0);
	rig_clock_sleep_until(clock, 1 * MIN);
	cr_assert_eq(sim_backend.sensor->read(&scale, rd, READINGS_MAX, &n), 0);
	cr_assert_eq(rd[0].t_ns, 1 * MIN);
	cr_assert_eq(sim_backend.sensor->tare(&scale), 0);
	cr_assert_eq(sim_backend.sensor->tare(&pump), -ENOTSUP);
	cr_assert_eq(sim_backend.valve->set_closed(&pump, false), -ENOTSUP);
	cr_assert_eq(truth(env.sim).strokes, 67);   /* 0 .. 59.4 s */
	cr_assert_eq(truth(env.sim).outflow_ml, 0);

	/* closing goes through instrument_close, which leaves every backend's
	 * pump stopped and valve at its declared safe state (here open) */
	instrument_close(instrument_copy(&pump, &safe_cfg));
	instrument_close(instrument_copy(&valve, &safe_cfg));
	cr_assert_eq(sim_pump_status(env.sim, 1 * MIN, &st), 0);
	cr_assert(!st.running);
	rig_clock_sleep_until(clock, 10 * MIN);
	sim_model_advance(env.sim, 10 * MIN);
	cr_assert(truth(env.sim).outflow_ml > 0.99 * 67 * 0.25e-3);   /* the valve opened */
	cr_assert_eq(truth(env.sim).strokes, 67);
	sim_model_free(env.sim);
	rig_clock_free(clock);
}
