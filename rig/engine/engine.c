/* The engine: a validated sequence executed on a bench (engine.h).  This file
 * holds the run itself: the record's start and end, opening and closing the
 * bench, the step loop, resume, and rig safe; internal.h says which file does
 * the rest. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "rig/base/utc.h"
#include "internal.h"
#include "rig/base/infile.h"

#include "calgate.h"
#include "resume.h"
#include "drivers/sim/model.h"
#include "rig/base/text.h"

void engine_fmt_duration(rig_ns t_ns, char *buf, size_t len)
{
	long long s = (long long)(t_ns / RIG_NS_PER_S);

	snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
}

rig_ns engine_now(struct engine *e)
{
	return rig_clock_now(e->clock);
}


/* Sleeps (or, on the virtual clock, jumps) to the deadline; a wire-level
 * simulator in lockstep is told the new time before anything is read. */
int engine_sleep(struct engine *e, rig_ns deadline_ns)
{
	int r = rig_clock_sleep_until(e->clock, deadline_ns);

	if (r == 0 && e->clock_link) {
		r = sim_clock_link_set(e->clock_link, engine_now(e));
		if (r < 0) {
			struct sim_clock_link *l = e->clock_link;

			e->clock_link = NULL;   /* do not try again while going safe */
			sim_clock_link_close(l);
			engine_abort(e, CAUSE_BENCH, "lost the wire simulator's clock (%s): %s",
				  e->o->bench->sim_clock_uri, strerror(-r));
			return 0;
		}
	}
	return r;
}

void engine_event(struct engine *e, const char *name, json_t *fields)
{
	if (!e->rec) {   /* rig safe on a bench with no record to take up */
		json_decref(fields);
		return;
	}
	if (e->o->observe)
		e->o->observe(e->o->observe_ctx, engine_now(e), name, fields, e->env.sim);
	recorder_event(e->rec, engine_now(e), name, fields);
}

const char *engine_cause_name(enum abort_cause cause)
{
	static const char *const names[] = { [CAUSE_BENCH] = "bench", [CAUSE_DEVICE] = "device",
					     [CAUSE_OPERATOR] = "operator",
					     [CAUSE_INTERNAL] = "internal" };

	return (unsigned)cause < sizeof(names) / sizeof(names[0]) ? names[cause] : "internal";
}

void engine_abort(struct engine *e, enum abort_cause cause, const char *fmt, ...)
{
	va_list ap;
	char reason[512];

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	text_trim_partial(reason);   /* cut short, still UTF-8: jansson writes nothing else */
	engine_event(e, "fault", json_pack("{s:s, s:b, s:s}", "reason", reason, "root_cause",
					   !e->aborted, "cause", engine_cause_name(cause)));
	if (e->aborted)
		return;
	e->aborted = true;
	snprintf(e->abort_reason, sizeof(e->abort_reason), "%s", reason);
}

/* A broken promise inside the rig itself (a driver answering outside its
 * contract, a state the code cannot be in).  Nothing the engine holds can be
 * trusted further, so the run aborts through the ordinary path: the safe
 * state needs only the instruments, not the engine's bookkeeping. */
void engine_internal_error(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	char what[400];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	text_trim_partial(what);
	engine_event(e, "internal_error", json_pack("{s:s}", "what", what));
	engine_abort(e, CAUSE_INTERNAL, "internal error: %s", what);
}

/* ------------------------------------------------------------ the run -- */

/* What an instrument could not do where it had no error to return (a
 * setting its close could not put back on the hardware): a "warning" event
 * while the record is open (closing the instruments comes after run_end),
 * and stderr always, since it outlives the run. */
static void instrument_warning(void *arg, const struct instrument_cfg *ic, const char *text)
{
	struct engine *e = arg;
	const struct bench *b = e->o->bench;
	const char *who = ic->device;

	for (int r = 0; r < ROLE__COUNT; r++)
		if (&b->instrument[r] == ic)
			who = rig_role_name((enum rig_role)r);
	for (size_t i = 0; i < b->n_outputs; i++)
		if (&b->outputs[i].line == ic)
			who = b->outputs[i].name;
	fprintf(stderr, "rig: warning: %s: %s\n", TERM_SAFE(who), TERM_SAFE(text));
	engine_event(e, "warning", json_pack("{s:s, s:s}", "instrument", who, "what", text));
}

static int open_bench(struct engine *e)
{
	const struct bench *b = e->o->bench;

	e->env.clock = e->clock;
	e->env.bench = b;
	e->env.answer_timeout_ns = b->answer_timeout_ns;
	e->env.run_dir = e->o->run_dir;
	e->env.warn = instrument_warning;
	e->env.warn_arg = e;
	if (b->sim_clock_uri[0]) {
		int r = sim_clock_link_open(b->sim_clock_uri, &e->clock_link);

		if (r < 0) {
			engine_abort(e, CAUSE_BENCH, "cannot reach the wire simulator's clock at %s: %s",
				  b->sim_clock_uri, strerror(-r));
			return r;
		}
	}
	if (b->has_sim) {
		e->env.sim = sim_model_new(&b->sim, b->sim.fluid_density_g_per_ml);
		if (!e->env.sim) {
			engine_abort(e, CAUSE_INTERNAL, "cannot create the simulated bench: out of memory");
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

			engine_abort(e, role == ROLE_PUMP ? CAUSE_DEVICE : CAUSE_BENCH, "cannot open %s (backend %s): %s", rig_role_name(role), ic->backend,
				  instrument_error_text(ic, r, why, sizeof(why)));
			return r;
		}
		engine_event(e, "instrument", json_pack("{s:s, s:s, s:s, s:s}", "role", rig_role_name(role),
						 "backend", ic->backend, "model", ic->model, "serial",
						 ic->serial));
		if (e->o->calibration_today && calgate_instrument_expired(ic, e->o->calibration_today))
			engine_event(e, "calibration_expired", json_pack("{s:s, s:s, s:s, s:s, s:s}", "role",
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
		rig_ns period = bench_pump_poll_ns(b);

		e->slots[e->n_slots++] = (struct slot){ ROLE_PUMP, period, e->t_start_ns + period };
	}
	/* Output lines last: each comes up at its safe level (the backend
	 * drives it there as it takes the line). */
	for (size_t i = 0; i < b->n_outputs; i++) {
		const struct output_cfg *oc = &b->outputs[i];
		int r = output_open(&e->outputs[i], oc, &e->env);

		if (r < 0) {
			engine_abort(e, CAUSE_BENCH, "cannot open output %s (backend %s): %s", oc->name, oc->line.backend,
				  strerror(-r));
			return r;
		}
		engine_event(e, "output", json_pack("{s:s, s:s, s:s, s:s}", "name", oc->name, "level",
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
			engine_abort(e, CAUSE_BENCH, "output %s could not be set %s for the run: %s", oc->name,
				  oc->run_on ? "on" : "off", strerror(-r));
			return;
		}
		engine_event(e, "output", json_pack("{s:s, s:s, s:s}", "name", oc->name, "level",
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
/* A run on the real clock says where its time 0 lies on CLOCK_MONOTONIC, so
 * that any kernel timestamp of this boot (a GPIO edge, an IIO scan, a trace
 * or log line) can be set against the record: run time = monotonic - this. */
static json_t *with_clock_origin(struct engine *e, json_t *fields)
{
	if (fields && !rig_clock_is_virtual(e->clock))
		json_object_set_new(fields, "t0_monotonic_ns",
				    json_integer(-rig_clock_from_monotonic(e->clock, 0)));
	return fields;
}

static void resume_event(struct engine *e)
{
	const struct engine_resume *rs = e->o->resume;
	const struct sequence *seq = e->o->seq;
	char utc[32];

	rig_utc_now_iso(utc);
	engine_event(e, "resume", with_clock_origin(e, json_pack("{s:s, s:f, s:f, s:I, s:s, s:b, s:f, s:s, s:s}",
		"utc", utc, "gap_begin_s", rig_ns_to_s(rs->gap_begin_ns), "gap_s",
		rig_ns_to_s(rs->gap_ns), "from_step", (json_int_t)rs->first_step + 1,
		"from_kind", rs->first_step < seq->n_steps ? step_kind_name(seq->steps[rs->first_step].kind)
							    : "(end)",
		"skipped_interrupted_bolus", rs->skipped_bolus, "delivered_before_ml",
		rs->delivered_ml, "clock", e->o->virtual_time ? "virtual" : "real",
		"why", "the record ended without run_end (crash, kill or power loss)")));
}

/* The bench as the crash left it is unknown: safe first, then what the
 * sequence had set before the step being redone (the rate, an occlusion). */
static void resume_bench(struct engine *e)
{
	const struct engine_resume *rs = e->o->resume;

	engine_safe_state(e, "resume: the bench is made safe before the sequence continues");
	engine_event(e, "rate", json_pack("{s:f, s:b, s:s}", "rate_ml_per_h", 0.0, "stop", 1, "by",
				   "resume"));
	if (rs->rate_ml_per_h > 0 &&
	    engine_pump_command(e, "set_rate", PUMP_CMD_RATE, rs->rate_ml_per_h, 0) == 0)
		engine_event(e, "rate", json_pack("{s:f, s:s}", "rate_ml_per_h", rs->rate_ml_per_h, "by",
					   "resume"));
	if (rs->valve_closed && e->inst[ROLE_VALVE]) {
		if (valve_set_closed(e->inst[ROLE_VALVE], true) < 0)
			engine_abort(e, CAUSE_BENCH, "occlusion valve did not close again on resume");
		else
			engine_event(e, "valve", json_pack("{s:s, s:s}", "state", "closed", "by", "resume"));
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
	engine_event(e, "lock_taken_over", json_pack("{s:s, s:o, s:s}", "lock_file",
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
	f = infile_fopen(path);
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
	f = infile_fopen(path);
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
	struct engine e = { .o = o, .qos_fd = -1 };
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
		engine_event(&e, "fault", json_pack("{s:s, s:b, s:s}", "reason", why, "root_cause", 1,
						    "cause", engine_cause_name(o->after_crash ?
						    CAUSE_INTERNAL : CAUSE_OPERATOR)));
	e.env.clock = e.clock;
	e.env.bench = b;
	e.env.answer_timeout_ns = b->answer_timeout_ns;
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
			engine_event(&e, "instrument_fault", json_pack("{s:s, s:s, s:s}", "role",
				rig_role_name((enum rig_role)role), "error", strerror(-ro), "during",
				"rig safe: open"));
		if (ro < 0) {
			char text[200];

			fprintf(stderr, "rig safe: cannot open %s (backend %s): %s\n",
				rig_role_name((enum rig_role)role), ic->backend,
				TERM_SAFE(instrument_error_text(ic, ro, text, sizeof(text))));
		}
	}
	for (size_t i = 0; i < b->n_outputs; i++)
		if (output_open(&e.outputs[i], &b->outputs[i], &e.env) < 0)
			fprintf(stderr, "rig safe: cannot open output %s\n",
				TERM_SAFE(b->outputs[i].name));
	/* the safe-state sequence itself, recorded or not */
	safe = engine_safe_state(&e, why);
	for (int role = 0; role < ROLE__COUNT; role++)
		if ((role == ROLE_PUMP || role == ROLE_VALVE) && b->instrument[role].present &&
		    !e.inst[role])
			safe = false;   /* could not even be opened */
	for (size_t i = 0; i < b->n_outputs; i++)
		safe = safe && e.outputs[i];
	if (*ret_recorded) {
		char utc[32];

		engine_event(&e, "run_end", json_pack("{s:s, s:s, s:s}", "status", "aborted", "reason", why,
					       "utc", rig_utc_now_iso(utc)));
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

/* bench.realtime_priority: the sampler's loop under SCHED_FIFO with its
 * memory locked and the CPUs kept out of slow idle states
 * (rig_clock_qos_hold), for a run on the real clock, where the system
 * permits.  A refusal is recorded and warned about, never fatal: the run
 * goes on in the ordinary scheduler, as it would without the option.
 * Memory is locked for the future only where that cannot make a later
 * allocation fail (root, or no RLIMIT_MEMLOCK).  Returns whether anything
 * was changed. */
static bool realtime_enter(struct engine *e)
{
	int prio = e->o->bench->realtime_priority;
	struct sched_param sp = { .sched_priority = prio };
	const char *sched_err = NULL, *lock_err = NULL, *qos_err = NULL;
	char lock_text[160];
	struct rlimit rl;
	bool fifo, locked = false;

	/* in lockstep with a wire simulator every step is round trips, and
	 * each waits for an idle CPU to wake where it halts (the wire
	 * qualification: 16.7 to 18.2 s so, 6.8 to 8.1 s with the CPUs kept
	 * polling; README, "wire-level simulator"): held for the run where
	 * permitted, recorded either way */
	if (e->o->virtual_time && e->o->bench->sim_clock_uri[0]) {
		e->qos_fd = rig_clock_qos_hold();
		engine_event(e, "cpu_latency", json_pack("{s:s, s:b, s:o}", "why",
			"lockstep with the simulator: a step is round trips",
			"cpu_dma_latency_0", e->qos_fd >= 0, "cpu_dma_latency_error",
			e->qos_fd >= 0 ? json_null() : json_string(strerror(errno))));
	}
	/* the sampler's sleeps end at their deadlines, not up to the
	 * kernel's default 50 us later (timer slack, per thread; SCHED_FIFO
	 * has none): for a run on the real clock, whatever its priority */
	if (!e->o->virtual_time)
		prctl(PR_SET_TIMERSLACK, 1UL);
	if (prio <= 0)
		return false;
	if (e->o->virtual_time) {
		engine_event(e, "realtime", json_pack("{s:i, s:s, s:b, s:s}", "requested_priority", prio,
			"scheduler", "SCHED_OTHER", "memory_locked", 0, "why_not",
			"virtual time: the sampler does not wait on the wall clock"));
		return false;
	}
	fifo = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
	if (!fifo)
		sched_err = strerror(errno);
	if (e->qos_fd < 0)
		e->qos_fd = rig_clock_qos_hold();
	if (e->qos_fd < 0)
		qos_err = strerror(errno);
	if (geteuid() != 0 && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		snprintf(lock_text, sizeof(lock_text), "RLIMIT_MEMLOCK is %llu kB: locking the run's "
			 "future memory could make an allocation fail", (unsigned long long)rl.rlim_cur / 1024);
		lock_err = lock_text;
	} else if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
		locked = true;
	} else {
		lock_err = strerror(errno);
	}
	engine_event(e, "realtime", json_pack("{s:i, s:s, s:o, s:b, s:o, s:b, s:o}",
		"requested_priority", prio, "scheduler", fifo ? "SCHED_FIFO" : "SCHED_OTHER",
		"scheduler_error", sched_err ? json_string(sched_err) : json_null(),
		"memory_locked", locked, "memory_error", lock_err ? json_string(lock_err) : json_null(),
		"cpu_dma_latency_0", e->qos_fd >= 0,
		"cpu_dma_latency_error", qos_err ? json_string(qos_err) : json_null()));
	if (!fifo)
		fprintf(stderr, "rig: warning: %s: realtime_priority = %d: SCHED_FIFO not permitted "
			"(%s); the run goes on in the ordinary scheduler\n",
			TERM_SAFE(e->o->bench->path), prio, sched_err);
	if (!locked)
		fprintf(stderr, "rig: warning: %s: realtime_priority = %d: memory not locked (%s)\n",
			TERM_SAFE(e->o->bench->path), prio, lock_err);
	if (e->qos_fd < 0)
		fprintf(stderr, "rig: warning: %s: realtime_priority = %d: /dev/cpu_dma_latency not "
			"held at 0 (%s): idle CPUs may wake the sampler late\n",
			TERM_SAFE(e->o->bench->path), prio, qos_err);
	return fifo || locked || e->qos_fd >= 0;
}

/* Back to the ordinary scheduler once the bench is safe: the analysis and
 * the report are no real-time work. */
static void realtime_leave(struct engine *e, bool entered)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (e->qos_fd >= 0)
		close(e->qos_fd);
	e->qos_fd = -1;
	if (!entered)
		return;
	sched_setscheduler(0, SCHED_OTHER, &sp);
	munlockall();
}

int engine_run(const struct engine_opts *o, char *err, size_t err_len)
{
	bool realtime;
	struct engine e = { .o = o, .qos_fd = -1 };
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
		engine_event(&e, "run_start", with_clock_origin(&e, json_pack("{s:s, s:s, s:s, s:s}",
			"sequence", o->seq->id, "bench", o->bench->id, "clock",
			o->virtual_time ? "virtual" : "real", "utc", rig_utc_now_iso(utc))));
	note_lock(&e);
	realtime = realtime_enter(&e);
	if (open_bench(&e) == 0) {
		/* Outputs to their declared safe levels before the first step;
		 * a valve that cannot be set there is no bench to run on. */
		if (e.inst[ROLE_VALVE] &&
		    (r = valve_set_closed(e.inst[ROLE_VALVE],
					  o->bench->instrument[ROLE_VALVE].safe_closed)) < 0)
			engine_abort(&e, CAUSE_BENCH, "valve could not be set to its safe state at the start: %s",
				  strerror(-r));
		outputs_to_run_levels(&e);
		if (o->resume)
			resume_bench(&e);
		for (size_t i = 0; i < e.n_slots; i++)
			engine_read_slot(&e, e.slots[i].role);   /* the state at the start */
		for (e.step_index = o->resume ? o->resume->first_step : 0;
		     e.step_index < o->seq->n_steps && !e.aborted; e.step_index++) {
			const struct step *s = &o->seq->steps[e.step_index];

			/* A signal that came during a command step (or while the bench
			 * was opened) is obeyed before the next command goes out. */
			if (*o->stop_signal) {
				engine_run_until(&e, engine_now(&e), WAIT_NOTHING);
				break;
			}
			engine_announce_step(&e, s);
			engine_progress(&e, true);
			engine_do_step(&e, s);
		}
		if (!e.aborted && *o->stop_signal)
			engine_run_until(&e, engine_now(&e), WAIT_NOTHING);   /* records the signal */
	}
	if (o->progress && o->progress_live)
		fputc('\n', o->progress);
	/* A completed run collects its buffered sensors' last scans, then goes
	 * safe; an aborted one goes safe first, since a sensor that failed may
	 * share a silent board with the ones still to be collected. */
	if (!e.aborted)
		engine_drain_buffers(&e);
	engine_safe_state(&e, e.aborted ? e.abort_reason : "sequence completed");
	if (e.aborted)
		engine_drain_buffers(&e);
	realtime_leave(&e, realtime);
	engine_event(&e, "run_end", json_pack("{s:s, s:s, s:s}", "status", e.aborted ? "aborted" : "completed",
				       "reason", e.aborted ? e.abort_reason : "every step ran",
				       "utc", rig_utc_now_iso(utc)));
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
