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
#include "rtime.h"
#include "diag.h"

#define RIG_ID_MAX 64
#define RIG_TEXT_MAX 256
#define RIG_PATH_MAX 4096

/* ---------------------------------------------------------------- roles -- */

enum rig_role {
	ROLE_PUMP,      /* the pump under test (command/telemetry link) */
	ROLE_SCALE,     /* balance / load cell under the collection vessel */
	ROLE_FLOW,      /* liquid flow sensor at the outlet */
	ROLE_PRESSURE,  /* line pressure sensor between pump and valve */
	ROLE_POWER,     /* power monitor on the pump's battery supply */
	ROLE_VALVE,     /* occlusion valve */
	ROLE_ALARM,     /* digital input: the pump's alarm line */
	ROLE_ESTOP,     /* digital input: the bench's emergency stop */
	ROLE__COUNT
};

/* "pump", "scale", ... as written in bench files; NULL for out-of-range. */
const char *rig_role_name(enum rig_role role);
/* Returns the role or -1. */
int rig_role_from_name(const char *name);

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
	STEP__COUNT
};

enum timeout_action {
	TIMEOUT_ABORT,  /* a timed-out step aborts the run (exit 3) */
	TIMEOUT_FAIL    /* a timed-out step records a failed check and the run goes on */
};

enum mark_edge { MARK_BEGIN, MARK_END };
enum occlude_until { OCCLUDE_UNTIL_ALARM, OCCLUDE_UNTIL_DURATION };

enum check_kind {
	CHECK_DOSE_ACCURACY,  /* delivered volume in a window vs programmed volume */
	CHECK_FLOW_ACCURACY,  /* IEC 60601-2-24 style: mean error A and trumpet curve */
	CHECK_OCCLUSION,      /* time and pressure to alarm, bolus after release */
	CHECK_BATTERY,        /* charge drawn, current per mode, projected longevity */
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

struct sequence {
	char path[RIG_PATH_MAX];
	char id[RIG_ID_MAX];          /* sequence.id (required) */
	char version[RIG_ID_MAX];     /* sequence.version (required) */
	char title[RIG_TEXT_MAX];     /* sequence.title (required) */
	enum timeout_action on_timeout; /* sequence.on_timeout (default "abort") */
	struct step *steps;           /* sequence.steps = ( {...}, ... ) (at least one) */
	size_t n_steps;
};

/* ---------------------------------------------------------------- bench -- */

struct calibration {
	double gain;                  /* calibration.gain (number, default 1): value = gain*raw + offset */
	double offset;                /* calibration.offset (quantity in the role's unit, default 0) */
	char date[16];                /* calibration.date = "2026-01-31" (optional, YYYY-MM-DD) */
	double uncertainty;           /* calibration.uncertainty = "0.02 mg": standard
	                                 uncertainty (k = 1) of one reading, in the
	                                 role's unit (optional, 0 = not stated) */
	char due[16];                 /* calibration.due  = "2027-01-31" (optional, YYYY-MM-DD) */
};

/* Below this sampling period an iio sensor is captured through a buffer:
 * one network round trip per attribute read (about 90 us over iiod) would
 * otherwise set the pace, with the host's timing jitter on every sample. */
#define CAPTURE_BUFFER_BELOW_NS (50 * RIG_NS_PER_MS)
#define BATCH_MIN_NS (100 * RIG_NS_PER_MS)

struct instrument_cfg {
	bool present;                 /* the role appears in bench.instruments */
	int line;
	char backend[32];             /* backend = "sim" (required; must name a known backend) */
	char model[RIG_ID_MAX];       /* model = "..." (optional) */
	char serial[RIG_ID_MAX];      /* serial = "..." (optional) */
	rig_ns period_ns;             /* period = "1 s" (sensors and alarm: required, > 0) */
	struct calibration cal;       /* calibration = { ... } (optional) */
	bool safe_closed;             /* valve: safe_state = "open" (default) | "closed" */
	bool active_low;              /* gpiod lines: active_low = true (default false) */
	rig_ns reconnect_ns;          /* sensors and pump: reconnect = "5 min": a failing
	                                 sensor or pump link is reopened until it answers
	                                 again within this long, the gap recorded
	                                 (default 0: abort at once) */
	unsigned stale_after;         /* sensors: stale_after = 3 (periods): a sensor that
	                                 answers but gives no fresh reading (none, or only
	                                 readings flagged stale) this many periods running
	                                 aborts the run (default 3; 1..1000) */
	unsigned stuck_after;         /* sensors: stuck_after = 20 (readings): this many
	                                 successive identical primary readings from an
	                                 instrument that has noise means it is stuck: abort
	                                 (default 0: not checked; 2..100000) */
	double valid_min, valid_max;  /* sensors: valid_range = ("-1 g", "500 g") in the
	                                 role's unit: a primary reading outside it, or not
	                                 finite, aborts the run (defaults per role:
	                                 docs/file-formats.md) */
	/* Backend address for hardware backends (later): uri, device, channel. */
	char uri[RIG_TEXT_MAX];
	char device[RIG_ID_MAX];
	char channel[RIG_ID_MAX];
	char channel2[RIG_ID_MAX];    /* power on iio: voltage_channel = "voltage1" */
	bool buffered;                /* iio sensors: capture = "buffer" | "attribute"
	                                 (default: a buffer when the period is under
	                                 CAPTURE_BUFFER_BELOW_NS, attribute reads otherwise) */
	rig_ns batch_ns;              /* buffered: batch = "1 s", how often rig collects
	                                 the captured samples (default: the period, at
	                                 least BATCH_MIN_NS; never shorter than the period) */
	char trigger[RIG_ID_MAX];     /* buffered iio: trigger = "rig-timer", the IIO
	                                 trigger (an hrtimer or sysfs trigger, by name)
	                                 that paces a driver whose buffer needs one
	                                 (hx711, ads1015); "" = none */
	unsigned baud;                /* serial backends: baud = 115200 (0 = backend default) */
};

enum sim_fault_kind {
	SIM_FAULT_DROPOUT,      /* sensor returns no data (-EIO) */
	SIM_FAULT_STUCK,        /* sensor repeats its last value */
	SIM_FAULT_NO_ANSWER,    /* pump does not answer commands (-ETIMEDOUT) */
	SIM_FAULT_DISCONNECT,   /* instrument gone for good (-ENODEV) from `at` on */
	SIM_FAULT_STALE,        /* sensor answers but has no new sample (0 readings) */
	SIM_FAULT_FROZEN,       /* sensor repeats its last values exactly, unflagged
	                           (a converter that stopped converting) */
	SIM_FAULT_NAN,          /* sensor's primary reading is NaN */
	SIM_FAULT_OUT_OF_RANGE, /* sensor's primary reading is far outside any range */
	SIM_FAULT_INTERNAL_ERROR, /* a reading with an impossible quantity: drives the
	                           engine into its internal-error path (tests only) */
	SIM_FAULT_CRASH,        /* the rig process gets SIGKILL at `at` (kill -9 at a
	                           reproducible moment; tests of durability only) */
	SIM_FAULT_LOST_REPLY,   /* pump carries out commands but its answers are lost */
	SIM_FAULT_UNPLUG,       /* pump link gone for `duration`, then back (a cable,
	                           a USB adapter): over the wire the tty itself goes */
	SIM_FAULT_SEGV,         /* the rig process raises SIGSEGV at `at`: a crash of
	                           rig's own, for the crash handler's tests */
	SIM_FAULT_PRESSED,      /* the emergency-stop button held down from `at` for
	                           `duration` (0: until the end): estop role only */
	SIM_FAULT__COUNT
};

struct sim_fault {
	enum rig_role role;           /* role = "scale" */
	enum sim_fault_kind kind;     /* kind = "dropout" | "stuck" | "no_answer" | "disconnect" |
	                                 "stale" | "frozen" | "nan" | "out_of_range" |
	                                 "internal_error" | "crash" | "lost_reply" | "unplug" */
	rig_ns at_ns;                 /* at = "2 h" (run time) */
	rig_ns duration_ns;           /* duration = "10 min" (0 = until the end) */
	int line;
};

#define SIM_FAULTS_MAX 16

/* bench.simulator: the physics model of DESIGN.md; every key optional with the
 * default given. */
struct sim_cfg {
	uint64_t seed;                      /* seed = 1 (integer) */
	/* pump = { ... } */
	double rate_error_pct;              /* rate_error = "0 %" (actual = set * (1 + e/100)) */
	double stroke_volume_ml;            /* stroke_volume = "0.25 uL" */
	double reservoir_ml;                /* reservoir = "40 mL": filled at the start */
	rig_ns startup_delay_ns;            /* startup_delay = "0 s" (first stroke after start) */
	double alarm_pressure_kpa;          /* occlusion_alarm_pressure = "100 kPa" (above baseline) */
	rig_ns alarm_latency_ns;            /* occlusion_alarm_latency = "0 s" */
	bool alarm_enabled;                 /* occlusion_alarm = true (false: a pump that never alarms) */
	double stall_pressure_kpa;          /* stall_pressure = "300 kPa": strokes above it deliver nothing */
	/* fluid = { ... }: the true physics, which the analysis must recover from
	 * the bench's own (independent) description of the fluid */
	double fluid_density_g_per_ml;      /* density = "0.998207 g/mL" */
	double air_density_g_per_ml;        /* air_density = "1.2 kg/m3": the balance
	                                       reads conventional mass (buoyancy) */
	/* line = { ... } */
	double compliance_ml_per_kpa;       /* compliance = "0.2 uL/kPa" */
	rig_ns time_constant_ns;            /* time_constant = "5 s" (outflow decay with valve open) */
	double baseline_pressure_kpa;       /* baseline_pressure = "0 kPa" */
	/* scale = { ... } */
	double vessel_mass_g;               /* vessel_mass = "20 g" (on the pan before tare) */
	double scale_noise_g;               /* noise = "0.02 mg" (1 sigma) */
	double scale_resolution_g;          /* resolution = "0.01 mg" */
	double scale_drift_g_per_h;         /* drift = "0 mg/h" */
	double evaporation_g_per_h;         /* evaporation = "0 mg/h" (true loss from the vessel) */
	rig_ns scale_settle_ns;             /* settle_time = "2 s" (unstable after tare) */
	/* flow = { ... } */
	double flow_noise_ml_per_h;         /* noise = "0 mL/h" */
	double flow_offset_ml_per_h;        /* offset = "0 mL/h" */
	/* pressure = { ... } */
	double pressure_noise_kpa;          /* noise = "0 kPa" */
	/* battery = { ... } */
	double battery_capacity_mah;        /* capacity = "1000 mAh" */
	double quiescent_current_ua;        /* quiescent_current = "8 uA" */
	double stroke_charge_mah;           /* stroke_charge = "10 uC" */
	double battery_full_v;              /* full_voltage = "3.2 V" */
	double battery_empty_v;             /* empty_voltage = "2.6 V" */
	double current_noise_ua;            /* current_noise = "0 uA" */
	/* faults = ( { role; kind; at; duration; }, ... ) */
	struct sim_fault faults[SIM_FAULTS_MAX];
	size_t n_faults;
};

/* A digital output line: its level is logical (on = active; active_low
 * inverts the wire).  It is at `safe` whenever the bench is safe: when it is
 * opened, in every safe-state sequence, when it is released. */
#define OUTPUTS_MAX 8
struct output_cfg {
	char name[RIG_ID_MAX];        /* the group's name in bench.outputs */
	struct instrument_cfg line;   /* backend, device (chip), channel (line), active_low,
	                                 model, serial; line.safe_closed = the safe level */
	bool safe_on;                 /* safe = "on" | "off" (required) */
	bool run_on;                  /* run = "on" | "off": the level while the sequence
	                                 runs (default: the safe level) */
};

struct bench {
	char path[RIG_PATH_MAX];
	char id[RIG_ID_MAX];                /* bench.id (required) */
	char description[RIG_TEXT_MAX];     /* bench.description (optional) */
	/* bench.fluid = { ... } */
	char fluid_name[RIG_ID_MAX];        /* name = "water" (optional) */
	double density_g_per_ml;            /* density = "1.05 g/mL" (0.5..2); required unless
	                                       the fluid is water (name absent or "water"),
	                                       whose density is computed from temperature
	                                       (Tanaka et al. 2001) */
	bool density_given;                 /* density came from the file */
	double fluid_temperature_c;         /* temperature = "20 degC" (optional, default 20) */
	double air_density_g_per_ml;        /* air_density = "1.2 kg/m3" (default) for the
	                                       balance's buoyancy correction */
	double evaporation_g_per_h;         /* evaporation_correction = "0 mg/h": loss the
	                                       analysis adds back (measured on this bench) */
	rig_ns flush_interval_ns;           /* bench.flush_interval = "1 s" (default) */
	char sim_clock_uri[RIG_TEXT_MAX];   /* bench.sim_clock = "ip:127.0.0.1:PORT": the
	                                       instruments are a wire-level simulator (rig sim
	                                       serve) kept in lockstep: rig runs in virtual
	                                       time and tells it the time */
	/* bench.limits = { ... } (hard safety limits; all required) */
	double limit_pressure_kpa;          /* pressure_max */
	double limit_volume_ml;             /* delivered_max */
	rig_ns limit_duration_ns;           /* duration_max */
	/* bench.instruments = { pump = {...}; scale = {...}; ... } */
	struct instrument_cfg instrument[ROLE__COUNT];
	/* bench.outputs = { pump_enable = {...}; ... }: digital outputs besides the
	 * valve (relays, a pump's enable line), each with its safe level */
	struct output_cfg outputs[OUTPUTS_MAX];
	size_t n_outputs;
	/* bench.simulator = { ... }: required when any instrument uses backend "sim" */
	bool has_sim;
	struct sim_cfg sim;
};

/* --------------------------------------------------------------- device -- */

struct device {
	char path[RIG_PATH_MAX];
	/* device = { ... } */
	char model[RIG_ID_MAX];             /* model (required) */
	char manufacturer[RIG_ID_MAX];      /* manufacturer (optional) */
	char serial[RIG_ID_MAX];            /* serial (required) */
	char firmware[RIG_ID_MAX];          /* firmware (optional) */
	double reservoir_ml;                /* reservoir = "40 mL" (required) */
	/* rate = { min; max; } (required, 0 < min < max) */
	double rate_min_ml_per_h;
	double rate_max_ml_per_h;
	/* bolus = { max; rate; } */
	double bolus_max_ml;                /* max (required) */
	double bolus_rate_ml_per_h;         /* rate (required): prime and bolus default */
	double stroke_volume_ml;            /* stroke_volume = "0.25 uL" (optional): one
	                                       delivery cycle; flow-accuracy intervals and
	                                       windows must hold whole cycles */
	/* accuracy = { tolerance; requirement; } */
	double accuracy_tolerance_pct;      /* tolerance = "10 %" (required, > 0) */
	char accuracy_requirement[RIG_ID_MAX]; /* requirement (required) */
	/* occlusion = { alarm_pressure_max; alarm_time_max; bolus_max; requirement; } (all required) */
	double occlusion_pressure_max_kpa;
	rig_ns occlusion_time_max_ns;
	double occlusion_bolus_max_ml;
	char occlusion_requirement[RIG_ID_MAX];
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
};

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

const char *step_kind_name(enum step_kind kind);
const char *check_kind_name(enum check_kind kind);

#endif
