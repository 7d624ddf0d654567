/* The timeline of a run, read from events.jsonl: commands, marks, edges,
 * faults and gaps.  Few entries (one per command, mark, edge or fault),
 * never one per sample. */
#ifndef RIG_JUDGE_TIMELINE_H
#define RIG_JUDGE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include "rig/analysis/dose.h"
#include "rig/config/config.h"
#include "results.h"

struct window {
	char name[RIG_ID_MAX];
	bool begun, ended;
	rig_ns begin_ns, end_ns;
};

struct t_flag {
	rig_ns t_ns;
	bool on;
	bool by_supervisor;
};

struct period {
	rig_ns begin_ns, end_ns;
};

/* A measure_evaporation period: the pump stopped, the balance watched. */
struct stopped_mark {
	rig_ns begin_ns, end_ns;             /* end -1 while open */
	int line_still;                      /* the engine saw the line stop draining before
	                                        it began: 1, 0 (not within the step's
	                                        duration), -1 (the record does not say) */
	double line_wait_s;                  /* how long it waited first; NAN: not said */
};

/* A bolus asked for (not a prime): delivered, or refused by the pump. */
struct bolus_request {
	rig_ns t_ns;
	double volume_ml, rate_ml_per_h;
	bool patient;                        /* demand = "patient" */
	bool refused;                        /* bolus_refused: the pump said no */
};

/* The reservoir emptied and refilled with a weighed mass. */
struct refill_mark {
	rig_ns t_ns;
	double mass_g, mass_u_g;             /* weighed, and its standard uncertainty */
	double volume_ml;                    /* what the pump was told */
};

struct timeline {
	struct rate_change *rates;
	size_t n_rates, cap_rates;
	struct bolus_cmd *boluses;
	size_t n_boluses, cap_boluses;
	struct bolus_request *requests;      /* bolus steps (not primes), in order */
	size_t n_requests, cap_requests;
	struct window *windows;
	size_t n_windows;
	struct check_result *timeouts;
	size_t n_timeouts;
	rig_ns *tares;
	size_t n_tares, cap_tares;
	struct stopped_mark *evaporation;    /* measure_evaporation periods */
	size_t n_evaporation, cap_evaporation;
	struct t_flag *valve;                /* on = closed */
	size_t n_valve, cap_valve;
	struct t_flag *alarm_line;           /* on = rising edge, exact time */
	size_t n_alarm_line, cap_alarm_line;
	struct t_flag *pump_occlusion;       /* pump status: occlusion alarm on/off */
	size_t n_pump_occlusion, cap_pump_occlusion;
	struct t_flag *pump_low_battery;
	size_t n_pump_low_battery, cap_pump_low_battery;
	struct t_flag *pump_reservoir_low;   /* pump status: reservoir low on/off */
	size_t n_pump_reservoir_low, cap_pump_reservoir_low;
	struct t_flag *pump_empty;           /* pump status: reservoir empty on/off */
	size_t n_pump_empty, cap_pump_empty;
	struct refill_mark *refills;
	size_t n_refills, cap_refills;
	struct instrument_event *gaps;       /* sensors away and back (bench reconnect) */
	size_t n_gaps, cap_gaps;
	struct period *resume_gaps;          /* nothing recorded: a crash, then rig resume */
	size_t n_resume_gaps, cap_resume_gaps;
	char end_cause[16];                  /* the root-cause fault's cause: "bench", ... */
	char ended_utc[32];                  /* run_end's wall-clock time */
	int bench_safe;                      /* the last safe_state's bench_safe: 1, 0; -1 none */
	bool ended;
	bool aborted;
	char end_reason[512];
	rig_ns last_t_ns;
	size_t torn;
};

/* Reads run_dir/events.jsonl into tl (tl->windows has room for
 * max_windows).  Returns 0, or a negative errno with a message in err. */
int timeline_read(const char *run_dir, struct timeline *tl, size_t max_windows, char *err,
		  size_t err_len);
void timeline_free(struct timeline *tl);

/* Basal rate programmed at t, and whether a bolus is delivering at t. */
double timeline_rate_at(const struct timeline *tl, rig_ns t_ns);
bool timeline_bolus_at(const struct timeline *tl, rig_ns t_ns);

#endif
