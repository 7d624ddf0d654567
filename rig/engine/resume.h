/* Reading a crashed run back for rig resume.
 *
 * A run directory without a run_end event was interrupted (crash, kill,
 * power loss).  Its events.jsonl says how far the sequence got (the last
 * step announced), what the pump and valve were last told, and where the
 * balance stood at each tare; samples.csv gives the supervisor's delivered
 * volume so far.  Both are read once, line by line (memory independent of
 * the run's length).  Torn or foreign lines are skipped and counted. */
#ifndef RIG_RESUME_H
#define RIG_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include "rig/config/config.h"
#include "engine.h"

/* An instant in events.jsonl the delivered-volume estimate must honour. */
struct resume_mark {
	rig_ns t_ns;
	bool is_resume;   /* a previous resume (the estimate restarts from a base) */
};

struct resume_scan {
	bool started;                 /* a run_start event was seen */
	bool ended;                   /* a run_end event: nothing to resume */
	bool virtual_clock;           /* the first run_start said "virtual" */
	long long last_step;          /* number (1-based) of the last step announced; 0 none */
	char last_step_kind[32];
	double rate_ml_per_h;         /* the last rate command (0: stopped) */
	bool valve_closed;            /* the last valve command */
	rig_ns last_t_ns;             /* latest time recorded */
	struct resume_mark *marks;    /* tares and resumes, in order */
	size_t n_marks, cap_marks;
	size_t n_lines, n_skipped;
};

/* Feeds one line of events.jsonl (without or with its newline).  Returns 0
 * or -ENOMEM; a line that is no event is counted and skipped. */
int resume_scan_event(struct resume_scan *st, const char *line, size_t len);
void resume_scan_free(struct resume_scan *st);

/* Reads run_dir's record and plans the resume against the sequence and
 * bench loaded from its inputs/.  Returns 0, -EALREADY when the run ended
 * (err says how), or another negative errno (err says why). */
int resume_plan(const char *run_dir, const struct sequence *seq, const struct bench *bench,
		struct engine_resume *ret, bool *ret_virtual, char *err, size_t err_len);

#endif
