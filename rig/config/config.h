/* The three input file kinds, after loading and validation.
 *
 *   sequence  what to do and what to judge      sequences/NAME.cfg
 *   bench     which backend plays each role,     fixtures/bench/NAME.cfg
 *             calibration, safety limits, and the simulator's physics
 *   device    what the pump under test promises  fixtures/dut/NAME.cfg
 *
 * All three are libconfig files; docs/file-formats.md documents every key.
 * Every physical value is a string with a unit ("30 min"); the comment after
 * each field gives its key in the file.  A loaded struct holds only validated
 * values in canonical units: code downstream never re-checks them. */
#ifndef RIG_CONFIG_H
#define RIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rig/base/bench.h"
#include "rig/base/diag.h"

/* ------------------------------------------------------------- sequence -- */

enum step_kind {
	STEP_PRIME,     /* fill the line: volume, optional rate; waits until delivered */
	STEP_TARE,      /* tare the balance; waits for a stable zero reading */
	STEP_SET_RATE,  /* program a basal rate: rate */
	STEP_BOLUS,     /* deliver volume on top of basal, optional rate; waits until done */
	STEP_HOLD,      /* keep sampling for duration */
	STEP_STOP,      /* stop delivery */
	STEP_OCCLUDE,   /* close the occlusion valve; waits for the pump's alarm
	                   (until = "alarm", default) or for duration (until = "duration") */
	STEP_RELEASE,   /* open the valve; then holds for duration (default 0) */
	STEP_MARK,      /* begin or end a named analysis window */
	STEP_CHECK,     /* judge something after the run: check, window, requirement */
	STEP_MEASURE_EVAPORATION, /* pump stopped: hold for duration and measure the
	                             vessel's evaporation rate from the balance */
	STEP_REFILL,    /* the reservoir emptied and refilled with a weighed mass:
	                   mass, mass_uncertainty; the pump is told the volume */
	STEP__COUNT
};

enum timeout_action {
	TIMEOUT_ABORT,  /* a timed-out step aborts the run (exit 3) */
	TIMEOUT_FAIL    /* a timed-out step records a failed check and the run goes on */
};

enum mark_edge { MARK_BEGIN, MARK_END };
enum occlude_until { OCCLUDE_UNTIL_ALARM, OCCLUDE_UNTIL_DURATION };
/* Who asks for a bolus: a clinician (the programmer), or the patient (the
 * patient's own device, refused within the pump's lockout). */
enum bolus_demand_kind { DEMAND_CLINICIAN, DEMAND_PATIENT };

enum check_kind {
	CHECK_DOSE_ACCURACY,  /* delivered volume in a window vs programmed volume */
	CHECK_FLOW_ACCURACY,  /* IEC 60601-2-24 style: mean error A and trumpet curve */
	CHECK_OCCLUSION,      /* time and pressure to alarm, bolus after release */
	CHECK_BATTERY,        /* charge drawn, current per mode, projected longevity */
	CHECK_BOLUS_ACCURACY, /* each bolus weighed against its volume; the lockout */
	CHECK_RESERVOIR,      /* the pump's reservoir reading against the weighed account,
	                         its low and empty alarms, the days between refills */
	CHECK__COUNT
};

struct step {
	enum step_kind kind;          /* step = "hold" */
	int line;                     /* line of the step's group in the file */
	char label[RIG_ID_MAX];       /* label = "..." (optional, for logs) */
	rig_ns timeout_ns;            /* timeout = "10 min" (optional; 0 = none) */
	enum timeout_action on_timeout; /* on_timeout = "abort" | "fail" (default: sequence's) */

	double rate_ml_per_h;         /* set_rate: rate (required, > 0);
	                                 prime, bolus: rate (optional; 0 = device's bolus rate) */
	double volume_ml;             /* prime, bolus: volume (required, > 0) */
	enum bolus_demand_kind demand; /* bolus: demand = "clinician" (default) | "patient" */
	double mass_g;                /* refill: mass = "10 g" (required): what was put in,
	                                 weighed (the syringe before less after) */
	double mass_u_g;              /* refill: mass_uncertainty = "10 mg" (k = 1; default
	                                 10 mg) */
	rig_ns duration_ns;           /* hold: duration (required, > 0);
	                                 occlude with until = "duration": duration (required);
	                                 release: duration (optional, default 0) */
	enum occlude_until until;     /* occlude: until = "alarm" | "duration" */
	char window[RIG_ID_MAX];      /* mark, check: window = "steady" */
	enum mark_edge edge;          /* mark: edge = "begin" | "end" */
	enum check_kind check;        /* check: check = "dose_accuracy" */
	char requirement[RIG_ID_MAX]; /* check: requirement = "..." (optional; default device's) */
	double tolerance_pct;         /* check: tolerance = "5 %" (optional; 0 = device's) */
	/* flow_accuracy */
	rig_ns sample_interval_ns;    /* sample_interval = "30 s" (default 30 s) */
	rig_ns obs_window_ns[8];      /* observation_windows = ("2 min", ...) (default
	                                 2, 5, 11, 19, 31 min; multiples of the interval) */
	size_t n_obs_windows;
	char startup_window[RIG_ID_MAX]; /* startup_window = "startup" (optional marked
	                                    window whose flow curve is reported) */
	/* occlusion */
	rig_ns bolus_window_ns;       /* bolus_window = "30 min" after the release
	                                 over which the released bolus is weighed */
};

#define PROTOCOL_STANDARDS_MAX 8

struct sequence {
	char path[RIG_PATH_MAX];
	char id[RIG_ID_MAX];          /* sequence.id (required) */
	char version[RIG_ID_MAX];     /* sequence.version (required) */
	char title[RIG_TEXT_MAX];     /* sequence.title (required) */
	/* protocol = { id; revision; standards = ( ... ); } (optional; every
	 * shipped sequence has one): the test protocol the sequence carries out
	 * and the standards whose methods it follows, cited by the report */
	bool has_protocol;
	char protocol_id[RIG_ID_MAX];       /* id (required in the group) */
	char protocol_revision[RIG_ID_MAX]; /* revision (required in the group) */
	char standards[PROTOCOL_STANDARDS_MAX][RIG_ID_MAX]; /* standards (1 .. 8 strings) */
	size_t n_standards;
	enum timeout_action on_timeout; /* sequence.on_timeout (default "abort") */
	/* fluid_temperature = "37 degC" (optional): the temperature the test is
	 * made at (a body-temperature bath), within fluid_temperature_tolerance =
	 * "1 K" (default): the bench must state its fluid there (validate), and
	 * a bench that measures it must measure it there (the judge) */
	double fluid_temperature_c;   /* NAN: the sequence asks for none */
	double fluid_temperature_tol_k;
	int fluid_temperature_line;
	struct step *steps;           /* sequence.steps = ( {...}, ... ) (at least one) */
	size_t n_steps;
};

/* --------------------------------------------------------------- device -- */

/* How a measured value is judged against its limit, per requirement of the
 * device file (ILAC-G8:09/2019, "Guidelines on decision rules and statements
 * of conformity"): decision_rule = "simple" | "guarded"; guard_band = "U"
 * or "<r> U" (guarded only). */
enum decision_kind {
	DECISION_SIMPLE,   /* simple acceptance (w = 0): pass when the value lies within the limit */
	DECISION_GUARDED,  /* guarded acceptance: pass only when the value lies within the limit
	                      narrowed by the guard band w = r * U on each finite side */
};

struct decision_rule {
	enum decision_kind kind;
	double guard_factor;          /* r in w = r * U (guarded; default 1) */
	bool stated;                  /* the device file says which (else the default) */
	char key[48];                 /* where: "device accuracy.decision_rule" */
};

struct device {
	char path[RIG_PATH_MAX];
	/* device = { ... } */
	char model[RIG_ID_MAX];             /* model (required) */
	char manufacturer[RIG_ID_MAX];      /* manufacturer (optional) */
	char serial[RIG_ID_MAX];            /* serial (required) */
	char firmware[RIG_ID_MAX];          /* firmware (required to start a run) */
	int serial_line, firmware_line;     /* where they stand (0: not given) */
	int line;                           /* of the device group */
	double reservoir_ml;                /* reservoir = "40 mL" (required) */
	/* rate = { min; max; } (required, 0 < min < max) */
	double rate_min_ml_per_h;
	double rate_max_ml_per_h;
	/* bolus = { max; rate; tolerance; requirement; lockout; lockout_requirement;
	 *           decision_rule; guard_band; } */
	double bolus_max_ml;                /* max (required) */
	double bolus_rate_ml_per_h;         /* rate (required): prime and bolus default */
	double bolus_tolerance_pct;         /* tolerance = "5 %": each bolus, and their mean,
	                                       within +-tolerance of its volume (0: not
	                                       stated; a bolus_accuracy check needs it) */
	char bolus_requirement[RIG_ID_MAX]; /* requirement (required with tolerance) */
	rig_ns bolus_lockout_ns;            /* lockout = "1 h": a patient's bolus within this
	                                       of the previous one delivered is refused
	                                       (0: not stated, not judged) */
	char lockout_requirement[RIG_ID_MAX]; /* lockout_requirement (required with lockout) */
	struct decision_rule bolus_rule;
	/* refill = { low_alarm; alarm_tolerance; reading_tolerance; requirement;
	 *            alarm_requirement; decision_rule; guard_band; } (optional; a
	 *            reservoir check needs it) */
	bool has_refill;
	double low_alarm_ml;                /* low_alarm = "2 mL": the low-reservoir alarm's
	                                       threshold (volume left) */
	double alarm_tolerance_ml;          /* alarm_tolerance = "0.5 mL": the low and the
	                                       empty alarm within this of their volumes */
	double reading_tolerance_ml;        /* reading_tolerance = "0.5 mL": the pump's
	                                       reservoir reading within this of the truth */
	char refill_requirement[RIG_ID_MAX];  /* requirement: the reading */
	char alarm_requirement[RIG_ID_MAX];   /* alarm_requirement: the two alarms */
	struct decision_rule refill_rule;
	double stroke_volume_ml;            /* stroke_volume = "0.25 uL" (optional): one
	                                       delivery cycle; flow-accuracy intervals and
	                                       windows must hold whole cycles */
	/* accuracy = { tolerance; requirement; decision_rule; guard_band; }:
	 * dose accuracy (and flow accuracy when there is no flow_accuracy group) */
	double accuracy_tolerance_pct;      /* tolerance = "10 %" (required, > 0) */
	char accuracy_requirement[RIG_ID_MAX]; /* requirement (required) */
	struct decision_rule accuracy_rule;
	/* flow_accuracy = { tolerance; requirement; ep_max; ep_max_requirement;
	 *                   ep_min; ep_min_requirement; decision_rule; guard_band; }
	 * (optional): the IEC 60601-2-24 flow method's own requirements, one
	 * criterion each: the mean flow error A within +-tolerance, and every
	 * observation window's Ep(max) and Ep(min) within their limits */
	bool has_flow;
	double flow_tolerance_pct;          /* tolerance (required in the group) */
	char flow_requirement[RIG_ID_MAX];  /* requirement (required in the group) */
	bool has_ep_max, has_ep_min;        /* ep_max = "5 %" (with ep_max_requirement) */
	double ep_max_pct, ep_min_pct;      /* ep_min = "-5 %" (with ep_min_requirement) */
	char ep_max_requirement[RIG_ID_MAX];
	char ep_min_requirement[RIG_ID_MAX];
	struct decision_rule flow_rule;
	/* occlusion = { alarm_pressure_max; alarm_time_max; bolus_max; requirement;
	 *               decision_rule; guard_band; } (the first four required) */
	double occlusion_pressure_max_kpa;
	rig_ns occlusion_time_max_ns;
	double occlusion_bolus_max_ml;
	char occlusion_requirement[RIG_ID_MAX];
	struct decision_rule occlusion_rule;
	/* battery = { capacity; longevity_min; longevity_max; requirement;
	 *             reference_rate; replacement_reserve; } */
	double battery_capacity_mah;
	double reference_rate_ml_per_h;     /* reference_rate = "0.5 mL/day": the regimen
	                                       longevity is projected for (required) */
	rig_ns replacement_reserve_ns;      /* replacement_reserve = "90 day": how long the
	                                       pump runs after its replacement indicator
	                                       (default 90 day) */
	rig_ns longevity_min_ns;            /* "5 year" */
	rig_ns longevity_max_ns;            /* "7 year" */
	char battery_requirement[RIG_ID_MAX];
	struct decision_rule battery_rule;  /* decision_rule; guard_band */
};

/* The rule a check of this kind is judged by (the flow group's, when the
 * device has one, for flow_accuracy). */
const struct decision_rule *device_rule_for(const struct device *dev, enum check_kind kind);

/* How long the balance needs after a bolus has finished before it holds all
 * of it: ten of the line's time constants (what the line still holds is then
 * under 5e-5 of it; 1 min when the bench states none) and two balance
 * readings.  A bolus_accuracy window gives every bolus this much. */
rig_ns bolus_settle_ns(const struct bench *bench);
/* The line's time constant: the bench's line_time_constant, else 6 s (what
 * the analysis assumes of a bench that does not state it). */
rig_ns line_time_constant_ns(const struct bench *bench);
/* The most boluses (delivered or refused) one bolus_accuracy window weighs. */
#define BOLUS_CHECK_MAX 16

/* -------------------------------------------------------------- loading -- */

/* Each loader parses and validates a whole file, appends every problem to
 * diags, and returns 0 with a new object, or -EINVAL (diags say why) /
 * -ENOMEM.  Nothing is opened but the file. */
int seq_load(const char *path, struct sequence **ret_seq, struct diag_list *diags);
int bench_load(const char *path, struct bench **ret_bench, struct diag_list *diags);
int device_load(const char *path, struct device **ret_dev, struct diag_list *diags);
void seq_free(struct sequence *seq);
void bench_free(struct bench *bench);
void device_free(struct device *dev);

/* Cross-file checks, reported at the sequence's lines: a rate outside the
 * device's range, a bolus above its maximum, a step that needs a role the
 * bench lacks, a mark/check window never begun or ended (or ended before it
 * begins), a check of a window not marked.  Returns 0 or -EINVAL. */
int plan_validate(const struct sequence *seq, const struct bench *bench,
		  const struct device *dev, struct diag_list *diags);

/* ------------------------------------------------------------ resources -- */

/* A physical resource an instrument or an output line occupies: a serial
 * device, an IIO channel (input or output) of a device on a context, an IIO
 * device's buffer, a GPIO line of a chip, a wire simulator's clock.  Backend
 * "sim" occupies none.  key is normalised (resources.c says how far), so
 * two spellings of one resource compare equal. */
#define RESOURCE_KEY_MAX 640
struct bench_resource {
	char key[RESOURCE_KEY_MAX];   /* "serial|chr:136:3" (a device there), "serial|/tmp/link"
	                                 (not there yet), "iio|ip:h:30431|ads1015|in|voltage0" */
	char what[RESOURCE_KEY_MAX];  /* in words: "serial device /dev/ttyUSB0" */
	char user[RIG_ID_MAX + 16];   /* "pump", "output 'pump_enable'", "sim_clock" */
	int line;                     /* the user's group in the bench file (0: none) */
	bool iio_buffer;              /* an IIO device's buffer ... */
	bool shared_in_bench;         /* ... that iiod shares among one bench's instruments */
	const struct instrument_cfg *ic; /* the user's configuration (NULL: sim_clock) */
};

/* Every resource of a loaded bench, in the order of the file's roles, then
 * its outputs, then sim_clock; *ret is malloc'd (free it).  A serial
 * device and a GPIO chip named by a /dev path are resolved through the file
 * system (realpath), so the answer is that of the moment of the call.
 * Returns 0 or -ENOMEM. */
int bench_resources(const struct bench *b, struct bench_resource **ret, size_t *ret_n);
/* Two instruments or output lines on one resource: each reported at the
 * later one's line, naming the earlier with its line.  Returns how many. */
int bench_check_resources(const struct bench *b, struct diag_list *diags);

/* The least run time of a sequence: the steps rig times itself (hold,
 * measure_evaporation, occlude for a duration, release) and each prime and
 * bolus at its rate; the waits for the pump and the balance come on top. */
rig_ns plan_least_duration_ns(const struct sequence *seq, const struct device *dev);

/* ----------------------------------------------------------- night plan -- */

/* rig nightly: a bench and the jobs to run on it one after another
 * (docs/nightly.md).  Paths are resolved beside the plan file. */
struct night_job {
	int line;                          /* the job's group in the plan */
	char sequence[RIG_PATH_MAX];       /* sequence = "..." (required) */
	char dut[RIG_PATH_MAX];            /* dut = "..." (required) */
	unsigned repeat;                   /* repeat = 1 (1 .. 100): runs of this job */
};

struct night_plan {
	char path[RIG_PATH_MAX];
	char id[RIG_ID_MAX];               /* night.id (required) */
	char bench[RIG_PATH_MAX];          /* night.bench (required) */
	int bench_line;
	bool has_end_by;                   /* night.end_by = "06:00" | "06:00Z" (optional) */
	bool end_by_utc;
	int end_by_min;                    /* minutes after midnight */
	int end_by_line;
	unsigned retries;                  /* night.retries = 1 (0 .. 3): runs again of a run
	                                      that ended incomplete for a bench reason */
	struct night_job *jobs;            /* night.jobs = ( {...}, ... ) (1 .. 64) */
	size_t n_jobs;
};

int night_load(const char *path, struct night_plan **ret_plan, struct diag_list *diags);
void night_free(struct night_plan *plan);

const char *step_kind_name(enum step_kind kind);
const char *check_kind_name(enum check_kind kind);

#endif
