/* What the PDF and HTML test reports show beyond results.json, gathered from
 * the run directory: identification (run.json, the copied inputs, the
 * run_start/run_end events), the equipment list, the safe state, operator
 * notes, the commands and marks, and decimated series for the plots (the
 * deviations are the judge's: results).  samples.csv is read once, line by line, into fixed-size series:
 * memory does not depend on the length of the run. */
#ifndef RIG_REPORTS_REPORT_DATA_H
#define RIG_REPORTS_REPORT_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "rig/config/config.h"
#include "rig/seal/digest.h"
#include "rig/seal/notes.h"
#include "rig/judge/results.h"
#include "plot/plot.h"

#define REPORT_NOTES_MAX 64
#define REPORT_RATES_MAX 100
#define REPORT_WINDOWS_MAX 32

/* A marked window of the sequence (events.jsonl mark). */
struct report_window {
	char name[RIG_ID_MAX];
	bool begun, ended;
	rig_ns begin_ns, end_ns;
};

struct report_note {
	char utc[40];
	char operator_name[RIG_ID_MAX];
	char text[NOTE_TEXT_MAX + 1];
};

struct report_signoff;   /* report_signatures.c */

struct report_data {
	char run_dir_name[256];         /* last component of the run directory */
	bool record_zst;                /* samples.csv is stored as samples.csv.zst */
	char report_id[RIG_ID_MAX + 256 + 8];
	/* run.json (each field optional: older run directories lack some) */
	bool have_run_json;
	char software[96];
	char started_utc[40];
	char host[96];
	char clock[64];
	char scheduler[256];                /* events.jsonl realtime: what bench.realtime_priority
	                                       asked and was granted; "" when not asked */
	char operator_name[RIG_TEXT_MAX];
	bool allow_expired_calibration;
	char expired_listed[RIG_TEXT_MAX];  /* run.json expired_calibrations, as text */
	/* events.jsonl */
	char start_utc[40];             /* run_start utc */
	char end_utc[40];               /* run_end utc; "" when the run has none */
	char safe_state[384];           /* the safe_state event, in words */
	/* the copied inputs, loaded as at the run */
	struct sequence *seq;
	struct bench *bench;
	struct device *dev;
	char sha_sequence[DIGEST_HEX_LEN + 1];
	char sha_bench[DIGEST_HEX_LEN + 1];
	char sha_device[DIGEST_HEX_LEN + 1];
	bool inputs_sha_mismatch;       /* a digest in run.json differs from the file now */
	bool expired[ROLE__COUNT];      /* calibration due before the run's start date,
	                                   or a calibration_expired event for it */
	bool expired_event[ROLE__COUNT];  /* events.jsonl: calibration_expired */
	bool allowed_by_event;          /* some calibration_expired event (leave given) */
	size_t n_expired;
	/* the run's end when it did not complete: the root cause's time */
	bool aborted;
	rig_ns t_abort_ns;
	struct report_note notes[REPORT_NOTES_MAX];
	size_t n_notes, n_notes_dropped;
	/* the occlusion (first valve closure by the sequence) */
	bool have_occlusion, have_release, have_alarm;
	rig_ns t_close_ns, t_release_ns, t_alarm_ns;
	/* basal rate commands (events.jsonl "rate"; a stop ends any bolus) and
	 * boluses and primes ("bolus"), for the programmed rate and volume */
	rig_ns rate_t_ns[REPORT_RATES_MAX];
	double rate_ml_per_h[REPORT_RATES_MAX];
	bool rate_stop[REPORT_RATES_MAX];
	size_t n_rates;
	rig_ns bolus_t_ns[REPORT_RATES_MAX];
	double bolus_ml[REPORT_RATES_MAX], bolus_rate_ml_per_h[REPORT_RATES_MAX];
	size_t n_boluses;
	bool rates_truncated;           /* more commands than the plots draw */
	/* marked windows, for the plots' shading */
	struct report_window windows[REPORT_WINDOWS_MAX];
	size_t n_windows;
	/* series for the plots */
	struct series volume_ml;        /* balance through the gravimetric chain */
	struct series flow_ml_per_h;    /* the flow sensor */
	struct series pressure_kpa;     /* around the occlusion when there is one */
	rig_ns pressure_to_ns;          /* its end (its start is pressure_kpa.t0_ns) */
	struct series current_ua;
	struct series voltage_v;
	rig_ns volume_t0_ns;            /* the first settled reading: volume 0 */
	size_t n_tares_bridged;
	char tares_bridged_at[96];      /* their run times in h, "0.0, 28.1, ..." */
	size_t n_samples_read;
	struct report_signoff *signoff;  /* signatures, seal, revisions */
};

/* Gathers everything from run_dir for the judged results res.  Returns 0
 * (missing optional files are not errors) or a negative errno with a
 * message in err. */
int report_data_gather(const struct run_results *res, const char *run_dir,
		       struct report_data **ret, char *err, size_t err_len);
void report_data_free(struct report_data *d);

#endif
