/* The sampler: every instrument read at its period against absolute
 * deadlines, each reading checked and recorded as it is taken, and the wait
 * conditions of the steps. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "drivers/sim/model.h"
#include "rig/base/record.h"
#include "rig/base/signals.h"

/* A sensor read failed.  Where the bench file allows it, the sensor is
 * reopened at each of its sampling deadlines until it answers again within
 * its reconnect bound: the gap is recorded (fault and recovery events) and
 * the samples on either side stand; past the bound, or without one, the run
 * aborts.  The first error stays the root cause. */
static bool sensor_failed(struct engine *e, enum rig_role role, int err)
{
	const struct instrument_cfg *ic = &e->o->bench->instrument[role];
	struct outage *o = &e->outage[role];
	rig_ns t = engine_now(e);

	char why[512];

	/* the backend's own account where it has one ("no answer from ip:... within
	 * 3 s (reading hx711 voltage0 raw)"), else strerror's */
	instrument_error_text(ic, err, why, sizeof(why));
	if (ic->reconnect_ns <= 0) {
		engine_abort(e, CAUSE_BENCH, "%s read failed: %s", rig_role_name(role), why);
		return false;
	}
	if (!o->down) {
		*o = (struct outage){ .down = true, .since_ns = t, .first_error = err };
		engine_event(e, "instrument_fault", json_pack("{s:s, s:s, s:f}", "role", rig_role_name(role),
						       "error", why, "reconnect_within_s",
						       rig_ns_to_s(ic->reconnect_ns)));
	}
	if (t - o->since_ns > ic->reconnect_ns) {
		instrument_error_text(ic, o->first_error, why, sizeof(why));
		engine_abort(e, CAUSE_BENCH, "%s did not come back within %.0f s (first error: %s)",
			  rig_role_name(role), rig_ns_to_s(ic->reconnect_ns), why);
		return false;
	}
	/* try a fresh connection for the next deadline, keeping a software tare */
	if (e->inst[role]) {
		o->soft_tared = e->inst[role]->soft_tared;
		o->soft_tare = e->inst[role]->soft_tare;
	}
	instrument_close(e->inst[role]);
	e->inst[role] = NULL;
	o->attempts++;
	if (instrument_open(&e->inst[role], role, &e->env) < 0) {
		e->inst[role] = NULL;
	} else {
		e->inst[role]->soft_tared = o->soft_tared;
		e->inst[role]->soft_tare = o->soft_tare;
	}
	return true;
}

static bool quantity_fits(enum rig_role role, enum quantity q)
{
	return role != ROLE_ALARM && role != ROLE_PUMP && record_role_quantity(role, q);
}

/* Freshness: a sensor that answers with nothing new (no reading, or only
 * repeats it flags stale) for stale_after periods running is as good as
 * gone, and the supervisor cannot watch the bench through it. */
static void guard_freshness(struct engine *e, enum rig_role role, const struct reading *rd,
			    size_t n)
{
	const struct instrument_cfg *ic = &e->o->bench->instrument[role];
	struct guard *g = &e->guard[role];
	bool fresh = false;

	for (size_t i = 0; i < n; i++)
		fresh |= !(rd[i].flags & SAMPLE_STALE);
	if (fresh) {
		g->stale_periods = 0;
		return;
	}
	if (++g->stale_periods >= (ic->stale_after ? ic->stale_after : 3))
		engine_abort(e, CAUSE_BENCH, "%s gave no fresh reading for %u periods (%.0f s; bench stale_after = %u)",
			  rig_role_name(role), g->stale_periods,
			  rig_ns_to_s(ic->period_ns) * g->stale_periods, ic->stale_after);
}

/* Plausibility of the primary reading: finite, inside the bench's valid
 * range, and, for an instrument the bench says has noise (stuck_after), not
 * the same value over and over. Returns false for a reading the supervisor
 * must not act on. */
static bool guard_value(struct engine *e, enum rig_role role, struct reading *rd)
{
	const struct instrument_cfg *ic = &e->o->bench->instrument[role];
	struct guard *g = &e->guard[role];

	if (!isfinite(rd->value)) {
		engine_abort(e, CAUSE_BENCH, "%s reading is not a number (%g %s)", rig_role_name(role), rd->value,
			  quantity_unit(rd->quantity));
		return false;
	}
	if (ic->valid_min < ic->valid_max &&   /* a bench built in code may give none */
	    (rd->value < ic->valid_min || rd->value > ic->valid_max)) {
		rd->flags |= SAMPLE_OUT_OF_RANGE;
		engine_abort(e, CAUSE_BENCH, "%s reading %g %s outside its valid range %g..%g %s (bench valid_range)",
			  rig_role_name(role), rd->value, quantity_unit(rd->quantity), ic->valid_min,
			  ic->valid_max, quantity_unit(rd->quantity));
		return false;
	}
	if (ic->stuck_after == 0 || (rd->flags & SAMPLE_STALE))
		return true;
	if (g->have_last && rd->value == g->last_value) {
		if (++g->same_count >= ic->stuck_after)
			engine_abort(e, CAUSE_BENCH, "%s stuck: %u identical readings of %.10g %s (bench stuck_after = %u)",
				  rig_role_name(role), g->same_count, rd->value,
				  quantity_unit(rd->quantity), ic->stuck_after);
	} else {
		g->same_count = 1;
	}
	g->last_value = rd->value;
	g->have_last = true;
	return true;
}

/* Returns how many readings it took (a full READINGS_BATCH: there may be more). */
static size_t read_sensor(struct engine *e, enum rig_role role)
{
	struct reading rd[READINGS_BATCH];
	struct outage *o = &e->outage[role];
	size_t n = 0;
	int r;

	r = e->inst[role] ? sensor_read(e->inst[role], rd, READINGS_BATCH, &n) : -ENODEV;
	if (r < 0) {
		sensor_failed(e, role, r);
		return 0;
	}
	if (o->down) {
		engine_event(e, "instrument_recovered", json_pack("{s:s, s:f, s:f, s:i}", "role",
			rig_role_name(role), "gap_begin_s", rig_ns_to_s(o->since_ns), "gap_s",
			rig_ns_to_s(engine_now(e) - o->since_ns), "attempts", (int)o->attempts));
		o->down = false;
	}
	if (n > READINGS_BATCH) {
		engine_internal_error(e, "%s driver returned %zu readings, more than %d", rig_role_name(role),
			       n, READINGS_BATCH);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!quantity_fits(role, rd[i].quantity)) {
			engine_internal_error(e, "%s driver returned a reading of quantity %d, which that "
				       "role cannot measure", rig_role_name(role), (int)rd[i].quantity);
			return 0;
		}
	guard_freshness(e, role, rd, n);
	for (size_t i = 0; i < n; i++) {
		/* Each primary reading (every scan of a buffered batch) is judged
		 * before it is recorded so that its out-of-range flag goes to disk
		 * with it; it is recorded whatever the verdict: raw samples as taken. */
		bool usable = rd[i].quantity != role_primary_quantity(role) || guard_value(e, role, &rd[i]);

		r = recorder_sample(e->rec, role, &rd[i]);
		if (r < 0) {
			engine_abort(e, CAUSE_BENCH, "cannot record samples: %s", strerror(-r));
			return 0;
		}
		if (usable && isfinite(rd[i].value))
			engine_check_reading(e, role, &rd[i]);
	}
	return n;
}

/* A buffered sensor hands over its batch in parts of READINGS_BATCH. */
static void read_sensor_batch(struct engine *e, enum rig_role role)
{
	while (read_sensor(e, role) == READINGS_BATCH && !e->aborted)
		;
}

/* The scans a buffered sensor took since its last collection are collected
 * once more when the run ends, however it ends, so the record reaches the
 * end of the run (up to the fault) and not only the last batch.  A failure
 * here ends the collection, nothing more: the run is over. */
void engine_drain_buffers(struct engine *e)
{
	for (int role = 0; role < ROLE__COUNT; role++) {
		struct reading rd[READINGS_BATCH];
		size_t n = 0;

		if (!e->inst[role] || !e->o->bench->instrument[role].buffered || e->outage[role].down)
			continue;
		do {
			if (sensor_read(e->inst[role], rd, READINGS_BATCH, &n) < 0)
				break;
			for (size_t i = 0; i < n; i++)
				if (recorder_sample(e->rec, (enum rig_role)role, &rd[i]) < 0)
					return;
		} while (n == READINGS_BATCH);
	}
}

static void read_alarm(struct engine *e)
{
	struct edge ed;
	int r;

	/* Edges carry the time they happened; time-to-alarm is measured from
	 * that, not from when this loop noticed. */
	while ((r = input_next_edge(e->inst[ROLE_ALARM], &ed)) > 0) {
		struct reading rd = { ed.t_ns, QUANT_ALARM_LEVEL, ed.rising ? 1.0 : 0.0, 0 };

		e->alarm_active = ed.rising;
		recorder_sample(e->rec, ROLE_ALARM, &rd);
		recorder_event(e->rec, ed.t_ns, "alarm", json_pack("{s:s, s:s}", "line", "alarm",
								  "edge", ed.rising ? "rising" : "falling"));
	}
	if (r < 0)
		engine_abort(e, CAUSE_BENCH, "alarm input failed: %s", strerror(-r));
}

/* The emergency stop: pressed (or found pressed) is an abort, at once; the
 * safe-state sequence runs as for any abort. */
static void read_estop(struct engine *e)
{
	struct edge ed;
	bool active = false;
	int r;

	while ((r = input_next_edge(e->inst[ROLE_ESTOP], &ed)) > 0) {
		recorder_event(e->rec, ed.t_ns, "estop", json_pack("{s:s, s:s}", "line", "estop",
								  "edge", ed.rising ? "rising" : "falling"));
		if (ed.rising && !e->aborted)
			engine_abort(e, CAUSE_OPERATOR, "emergency stop pressed at t = %.3f s", rig_ns_to_s(ed.t_ns));
	}
	if (r == 0)
		r = input_level(e->inst[ROLE_ESTOP], &active);
	if (r < 0)
		engine_abort(e, CAUSE_BENCH, "emergency stop input failed: %s", strerror(-r));
	else if (active && !e->aborted)
		engine_abort(e, CAUSE_OPERATOR, "emergency stop is pressed");
}


/* The pump's own account (its delivered total, reservoir and battery
 * voltage) goes into the record beside the bench's measurements, so a report
 * can set the pump's word against the balance's.  It is polled every pump
 * period but changes only with strokes: a value is written when it differs
 * from the last one written, and always first. */
static void record_pump_telemetry(struct engine *e, const struct pump_status *st)
{
	const struct { enum quantity q; double now; } v[PUMP_TELEMETRY_N] = {
		{ QUANT_DELIVERED_ML, st->delivered_ml },
		{ QUANT_RESERVOIR_ML, st->reservoir_ml },
		{ QUANT_VOLTAGE_V, st->battery_v },
	};

	for (size_t i = 0; i < PUMP_TELEMETRY_N; i++) {
		struct reading rd = { engine_now(e), v[i].q, v[i].now, 0 };

		if (!isfinite(v[i].now) || (e->telemetry_written[i] && v[i].now == e->telemetry[i]))
			continue;
		if (recorder_sample(e->rec, ROLE_PUMP, &rd) < 0)
			return;
		e->telemetry[i] = v[i].now;
		e->telemetry_written[i] = true;
	}
}

void engine_read_pump(struct engine *e)
{
	struct pump_status st;
	int r = pump_status(e->inst[ROLE_PUMP], &st);

	if (r < 0 && engine_pump_link_lost(e, r, "status") == 0)
		return;   /* back, and its status read afresh */
	if (r < 0) {
		engine_abort(e, CAUSE_DEVICE, "pump status failed: %s", strerror(-r));
		return;
	}
	if (!e->have_pump_status || st.alarms != e->pump.alarms)
		engine_event(e, "pump_alarms", json_pack("{s:i, s:b, s:b, s:b, s:b}", "alarms",
						  (int)st.alarms,
						  "occlusion", !!(st.alarms & PUMP_ALARM_OCCLUSION),
						  "low_battery", !!(st.alarms & PUMP_ALARM_LOW_BATTERY),
						  "reservoir_low", !!(st.alarms & PUMP_ALARM_RESERVOIR),
						  "reservoir_empty", !!(st.alarms & PUMP_ALARM_EMPTY)));
	record_pump_telemetry(e, &st);
	e->pump = st;
	e->have_pump_status = true;
}

void engine_read_slot(struct engine *e, enum rig_role role)
{
	switch (role) {
	case ROLE_PUMP:
		if (!e->pump_down)
			engine_read_pump(e);
		break;
	case ROLE_ALARM: read_alarm(e); break;
	case ROLE_ESTOP: read_estop(e); break;
	default: read_sensor_batch(e, role); break;
	}
	if (e->o->observe)
		e->o->observe(e->o->observe_ctx, engine_now(e), rig_role_name(role), NULL, e->env.sim);
}

void engine_progress(struct engine *e, bool force)
{
	const struct step *s;
	struct timespec wall;
	char t[32];

	if (!e->o->progress || !e->o->progress_live || e->step_index >= e->o->seq->n_steps)
		return;
	clock_gettime(CLOCK_MONOTONIC, &wall);
	if (!force && (wall.tv_sec - e->last_progress.tv_sec) * 1000000000L +
			      (wall.tv_nsec - e->last_progress.tv_nsec) < 200000000L)
		return;
	e->last_progress = wall;
	s = &e->o->seq->steps[e->step_index];
	engine_fmt_duration(engine_now(e), t, sizeof(t));
	fprintf(e->o->progress, "\r  step %zu/%zu %-9s t = %s  delivered %.4f mL \x1b[K",
		e->step_index + 1, e->o->seq->n_steps, step_kind_name(s->kind), t, e->delivered_ml);
	fflush(e->o->progress);
}

static bool condition_met(struct engine *e, enum wait_for what)
{
	switch (what) {
	case WAIT_BOLUS_DONE: return e->have_pump_status && !e->pump.bolus_active;
	case WAIT_TARE_SETTLED: return e->tare_settled;
	case WAIT_LINE_STILL: return engine_line_still(e);
	case WAIT_ALARM:
		return e->alarm_active || (e->pump.alarms & PUMP_ALARM_OCCLUSION);
	default: return false;
	}
}

/* Samples until `what` holds (or, for WAIT_NOTHING, until end_ns).  Deadlines
 * are absolute multiples of each period from the run's start, so a late read
 * never shifts the ones after it. */
enum wait_result engine_run_until(struct engine *e, rig_ns end_ns, enum wait_for what)
{
	const struct bench *b = e->o->bench;

	for (;;) {
		rig_ns t = engine_now(e), next = end_ns;
		int sig = *e->o->stop_signal;

		if (sig) {
			char name[RIG_SIGNAL_NAME_MAX];

			engine_abort(e, CAUSE_OPERATOR, "stopped by signal %s", rig_signal_name(sig, name));
			/* obeyed: one arriving from now on is noted by the safe state */
			*e->o->stop_signal = 0;
			return WAIT_ABORTED;
		}
		if (e->aborted)
			return WAIT_ABORTED;
		if (t > b->limit_duration_ns) {
			engine_abort(e, CAUSE_BENCH, "run time %.0f s past the bench limit %.0f s", rig_ns_to_s(t),
				  rig_ns_to_s(b->limit_duration_ns));
			return WAIT_ABORTED;
		}
		if (what != WAIT_NOTHING && condition_met(e, what))
			return WAIT_DONE;
		if (t >= end_ns)
			return what == WAIT_NOTHING ? WAIT_DONE : WAIT_TIMED_OUT;
		for (size_t i = 0; i < e->n_slots; i++)
			if (e->slots[i].next_ns < next)
				next = e->slots[i].next_ns;
		if (b->limit_duration_ns < next)
			next = b->limit_duration_ns + 1;
		if (engine_sleep(e, next) < 0)
			continue;   /* a signal: the loop head looks at it */
		t = engine_now(e);
		for (size_t i = 0; i < e->n_slots; i++) {
			struct slot *sl = &e->slots[i];

			if (sl->next_ns > t)
				continue;
			/* After a fault, straight to the safe state: another
			 * instrument on a silent board would cost its own
			 * answer bound first. */
			if (e->aborted)
				break;
			engine_read_slot(e, sl->role);
			sl->next_ns += sl->period_ns;
			if (sl->next_ns <= t) {
				/* Fell behind by whole periods (a slow instrument on a
				 * real bench): skip them and say so. */
				rig_ns missed = (t - sl->next_ns) / sl->period_ns + 1;

				sl->next_ns += missed * sl->period_ns;
				engine_event(e, "overrun", json_pack("{s:s, s:I}", "role", rig_role_name(sl->role),
							     "missed_periods", (json_int_t)missed));
			}
		}
		engine_progress(e, false);
	}
}
