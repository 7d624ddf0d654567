#include "engine.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calgate.h"
#include "clock.h"
#include "recorder.h"
#include "resume.h"
#include "../drivers/driver.h"
#include "../drivers/sim/model.h"

#define PUMP_POLL_DEFAULT_NS RIG_NS_PER_S
#define SAFE_STOP_ATTEMPTS 5
#define SAFE_STOP_RETRY_NS RIG_NS_PER_S
#define PUMP_TELEMETRY_N 3   /* delivered, reservoir, battery voltage */
#define PUMP_RECONNECT_RETRY_NS (5 * RIG_NS_PER_S)

enum wait_for { WAIT_NOTHING, WAIT_BOLUS_DONE, WAIT_TARE_SETTLED, WAIT_ALARM };
enum wait_result { WAIT_DONE, WAIT_TIMED_OUT, WAIT_ABORTED };

/* One periodically read instrument. */
struct slot {
	enum rig_role role;
	rig_ns period_ns;
	rig_ns next_ns;
};

/* A sensor that failed and may come back (bench key reconnect). */
struct outage {
	bool down;
	rig_ns since_ns;
	int first_error;
	unsigned attempts;
	bool soft_tared;
	double soft_tare;
};

/* The supervisor's view of one sensor's freshness and plausibility. */
struct guard {
	unsigned stale_periods;    /* reads in a row with no fresh reading */
	unsigned same_count;       /* successive identical primary readings */
	double last_value;
	bool have_last;
};

struct engine {
	const struct engine_opts *o;
	struct rig_clock *clock;
	struct driver_env env;
	struct instrument *inst[ROLE__COUNT];
	struct instrument *outputs[OUTPUTS_MAX];   /* bench.outputs, in the file's order */
	struct recorder *rec;
	struct slot slots[ROLE__COUNT];
	size_t n_slots;

	/* What the sampler has seen, for wait conditions, limits and progress. */
	struct pump_status pump;
	bool have_pump_status;
	double telemetry[PUMP_TELEMETRY_N];   /* the pump's values last written */
	bool telemetry_written[PUMP_TELEMETRY_N];
	bool alarm_active;
	rig_ns tare_t_ns;
	bool tare_settled;
	bool have_mass;
	double first_mass_g;       /* first balance reading of the run */
	double tare_offset_g;      /* net readings removed by tares since */
	double last_mass_g;
	double delivered_ml;       /* estimate from the balance, for limit and progress */
	double delivered_base_ml;  /* the estimate before a resume's gap */
	rig_ns t_start_ns;         /* 0, or where a resumed run's time base continues */

	/* The first reason to abort is the root cause; later ones are consequences. */
	bool aborted;
	char abort_reason[512];
	size_t step_index;

	struct timespec last_progress;
	struct sim_clock_link *clock_link;   /* a wire simulator kept in lockstep */
	struct outage outage[ROLE__COUNT];
	struct guard guard[ROLE__COUNT];
	bool pump_down;                      /* the pump link is being reopened */
};

static void fmt_duration(rig_ns t_ns, char *buf, size_t len)
{
	long long s = (long long)(t_ns / RIG_NS_PER_S);

	snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
}

static rig_ns now(struct engine *e)
{
	return rig_clock_now(e->clock);
}

static void abort_run(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sleeps (or, on the virtual clock, jumps) to the deadline; a wire-level
 * simulator in lockstep is told the new time before anything is read. */
static int clock_sleep(struct engine *e, rig_ns deadline_ns)
{
	int r = rig_clock_sleep_until(e->clock, deadline_ns);

	if (r == 0 && e->clock_link) {
		r = sim_clock_link_set(e->clock_link, now(e));
		if (r < 0) {
			struct sim_clock_link *l = e->clock_link;

			e->clock_link = NULL;   /* do not try again while going safe */
			sim_clock_link_close(l);
			abort_run(e, "lost the wire simulator's clock (%s): %s",
				  e->o->bench->sim_clock_uri, strerror(-r));
			return 0;
		}
	}
	return r;
}

/* Wall-clock time now, ISO 8601 in UTC: run time (virtual or monotonic)
 * says nothing about when the run happened, which a report must state. */
static const char *utc_now(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "unknown");
	return buf;
}

static void event(struct engine *e, const char *name, json_t *fields)
{
	if (!e->rec) {   /* rig safe on a bench with no record to take up */
		json_decref(fields);
		return;
	}
	recorder_event(e->rec, now(e), name, fields);
}

static void abort_run(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void abort_run(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	char reason[512];

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	event(e, "fault", json_pack("{s:s, s:b}", "reason", reason, "root_cause", !e->aborted));
	if (e->aborted)
		return;
	e->aborted = true;
	snprintf(e->abort_reason, sizeof(e->abort_reason), "%s", reason);
}

/* A broken promise inside the rig itself (a driver answering outside its
 * contract, a state the code cannot be in).  Nothing the engine holds can be
 * trusted further, so the run aborts through the ordinary path: the safe
 * state needs only the instruments, not the engine's bookkeeping. */
static void internal_error(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void internal_error(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	char what[400];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	event(e, "internal_error", json_pack("{s:s}", "what", what));
	abort_run(e, "internal error: %s", what);
}

/* -------------------------------------------------------------- safety -- */

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" :
	       "other";
}

/* Waits until run time t_ns whatever signals arrive: the safe-state sequence
 * must not be hurried by an impatient operator. */
static void sleep_through_signals(struct engine *e, rig_ns t_ns)
{
	while (clock_sleep(e, t_ns) == -EINTR)
		;
}

static void safe_pump(struct engine *e, json_t *actions)
{
	int attempts = 0, r;

	/* A pump that did not answer may answer a moment later: the stop is
	 * retried, a bounded number of times, before giving up. */
	do {
		if (attempts > 0) {
			sleep_through_signals(e, now(e) + SAFE_STOP_RETRY_NS);
			/* a link that timed out or went may be back */
			if (r != -ENOTSUP)
				(void)pump_reconnect(e->inst[ROLE_PUMP]);
		}
		r = pump_stop(e->inst[ROLE_PUMP]);
		attempts++;
		if (r < 0)
			event(e, "pump_stop_failed", json_pack("{s:i, s:s}", "attempt", attempts,
							       "error", strerror(-r)));
		/* a link allowed to come back (bench reconnect) may, even after -ENODEV */
	} while (r < 0 && (r != -ENODEV || e->o->bench->instrument[ROLE_PUMP].reconnect_ns > 0) &&
		 attempts < SAFE_STOP_ATTEMPTS);
	json_object_set_new(actions, "pump", json_string(r < 0 ? strerror(-r) : "stopped"));
	json_object_set_new(actions, "pump_stop_attempts", json_integer(attempts));
}

/* Every bench output line to its safe level, after the pump and the valve
 * (a pump's enable cut first would leave its stop command unanswered).  Each
 * is tried until it answers, as the valve is.  Returns true when all are
 * there; each outcome goes into actions.outputs. */
static bool safe_outputs(struct engine *e, json_t *actions)
{
	const struct bench *b = e->o->bench;
	json_t *levels;
	bool ok = true;

	if (b->n_outputs == 0)
		return true;
	levels = json_object();
	for (size_t i = 0; i < b->n_outputs; i++) {
		const struct output_cfg *oc = &b->outputs[i];
		int attempts = 0, r = -ENODEV;

		if (!e->outputs[i])
			continue;   /* never opened: released at its safe level, or never taken */
		do {
			if (attempts > 0)
				sleep_through_signals(e, now(e) + SAFE_STOP_RETRY_NS);
			r = output_set(e->outputs[i], oc->safe_on);
			attempts++;
		} while (r < 0 && r != -ENODEV && attempts < SAFE_STOP_ATTEMPTS);
		json_object_set_new(levels, oc->name, json_string(r < 0 ? strerror(-r) :
								  oc->safe_on ? "on" : "off"));
		ok = ok && r == 0;
	}
	json_object_set_new(actions, "outputs", levels);
	return ok;
}

/* The valve to its declared safe state, tried up to max times in all (a
 * valve driver may fail once and answer a moment later, as a pump may);
 * *attempts counts across calls.  Returns 0 once it is there. */
static int safe_valve(struct engine *e, json_t *actions, int *attempts, int max)
{
	bool closed = e->o->bench->instrument[ROLE_VALVE].safe_closed;
	int r;

	do {
		if (*attempts > 0)
			sleep_through_signals(e, now(e) + SAFE_STOP_RETRY_NS);
		r = valve_set_closed(e->inst[ROLE_VALVE], closed);
		(*attempts)++;
		if (r < 0)
			event(e, "valve_set_failed", json_pack("{s:i, s:s}", "attempt", *attempts,
							       "error", strerror(-r)));
	} while (r < 0 && r != -ENODEV && *attempts < max);
	json_object_set_new(actions, "valve", json_string(r < 0 ? strerror(-r) :
							  closed ? "closed" : "open"));
	json_object_set_new(actions, "valve_attempts", json_integer(*attempts));
	return r;
}

/* Pump stopped, occlusion released, outputs at their declared safe levels.
 * Every action is attempted whatever the others did, and each outcome is
 * recorded: a failure here is the one thing an operator must know.  A valve
 * whose safe state is open goes first: an open line cannot build pressure
 * while a pump that does not answer is asked again to stop.  One whose safe
 * state is closed goes last, after the pump, for the same reason.  A valve
 * that fails is asked again after the pump, not before: the pump's stop must
 * not wait on it.  A signal arriving meanwhile changes nothing (it is noted,
 * not obeyed). */
static bool safe_state(struct engine *e, const char *why)
{
	bool bench_safe;
	json_t *actions = json_object();
	bool valve_first = e->inst[ROLE_VALVE] && !e->o->bench->instrument[ROLE_VALVE].safe_closed;
	int valve_attempts = 0, vr = -1;
	bool outputs_ok;

	event(e, "safe_state_begin", json_pack("{s:s}", "reason", why));
	if (valve_first)
		vr = safe_valve(e, actions, &valve_attempts, 1);
	if (e->inst[ROLE_PUMP])
		safe_pump(e, actions);
	if (e->inst[ROLE_VALVE] && vr < 0 && (!valve_first || vr != -ENODEV))
		safe_valve(e, actions, &valve_attempts, SAFE_STOP_ATTEMPTS);
	outputs_ok = safe_outputs(e, actions);
	if (*e->o->stop_signal)
		json_object_set_new(actions, "signal_while_going_safe",
				    json_string(signal_name(*e->o->stop_signal)));
	json_object_set_new(actions, "reason", json_string(why));
	{
		const char *pump = json_string_value(json_object_get(actions, "pump"));
		const char *valve = json_string_value(json_object_get(actions, "valve"));
		bool pump_ok = !pump || strcmp(pump, "stopped") == 0;
		bool valve_ok = !valve || strcmp(valve, "open") == 0 || strcmp(valve, "closed") == 0;

		bench_safe = pump_ok && valve_ok && outputs_ok;
		json_object_set_new(actions, "bench_safe", json_boolean(bench_safe));
		/* the one thing that must reach a person whatever -q says */
		if (!pump_ok || !valve_ok || !outputs_ok)
			fprintf(stderr, "rig: THE BENCH MAY NOT BE SAFE: pump %s, valve %s%s; "
				"make it safe by hand\n", pump ? pump : "-", valve ? valve : "-",
				outputs_ok ? "" : ", an output line not at its safe level");
	}
	event(e, "safe_state", actions);
	return bench_safe;
}

/* The supervisor's own release: what the valve did is recorded as it is,
 * and the safe state that follows tries again if it failed. */
static void release_now(struct engine *e)
{
	int r;

	if (!e->inst[ROLE_VALVE])
		return;
	r = valve_set_closed(e->inst[ROLE_VALVE], false);
	if (r < 0)
		event(e, "valve_set_failed", json_pack("{s:s, s:s}", "error", strerror(-r), "by",
						       "safety supervisor"));
	else
		event(e, "valve", json_pack("{s:s, s:s}", "state", "open", "by", "safety supervisor"));
}

static void check_reading(struct engine *e, enum rig_role role, const struct reading *rd)
{
	const struct bench *b = e->o->bench;

	if (role == ROLE_PRESSURE && rd->quantity == QUANT_PRESSURE_KPA &&
	    rd->value > b->limit_pressure_kpa) {
		/* Release first, then explain: the line must not stay pressurised
		 * while the run winds down. */
		release_now(e);
		abort_run(e, "line pressure %.1f kPa above the bench limit %.1f kPa", rd->value,
			  b->limit_pressure_kpa);
	}
	if (role == ROLE_SCALE && rd->quantity == QUANT_MASS_G) {
		if (!e->have_mass) {
			e->have_mass = true;
			e->first_mass_g = rd->value;
		}
		e->last_mass_g = rd->value;
		e->delivered_ml = e->delivered_base_ml +
				  (rd->value + e->tare_offset_g - e->first_mass_g) / b->density_g_per_ml;
		if (e->delivered_ml > b->limit_volume_ml)
			abort_run(e, "delivered volume %.4f mL above the bench limit %.4f mL",
				  e->delivered_ml, b->limit_volume_ml);
		if (rd->t_ns > e->tare_t_ns && !(rd->flags & SAMPLE_UNSTABLE))
			e->tare_settled = true;
	}
}

/* ------------------------------------------------------------- sampler -- */

/* A sensor read failed.  Where the bench file allows it, the sensor is
 * reopened at each of its sampling deadlines until it answers again within
 * its reconnect bound: the gap is recorded (fault and recovery events) and
 * the samples on either side stand; past the bound, or without one, the run
 * aborts.  The first error stays the root cause. */
static bool sensor_failed(struct engine *e, enum rig_role role, int err)
{
	const struct instrument_cfg *ic = &e->o->bench->instrument[role];
	struct outage *o = &e->outage[role];
	rig_ns t = now(e);

	if (ic->reconnect_ns <= 0) {
		abort_run(e, "%s read failed: %s", rig_role_name(role), strerror(-err));
		return false;
	}
	if (!o->down) {
		*o = (struct outage){ .down = true, .since_ns = t, .first_error = err };
		event(e, "instrument_fault", json_pack("{s:s, s:s, s:f}", "role", rig_role_name(role),
						       "error", strerror(-err), "reconnect_within_s",
						       rig_ns_to_s(ic->reconnect_ns)));
	}
	if (t - o->since_ns > ic->reconnect_ns) {
		abort_run(e, "%s did not come back within %.0f s (first error: %s)",
			  rig_role_name(role), rig_ns_to_s(ic->reconnect_ns),
			  strerror(-o->first_error));
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

/* The quantity a role's valid_range and stuck_after speak of. */
static enum quantity primary_quantity(enum rig_role role)
{
	switch (role) {
	case ROLE_SCALE: return QUANT_MASS_G;
	case ROLE_FLOW: return QUANT_FLOW_ML_PER_H;
	case ROLE_PRESSURE: return QUANT_PRESSURE_KPA;
	default: return QUANT_CURRENT_UA;
	}
}

static bool quantity_fits(enum rig_role role, enum quantity q)
{
	switch (role) {
	case ROLE_SCALE: return q == QUANT_MASS_G;
	case ROLE_FLOW: return q == QUANT_FLOW_ML_PER_H;
	case ROLE_PRESSURE: return q == QUANT_PRESSURE_KPA;
	case ROLE_POWER: return q == QUANT_CURRENT_UA || q == QUANT_VOLTAGE_V;
	default: return false;
	}
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
		abort_run(e, "%s gave no fresh reading for %u periods (%.0f s; bench stale_after = %u)",
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
		abort_run(e, "%s reading is not a number (%g %s)", rig_role_name(role), rd->value,
			  quantity_unit(rd->quantity));
		return false;
	}
	if (ic->valid_min < ic->valid_max &&   /* a bench built in code may give none */
	    (rd->value < ic->valid_min || rd->value > ic->valid_max)) {
		rd->flags |= SAMPLE_OUT_OF_RANGE;
		abort_run(e, "%s reading %g %s outside its valid range %g..%g %s (bench valid_range)",
			  rig_role_name(role), rd->value, quantity_unit(rd->quantity), ic->valid_min,
			  ic->valid_max, quantity_unit(rd->quantity));
		return false;
	}
	if (ic->stuck_after == 0 || (rd->flags & SAMPLE_STALE))
		return true;
	if (g->have_last && rd->value == g->last_value) {
		if (++g->same_count >= ic->stuck_after)
			abort_run(e, "%s stuck: %u identical readings of %.10g %s (bench stuck_after = %u)",
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
		event(e, "instrument_recovered", json_pack("{s:s, s:f, s:f, s:i}", "role",
			rig_role_name(role), "gap_begin_s", rig_ns_to_s(o->since_ns), "gap_s",
			rig_ns_to_s(now(e) - o->since_ns), "attempts", (int)o->attempts));
		o->down = false;
	}
	if (n > READINGS_BATCH) {
		internal_error(e, "%s driver returned %zu readings, more than %d", rig_role_name(role),
			       n, READINGS_BATCH);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!quantity_fits(role, rd[i].quantity)) {
			internal_error(e, "%s driver returned a reading of quantity %d, which that "
				       "role cannot measure", rig_role_name(role), (int)rd[i].quantity);
			return 0;
		}
	guard_freshness(e, role, rd, n);
	for (size_t i = 0; i < n; i++) {
		/* Each primary reading (every scan of a buffered batch) is judged
		 * before it is recorded so that its out-of-range flag goes to disk
		 * with it; it is recorded whatever the verdict: raw samples as taken. */
		bool usable = rd[i].quantity != primary_quantity(role) || guard_value(e, role, &rd[i]);

		r = recorder_sample(e->rec, role, &rd[i]);
		if (r < 0) {
			abort_run(e, "cannot record samples: %s", strerror(-r));
			return 0;
		}
		if (usable && isfinite(rd[i].value))
			check_reading(e, role, &rd[i]);
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
static void drain_buffers(struct engine *e)
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
		abort_run(e, "alarm input failed: %s", strerror(-r));
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
			abort_run(e, "emergency stop pressed at t = %.3f s", rig_ns_to_s(ed.t_ns));
	}
	if (r == 0)
		r = input_level(e->inst[ROLE_ESTOP], &active);
	if (r < 0)
		abort_run(e, "emergency stop input failed: %s", strerror(-r));
	else if (active && !e->aborted)
		abort_run(e, "emergency stop is pressed");
}

static int pump_link_lost(struct engine *e, int err, const char *during);

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
		struct reading rd = { now(e), v[i].q, v[i].now, 0 };

		if (!isfinite(v[i].now) || (e->telemetry_written[i] && v[i].now == e->telemetry[i]))
			continue;
		if (recorder_sample(e->rec, ROLE_PUMP, &rd) < 0)
			return;
		e->telemetry[i] = v[i].now;
		e->telemetry_written[i] = true;
	}
}

static void read_pump(struct engine *e)
{
	struct pump_status st;
	int r = pump_status(e->inst[ROLE_PUMP], &st);

	if (r < 0 && pump_link_lost(e, r, "status") == 0)
		return;   /* back, and its status read afresh */
	if (r < 0) {
		abort_run(e, "pump status failed: %s", strerror(-r));
		return;
	}
	if (!e->have_pump_status || st.alarms != e->pump.alarms)
		event(e, "pump_alarms", json_pack("{s:i, s:b, s:b}", "alarms", (int)st.alarms,
						  "occlusion", !!(st.alarms & PUMP_ALARM_OCCLUSION),
						  "low_battery", !!(st.alarms & PUMP_ALARM_LOW_BATTERY)));
	record_pump_telemetry(e, &st);
	e->pump = st;
	e->have_pump_status = true;
}

static void read_slot(struct engine *e, enum rig_role role)
{
	switch (role) {
	case ROLE_PUMP:
		if (!e->pump_down)
			read_pump(e);
		break;
	case ROLE_ALARM: read_alarm(e); break;
	case ROLE_ESTOP: read_estop(e); break;
	default: read_sensor_batch(e, role); break;
	}
}

static void progress(struct engine *e, bool force)
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
	fmt_duration(now(e), t, sizeof(t));
	fprintf(e->o->progress, "\r  step %zu/%zu %-9s t = %s  delivered %.4f mL \x1b[K",
		e->step_index + 1, e->o->seq->n_steps, step_kind_name(s->kind), t, e->delivered_ml);
	fflush(e->o->progress);
}

static bool condition_met(struct engine *e, enum wait_for what)
{
	switch (what) {
	case WAIT_BOLUS_DONE: return e->have_pump_status && !e->pump.bolus_active;
	case WAIT_TARE_SETTLED: return e->tare_settled;
	case WAIT_ALARM:
		return e->alarm_active || (e->pump.alarms & PUMP_ALARM_OCCLUSION);
	default: return false;
	}
}

/* Samples until `what` holds (or, for WAIT_NOTHING, until end_ns).  Deadlines
 * are absolute multiples of each period from the run's start, so a late read
 * never shifts the ones after it. */
static enum wait_result run_until(struct engine *e, rig_ns end_ns, enum wait_for what)
{
	const struct bench *b = e->o->bench;

	for (;;) {
		rig_ns t = now(e), next = end_ns;
		int sig = *e->o->stop_signal;

		if (sig) {
			abort_run(e, "stopped by signal %s", signal_name(sig));
			/* obeyed: one arriving from now on is noted by the safe state */
			*e->o->stop_signal = 0;
			return WAIT_ABORTED;
		}
		if (e->aborted)
			return WAIT_ABORTED;
		if (t > b->limit_duration_ns) {
			abort_run(e, "run time %.0f s past the bench limit %.0f s", rig_ns_to_s(t),
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
		if (clock_sleep(e, next) < 0)
			continue;   /* a signal: the loop head looks at it */
		t = now(e);
		for (size_t i = 0; i < e->n_slots; i++) {
			struct slot *sl = &e->slots[i];

			if (sl->next_ns > t)
				continue;
			read_slot(e, sl->role);
			sl->next_ns += sl->period_ns;
			if (sl->next_ns <= t) {
				/* Fell behind by whole periods (a slow instrument on a
				 * real bench): skip them and say so. */
				rig_ns missed = (t - sl->next_ns) / sl->period_ns + 1;

				sl->next_ns += missed * sl->period_ns;
				event(e, "overrun", json_pack("{s:s, s:I}", "role", rig_role_name(sl->role),
							     "missed_periods", (json_int_t)missed));
			}
		}
		progress(e, false);
	}
}

/* --------------------------------------------------------------- steps -- */

/* ----------------------------------------------------- pump link outage -- */

/* What a lost link looks like: no answer, or the device node gone. */
static bool pump_link_error(int r)
{
	return r == -ETIMEDOUT || r == -EIO || r == -ENODEV || r == -EBADF || r == -ENXIO ||
	       r == -EPIPE || r == -ENOENT || r == -ENOTCONN;
}

/* The pump link failed with err.  Where the bench allows (pump reconnect),
 * the link is reopened every PUMP_RECONNECT_RETRY_NS, the other instruments
 * sampled meanwhile, until the pump answers a status request within the
 * bound: the gap is recorded (instrument_fault, instrument_recovered) and
 * e->pump holds the fresh status; returns 0.  Otherwise, or past the bound,
 * returns a negative errno (the run aborted where the bound ran out; a
 * caller without a reconnect aborts with its own reason). */
static int pump_link_lost(struct engine *e, int err, const char *during)
{
	rig_ns bound = e->o->bench->instrument[ROLE_PUMP].reconnect_ns, since = now(e);
	struct pump_status st;
	unsigned attempts = 0;
	int r = err;

	if (bound <= 0 || !pump_link_error(err) || e->pump_down || e->aborted)
		return err;
	e->pump_down = true;
	event(e, "instrument_fault", json_pack("{s:s, s:s, s:s, s:f}", "role", "pump", "error",
					       strerror(-err), "during", during,
					       "reconnect_within_s", rig_ns_to_s(bound)));
	for (;;) {
		rig_ns next = now(e) + PUMP_RECONNECT_RETRY_NS;

		if (next > since + bound)
			next = since + bound;
		run_until(e, next, WAIT_NOTHING);   /* the other instruments go on */
		if (e->aborted)
			break;
		attempts++;
		r = pump_reconnect(e->inst[ROLE_PUMP]);
		if (r == 0)
			r = pump_status(e->inst[ROLE_PUMP], &st);
		if (r == 0) {
			event(e, "instrument_recovered", json_pack("{s:s, s:f, s:f, s:i}", "role", "pump",
				"gap_begin_s", rig_ns_to_s(since), "gap_s", rig_ns_to_s(now(e) - since),
				"attempts", (int)attempts));
			e->pump = st;
			e->have_pump_status = true;
			e->pump_down = false;
			return 0;
		}
		if (now(e) - since >= bound) {
			abort_run(e, "pump link did not come back within %.0f s (first error: %s; "
				  "last: %s)", rig_ns_to_s(bound), strerror(-err), strerror(-r));
			break;
		}
	}
	e->pump_down = false;
	return r < 0 ? r : err;
}

enum pump_cmd { PUMP_CMD_RATE, PUMP_CMD_BOLUS, PUMP_CMD_STOP };

static int pump_send(struct engine *e, enum pump_cmd c, double a, double b)
{
	struct instrument *pump = e->inst[ROLE_PUMP];

	switch (c) {
	case PUMP_CMD_RATE: return pump_set_rate(pump, a);
	case PUMP_CMD_BOLUS: return pump_bolus(pump, a, b);
	default: return pump_stop(pump);
	}
}

/* After a lost answer, the pump's own status says whether the command was
 * carried out, so that none is carried out twice: a bolus is running, or
 * the pump's delivered total grew by more than half the bolus beyond what
 * the basal rate delivered meanwhile (a short bolus may have finished
 * during the gap); a rate is programmed; the pump is stopped. */
static bool pump_cmd_applied(const struct engine *e, enum pump_cmd c, double a,
			     const struct pump_status *before, bool had_before, rig_ns t0,
			     char *why, size_t why_len)
{
	const struct pump_status *st = &e->pump;

	switch (c) {
	case PUMP_CMD_RATE:
		snprintf(why, why_len, "programmed rate %.6g mL/h", st->rate_ml_per_h);
		return st->running && fabs(st->rate_ml_per_h - a) <= 1e-9 + 1e-6 * a;
	case PUMP_CMD_STOP:
		snprintf(why, why_len, "running %d, bolus %d", st->running, st->bolus_active);
		return !st->running && !st->bolus_active;
	default: {
		double basal = had_before && before->running ? before->rate_ml_per_h *
				rig_ns_to_s(now((struct engine *)e) - t0) / 3600 : 0;
		double grew = had_before ? st->delivered_ml - before->delivered_ml - basal : 0;

		snprintf(why, why_len, "bolus active %d, delivered %.6f mL (%+.6f mL beyond basal)",
			 st->bolus_active, st->delivered_ml, grew);
		return st->bolus_active || grew >= 0.5 * a;
	}
	}
}

/* A pump command; a link lost on the way is reopened where the bench allows,
 * and the command sent again only when the pump's status shows it was not
 * carried out (pump_resync event). */
static int pump_command(struct engine *e, const char *what, enum pump_cmd c, double a, double b)
{
	struct pump_status before = e->pump;
	bool had_before = e->have_pump_status;
	rig_ns t0 = now(e);
	int r = pump_send(e, c, a, b);

	for (int round = 0; r < 0 && round < 3; round++) {
		char why[160];
		bool applied;

		if (pump_link_lost(e, r, what) < 0)
			break;
		applied = pump_cmd_applied(e, c, a, &before, had_before, t0, why, sizeof(why));
		event(e, "pump_resync", json_pack("{s:s, s:b, s:s, s:s}", "command", what, "applied",
						  applied, "evidence", why, "action",
						  applied ? "not sent again" : "sent again"));
		r = applied ? 0 : pump_send(e, c, a, b);
	}
	if (r < 0)
		abort_run(e, "pump %s failed: %s", what, strerror(-r));
	return r;
}

/* A step's wait, honouring its timeout and what the sequence says a
 * timed-out step does. */
static void wait_step(struct engine *e, const struct step *s, enum wait_for what)
{
	rig_ns end = s->timeout_ns > 0 ? now(e) + s->timeout_ns : RIG_NS_MAX;
	enum wait_result w = run_until(e, end, what);

	if (w != WAIT_TIMED_OUT)
		return;
	event(e, "step_timeout", json_pack("{s:I, s:s, s:i, s:f, s:s}", "step",
					   (json_int_t)e->step_index + 1, "kind", step_kind_name(s->kind),
					   "line", s->line, "timeout_s", rig_ns_to_s(s->timeout_ns),
					   "action", s->on_timeout == TIMEOUT_FAIL ? "fail" : "abort"));
	if (s->on_timeout == TIMEOUT_ABORT)
		abort_run(e, "step %zu (%s, line %d) timed out after %.0f s", e->step_index + 1,
			  step_kind_name(s->kind), s->line, rig_ns_to_s(s->timeout_ns));
}

static void do_bolus(struct engine *e, const struct step *s)
{
	double rate = s->rate_ml_per_h > 0 ? s->rate_ml_per_h : e->o->dev->bolus_rate_ml_per_h;

	if (pump_command(e, "bolus", PUMP_CMD_BOLUS, s->volume_ml, rate) < 0)
		return;
	event(e, "bolus", json_pack("{s:f, s:f, s:s}", "volume_ml", s->volume_ml, "rate_ml_per_h",
				    rate, "kind", step_kind_name(s->kind)));
	/* The pump's status flag is read at its poll period; read it now so
	 * the wait sees this bolus as started. */
	e->have_pump_status = false;
	read_pump(e);
	wait_step(e, s, WAIT_BOLUS_DONE);
}

static void do_tare(struct engine *e, const struct step *s)
{
	int r;

	e->tare_offset_g += e->last_mass_g;
	e->last_mass_g = 0;
	r = sensor_tare(e->inst[ROLE_SCALE]);
	if (r < 0) {
		abort_run(e, "scale tare failed: %s", strerror(-r));
		return;
	}
	e->tare_t_ns = now(e);
	e->tare_settled = false;
	event(e, "tare", NULL);
	wait_step(e, s, WAIT_TARE_SETTLED);
}

static void do_step(struct engine *e, const struct step *s)
{
	switch (s->kind) {
	case STEP_PRIME:
	case STEP_BOLUS:
		do_bolus(e, s);
		break;
	case STEP_TARE:
		do_tare(e, s);
		break;
	case STEP_SET_RATE:
		if (pump_command(e, "set_rate", PUMP_CMD_RATE, s->rate_ml_per_h, 0) == 0)
			event(e, "rate", json_pack("{s:f}", "rate_ml_per_h", s->rate_ml_per_h));
		break;
	case STEP_STOP:
		if (pump_command(e, "stop", PUMP_CMD_STOP, 0, 0) == 0)
			event(e, "rate", json_pack("{s:f, s:b}", "rate_ml_per_h", 0.0, "stop", 1));
		break;
	case STEP_HOLD:
		run_until(e, now(e) + s->duration_ns, WAIT_NOTHING);
		break;
	case STEP_MEASURE_EVAPORATION:
		/* The pump is stopped (plan_validate): whatever the balance loses
		 * now is evaporation; the analysis fits its slope. */
		event(e, "evaporation", json_pack("{s:s}", "edge", "begin"));
		run_until(e, now(e) + s->duration_ns, WAIT_NOTHING);
		event(e, "evaporation", json_pack("{s:s}", "edge", "end"));
		break;
	case STEP_OCCLUDE:
		if (valve_set_closed(e->inst[ROLE_VALVE], true) < 0) {
			abort_run(e, "occlusion valve did not close");
			break;
		}
		event(e, "valve", json_pack("{s:s}", "state", "closed"));
		if (s->until == OCCLUDE_UNTIL_ALARM)
			wait_step(e, s, WAIT_ALARM);
		else
			run_until(e, now(e) + s->duration_ns, WAIT_NOTHING);
		break;
	case STEP_RELEASE:
		if (valve_set_closed(e->inst[ROLE_VALVE], false) < 0) {
			abort_run(e, "occlusion valve did not open");
			break;
		}
		event(e, "valve", json_pack("{s:s}", "state", "open"));
		if (s->duration_ns > 0)
			run_until(e, now(e) + s->duration_ns, WAIT_NOTHING);
		break;
	case STEP_MARK:
		event(e, "mark", json_pack("{s:s, s:s}", "window", s->window, "edge",
					   s->edge == MARK_BEGIN ? "begin" : "end"));
		break;
	case STEP_CHECK:
		/* Judged after the run, from the record alone. */
		event(e, "check", json_pack("{s:s, s:s}", "check", check_kind_name(s->check),
					    "window", s->window));
		break;
	default:
		abort_run(e, "internal error: step kind %d has no implementation", (int)s->kind);
		break;
	}
}

static void announce_step(struct engine *e, const struct step *s)
{
	char t[32];

	event(e, "step", json_pack("{s:I, s:s, s:i, s:s}", "step", (json_int_t)e->step_index + 1,
				   "kind", step_kind_name(s->kind), "line", s->line, "label", s->label));
	if (!e->o->progress || e->o->progress_live)
		return;
	fmt_duration(now(e), t, sizeof(t));
	fprintf(e->o->progress, "  t = %s  step %zu/%zu %s (line %d)%s%s\n", t, e->step_index + 1,
		e->o->seq->n_steps, step_kind_name(s->kind), s->line, s->label[0] ? ": " : "",
		s->label);
}

/* ------------------------------------------------------------ the run -- */

static int open_bench(struct engine *e)
{
	const struct bench *b = e->o->bench;

	e->env.clock = e->clock;
	e->env.bench = b;
	e->env.run_dir = e->o->run_dir;
	if (b->sim_clock_uri[0]) {
		int r = sim_clock_link_open(b->sim_clock_uri, &e->clock_link);

		if (r < 0) {
			abort_run(e, "cannot reach the wire simulator's clock at %s: %s",
				  b->sim_clock_uri, strerror(-r));
			return r;
		}
	}
	if (b->has_sim) {
		e->env.sim = sim_model_new(&b->sim, b->sim.fluid_density_g_per_ml);
		if (!e->env.sim) {
			abort_run(e, "cannot create the simulated bench: out of memory");
			return -ENOMEM;
		}
	}
	for (int role = 0; role < ROLE__COUNT; role++) {
		const struct instrument_cfg *ic = &b->instrument[role];
		int r;

		if (!ic->present)
			continue;
		r = instrument_open(&e->inst[role], role, &e->env);
		if (r < 0) {
			char why[200];

			abort_run(e, "cannot open %s (backend %s): %s", rig_role_name(role), ic->backend,
				  instrument_error_text(ic, r, why, sizeof(why)));
			return r;
		}
		event(e, "instrument", json_pack("{s:s, s:s, s:s, s:s}", "role", rig_role_name(role),
						 "backend", ic->backend, "model", ic->model, "serial",
						 ic->serial));
		if (e->o->calibration_today && calgate_instrument_expired(ic, e->o->calibration_today))
			event(e, "calibration_expired", json_pack("{s:s, s:s, s:s, s:s, s:s}", "role",
				rig_role_name(role), "serial", ic->serial, "due", ic->cal.due,
				"today_utc", e->o->calibration_today,
				"allowed_by", "--allow-expired-calibration"));
		if (role == ROLE_VALVE || role == ROLE_PUMP)
			continue;
		/* a buffered sensor samples at its period and is collected per batch */
		rig_ns every = ic->buffered ? ic->batch_ns : ic->period_ns;

		e->slots[e->n_slots++] = (struct slot){ role, every, e->t_start_ns + every };
	}
	if (e->inst[ROLE_PUMP]) {
		rig_ns period = b->instrument[ROLE_PUMP].period_ns;

		period = period > 0 ? period : PUMP_POLL_DEFAULT_NS;
		e->slots[e->n_slots++] = (struct slot){ ROLE_PUMP, period, e->t_start_ns + period };
	}
	/* Output lines last: each comes up at its safe level (the backend
	 * drives it there as it takes the line). */
	for (size_t i = 0; i < b->n_outputs; i++) {
		const struct output_cfg *oc = &b->outputs[i];
		int r = output_open(&e->outputs[i], oc, &e->env);

		if (r < 0) {
			abort_run(e, "cannot open output %s (backend %s): %s", oc->name, oc->line.backend,
				  strerror(-r));
			return r;
		}
		event(e, "output", json_pack("{s:s, s:s, s:s, s:s}", "name", oc->name, "level",
					     oc->safe_on ? "on" : "off", "by", "open (its safe level)",
					     "backend", oc->line.backend));
	}
	return 0;
}

/* Every output line to the level the sequence runs at; one that cannot be
 * set there is no bench to run on. */
static void outputs_to_run_levels(struct engine *e)
{
	const struct bench *b = e->o->bench;

	for (size_t i = 0; i < b->n_outputs && !e->aborted; i++) {
		const struct output_cfg *oc = &b->outputs[i];
		int r;

		if (oc->run_on == oc->safe_on)
			continue;
		r = output_set(e->outputs[i], oc->run_on);
		if (r < 0) {
			abort_run(e, "output %s could not be set %s for the run: %s", oc->name,
				  oc->run_on ? "on" : "off", strerror(-r));
			return;
		}
		event(e, "output", json_pack("{s:s, s:s, s:s}", "name", oc->name, "level",
					     oc->run_on ? "on" : "off", "by", "start of the sequence"));
	}
}

static void close_bench(struct engine *e)
{
	for (size_t i = OUTPUTS_MAX; i-- > 0;) {
		instrument_close(e->outputs[i]);   /* leaves the line at its safe level */
		e->outputs[i] = NULL;
	}
	for (int role = ROLE__COUNT - 1; role >= 0; role--) {
		instrument_close(e->inst[role]);
		e->inst[role] = NULL;
	}
	sim_model_free(e->env.sim);
	e->env.sim = NULL;
	sim_clock_link_close(e->clock_link);
	e->clock_link = NULL;
}

/* rig resume: the record says where the gap is and what is redone. */
static void resume_event(struct engine *e)
{
	const struct engine_resume *rs = e->o->resume;
	const struct sequence *seq = e->o->seq;
	char utc[32];
	time_t wall = time(NULL);
	struct tm tm;

	gmtime_r(&wall, &tm);
	strftime(utc, sizeof(utc), "%Y-%m-%dT%H:%M:%SZ", &tm);
	event(e, "resume", json_pack("{s:s, s:f, s:f, s:I, s:s, s:b, s:f, s:s, s:s}",
		"utc", utc, "gap_begin_s", rig_ns_to_s(rs->gap_begin_ns), "gap_s",
		rig_ns_to_s(rs->gap_ns), "from_step", (json_int_t)rs->first_step + 1,
		"from_kind", rs->first_step < seq->n_steps ? step_kind_name(seq->steps[rs->first_step].kind)
							    : "(end)",
		"skipped_interrupted_bolus", rs->skipped_bolus, "delivered_before_ml",
		rs->delivered_ml, "clock", e->o->virtual_time ? "virtual" : "real",
		"why", "the record ended without run_end (crash, kill or power loss)"));
}

/* The bench as the crash left it is unknown: safe first, then what the
 * sequence had set before the step being redone (the rate, an occlusion). */
static void resume_bench(struct engine *e)
{
	const struct engine_resume *rs = e->o->resume;

	safe_state(e, "resume: the bench is made safe before the sequence continues");
	event(e, "rate", json_pack("{s:f, s:b, s:s}", "rate_ml_per_h", 0.0, "stop", 1, "by",
				   "resume"));
	if (rs->rate_ml_per_h > 0 &&
	    pump_command(e, "set_rate", PUMP_CMD_RATE, rs->rate_ml_per_h, 0) == 0)
		event(e, "rate", json_pack("{s:f, s:s}", "rate_ml_per_h", rs->rate_ml_per_h, "by",
					   "resume"));
	if (rs->valve_closed && e->inst[ROLE_VALVE]) {
		if (valve_set_closed(e->inst[ROLE_VALVE], true) < 0)
			abort_run(e, "occlusion valve did not close again on resume");
		else
			event(e, "valve", json_pack("{s:s, s:s}", "state", "closed", "by", "resume"));
	}
}

/* A lock left by a run that died without letting go was taken over: say
 * whose, so the crashed run can be found and resumed or reported. */
static void note_lock(struct engine *e)
{
	const char *holder = e->o->lock_stale_holder;
	json_t *prev;

	if (!holder || !holder[0])
		return;
	prev = json_loads(holder, 0, NULL);
	if (!json_is_object(prev)) {
		json_decref(prev);
		prev = json_string(holder);
	}
	event(e, "lock_taken_over", json_pack("{s:s, s:o, s:s}", "lock_file",
					      e->o->lock_path ? e->o->lock_path : "",
					      "previous_holder", prev, "why",
					      "the holder's lock was free: it died without releasing it"));
}

/* The latest time the record holds and whether it ended; 0 when there is
 * no record to take up. */
static int record_tail(const char *run_dir, rig_ns *ret_last, bool *ret_ended)
{
	char path[RIG_PATH_MAX + 16], *line = NULL;
	struct resume_scan st = { 0 };
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (r == 0 && (len = getline(&line, &cap, f)) > 0)
		r = resume_scan_event(&st, line, (size_t)len);
	free(line);
	fclose(f);
	*ret_last = st.last_t_ns;
	*ret_ended = st.ended || !st.started;
	resume_scan_free(&st);
	/* samples.csv usually reaches further: its last whole line */
	snprintf(path, sizeof(path), "%s/samples.csv", run_dir);
	f = fopen(path, "r");
	if (f) {
		char tail[4096];
		long size;
		size_t n;

		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fseek(f, size > (long)sizeof(tail) - 1 ? size - (long)sizeof(tail) + 1 : 0, SEEK_SET);
		n = fread(tail, 1, sizeof(tail) - 1, f);
		tail[n] = '\0';
		fclose(f);
		for (char *end = strrchr(tail, '\n'), *begin; end; end = begin) {
			long long t;
			char *stop;

			*end = '\0';
			begin = strrchr(tail, '\n');
			t = strtoll(begin ? begin + 1 : tail, &stop, 10);
			if (stop != (begin ? begin + 1 : tail) && *stop == ',') {
				if (t > *ret_last)
					*ret_last = t;
				break;
			}
			if (!begin)
				break;
		}
	}
	return r;
}

int engine_make_safe(const struct engine_opts *o, const char *why, bool *ret_recorded,
		     char *err, size_t err_len)
{
	struct engine e = { .o = o };
	const struct bench *b = o->bench;
	bool ended = true, safe;
	rig_ns last = 0;
	int r = 0;

	*ret_recorded = false;
	if (o->run_dir && record_tail(o->run_dir, &last, &ended) < 0)
		ended = true;   /* no record to take up: the bench is made safe all the same */
	e.clock = o->virtual_time ? rig_clock_new_virtual() : rig_clock_new_real();
	if (!e.clock) {
		snprintf(err, err_len, "cannot create the clock");
		return -ENOMEM;
	}
	/* a second past the last thing recorded: after it, whatever the clock */
	e.t_start_ns = last + RIG_NS_PER_S;
	rig_clock_start_at(e.clock, e.t_start_ns);
	if (o->run_dir && !ended && recorder_open_append(&e.rec, o->run_dir,
							  b->flush_interval_ns) == 0)
		*ret_recorded = true;
	if (*ret_recorded)
		event(&e, "fault", json_pack("{s:s, s:b}", "reason", why, "root_cause", 1));
	e.env.clock = e.clock;
	e.env.bench = b;
	e.env.run_dir = *ret_recorded ? o->run_dir : NULL;
	if (b->has_sim)
		e.env.sim = sim_model_new(&b->sim, b->sim.fluid_density_g_per_ml);
	for (int role = 0; role < ROLE__COUNT; role++) {
		const struct instrument_cfg *ic = &b->instrument[role];
		int ro;

		if ((role != ROLE_PUMP && role != ROLE_VALVE) || !ic->present)
			continue;
		ro = instrument_open(&e.inst[role], (enum rig_role)role, &e.env);
		if (ro < 0 && *ret_recorded)
			event(&e, "instrument_fault", json_pack("{s:s, s:s, s:s}", "role",
				rig_role_name((enum rig_role)role), "error", strerror(-ro), "during",
				"rig safe: open"));
		if (ro < 0) {
			char text[200];

			fprintf(stderr, "rig safe: cannot open %s (backend %s): %s\n",
				rig_role_name((enum rig_role)role), ic->backend,
				instrument_error_text(ic, ro, text, sizeof(text)));
		}
	}
	for (size_t i = 0; i < b->n_outputs; i++)
		if (output_open(&e.outputs[i], &b->outputs[i], &e.env) < 0)
			fprintf(stderr, "rig safe: cannot open output %s\n", b->outputs[i].name);
	/* the safe-state sequence itself, recorded or not */
	safe = safe_state(&e, why);
	for (int role = 0; role < ROLE__COUNT; role++)
		if ((role == ROLE_PUMP || role == ROLE_VALVE) && b->instrument[role].present &&
		    !e.inst[role])
			safe = false;   /* could not even be opened */
	for (size_t i = 0; i < b->n_outputs; i++)
		safe = safe && e.outputs[i];
	if (*ret_recorded) {
		char utc[32];

		event(&e, "run_end", json_pack("{s:s, s:s, s:s}", "status", "aborted", "reason", why,
					       "utc", utc_now(utc)));
		r = recorder_close(e.rec);
		e.rec = NULL;
		if (r < 0)
			snprintf(err, err_len, "%s: the record could not be completed: %s", o->run_dir,
				 strerror(-r));
	}
	close_bench(&e);
	rig_clock_free(e.clock);
	if (r < 0)
		return r;
	return safe ? 0 : -EIO;
}

int engine_run(const struct engine_opts *o, char *err, size_t err_len)
{
	struct engine e = { .o = o };
	char utc[32];
	int r;

	e.clock = o->virtual_time ? rig_clock_new_virtual() : rig_clock_new_real();
	if (!e.clock) {
		snprintf(err, err_len, "cannot create the clock");
		return -ENOMEM;
	}
	if (o->resume) {
		e.t_start_ns = o->resume->gap_begin_ns + o->resume->gap_ns;
		e.delivered_base_ml = o->resume->delivered_ml;
		e.delivered_ml = e.delivered_base_ml;
		rig_clock_start_at(e.clock, e.t_start_ns);
		r = recorder_open_append(&e.rec, o->run_dir, o->bench->flush_interval_ns);
	} else {
		r = recorder_open(&e.rec, o->run_dir, o->bench->flush_interval_ns);
	}
	if (r < 0) {
		snprintf(err, err_len, "%s: cannot %s the record: %s", o->run_dir,
			 o->resume ? "append to" : "create", strerror(-r));
		goto free_clock;
	}
	if (o->resume)
		resume_event(&e);
	else
		event(&e, "run_start", json_pack("{s:s, s:s, s:s, s:s}", "sequence", o->seq->id, "bench",
						 o->bench->id, "clock", o->virtual_time ? "virtual" : "real",
						 "utc", utc_now(utc)));
	note_lock(&e);
	if (open_bench(&e) == 0) {
		/* Outputs to their declared safe levels before the first step;
		 * a valve that cannot be set there is no bench to run on. */
		if (e.inst[ROLE_VALVE] &&
		    (r = valve_set_closed(e.inst[ROLE_VALVE],
					  o->bench->instrument[ROLE_VALVE].safe_closed)) < 0)
			abort_run(&e, "valve could not be set to its safe state at the start: %s",
				  strerror(-r));
		outputs_to_run_levels(&e);
		if (o->resume)
			resume_bench(&e);
		for (size_t i = 0; i < e.n_slots; i++)
			read_slot(&e, e.slots[i].role);   /* the state at the start */
		for (e.step_index = o->resume ? o->resume->first_step : 0;
		     e.step_index < o->seq->n_steps && !e.aborted; e.step_index++) {
			const struct step *s = &o->seq->steps[e.step_index];

			announce_step(&e, s);
			progress(&e, true);
			do_step(&e, s);
		}
		if (!e.aborted && *o->stop_signal)
			run_until(&e, now(&e), WAIT_NOTHING);   /* records the signal */
	}
	if (o->progress && o->progress_live)
		fputc('\n', o->progress);
	drain_buffers(&e);
	safe_state(&e, e.aborted ? e.abort_reason : "sequence completed");
	event(&e, "run_end", json_pack("{s:s, s:s, s:s}", "status", e.aborted ? "aborted" : "completed",
				       "reason", e.aborted ? e.abort_reason : "every step ran",
				       "utc", utc_now(utc)));
	close_bench(&e);
	r = recorder_close(e.rec);
	if (r < 0)
		snprintf(err, err_len, "%s: the record is incomplete: %s", o->run_dir, strerror(-r));
	else if (e.aborted) {
		snprintf(err, err_len, "%s", e.abort_reason);
		r = -ECANCELED;
	}
free_clock:
	rig_clock_free(e.clock);
	return r;
}
