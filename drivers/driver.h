/* Instrument roles as tables of operations.
 *
 * A backend (sim, and later iio, gpiod, serial) publishes one const descriptor
 * with its name and an operations table per role it can play.  backends.c holds
 * the one explicit list of every backend; the bench file chooses among them by
 * name.  The engine only ever calls the wrappers below, so a new backend slots in
 * without touching it.  Operations a backend leaves NULL answer -ENOTSUP.
 *
 * All operations return 0 or a negative errno-style code and never print. */
#ifndef RIG_DRIVER_H
#define RIG_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rig/base/bench.h"

struct sim_model;

/* Pump alarm bits, in pump_status.alarms. */
enum {
	PUMP_ALARM_OCCLUSION = 1u << 0,
	PUMP_ALARM_LOW_BATTERY = 1u << 1,  /* elective replacement indicator */
	PUMP_ALARM_RESERVOIR = 1u << 2,    /* reservoir low: at or below the pump's threshold */
	PUMP_ALARM_EMPTY = 1u << 3,        /* reservoir empty: the pump has stopped delivering */
};

struct pump_status {
	bool running;            /* basal delivery programmed */
	bool bolus_active;       /* a prime/bolus still delivering */
	double rate_ml_per_h;    /* programmed basal rate */
	uint32_t alarms;         /* PUMP_ALARM_* */
	double delivered_ml;     /* pump's own delivered total (telemetry) */
	double battery_v;
	double reservoir_ml;     /* drug left in the reservoir; NaN when not reported */
};

/* What the pump says it is, asked over its own link (not copied from the
 * device file, which it is compared with). */
#define PUMP_IDENT_MAX 64
struct pump_identity {
	char serial[PUMP_IDENT_MAX];
	char firmware[PUMP_IDENT_MAX];
	bool simulator;          /* it said it is rig's own wire simulator (rig sim serve) */
};

struct edge {
	rig_ns t_ns;             /* when it happened (kernel/event timestamp), not when seen */
	bool rising;
};

/* What a backend gets when it opens an instrument. */
struct driver_env {
	struct rig_clock *clock;
	const struct bench *bench;
	struct sim_model *sim;   /* the shared physics model, when a role uses "sim" */
	const char *run_dir;     /* where wire logs go (NULL: none) */
	/* How long an instrument on a network link (iio over iiod) may take to
	 * answer one operation before it counts as not answering: the link's
	 * operations fail with -ETIMEDOUT within it, and every instrument on
	 * the same link fails at once after the first has waited it out (0:
	 * the backend's default, 3 s). */
	rig_ns answer_timeout_ns;
	/* Told, in one sentence, what a backend could not do where it has no
	 * error to return: a close that could not put back a setting it had
	 * changed on the hardware.  NULL: nobody listens (a backend never
	 * prints).  instrument_warn calls it. */
	void (*warn)(void *arg, const struct instrument_cfg *ic, const char *text);
	void *warn_arg;
};

struct instrument_pdata;     /* defined by each backend */

struct instrument {
	enum rig_role role;
	const struct backend *backend;
	const struct instrument_cfg *cfg;
	struct driver_env *env;
	struct instrument_pdata *pdata;
	/* software tare for a scale whose backend cannot tare (a load cell ADC):
	 * the calibrated reading at the tare, subtracted afterwards */
	bool soft_tared;
	double soft_tare;
	/* a bench output line (bench.outputs), not a role: role is ROLE_VALVE's
	 * kin, a digital output driven through valve_ops.set_closed (closed = on) */
	bool is_output;
};

/* Who asks for a bolus: a clinician's (and a prime) is delivered whenever
 * none runs; a patient's is refused with -EAGAIN within the pump's lockout
 * after the previous patient bolus it delivered. */
enum bolus_demand { BOLUS_CLINICIAN, BOLUS_PATIENT };

struct pump_ops {
	int (*set_rate)(struct instrument *inst, double rate_ml_per_h);
	int (*bolus)(struct instrument *inst, double volume_ml, double rate_ml_per_h,
		     enum bolus_demand demand);
	int (*stop)(struct instrument *inst);
	int (*status)(struct instrument *inst, struct pump_status *ret);
	/* Closes and reopens the link without commanding the pump (a link
	 * that timed out or vanished); the pump keeps doing what it did. */
	int (*reconnect)(struct instrument *inst);
	/* Optional: the pump's own serial number and firmware version. */
	int (*identify)(struct instrument *inst, struct pump_identity *ret);
	/* Optional: the reservoir was emptied and refilled with volume_ml (what
	 * a clinician's programmer tells the pump after a refill): the pump's
	 * reservoir reading starts again from it and its empty alarm clears;
	 * delivery is not restarted. */
	int (*refill)(struct instrument *inst, double volume_ml);
};

/* scale, flow, pressure, power */
struct sensor_ops {
	int (*read)(struct instrument *inst, struct reading *ret, size_t max, size_t *ret_n);
	int (*tare)(struct instrument *inst);   /* scale only */
	/* Scale only, optional: waits until the scale itself reports its load
	 * settled and returns that reading (a balance's stable weight); with
	 * zero, the settled load first becomes the scale's zero point.
	 * -EAGAIN: not settled in time (zeroed, if asked): ask again without
	 * zero; -EBUSY: the zero could not be done. */
	int (*read_settled)(struct instrument *inst, bool zero, struct reading *ret);
};

struct valve_ops {
	int (*set_closed)(struct instrument *inst, bool closed);
};

struct input_ops {
	int (*level)(struct instrument *inst, bool *ret_active);
	/* Returns 1 with the oldest pending edge, 0 when none is pending. */
	int (*next_edge)(struct instrument *inst, struct edge *ret);
};

struct backend {
	const char *name;
	uint32_t roles;          /* bit (1u << role) for each role it can play */
	int (*open)(struct instrument *inst);
	void (*close)(struct instrument *inst);   /* leaves the hardware safe */
	const struct pump_ops *pump;
	const struct sensor_ops *sensor;
	const struct valve_ops *valve;
	const struct input_ops *input;
	bool outputs;            /* can open bench output lines (through valve_ops) */
	/* Optional: err, returned by this backend for this instrument (by its
	 * open, or an operation), in words: what failed, on which device,
	 * channel or attribute, with the errno; NULL leaves it to the generic
	 * text of instrument_error_text. */
	const char *(*error_text)(const struct instrument_cfg *ic, int err, char *buf, size_t size);
};

/* A wire-level simulator (`rig sim serve`) in lockstep: rig, running in
 * virtual time, tells it the time (drivers/iio/api.c). */
struct sim_clock_link;
int sim_clock_link_open(const char *uri, struct sim_clock_link **ret);
int sim_clock_link_set(struct sim_clock_link *link, rig_ns t_ns);
void sim_clock_link_close(struct sim_clock_link *link);
/* Whether the IIO context at uri is served by rig's own wire simulator: it
 * has the simulator's clock device, `pumprig-clock`, which no kernel
 * driver has.  1, 0, or a negative errno when the context cannot be opened
 * within answer_timeout_ns (0: the iio backend's default). */
int sim_wire_serves_iio(const char *uri, rig_ns answer_timeout_ns);

/* backends.c: the explicit list of every backend. */
const struct backend *backend_find(const char *name);
/* "sim" (comma-separated), for error messages. */
const char *backend_names(void);

/* Opens the instrument for `role` described by bench->instrument[role] with
 * the named backend; returns 0, -ENOENT (no such backend), -ENOTSUP (backend
 * cannot play the role), or the backend's error. */
int instrument_open(struct instrument **ret, enum rig_role role, struct driver_env *env);
void instrument_close(struct instrument *inst);   /* accepts NULL */
/* For a backend: tells env->warn (when set) what it could not do. */
void instrument_warn(struct instrument *inst, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* What an error from instrument_open, or from an operation on the
 * instrument, means for it, in words an operator can act on ("no IIO device
 * \"ina226\" at ip:10.0.0.2 (iio_info -u ip:10.0.0.2 lists what is there)"):
 * the backend's own account where it has one, else strerror's text.
 * Returns buf. */
const char *instrument_error_text(const struct instrument_cfg *ic, int err, char *buf,
				  size_t size);

int pump_set_rate(struct instrument *inst, double rate_ml_per_h);
int pump_bolus(struct instrument *inst, double volume_ml, double rate_ml_per_h,
	       enum bolus_demand demand);
int pump_stop(struct instrument *inst);
int pump_refill(struct instrument *inst, double volume_ml);
int pump_status(struct instrument *inst, struct pump_status *ret);
int pump_reconnect(struct instrument *inst);
/* -ENOTSUP when the backend cannot ask. */
int pump_identify(struct instrument *inst, struct pump_identity *ret);
/* Applies the role's calibration (gain*raw + offset) to every reading. */
int sensor_read(struct instrument *inst, struct reading *ret, size_t max, size_t *ret_n);
int sensor_tare(struct instrument *inst);
/* The backend's settled reading, calibrated as sensor_read's; -ENOTSUP for a
 * backend that cannot tell settled from unsettled itself. */
int sensor_read_settled(struct instrument *inst, bool zero, struct reading *ret);
int valve_set_closed(struct instrument *inst, bool closed);
/* A bench output line: opened at its safe level (the backend drives
 * cfg->line.safe_closed), set on or off, and left at its safe level by
 * instrument_close. */
int output_open(struct instrument **ret, const struct output_cfg *cfg, struct driver_env *env);
int output_set(struct instrument *inst, bool on);
int input_level(struct instrument *inst, bool *ret_active);
int input_next_edge(struct instrument *inst, struct edge *ret);

#endif
