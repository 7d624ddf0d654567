/* Shared by the engine's files: engine.c (the run: opening the bench,
 * the step loop, the record's start and end, rig safe), sampler.c (every
 * instrument read at its period against absolute deadlines, the wait
 * conditions), steps.c (each step kind, the pump's commands and its link's
 * outages) and safe.c (the supervisor's limits and the safe-state sequence).
 * Not for use outside rig/engine/. */
#ifndef RIG_ENGINE_INTERNAL_H
#define RIG_ENGINE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "engine.h"
#include "recorder.h"
#include "drivers/driver.h"

#define SAFE_STOP_ATTEMPTS 5
#define SAFE_STOP_RETRY_NS RIG_NS_PER_S
#define PUMP_TELEMETRY_N 3   /* delivered, reservoir, battery voltage */
#define PUMP_RECONNECT_RETRY_NS (5 * RIG_NS_PER_S)

enum wait_for { WAIT_NOTHING, WAIT_BOLUS_DONE, WAIT_TARE_SETTLED, WAIT_ALARM, WAIT_LINE_STILL };
enum wait_result { WAIT_DONE, WAIT_TIMED_OUT, WAIT_ABORTED };
enum pump_cmd { PUMP_CMD_RATE, PUMP_CMD_BOLUS, PUMP_CMD_PATIENT_BOLUS, PUMP_CMD_STOP,
		PUMP_CMD_REFILL };

/* Whether the line has stopped draining into the vessel, from the
 * balance's own readings (drain.c): the last STILL_N settled readings while
 * the watch is on. */
#define STILL_N 6
struct still_watch {
	bool on;
	size_t n;                  /* readings pushed since the watch began */
	rig_ns t_ns[STILL_N];
	double g[STILL_N];
};

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
	struct still_watch still;  /* the balance's last settled readings, while watched */
	bool have_mass;
	double first_mass_g;       /* first balance reading of the run */
	double tare_offset_g;      /* net readings removed by tares since */
	double last_mass_g;
	double delivered_ml;       /* estimate from the balance, for limit and progress */
	double delivered_base_ml;  /* the estimate before a resume's gap */
	rig_ns t_start_ns;         /* 0, or where a resumed run's time base continues */

	/* The first reason to abort is the root cause; later ones are consequences. */
	bool aborted;
	int qos_fd;                     /* /dev/cpu_dma_latency held at 0 (realtime_priority), or -1 */
	char abort_reason[512];
	size_t step_index;

	struct timespec last_progress;
	struct sim_clock_link *clock_link;   /* a wire simulator kept in lockstep */
	struct outage outage[ROLE__COUNT];
	struct guard guard[ROLE__COUNT];
	bool pump_down;                      /* the pump link is being reopened */
};

/* drain.c */
void engine_still_begin(struct engine *e);
void engine_still_add(struct engine *e, rig_ns t_ns, double mass_g);
bool engine_line_still(const struct engine *e);

/* engine.c */
void engine_fmt_duration(rig_ns t_ns, char *buf, size_t len);
rig_ns engine_now(struct engine *e);
/* Sleeps (or, on the virtual clock, jumps) to the deadline; a wire-level
 * simulator in lockstep is told the new time before anything is read. */
int engine_sleep(struct engine *e, rig_ns deadline_ns);
/* Appends an event to the record (steals fields). */
void engine_event(struct engine *e, const char *name, json_t *fields);
/* Why a run was aborted, for whoever decides what to do next (rig nightly
 * runs again a run the bench let down, never one the pump did): recorded
 * with the root-cause fault as "cause", and in results.json as end_cause. */
enum abort_cause {
	CAUSE_BENCH,      /* an instrument, a bench limit, the record: not the pump */
	CAUSE_DEVICE,     /* the pump under test: its link, its answers, a wait for it */
	CAUSE_OPERATOR,   /* a signal, the emergency stop */
	CAUSE_INTERNAL,   /* rig's own fault */
};
const char *engine_cause_name(enum abort_cause cause);   /* "bench", ... */

/* Aborts the run; the first reason is the root cause. */
void engine_abort(struct engine *e, enum abort_cause cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void engine_internal_error(struct engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* safe.c */
/* The supervisor: a reading against the bench's hard limits. */
void engine_check_reading(struct engine *e, enum rig_role role, const struct reading *rd);
/* Stops the pump, sets the valve and outputs safe, records each outcome;
 * true when everything answered. */
bool engine_safe_state(struct engine *e, const char *why);

/* sampler.c */
void engine_read_slot(struct engine *e, enum rig_role role);
void engine_read_pump(struct engine *e);
void engine_drain_buffers(struct engine *e);
void engine_progress(struct engine *e, bool force);
enum wait_result engine_run_until(struct engine *e, rig_ns end_ns, enum wait_for what);

/* steps.c */
int engine_pump_link_lost(struct engine *e, int err, const char *during);
int engine_pump_command(struct engine *e, const char *what, enum pump_cmd c, double a, double b);
void engine_announce_step(struct engine *e, const struct step *s);
void engine_do_step(struct engine *e, const struct step *s);

#endif
