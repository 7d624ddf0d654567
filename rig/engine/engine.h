/* The engine: executes a validated sequence on a bench, sampling every
 * instrument at its period against absolute deadlines, recording every sample
 * as it is taken, watching the bench's hard limits, and leaving the bench safe
 * however the run ends. */
#ifndef RIG_ENGINE_H
#define RIG_ENGINE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include "rig/config/config.h"

struct sim_model;

/* Where a resumed run (rig resume) takes up the sequence; see rig/resume.h. */
struct engine_resume {
	size_t first_step;            /* index of the first step to run */
	rig_ns gap_begin_ns;          /* run time of the last record before the gap */
	rig_ns gap_ns;                /* how long nothing was recorded (wall time) */
	double rate_ml_per_h;         /* basal rate last commanded (0: stopped) */
	bool valve_closed;            /* valve state last commanded by the sequence */
	double delivered_ml;          /* the supervisor's delivered estimate before it */
	bool skipped_bolus;           /* the interrupted step was a bolus, not redone */
};

struct engine_opts {
	const struct sequence *seq;
	const struct bench *bench;
	const struct device *dev;
	const char *run_dir;                  /* exists, empty but for inputs/ and run.json */
	bool virtual_time;                    /* jump between deadlines (simulated bench only) */
	FILE *progress;                       /* NULL: quiet */
	bool progress_live;                   /* one rewritten line (a terminal) vs a line per step */
	volatile sig_atomic_t *stop_signal;   /* set to a signal number to stop the run */
	const char *calibration_today;        /* "YYYY-MM-DD": an instrument whose calibration
	                                         was due before it (the operator allowed it)
	                                         is recorded as a calibration_expired event;
	                                         NULL: not checked */
	const char *lock_path;                /* the bench lock held (rig/lock.h), or NULL */
	const char *lock_stale_holder;        /* holder line of a crashed run's lock taken
	                                         over, recorded as an event; NULL or "" */
	const struct engine_resume *resume;   /* NULL: a fresh run from step 1 */
	bool after_crash;                     /* rig safe: the run's own rig crashed (the
	                                         record's cause is then internal, else the
	                                         operator's) */
	/* For whoever drives the engine in-process and wants to set the record
	 * against the simulated bench's truth (tools/bench_coverage.c, tests):
	 * called as each event is recorded (what: its name; fields: its fields,
	 * borrowed, may be NULL) and after each instrument is read (what: the
	 * role's name; fields NULL), with the simulated bench's model (NULL on
	 * a bench without one).  NULL: nobody watches.  Nothing it does reaches
	 * the record. */
	void (*observe)(void *ctx, rig_ns t_ns, const char *what, const json_t *fields,
			struct sim_model *sim);
	void *observe_ctx;
};

/* Returns 0 when every step ran, -ECANCELED when the run was aborted (the
 * reason is in events.jsonl), or another negative errno when the run could
 * not be recorded at all (err says why).  The bench is safe on every return. */
int engine_run(const struct engine_opts *opts, char *err, size_t err_len);

/* rig safe: the bench made safe by a process of its own, after the one that
 * ran it crashed, or by hand.  Only the pump, the valve and the output lines
 * are opened (a broken sensor must not stand in the way).  With
 * opts->run_dir, an interrupted record (no run_end) is taken up where it
 * ends: a "fault" event with why as its root cause, the safe_state, and
 * run_end "aborted"; *ret_recorded says whether it was.  Returns 0 when the
 * bench is safe, -EIO when something did not answer (the safe_state event
 * and stderr say what), another negative errno when it could not try. */
int engine_make_safe(const struct engine_opts *opts, const char *why, bool *ret_recorded,
		     char *err, size_t err_len);

#endif
