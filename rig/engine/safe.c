/* The supervisor's hard limits and the safe-state sequence: whatever ends a
 * run goes through engine_safe_state(), which a signal cannot hurry. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "rig/base/signals.h"

/* Waits until run time t_ns whatever signals arrive: the safe-state sequence
 * must not be hurried by an impatient operator. */
static void sleep_through_signals(struct engine *e, rig_ns t_ns)
{
	while (engine_sleep(e, t_ns) == -EINTR)
		;
}

static void safe_pump(struct engine *e, json_t *actions)
{
	int attempts = 0, r;

	/* A pump that did not answer may answer a moment later: the stop is
	 * retried, a bounded number of times, before giving up. */
	do {
		if (attempts > 0) {
			sleep_through_signals(e, engine_now(e) + SAFE_STOP_RETRY_NS);
			/* a link that timed out or went may be back */
			if (r != -ENOTSUP)
				(void)pump_reconnect(e->inst[ROLE_PUMP]);
		}
		r = pump_stop(e->inst[ROLE_PUMP]);
		attempts++;
		if (r < 0)
			engine_event(e, "pump_stop_failed", json_pack("{s:i, s:s}", "attempt", attempts,
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
				sleep_through_signals(e, engine_now(e) + SAFE_STOP_RETRY_NS);
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
			sleep_through_signals(e, engine_now(e) + SAFE_STOP_RETRY_NS);
		r = valve_set_closed(e->inst[ROLE_VALVE], closed);
		(*attempts)++;
		if (r < 0)
			engine_event(e, "valve_set_failed", json_pack("{s:i, s:s}", "attempt", *attempts,
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
bool engine_safe_state(struct engine *e, const char *why)
{
	bool bench_safe;
	json_t *actions = json_object();
	bool valve_first = e->inst[ROLE_VALVE] && !e->o->bench->instrument[ROLE_VALVE].safe_closed;
	int valve_attempts = 0, vr = -1;
	bool outputs_ok;

	engine_event(e, "safe_state_begin", json_pack("{s:s}", "reason", why));
	if (valve_first)
		vr = safe_valve(e, actions, &valve_attempts, 1);
	if (e->inst[ROLE_PUMP])
		safe_pump(e, actions);
	if (e->inst[ROLE_VALVE] && vr < 0 && (!valve_first || vr != -ENODEV))
		safe_valve(e, actions, &valve_attempts, SAFE_STOP_ATTEMPTS);
	outputs_ok = safe_outputs(e, actions);
	if (*e->o->stop_signal) {
		char name[RIG_SIGNAL_NAME_MAX];

		json_object_set_new(actions, "signal_while_going_safe",
				    json_string(rig_signal_name(*e->o->stop_signal, name)));
	}
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
	engine_event(e, "safe_state", actions);
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
		engine_event(e, "valve_set_failed", json_pack("{s:s, s:s}", "error", strerror(-r), "by",
						       "safety supervisor"));
	else
		engine_event(e, "valve", json_pack("{s:s, s:s}", "state", "open", "by", "safety supervisor"));
}

void engine_check_reading(struct engine *e, enum rig_role role, const struct reading *rd)
{
	const struct bench *b = e->o->bench;

	if (role == ROLE_PRESSURE && rd->quantity == QUANT_PRESSURE_KPA &&
	    rd->value > b->limit_pressure_kpa) {
		/* Release first, then explain: the line must not stay pressurised
		 * while the run winds down. */
		release_now(e);
		engine_abort(e, CAUSE_BENCH, "line pressure %.1f kPa above the bench limit %.1f kPa", rd->value,
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
			engine_abort(e, CAUSE_BENCH, "delivered volume %.4f mL above the bench limit %.4f mL",
				  e->delivered_ml, b->limit_volume_ml);
		if (rd->t_ns > e->tare_t_ns && !(rd->flags & SAMPLE_UNSTABLE))
			e->tare_settled = true;
		if (!(rd->flags & (SAMPLE_UNSTABLE | SAMPLE_STALE)))
			engine_still_add(e, rd->t_ns, rd->value);
	}
}
