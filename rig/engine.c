#include "engine.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "recorder.h"
#include "../drivers/driver.h"
#include "../drivers/sim/model.h"

#define PUMP_POLL_DEFAULT_NS RIG_NS_PER_S
#define SAFE_STOP_ATTEMPTS 5
#define SAFE_STOP_RETRY_NS RIG_NS_PER_S
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

struct engine {
	const struct engine_opts *o;
	struct rig_clock *clock;
	struct driver_env env;
	struct instrument *inst[ROLE__COUNT];
	struct recorder *rec;
	struct slot slots[ROLE__COUNT];
	size_t n_slots;

	/* What the sampler has seen, for wait conditions, limits and progress. */
	struct pump_status pump;
	bool have_pump_status;
	bool alarm_active;
	rig_ns tare_t_ns;
	bool tare_settled;
	bool have_mass;
	double first_mass_g;       /* first balance reading of the run */
	double tare_offset_g;      /* net readings removed by tares since */
	double last_mass_g;
	double delivered_ml;       /* estimate from the balance, for limit and progress */

	/* The first reason to abort is the root cause; later ones are consequences. */
	bool aborted;
	char abort_reason[512];
	size_t step_index;

	struct timespec last_progress;
	struct sim_clock_link *clock_link;   /* a wire simulator kept in lockstep */
	struct outage outage[ROLE__COUNT];
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

static void event(struct engine *e, const char *name, json_t *fields)
{
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

/* -------------------------------------------------------------- safety -- */

/* Pump stopped, occlusion released, outputs at their declared safe levels.
 * Every action is attempted whatever the others did, and each outcome is
 * recorded: a failure here is the one thing an operator must know. */
static void safe_state(struct engine *e, const char *why)
{
	json_t *actions = json_object();
	int r;

	if (e->inst[ROLE_PUMP]) {
		int attempts = 0;

		/* A pump that did not answer may answer a moment later: the stop
		 * is retried, a bounded number of times, before giving up. */
		do {
			if (attempts > 0) {
				clock_sleep(e, now(e) + SAFE_STOP_RETRY_NS);
				/* a link that timed out or went may be back */
				if (r != -ENOTSUP)
					(void)pump_reconnect(e->inst[ROLE_PUMP]);
			}
			r = pump_stop(e->inst[ROLE_PUMP]);
			attempts++;
		} while (r < 0 && (r != -ENODEV || e->o->bench->instrument[ROLE_PUMP].reconnect_ns > 0) &&
			 attempts < SAFE_STOP_ATTEMPTS);   /* a link allowed to come back may */
		json_object_set_new(actions, "pump", json_string(r < 0 ? strerror(-r) : "stopped"));
		json_object_set_new(actions, "pump_stop_attempts", json_integer(attempts));
	}
	if (e->inst[ROLE_VALVE]) {
		bool closed = e->o->bench->instrument[ROLE_VALVE].safe_closed;

		r = valve_set_closed(e->inst[ROLE_VALVE], closed);
		json_object_set_new(actions, "valve",
				    json_string(r < 0 ? strerror(-r) : closed ? "closed" : "open"));
	}
	json_object_set_new(actions, "reason", json_string(why));
	event(e, "safe_state", actions);
}

static void release_now(struct engine *e)
{
	if (e->inst[ROLE_VALVE])
		valve_set_closed(e->inst[ROLE_VALVE], false);
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
		e->delivered_ml = (rd->value + e->tare_offset_g - e->first_mass_g) /
				  b->density_g_per_ml;
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
	for (size_t i = 0; i < n; i++) {
		r = recorder_sample(e->rec, role, &rd[i]);
		if (r < 0) {
			abort_run(e, "cannot record samples: %s", strerror(-r));
			return 0;
		}
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

	while ((r = input_next_edge(e->inst[ROLE_ESTOP], &ed)) > 0)
		if (ed.rising && !e->aborted)
			abort_run(e, "emergency stop pressed at t = %.3f s", rig_ns_to_s(ed.t_ns));
	if (r == 0)
		r = input_level(e->inst[ROLE_ESTOP], &active);
	if (r < 0)
		abort_run(e, "emergency stop input failed: %s", strerror(-r));
	else if (active && !e->aborted)
		abort_run(e, "emergency stop is pressed");
}

static int pump_link_lost(struct engine *e, int err, const char *during);

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
			abort_run(e, "stopped by signal %s", sig == SIGINT ? "SIGINT" :
							     sig == SIGTERM ? "SIGTERM" :
							     sig == SIGHUP ? "SIGHUP" : "other");
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
	       r == -EPIPE || r == -ENOENT;
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
			abort_run(e, "cannot open %s (backend %s): %s", rig_role_name(role), ic->backend,
				  strerror(-r));
			return r;
		}
		event(e, "instrument", json_pack("{s:s, s:s, s:s, s:s}", "role", rig_role_name(role),
						 "backend", ic->backend, "model", ic->model, "serial",
						 ic->serial));
		if (role == ROLE_VALVE || role == ROLE_PUMP)
			continue;
		/* a buffered sensor samples at its period and is collected per batch */
		e->slots[e->n_slots++] = (struct slot){ role, ic->buffered ? ic->batch_ns : ic->period_ns,
							ic->buffered ? ic->batch_ns : ic->period_ns };
	}
	if (e->inst[ROLE_PUMP]) {
		rig_ns period = b->instrument[ROLE_PUMP].period_ns;

		period = period > 0 ? period : PUMP_POLL_DEFAULT_NS;
		e->slots[e->n_slots++] = (struct slot){ ROLE_PUMP, period, period };
	}
	return 0;
}

static void close_bench(struct engine *e)
{
	for (int role = ROLE__COUNT - 1; role >= 0; role--) {
		instrument_close(e->inst[role]);
		e->inst[role] = NULL;
	}
	sim_model_free(e->env.sim);
	e->env.sim = NULL;
	sim_clock_link_close(e->clock_link);
	e->clock_link = NULL;
}

int engine_run(const struct engine_opts *o, char *err, size_t err_len)
{
	struct engine e = { .o = o };
	int r;

	e.clock = o->virtual_time ? rig_clock_new_virtual() : rig_clock_new_real();
	if (!e.clock) {
		snprintf(err, err_len, "cannot create the clock");
		return -ENOMEM;
	}
	r = recorder_open(&e.rec, o->run_dir, o->bench->flush_interval_ns);
	if (r < 0) {
		snprintf(err, err_len, "%s: cannot create the record: %s", o->run_dir, strerror(-r));
		goto free_clock;
	}
	event(&e, "run_start", json_pack("{s:s, s:s, s:s}", "sequence", o->seq->id, "bench",
					 o->bench->id, "clock", o->virtual_time ? "virtual" : "real"));
	if (open_bench(&e) == 0) {
		/* Outputs to their declared safe levels before the first step. */
		if (e.inst[ROLE_VALVE])
			valve_set_closed(e.inst[ROLE_VALVE], o->bench->instrument[ROLE_VALVE].safe_closed);
		for (size_t i = 0; i < e.n_slots; i++)
			read_slot(&e, e.slots[i].role);   /* the state at t = 0 */
		for (e.step_index = 0; e.step_index < o->seq->n_steps && !e.aborted; e.step_index++) {
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
	event(&e, "run_end", json_pack("{s:s, s:s}", "status", e.aborted ? "aborted" : "completed",
				       "reason", e.aborted ? e.abort_reason : "every step ran"));
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
