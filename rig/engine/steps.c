/* Each step kind, the pump's commands and the outages of its link. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "rig/base/text.h"

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
int engine_pump_link_lost(struct engine *e, int err, const char *during)
{
	rig_ns bound = e->o->bench->instrument[ROLE_PUMP].reconnect_ns, since = engine_now(e);
	struct pump_status st;
	unsigned attempts = 0;
	int r = err;

	if (bound <= 0 || !pump_link_error(err) || e->pump_down || e->aborted)
		return err;
	e->pump_down = true;
	engine_event(e, "instrument_fault", json_pack("{s:s, s:s, s:s, s:f}", "role", "pump", "error",
					       strerror(-err), "during", during,
					       "reconnect_within_s", rig_ns_to_s(bound)));
	for (;;) {
		rig_ns next = engine_now(e) + PUMP_RECONNECT_RETRY_NS;

		if (next > since + bound)
			next = since + bound;
		engine_run_until(e, next, WAIT_NOTHING);   /* the other instruments go on */
		if (e->aborted)
			break;
		attempts++;
		r = pump_reconnect(e->inst[ROLE_PUMP]);
		if (r == 0)
			r = pump_status(e->inst[ROLE_PUMP], &st);
		if (r == 0) {
			engine_event(e, "instrument_recovered", json_pack("{s:s, s:f, s:f, s:i}", "role", "pump",
				"gap_begin_s", rig_ns_to_s(since), "gap_s", rig_ns_to_s(engine_now(e) - since),
				"attempts", (int)attempts));
			e->pump = st;
			e->have_pump_status = true;
			e->pump_down = false;
			return 0;
		}
		if (engine_now(e) - since >= bound) {
			engine_abort(e, CAUSE_DEVICE, "pump link did not come back within %.0f s (first error: %s; "
				  "last: %s)", rig_ns_to_s(bound), strerror(-err), strerror(-r));
			break;
		}
	}
	e->pump_down = false;
	return r < 0 ? r : err;
}

static int pump_send(struct engine *e, enum pump_cmd c, double a, double b)
{
	struct instrument *pump = e->inst[ROLE_PUMP];

	switch (c) {
	case PUMP_CMD_RATE: return pump_set_rate(pump, a);
	case PUMP_CMD_BOLUS: return pump_bolus(pump, a, b, BOLUS_CLINICIAN);
	case PUMP_CMD_PATIENT_BOLUS: return pump_bolus(pump, a, b, BOLUS_PATIENT);
	case PUMP_CMD_REFILL: return pump_refill(pump, a);
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
	case PUMP_CMD_REFILL:
		/* its reading rose by more than half the refill, or its empty
		 * alarm cleared */
		snprintf(why, why_len, "reservoir %.6f mL (before %.6f mL), alarms %#x",
			 st->reservoir_ml, had_before ? before->reservoir_ml : NAN, st->alarms);
		return (had_before && st->reservoir_ml - before->reservoir_ml > 0.5 * a) ||
		       (had_before && (before->alarms & PUMP_ALARM_EMPTY) &&
			!(st->alarms & PUMP_ALARM_EMPTY));
	default: {
		double basal = had_before && before->running ? before->rate_ml_per_h *
				rig_ns_to_s(engine_now((struct engine *)e) - t0) / 3600 : 0;
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
int engine_pump_command(struct engine *e, const char *what, enum pump_cmd c, double a, double b)
{
	struct pump_status before = e->pump;
	bool had_before = e->have_pump_status;
	rig_ns t0 = engine_now(e);
	int r = pump_send(e, c, a, b);

	/* a patient's bolus refused within the pump's lockout is the pump's
	 * answer, not a fault: the caller records it */
	if (r == -EAGAIN && c == PUMP_CMD_PATIENT_BOLUS)
		return r;
	for (int round = 0; r < 0 && round < 3; round++) {
		char why[160];
		bool applied;

		if (engine_pump_link_lost(e, r, what) < 0)
			break;
		applied = pump_cmd_applied(e, c, a, &before, had_before, t0, why, sizeof(why));
		engine_event(e, "pump_resync", json_pack("{s:s, s:b, s:s, s:s}", "command", what, "applied",
						  applied, "evidence", why, "action",
						  applied ? "not sent again" : "sent again"));
		r = applied ? 0 : pump_send(e, c, a, b);
	}
	if (r < 0)
		engine_abort(e, CAUSE_DEVICE, "pump %s failed: %s", what, strerror(-r));
	return r;
}

/* A step's wait, honouring its timeout and what the sequence says a
 * timed-out step does. */
static void wait_step(struct engine *e, const struct step *s, enum wait_for what)
{
	rig_ns end = s->timeout_ns > 0 ? engine_now(e) + s->timeout_ns : RIG_NS_MAX;
	enum wait_result w = engine_run_until(e, end, what);

	if (w != WAIT_TIMED_OUT)
		return;
	engine_event(e, "step_timeout", json_pack("{s:I, s:s, s:i, s:f, s:s}", "step",
					   (json_int_t)e->step_index + 1, "kind", step_kind_name(s->kind),
					   "line", s->line, "timeout_s", rig_ns_to_s(s->timeout_ns),
					   "action", s->on_timeout == TIMEOUT_FAIL ? "fail" : "abort"));
	if (s->on_timeout == TIMEOUT_ABORT)
		engine_abort(e, s->kind == STEP_TARE ? CAUSE_BENCH : CAUSE_DEVICE, "step %zu (%s, line %d) timed out after %.0f s", e->step_index + 1,
			  step_kind_name(s->kind), s->line, rig_ns_to_s(s->timeout_ns));
}

/* A prime or a bolus.  A patient's bolus the pump refuses (its lockout) is
 * recorded as refused and the sequence goes on: whether it should have been
 * is the bolus_accuracy check's to judge. */
static void do_bolus(struct engine *e, const struct step *s)
{
	double rate = s->rate_ml_per_h > 0 ? s->rate_ml_per_h : e->o->dev->bolus_rate_ml_per_h;
	bool patient = s->kind == STEP_BOLUS && s->demand == DEMAND_PATIENT;
	const char *demand = patient ? "patient" : "clinician";
	int r = engine_pump_command(e, "bolus", patient ? PUMP_CMD_PATIENT_BOLUS : PUMP_CMD_BOLUS,
				    s->volume_ml, rate);

	if (r == -EAGAIN && patient) {
		engine_event(e, "bolus_refused", json_pack("{s:f, s:f, s:s, s:s}", "volume_ml",
					s->volume_ml, "rate_ml_per_h", rate, "demand", demand,
					"answer", "refused within the pump's lockout (EAGAIN, ERR 11 on "
					"the pump link)"));
		return;
	}
	if (r < 0)
		return;
	engine_event(e, "bolus", json_pack("{s:f, s:f, s:s, s:s}", "volume_ml", s->volume_ml,
				    "rate_ml_per_h", rate, "kind", step_kind_name(s->kind),
				    "demand", demand));
	/* The pump's status flag is read at its poll period; read it now so
	 * the wait sees this bolus as started. */
	e->have_pump_status = false;
	engine_read_pump(e);
	wait_step(e, s, WAIT_BOLUS_DONE);
}

/* The reservoir emptied and refilled with a weighed mass (the syringe
 * weighed before and after, outside rig): the pump is told the volume that
 * mass is of the bench's fluid, as a programmer tells it after a refill.
 * The mass, its uncertainty and the volume per gram go in the record: the
 * reservoir check's account starts from them. */
static void do_refill(struct engine *e, const struct step *s)
{
	double ml_per_g = e->o->bench->ml_per_g;
	double volume = s->mass_g * ml_per_g;

	if (engine_pump_command(e, "refill", PUMP_CMD_REFILL, volume, 0) < 0)
		return;
	engine_event(e, "refill", json_pack("{s:f, s:f, s:f, s:f}", "mass_g", s->mass_g,
					    "mass_u_g", s->mass_u_g, "volume_ml", volume,
					    "ml_per_g", ml_per_g));
	e->have_pump_status = false;
	engine_read_pump(e);
}

static void do_tare(struct engine *e, const struct step *s)
{
	int r;

	e->tare_offset_g += e->last_mass_g;
	e->last_mass_g = 0;
	r = sensor_tare(e->inst[ROLE_SCALE]);
	if (r < 0) {
		engine_abort(e, CAUSE_BENCH, "scale tare failed: %s", strerror(-r));
		return;
	}
	e->tare_t_ns = engine_now(e);
	e->tare_settled = false;
	engine_event(e, "tare", NULL);
	wait_step(e, s, WAIT_TARE_SETTLED);
}

/* The pump is stopped (plan_validate): once the line has stopped draining
 * (drain.c; waited for at most the period's own length, and the record says
 * whether it did and how long that took), whatever the balance loses is
 * evaporation and the balance's drift; the analysis fits its slope. */
static void do_measure_evaporation(struct engine *e, const struct step *s)
{
	rig_ns t0 = engine_now(e);
	bool still;

	engine_still_begin(e);
	still = engine_run_until(e, t0 + s->duration_ns, WAIT_LINE_STILL) == WAIT_DONE;
	e->still.on = false;
	if (e->aborted)
		return;
	engine_event(e, "evaporation", json_pack("{s:s, s:b, s:f}", "edge", "begin", "line_still",
						 still, "waited_s", rig_ns_to_s(engine_now(e) - t0)));
	engine_run_until(e, engine_now(e) + s->duration_ns, WAIT_NOTHING);
	engine_event(e, "evaporation", json_pack("{s:s}", "edge", "end"));
}

void engine_do_step(struct engine *e, const struct step *s)
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
		if (engine_pump_command(e, "set_rate", PUMP_CMD_RATE, s->rate_ml_per_h, 0) == 0)
			engine_event(e, "rate", json_pack("{s:f}", "rate_ml_per_h", s->rate_ml_per_h));
		break;
	case STEP_STOP:
		if (engine_pump_command(e, "stop", PUMP_CMD_STOP, 0, 0) == 0)
			engine_event(e, "rate", json_pack("{s:f, s:b}", "rate_ml_per_h", 0.0, "stop", 1));
		break;
	case STEP_HOLD:
		engine_run_until(e, engine_now(e) + s->duration_ns, WAIT_NOTHING);
		break;
	case STEP_MEASURE_EVAPORATION:
		do_measure_evaporation(e, s);
		break;
	case STEP_REFILL:
		do_refill(e, s);
		break;
	case STEP_OCCLUDE:
		if (valve_set_closed(e->inst[ROLE_VALVE], true) < 0) {
			engine_abort(e, CAUSE_BENCH, "occlusion valve did not close");
			break;
		}
		engine_event(e, "valve", json_pack("{s:s}", "state", "closed"));
		if (s->until == OCCLUDE_UNTIL_ALARM)
			wait_step(e, s, WAIT_ALARM);
		else
			engine_run_until(e, engine_now(e) + s->duration_ns, WAIT_NOTHING);
		break;
	case STEP_RELEASE:
		if (valve_set_closed(e->inst[ROLE_VALVE], false) < 0) {
			engine_abort(e, CAUSE_BENCH, "occlusion valve did not open");
			break;
		}
		engine_event(e, "valve", json_pack("{s:s}", "state", "open"));
		if (s->duration_ns > 0)
			engine_run_until(e, engine_now(e) + s->duration_ns, WAIT_NOTHING);
		break;
	case STEP_MARK:
		engine_event(e, "mark", json_pack("{s:s, s:s}", "window", s->window, "edge",
					   s->edge == MARK_BEGIN ? "begin" : "end"));
		break;
	case STEP_CHECK:
		/* Judged after the run, from the record alone. */
		engine_event(e, "check", json_pack("{s:s, s:s}", "check", check_kind_name(s->check),
					    "window", s->window));
		break;
	default:
		engine_abort(e, CAUSE_INTERNAL, "internal error: step kind %d has no implementation", (int)s->kind);
		break;
	}
}

void engine_announce_step(struct engine *e, const struct step *s)
{
	char t[32];

	engine_event(e, "step", json_pack("{s:I, s:s, s:i, s:s}", "step", (json_int_t)e->step_index + 1,
				   "kind", step_kind_name(s->kind), "line", s->line, "label", s->label));
	if (!e->o->progress || e->o->progress_live)
		return;
	engine_fmt_duration(engine_now(e), t, sizeof(t));
	fprintf(e->o->progress, "  t = %s  step %zu/%zu %s (line %d)%s%s\n", t, e->step_index + 1,
		e->o->seq->n_steps, step_kind_name(s->kind), s->line, s->label[0] ? ": " : "",
		TERM_SAFE(s->label));
}
