/* Shared by the wire-level simulator's files: wire.c (the IIO devices over
 * libiio's network protocol, and the server's loop), wire_conditions.c (the
 * sensors of the measured conditions, served when the bench has them) and
 * wire_tty.c (the pump's command link and the balance on pseudo-terminals).
 * Not for use outside drivers/sim/. */
#ifndef RIG_SIM_WIRE_INTERNAL_H
#define RIG_SIM_WIRE_INTERNAL_H

#include <stdbool.h>
#include <time.h>

#include "wire.h"
#include "drivers/mtsics/protocol.h"
#include "drivers/pumplink/protocol.h"
#include "iiod_server.h"
#include "model.h"

/* The devices the simulator can serve; the first five always, at these
 * positions, the others after them when the bench has their roles
 * (wire.kind maps a served device's position to what it is). */
enum wire_dev { DEV_HX711, DEV_INA226, DEV_ADS1015, DEV_DAC, DEV_CLOCK, DEV_BME280, DEV_MAX31865,
		DEV__COUNT };

/* The hx711 driver's scale: AVDD (uV) * 100 / gain / 1678 nanovolts,
 * truncated (5.0003 V here; 5.000 V prints 0.000002327) */
#define HX711_SCALE_MV 0.000002328
#define LOADCELL_MV_PER_G 0.1
/* The ina2xx driver fixes the INA226's calibration (2048): the current LSB
 * is the shunt voltage's 2.5 uV over the shunt, the power LSB 25 times it. */
#define INA226_SHUNT_OHM 25.0
#define INA226_SHUNT_SCALE_MV 0.0025
#define INA226_BUS_SCALE_MV 1.25
#define INA226_CURRENT_SCALE_MA (INA226_SHUNT_SCALE_MV / INA226_SHUNT_OHM)
#define INA226_POWER_SCALE_MW (25 * INA226_CURRENT_SCALE_MA)
#define ADS_SCALE_MV 0.1875
#define PRESSURE_MV_AT_0 500.0
#define PRESSURE_MV_PER_KPA 10.0
#define FLOW_MV_AT_0 250.0
#define FLOW_MV_PER_ML_PER_H 2000.0

struct cached {
	rig_ns t_ns;
	bool valid;
	int r;
	struct reading rd[READINGS_MAX];
	size_t n;
};

struct wire {
	const struct wire_opts *opts;
	struct sim_model *model;
	rig_ns now_ns;
	struct timespec origin;
	struct cached cache[ROLE__COUNT];
	int dac_raw;
	struct timespec origin_real;    /* CLOCK_REALTIME at origin */
	/* the ADS1115's data rate per channel (channel index), the INA226's
	 * averaging and integration times (shunt, bus; us), whether it reads
	 * asynchronously, and each device's current_timestamp_clock */
	double ads_hz[IIOD_CHANNELS_MAX];
	int ina_avg, ina_it_us[2];
	bool ina_async;
	char ts_clock[DEV__COUNT][24];
	struct iiod_server *srv;
	struct iiod_device devices[DEV__COUNT];   /* the ones served, n_devices of them */
	enum wire_dev kind[DEV__COUNT];
	size_t n_devices;
	/* the BME280's oversampling ratios (temperature, humidity, pressure)
	 * and the MAX31865's notch filter (Hz) */
	int bme_os[3];
	int max_notch_hz;
	/* pseudo-terminals: master (ours) and a slave kept open so the master
	 * never sees a hang-up between clients */
	int pump_fd, pump_keep, bal_fd, bal_keep;
	struct pumplink_assembler pump_in;
	/* the last command carried out, so a retried one (same sequence
	 * number) is answered again but not carried out twice */
	bool pump_seen;
	unsigned pump_last_seq;
	struct pumplink_reply pump_last_reply;
	char bal_line[MTSICS_LINE_MAX];
	size_t bal_n;
	/* an S waiting for the balance to settle (real time only) and since when */
	bool bal_s_pending;
	rig_ns bal_s_since;
};

int wire_open_pty(int *ret_master, int *ret_keep, char *path, size_t size);
void wire_balance_pending(struct wire *w);
void wire_pty_readable(struct wire *w, int fd);
void wire_pump_link_update(struct wire *w);
rig_ns wire_now(struct wire *w);
void wire_conditions_build(struct wire *w);
int wire_conditions_read(struct wire *w, enum wire_dev k, const char *chn, const char *attr,
			 char *buf, size_t size);
int wire_conditions_write(struct wire *w, enum wire_dev k, const char *chn, const char *attr,
			  const char *value);
int wire_role_reading(struct wire *w, enum rig_role role, enum quantity q, rig_ns t, double *ret);

#endif
