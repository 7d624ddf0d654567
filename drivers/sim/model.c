/* The simulated bench's physics (see model.h for the picture).
 *
 * Time advance is exact and event-driven.  Between two events the state has a
 * closed form, so the model jumps from event to event (pump strokes, the alarm
 * latency expiring, the line pressure decaying through the alarm's release
 * threshold) and then to the requested time; there is no integration step.
 * A jump of hours costs O(strokes in it), and the result does not depend on
 * how often the model is sampled (up to floating-point rounding).
 *
 * Internally time is a double in nanoseconds: stroke times are fractional
 * (interval = stroke_volume / rate rarely divides a nanosecond), and a double
 * holds run times up to 104 days to well below a nanosecond.  Edges and
 * readings carry integer nanoseconds (rounded).
 *
 * Units: volumes mL, pressures kPa, rates mL/h, charge mAh, current uA. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The random stream of the bench's own draws (the linearity's phases):
 * ROLE__COUNT when they began; roles added since draw from 100 + role. */
#define SIM_BENCH_STREAM 8

struct sim_model *sim_model_new(const struct sim_cfg *cfg, double density_g_per_ml)
{
	struct sim_model *m;

	if (!cfg || !(density_g_per_ml > 0) || !(cfg->stroke_volume_ml > 0) ||
	    !(cfg->compliance_ml_per_kpa > 0) || !isfinite(cfg->rate_error_pct) ||
	    cfg->rate_error_pct <= -100 || cfg->n_faults > SIM_FAULTS_MAX ||
	    !(fabs(cfg->clock_error_rel) < 0.5) || !(cfg->stroke_variation_rel >= 0) ||
	    !(cfg->bolus_error_pct > -100) || cfg->bolus_lockout_ns < 0) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->density_g_per_ml = density_g_per_ml;
	m->evap_ml_per_ns = cfg->evaporation_g_per_h > 0
				    ? cfg->evaporation_g_per_h / density_g_per_ml / NS_PER_H : 0;
	/* each role's own stream, so a seed gives the same bench as before */
	for (unsigned r = 0; r < ROLE__COUNT; r++)
		rng_seed(&m->rng[r], cfg->seed, r < SIM_BENCH_STREAM ? r : 100 + r);
	m->clock_scale = 1.0 + cfg->clock_error_rel;
	{
		/* the bench's own draws, apart from every role's noise */
		struct rng bench;

		rng_seed(&bench, cfg->seed, SIM_BENCH_STREAM);
		for (int k = 0; k < SIM_LINEARITY_TERMS; k++)
			m->linearity_phase[k] = 2 * M_PI * rng_uniform(&bench);
	}
	m->alarm_rise_t = -1;
	m->patient_bolus_t = -1;
	m->fill_ml = m->told_ml = cfg->reservoir_ml;
	m->estop_seen_ns = -1;   /* a press at t = 0 is an edge too */
	return m;
}

void sim_model_free(struct sim_model *model)
{
	if (!model)
		return;
	free(model->edges.v);
	free(model);
}

/* -------------------------------------------------------------- physics -- */

double model_line_pressure_kpa(const struct sim_model *m)
{
	return m->cfg.baseline_pressure_kpa + m->line_ml / m->cfg.compliance_ml_per_kpa;
}

static double alarm_volume_ml(const struct sim_model *m)
{
	return m->cfg.compliance_ml_per_kpa * m->cfg.alarm_pressure_kpa;
}

/* The alarm falls when P - P0 drops below half the alarm pressure: the
 * hysteresis keeps it from chattering while the pressure hovers. */
static double release_volume_ml(const struct sim_model *m)
{
	return 0.5 * alarm_volume_ml(m);
}

/* Evolves the continuous state from m->t to t with no event in between.
 *
 * Line, valve open: the catheter drains through the open valve like an RC
 * circuit, outflow = V / tau, so V(t) = V0 exp(-dt / tau).  Valve closed:
 * nothing leaves and V stays.
 *
 * Vessel: the liquid gains the outflow and loses evaporation at the constant
 * rate e while any liquid is there.  Without the floor at zero,
 * X(u) = L0 + V0 (1 - exp(-u / tau)) - e u, which is concave in u; the
 * liquid is X reflected at zero, and for a concave X with X(0) = L0 >= 0 the
 * reflection is simply L(u) = max(X(u), 0): once the level hits zero the
 * inflow is already below e and stays below it until the next stroke. */
static void evolve(struct sim_model *m, double t)
{
	double dt = t - m->t, in_ml = 0, x;

	if (!(dt > 0))
		return;
	if (!m->valve_closed && m->line_ml != 0) {
		double tau = (double)m->cfg.time_constant_ns;
		double left = tau > 0 ? m->line_ml * exp(-dt / tau) : 0;

		in_ml = m->line_ml - left;
		m->line_ml = left;
		ksum_add(&m->outflow_ml, in_ml);
	}
	ksum_add(&m->vessel_ml, in_ml);
	x = ksum_value(&m->vessel_ml) - m->evap_ml_per_ns * dt;
	if (x > 0) {
		ksum_add(&m->vessel_ml, -m->evap_ml_per_ns * dt);
		ksum_add(&m->evaporated_ml, m->evap_ml_per_ns * dt);
	} else {
		/* dry: all that was there (and came in) evaporated */
		ksum_add(&m->evaporated_ml, ksum_value(&m->vessel_ml));
		m->vessel_ml = (struct ksum){ 0, 0 };
	}
	m->t = t;
}

static double stream_next(const struct stream *s)
{
	return s->t_ref + ((double)s->n_since_ref + 1.0 - s->owed_ref) / s->rate_per_ns;
}

/* Strokes per ns for a programmed rate: the rate error is in the pump's
 * timing, so every stroke is the nominal volume and they come (1 + e) faster. */
static double stroke_rate_per_ns(const struct sim_model *m, double rate_ml_per_h)
{
	return rate_ml_per_h * (1.0 + m->cfg.rate_error_pct / 100.0) / m->cfg.stroke_volume_ml /
	       NS_PER_H;
}

/* A rate the model can schedule: finite, positive, and strokes at least a
 * microsecond apart (0.25 uL strokes: up to 900 L/h, far beyond any pump). */
static bool rate_ok(const struct sim_model *m, double rate_ml_per_h)
{
	return rate_ml_per_h > 0 && isfinite(rate_ml_per_h) &&
	       stroke_rate_per_ns(m, rate_ml_per_h) <= 1e-3;
}

static void edge_push(struct sim_model *m, double t, bool rising)
{
	struct edge_queue *q = &m->edges;

	if (q->head + q->len == q->cap) {
		if (q->head > 0) {
			memmove(q->v, q->v + q->head, q->len * sizeof(*q->v));
			q->head = 0;
		} else {
			size_t cap = q->cap ? 2 * q->cap : 16;
			struct edge *v = realloc(q->v, cap * sizeof(*v));

			if (!v)
				return;   /* an edge lost under memory exhaustion; the level stays right */
			q->v = v;
			q->cap = cap;
		}
	}
	q->v[q->head + q->len++] = (struct edge){ .t_ns = model_run_time(m, t), .rising = rising };
}

rig_ns model_run_time(const struct sim_model *m, double t)
{
	return (rig_ns)llround(t * m->clock_scale);
}

double model_reservoir_true_ml(const struct sim_model *m)
{
	return m->fill_ml - (ksum_value(&m->pumped_ml) - m->fill_pumped_ml);
}

/* The pump's own reservoir reading: what it was told at the last fill,
 * less its strokes since at the nominal volume, off by reservoir_error. */
double model_reservoir_reading_ml(const struct sim_model *m)
{
	return m->told_ml - (double)(m->strokes - m->fill_strokes) * m->cfg.stroke_volume_ml +
	       m->cfg.reservoir_error_ml;
}

/* At a reading of 0 the pump stops every delivery and alarms empty.  A
 * model given no reservoir (0) has one that never runs out. */
static void reservoir_after_stroke(struct sim_model *m)
{
	if (m->cfg.reservoir_ml > 0 && !m->empty && model_reservoir_reading_ml(m) <= 1e-12) {
		m->empty = true;
		m->basal.active = false;
		m->bolus.active = false;
	}
}

/* One stroke pushes stroke_volume into the line unless the line pressure has
 * reached the stall pressure, where the mechanism can no longer open the
 * outlet and the stroke delivers nothing (it still costs its charge).
 *
 * The pump keeps stroking while its occlusion alarm is up: an implanted pump
 * has no one to acknowledge the alarm, and the stall pressure is what limits
 * the line pressure. */
static void stroke(struct sim_model *m, struct stream *s)
{
	double v = m->cfg.stroke_volume_ml;

	m->strokes++;
	s->n_since_ref++;
	if (s->remaining != UINT64_MAX && --s->remaining == 0)
		s->active = false;
	/* the mechanism's scatter from stroke to stroke: the pump's own
	 * count (its telemetry) cannot see it */
	if (m->cfg.stroke_variation_rel > 0)
		v = fmax(0, v * (1 + m->cfg.stroke_variation_rel * rng_gauss(&m->rng[ROLE_PUMP])));
	if (m->line_ml / m->cfg.compliance_ml_per_kpa >= m->cfg.stall_pressure_kpa) {
		m->strokes_stalled++;
		reservoir_after_stroke(m);
		return;
	}
	/* a reservoir run dry gives what is left, then nothing: the pump
	 * cannot tell, its reading counts on */
	if (m->cfg.reservoir_ml > 0) {
		double left = model_reservoir_true_ml(m);

		if (left < v) {
			v = left > 0 ? left : 0;
			if (!(left > 0))
				m->strokes_dry++;
		}
	}
	reservoir_after_stroke(m);
	m->line_ml += v;
	ksum_add(&m->pumped_ml, v);
	if (m->cfg.alarm_enabled && !m->condition && m->line_ml >= alarm_volume_ml(m)) {
		m->condition = true;
		m->assert_at = m->t + (double)m->cfg.alarm_latency_ns;
	}
}

enum event { EV_NONE, EV_ASSERT, EV_RELEASE, EV_BASAL, EV_BOLUS };

static void advance_to(struct sim_model *m, double target)
{
	for (;;) {
		enum event ev = EV_NONE;
		double te = target;

		if (m->condition && !m->asserted && m->assert_at <= te) {
			te = m->assert_at;
			ev = EV_ASSERT;
		}
		/* With the valve open the pressure decays through the release
		 * threshold at t + tau ln(V / V_release). */
		if (m->condition && !m->valve_closed) {
			double vr = release_volume_ml(m), tau = (double)m->cfg.time_constant_ns;
			double tr = m->line_ml <= vr || tau <= 0
					    ? m->t : m->t + tau * log(m->line_ml / vr);

			if (tr < te || (tr == te && ev == EV_NONE)) {
				te = tr;
				ev = EV_RELEASE;
			}
		}
		if (m->basal.active) {
			double tb = stream_next(&m->basal);

			if (tb < te || (tb == te && ev == EV_NONE)) {
				te = tb;
				ev = EV_BASAL;
			}
		}
		if (m->bolus.active) {
			double tb = stream_next(&m->bolus);

			if (tb < te || (tb == te && ev == EV_NONE)) {
				te = tb;
				ev = EV_BOLUS;
			}
		}
		if (ev == EV_NONE)
			break;
		if (te < m->t)
			te = m->t;
		evolve(m, te);
		switch (ev) {
		case EV_ASSERT:
			m->asserted = true;
			m->alarm_rise_t = te;
			m->alarm_rise_kpa = model_line_pressure_kpa(m);
			edge_push(m, te, true);
			break;
		case EV_RELEASE:
			m->condition = false;
			if (m->asserted) {
				m->asserted = false;
				edge_push(m, te, false);
			}
			break;
		case EV_BASAL:
			stroke(m, &m->basal);
			break;
		case EV_BOLUS:
			stroke(m, &m->bolus);
			break;
		case EV_NONE:
			break;
		}
	}
	evolve(m, target);
}

/* Events due exactly now (a stroke at the instant the pump started) are
 * processed too, so a call at the current time is not a no-op.  t_ns is run
 * time, rig's clock; the physics runs in true time, which that clock
 * measures (1 + clock_error) too long. */
void sim_model_advance(struct sim_model *model, rig_ns t_ns)
{
	double t = model->clock_scale == 1.0 ? (double)t_ns : (double)t_ns / model->clock_scale;

	advance_to(model, t > model->t ? t : model->t);
}

/* --------------------------------------------------------------- faults -- */

bool model_fault_active(const struct sim_fault *f, rig_ns t_ns)
{
	if (t_ns < f->at_ns)
		return false;
	return f->kind == SIM_FAULT_DISCONNECT || f->duration_ns == 0 ||
	       t_ns - f->at_ns < f->duration_ns;
}

/* The error an operation on `role` meets at t_ns: a disconnect (-ENODEV)
 * beats a dropout (-EIO) beats a pump not answering (-ETIMEDOUT).  The other
 * kinds are no error: *ret_mods says how the answer is spoiled.  A crash
 * fault kills the whole process, as kill -9 would, the first time any
 * operation on its role meets it: whatever stdio had buffered is lost. */
int model_fault_check(const struct sim_model *m, enum rig_role role, rig_ns t_ns,
		       unsigned *ret_mods)
{
	bool gone = false, dropout = false, silent = false, unplugged = false;
	unsigned mods = 0;

	for (size_t i = 0; i < m->cfg.n_faults; i++) {
		const struct sim_fault *f = &m->cfg.faults[i];

		if (f->role != role || !model_fault_active(f, t_ns))
			continue;
		switch (f->kind) {
		case SIM_FAULT_DISCONNECT: gone = true; break;
		case SIM_FAULT_DROPOUT: dropout = true; break;
		case SIM_FAULT_NO_ANSWER: silent = true; break;
		case SIM_FAULT_STUCK: mods |= MOD_STUCK; break;
		case SIM_FAULT_STALE: mods |= MOD_STALE; break;
		case SIM_FAULT_FROZEN: mods |= MOD_FROZEN; break;
		case SIM_FAULT_NAN: mods |= MOD_NAN; break;
		case SIM_FAULT_OUT_OF_RANGE: mods |= MOD_RANGE; break;
		case SIM_FAULT_INTERNAL_ERROR: mods |= MOD_INTERNAL; break;
		case SIM_FAULT_CRASH: raise(SIGKILL); break;
		case SIM_FAULT_SEGV: raise(SIGSEGV); break;
		case SIM_FAULT_UNPLUG: unplugged = true; break;
		case SIM_FAULT_LOST_REPLY: break;   /* after the command: reply_lost() */
		case SIM_FAULT_PRESSED: break;      /* the button, not a failure: sim_estop_*() */
		case SIM_FAULT__COUNT: break;
		}
	}
	if (ret_mods)
		*ret_mods = mods;
	if (gone || unplugged)
		return -ENODEV;
	if (dropout)
		return -EIO;
	if (silent)
		return -ETIMEDOUT;
	return 0;
}

/* A pump command carried out whose answer never reaches the host (a broken
 * receive line): -ECOMM, which the host sees as a timeout. */
static int reply_lost(const struct sim_model *m, rig_ns t_ns)
{
	for (size_t i = 0; i < m->cfg.n_faults; i++) {
		const struct sim_fault *f = &m->cfg.faults[i];

		if (f->role == ROLE_PUMP && f->kind == SIM_FAULT_LOST_REPLY && model_fault_active(f, t_ns))
			return -ECOMM;
	}
	return 0;
}

bool sim_pump_link_unplugged(const struct sim_model *model, rig_ns t_ns)
{
	for (size_t i = 0; i < model->cfg.n_faults; i++) {
		const struct sim_fault *f = &model->cfg.faults[i];

		if (f->role == ROLE_PUMP && f->kind == SIM_FAULT_UNPLUG && model_fault_active(f, t_ns))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ actuators -- */

static bool pump_idle(const struct sim_model *m)
{
	return !m->basal.active && !m->bolus.active;
}

/* Starts a stroke stream at time t.  From an idle pump the first stroke comes
 * startup_delay later (the motor and mechanism take up their slack); a stream
 * started while the other one runs strokes at once.  Either way the first
 * stroke is at the start time, then one every interval: owed_ref = 1. */
static void stream_start(struct sim_model *m, struct stream *s, double rate_ml_per_h,
			 uint64_t strokes)
{
	double t0 = m->t;

	if (pump_idle(m))
		t0 += (double)m->cfg.startup_delay_ns;
	*s = (struct stream){ .active = true, .rate_per_ns = stroke_rate_per_ns(m, rate_ml_per_h),
			      .t_ref = t0, .owed_ref = 1.0, .remaining = strokes };
}

/* A new rate for a running stream keeps the fraction of a stroke already owed. */
static void stream_set_rate(struct sim_model *m, struct stream *s, double rate_ml_per_h)
{
	double owed;

	if (m->t > s->t_ref) {
		owed = s->owed_ref + s->rate_per_ns * (m->t - s->t_ref) - (double)s->n_since_ref;
		owed = owed < 0 ? 0 : owed > 1 ? 1 : owed;
		s->t_ref = m->t;
		s->owed_ref = owed;
		s->n_since_ref = 0;
	}
	s->rate_per_ns = stroke_rate_per_ns(m, rate_ml_per_h);
}

int sim_pump_set_rate(struct sim_model *model, rig_ns t_ns, double rate_ml_per_h)
{
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_PUMP, t_ns, NULL);
	if (r < 0)
		return r;
	if (!rate_ok(model, rate_ml_per_h))
		return -EINVAL;
	if (model->basal.active)
		stream_set_rate(model, &model->basal, rate_ml_per_h);
	else
		stream_start(model, &model->basal, rate_ml_per_h, UINT64_MAX);
	model->basal_set_ml_per_h = rate_ml_per_h;
	return reply_lost(model, t_ns);
}

/* A bolus (or prime) is a count of strokes, the volume (times 1 +
 * bolus_error) rounded to whole strokes, delivered at its own rate on top of
 * the basal strokes.  A second bolus while one runs is refused (-EBUSY), as
 * pumps do; so is a patient's bolus within the lockout after the last one
 * delivered (-EAGAIN), on the pump's own (true) clock. */
int sim_pump_bolus(struct sim_model *model, rig_ns t_ns, double volume_ml, double rate_ml_per_h,
		   enum bolus_demand demand)
{
	double n;
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_PUMP, t_ns, NULL);
	if (r < 0)
		return r;
	if (!(volume_ml > 0) || !isfinite(volume_ml) || !rate_ok(model, rate_ml_per_h))
		return -EINVAL;
	if (model->bolus.active)
		return -EBUSY;
	if (demand == BOLUS_PATIENT && model->patient_bolus_t >= 0 &&
	    model->t - model->patient_bolus_t < (double)model->cfg.bolus_lockout_ns)
		return -EAGAIN;
	n = round(volume_ml * (1 + model->cfg.bolus_error_pct / 100) / model->cfg.stroke_volume_ml);
	if (n < 1)
		n = 1;
	if (n >= 1e15)
		return -EINVAL;
	stream_start(model, &model->bolus, rate_ml_per_h, (uint64_t)n);
	if (demand == BOLUS_PATIENT)
		model->patient_bolus_t = model->t;
	return reply_lost(model, t_ns);
}

/* The reservoir emptied and refilled with volume_ml (truly that plus the
 * bench's refill_error: the weighing's error), and the pump told so:
 * its reading starts again from it, its empty alarm clears; it delivers
 * again when asked to.  More than the bench's reservoir holds is refused. */
int sim_pump_refill(struct sim_model *model, rig_ns t_ns, double volume_ml)
{
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_PUMP, t_ns, NULL);
	if (r < 0)
		return r;
	if (!(volume_ml > 0) || volume_ml > model->cfg.reservoir_ml * (1 + 1e-9))
		return -EINVAL;
	model->fill_ml = fmax(0, volume_ml + model->cfg.refill_error_ml);
	model->told_ml = volume_ml;
	model->fill_pumped_ml = ksum_value(&model->pumped_ml);
	model->fill_strokes = model->strokes;
	model->empty = false;
	return reply_lost(model, t_ns);
}

int sim_pump_stop(struct sim_model *model, rig_ns t_ns)
{
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_PUMP, t_ns, NULL);
	if (r < 0)
		return r;
	model->basal.active = false;
	model->bolus.active = false;
	model->basal_set_ml_per_h = 0;
	return reply_lost(model, t_ns);
}

double model_battery_used_mah(const struct sim_model *m)
{
	return m->cfg.quiescent_current_ua * (m->t / NS_PER_H) / 1000.0 +
	       (double)m->strokes * m->cfg.stroke_charge_mah;
}

/* Linear discharge curve from full to empty over the capacity. */
double model_battery_voltage_v(const struct sim_model *m)
{
	double full = m->cfg.battery_full_v, empty = m->cfg.battery_empty_v;
	double frac = m->cfg.battery_capacity_mah > 0
			      ? model_battery_used_mah(m) / m->cfg.battery_capacity_mah : 1.0;

	frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
	return full - (full - empty) * frac;
}

/* The pump's telemetry.  delivered_ml is the pump's own count of strokes
 * times the nominal stroke volume: the pump cannot tell a stalled stroke, so
 * under occlusion it over-reports, as a real one would.  The elective
 * replacement indicator (low battery) rises when the voltage falls below
 * empty + 10 % of (full - empty), i.e. with the linear curve after 90 % of the
 * capacity is used. */
int sim_pump_identity(struct sim_model *model, rig_ns t_ns, struct pump_identity *ret)
{
	struct pump_status st;
	int r = sim_pump_status(model, t_ns, &st);

	if (r < 0)
		return r;
	if (!model->cfg.pump_serial[0])
		return -ENOTSUP;
	snprintf(ret->serial, sizeof(ret->serial), "%s", model->cfg.pump_serial);
	snprintf(ret->firmware, sizeof(ret->firmware), "%s",
		 model->cfg.pump_firmware[0] ? model->cfg.pump_firmware : "-");
	return 0;
}

void sim_model_set_identity(struct sim_model *model, const char *serial, const char *firmware)
{
	if (!model->cfg.pump_serial[0] && serial)
		snprintf(model->cfg.pump_serial, sizeof(model->cfg.pump_serial), "%s", serial);
	if (!model->cfg.pump_firmware[0] && firmware)
		snprintf(model->cfg.pump_firmware, sizeof(model->cfg.pump_firmware), "%s", firmware);
}

int sim_pump_status(struct sim_model *model, rig_ns t_ns, struct pump_status *ret)
{
	double full = model->cfg.battery_full_v, empty = model->cfg.battery_empty_v;
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_PUMP, t_ns, NULL);
	if (r == 0 && reply_lost(model, t_ns))
		r = -ETIMEDOUT;   /* a status that never arrives */
	if (r < 0)
		return r;
	*ret = (struct pump_status){
		.running = model->basal.active,
		.bolus_active = model->bolus.active,
		.rate_ml_per_h = model->basal.active ? model->basal_set_ml_per_h : 0,
		.delivered_ml = (double)model->strokes * model->cfg.stroke_volume_ml,
		/* the pump's telemetry reports its battery to the millivolt */
		.battery_v = round(model_battery_voltage_v(model) * 1000) / 1000,
		.reservoir_ml = fmax(0, model_reservoir_reading_ml(model)),
	};
	if (model->empty)
		ret->alarms |= PUMP_ALARM_EMPTY | PUMP_ALARM_RESERVOIR;
	else if (model->cfg.low_reservoir_ml > 0 &&
		 model_reservoir_reading_ml(model) <= model->cfg.low_reservoir_ml)
		ret->alarms |= PUMP_ALARM_RESERVOIR;
	if (model->asserted)
		ret->alarms |= PUMP_ALARM_OCCLUSION;
	if (model_battery_voltage_v(model) < empty + 0.1 * (full - empty))
		ret->alarms |= PUMP_ALARM_LOW_BATTERY;
	return 0;
}

int sim_valve_set_closed(struct sim_model *model, rig_ns t_ns, bool closed)
{
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_VALVE, t_ns, NULL);
	if (r < 0)
		return r;
	model->valve_closed = closed;
	return 0;
}

/* The pan's true load as the balance would show it, without noise, span,
 * linearity or drift (model_scale_indication_g adds those): vessel and
 * liquid.  The balance is
 * adjusted with 8000 kg/m3 steel weights, so it reads "conventional mass":
 * liquid that displaces more air than steel reads light by the factor
 * (1 - rho_air/rho_liquid) / (1 - rho_air/rho_steel).  (The vessel is tared
 * away, so only the liquid's buoyancy matters.) */
double model_scale_gross_g(const struct sim_model *m)
{
	const double rho_steel_g_per_ml = 8.0;
	double rho_air = m->cfg.air_density_g_per_ml;
	double conventional = (1 - rho_air / m->density_g_per_ml) / (1 - rho_air / rho_steel_g_per_ml);

	return m->cfg.vessel_mass_g +
	       ksum_value(&m->vessel_ml) * m->density_g_per_ml * conventional + m->pan_weight_g;
}

/* What the balance indicates for that load, before noise and tare: its span
 * error (the gain its adjustment left), its deviation from a straight line,
 * and its zero drift, which grows linearly with time whatever the load.
 * The deviation is a sum of SIM_LINEARITY_TERMS sinusoids of the load, with
 * periods of linearity_period times 1, 1.618, 2.618, 4.236 and phases set by
 * the seed, each of amplitude linearity / sqrt(2): its standard deviation
 * over loads is `linearity`, and loads further apart than a few periods
 * deviate independently. */
double model_scale_indication_g(const struct sim_model *m)
{
	double load = model_scale_gross_g(m), lin = 0, period = m->cfg.scale_linearity_period_g;

	for (int k = 0; m->cfg.scale_linearity_g > 0 && k < SIM_LINEARITY_TERMS; k++) {
		lin += m->cfg.scale_linearity_g / sqrt(2) *
		       sin(2 * M_PI * load / period + m->linearity_phase[k]);
		period *= 1.6180339887498949;
	}
	return load * (1 + m->cfg.scale_span_rel) + lin +
	       m->cfg.scale_drift_g_per_h * (m->t / NS_PER_H);
}

int sim_scale_tare(struct sim_model *model, rig_ns t_ns)
{
	int r;

	sim_model_advance(model, t_ns);
	r = model_fault_check(model, ROLE_SCALE, t_ns, NULL);
	if (r < 0)
		return r;
	model->tare_g = model_scale_indication_g(model);
	model->tare_t = model->t;
	model->tared = true;
	return 0;
}
