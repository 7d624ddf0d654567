/* The one header the drivers may include: what every layer shares about the
 * bench and its instruments.  Time (rtime.h) and the clocks (clock.h); the
 * roles an instrument plays; what a reading measures and how it is flagged;
 * and a bench file's description of its instruments, limits and simulator,
 * as the loader (rig/config/) fills it in with validated values in canonical
 * units.  Nothing here does I/O. */
#ifndef RIG_BASE_BENCH_H
#define RIG_BASE_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rtime.h"
#include "clock.h"

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
	/* the measured conditions (issue 15): what the fluid's density and the
	 * air's buoyancy are computed from, and what is flagged out of range */
	ROLE_FLUID_TEMP,   /* the collected fluid's temperature (an RTD converter, MAX31865) */
	ROLE_AIR_TEMP,     /* the air's temperature at the balance (BME280) */
	ROLE_HUMIDITY,     /* the air's relative humidity (BME280) */
	ROLE_AIR_PRESSURE, /* the air's pressure (BME280) */
	ROLE__COUNT
};

/* "pump", "scale", ... as written in bench files; NULL for out-of-range. */
const char *rig_role_name(enum rig_role role);
/* Returns the role or -1. */
int rig_role_from_name(const char *name);

/* What a sample measures; the unit is part of the quantity. */
enum quantity {
	QUANT_MASS_G,
	QUANT_FLOW_ML_PER_H,
	QUANT_PRESSURE_KPA,
	QUANT_CURRENT_UA,
	QUANT_VOLTAGE_V,
	QUANT_ALARM_LEVEL,     /* 0 or 1 */
	QUANT_DELIVERED_ML,    /* the pump's own delivered total (telemetry) */
	QUANT_RESERVOIR_ML,    /* the pump's own reservoir reading (telemetry) */
	QUANT_TEMPERATURE_C,   /* degrees Celsius: the fluid's or the air's */
	QUANT_HUMIDITY_PCT,    /* relative humidity, % */
	QUANT__COUNT
};
const char *quantity_name(enum quantity q);   /* "mass" */
/* The quantity a sensor role reads first (the one its calibration,
 * valid_range and stuck_after speak of); QUANT__COUNT for a role that is
 * no sensor. */
enum quantity role_primary_quantity(enum rig_role role);
/* A sensor: a role with a primary quantity. */
static inline bool role_is_sensor(enum rig_role role)
{
	return role_primary_quantity(role) != QUANT__COUNT;
}
/* One of the measured conditions: fluid_temperature, air_temperature,
 * humidity, air_pressure. */
static inline bool role_is_condition(enum rig_role role)
{
	return role == ROLE_FLUID_TEMP || role == ROLE_AIR_TEMP || role == ROLE_HUMIDITY ||
	       role == ROLE_AIR_PRESSURE;
}
const char *quantity_unit(enum quantity q);   /* "g" */

/* Sample flags (as libsigrok flags an unsettled balance reading). */
enum {
	SAMPLE_UNSTABLE     = 1u << 0,  /* balance not settled */
	SAMPLE_CLIPPED      = 1u << 1,  /* at the instrument's full scale */
	SAMPLE_STALE        = 1u << 2,  /* repeated value, no fresh conversion */
	SAMPLE_OUT_OF_RANGE = 1u << 3,  /* outside the instrument's declared range */
};

struct reading {
	rig_ns t_ns;
	enum quantity quantity;
	double value;
	uint32_t flags;
};
#define READINGS_MAX 4   /* the most one sensor read returns for one instant (power: current + voltage) */
/* A buffered sensor returns many instants per read, each with its own time;
 * the engine reads with room for this many and reads again while full. */
#define READINGS_BATCH 512

/* ---------------------------------------------------------------- bench -- */

struct calibration {
	double gain;                  /* calibration.gain (number, default 1): value = gain*raw + offset */
	double offset;                /* calibration.offset (quantity in the role's unit, default 0) */
	char date[16];                /* calibration.date = "2026-01-31" (optional, YYYY-MM-DD) */
	double uncertainty;           /* calibration.uncertainty = "0.02 mg": standard
	                                 uncertainty (k = 1) of one reading, in the
	                                 role's unit (optional, 0 = not stated) */
	char due[16];                 /* calibration.due  = "2027-01-31" (optional, YYYY-MM-DD) */
	double gain_u_rel;            /* calibration.gain_uncertainty = "0.002 %": standard
	                                 uncertainty (k = 1) of the instrument's gain (span),
	                                 relative: a reading v carries gain_u_rel * |v| on top
	                                 of `uncertainty` (optional, 0 = not stated) */
	double drift_u_per_h;         /* scale: calibration.drift_uncertainty = "0.005 mg/h":
	                                 standard uncertainty of the balance's zero drift,
	                                 in g/h (optional, 0 = not stated) */
};

/* Below this sampling period an iio sensor is captured through a buffer:
 * one network round trip per attribute read (about 90 us over iiod) would
 * otherwise set the pace, with the host's timing jitter on every sample. */
#define ANSWER_TIMEOUT_DEFAULT_NS (3 * RIG_NS_PER_S)
/* The pump's status (its alarms among it) is polled this often unless its
 * instrument has a period: an alarm seen there happened within the last
 * poll period. */
#define PUMP_POLL_DEFAULT_NS RIG_NS_PER_S

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
	char pump_serial[RIG_ID_MAX];               /* serial = "SN-0001": what the pump answers when asked
	                                       who it is; "" (not given): in process, the device
	                                       file's (the model plays the device under test),
	                                       over the wire, rig sim serve --dut's, else no answer */
	char pump_firmware[RIG_ID_MAX];             /* firmware = "1.0.0" (likewise) */
	/* fluid = { ... }: the true physics, which the analysis must recover from
	 * the bench's own (independent) description of the fluid */
	double fluid_density_g_per_ml;      /* density = "0.998207 g/mL", or water at
	                                       temperature = "20.3 degC" (Tanaka et al.) */
	double fluid_temperature_c;         /* temperature, when given; else NAN */
	double air_density_g_per_ml;        /* air_density = "1.2 kg/m3": the balance
	                                       reads conventional mass (buoyancy); or, with
	                                       air = { ... } given, CIPM-2007's from it */
	/* air = { temperature = "20 degC"; humidity = "50 %"; pressure = "101.325 kPa"; }:
	 * the true air, which the ambient sensors read */
	bool air_given;
	double air_temperature_c, air_humidity_pct, air_pressure_kpa;
	/* fluid_temperature, air_temperature, humidity, air_pressure = { offset;
	 * noise; }: each condition sensor's reading minus the truth, and its
	 * scatter (1 sigma), in its unit; indexed by role */
	double cond_offset[ROLE__COUNT];
	double cond_noise[ROLE__COUNT];
	/* The bench's own errors, each its true value for this run (0: none).
	 * rig states them only as uncertainties (the bench's fluid and
	 * calibration keys); the simulated bench makes them. */
	double clock_error_rel;             /* clock_error = "0 ppm": rig's clock runs fast by
	                                       this against the physics' true time */
	double stroke_variation_rel;        /* pump.stroke_variation = "0 %": each stroke's
	                                       volume scatters by this (1 sigma) */
	double bolus_error_pct;             /* pump.bolus_error = "0 %": a bolus (or prime)
	                                       counts (1 + e/100) x its volume's strokes */
	rig_ns bolus_lockout_ns;            /* pump.bolus_lockout = "0 s": a patient's bolus
	                                       within this of the previous one it delivered
	                                       is refused (-EAGAIN); 0: never refused */
	double reservoir_error_ml;          /* pump.reservoir_error = "0 mL": the pump's
	                                       reservoir reading minus what is truly in it */
	double refill_error_ml;             /* pump.refill_error = "0 mL": what a refill truly
	                                       puts in minus what the pump is told (the
	                                       weighing's error) */
	double low_reservoir_ml;            /* pump.low_reservoir = "0 mL": the pump alarms
	                                       (reservoir low) when its own reading falls to
	                                       this; 0: never.  At a reading of 0 it stops
	                                       and alarms empty */
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
	double scale_span_rel;              /* span = "0 %": the balance reads (1 + span) x */
	double scale_linearity_g;           /* linearity = "0 mg": the standard deviation over
	                                       loads of its deviation from a straight line */
	double scale_linearity_period_g;    /* linearity_period = "10 mg": the shortest of
	                                       that deviation's periods in the load */
	/* flow = { ... } */
	double flow_noise_ml_per_h;         /* noise = "0 mL/h" */
	double flow_offset_ml_per_h;        /* offset = "0 mL/h" */
	double flow_gain_rel;               /* gain = "0 %": reads (1 + gain) x the flow */
	/* pressure = { ... } */
	double pressure_noise_kpa;          /* noise = "0 kPa" */
	double pressure_offset_kpa;         /* offset = "0 kPa" */
	double pressure_gain_rel;           /* gain = "0 %" */
	/* battery = { ... } */
	double battery_capacity_mah;        /* capacity = "1000 mAh" */
	double quiescent_current_ua;        /* quiescent_current = "8 uA" */
	double stroke_charge_mah;           /* stroke_charge = "10 uC" */
	double battery_full_v;              /* full_voltage = "3.2 V" */
	double battery_empty_v;             /* empty_voltage = "2.6 V" */
	double current_noise_ua;            /* current_noise = "0 uA" */
	double current_offset_ua;           /* current_offset = "0 uA": the power monitor's */
	double current_gain_rel;            /* current_gain = "0 %" */
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
	double ml_per_g;                    /* the volume one gram read on the balance is,
	                                       buoyancy corrected (the loader computes it) */
	double fluid_temperature_c;         /* temperature = "20 degC" (optional, default 20) */
	double air_density_g_per_ml;        /* air_density = "1.2 kg/m3" (default) for the
	                                       balance's buoyancy correction */
	double evaporation_g_per_h;         /* evaporation_correction = "0 mg/h": loss the
	                                       analysis adds back (measured on this bench) */
	/* the standard uncertainties (k = 1) of what the fluid group states, for
	 * the uncertainty budgets */
	double fluid_temperature_u_k;       /* temperature_uncertainty = "0.5 K" (default) */
	double density_u_g_per_ml;          /* density_uncertainty = "0.1 kg/m3" (default; a
	                                       stated density; water's comes from the
	                                       temperature's) */
	double air_density_u_g_per_ml;      /* air_density_uncertainty = "0.1 kg/m3" (default) */
	double evaporation_u_g_per_h;       /* evaporation_uncertainty (default: half the
	                                       correction, rectangular: e / (2 sqrt 3)) */
	rig_ns line_time_constant_ns;       /* bench.line_time_constant = "5 s": how the line
	                                       from the pump to the vessel passes a stroke on
	                                       (exponential outflow; its compliance times its
	                                       resistance), for what it holds at a window's
	                                       end (default 0: not stated, up to a stroke) */
	double clock_u_rel;                 /* bench.clock_uncertainty = "20 ppm": standard
	                                       uncertainty of rig's time base, relative
	                                       (default 0: not stated) */
	rig_ns flush_interval_ns;           /* bench.flush_interval = "1 s" (default) */
	bool record_zstd;                   /* bench.record_compression = "zstd" */
	int realtime_priority;              /* bench.realtime_priority = 50 (1..99): a run on the
	                                       real clock samples under SCHED_FIFO at this
	                                       priority with its memory locked, where the
	                                       system permits (docs/file-formats.md); absent
	                                       (the default): the ordinary scheduler */
	rig_ns answer_timeout_ns;           /* bench.answer_timeout = "3 s" (default; 0.1 s .. 1 min):
	                                       the longest any instrument may take to answer;
	                                       a silent one is a fault, and the bench is made
	                                       safe, within about this long */
	char sim_clock_uri[RIG_TEXT_MAX];   /* bench.sim_clock = "ip:127.0.0.1:PORT": the
	                                       instruments are a wire-level simulator (rig sim
	                                       serve) kept in lockstep: rig runs in virtual
	                                       time and tells it the time */
	/* bench.conditions = { fluid_temperature = ("18 degC", "22 degC"); ... }: the
	 * range of each measured condition the bench is declared for, indexed
	 * by role; a reading outside it is flagged (given false: no range) */
	struct condition_range {
		bool given;
		int line;
		double lo, hi;
	} condition_range[ROLE__COUNT];
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

/* How often the engine polls the pump's status on bench b: the judge dates
 * a polled alarm by the same period. */
static inline rig_ns bench_pump_poll_ns(const struct bench *b)
{
	rig_ns p = b->instrument[ROLE_PUMP].period_ns;

	return p > 0 ? p : PUMP_POLL_DEFAULT_NS;
}

#endif
