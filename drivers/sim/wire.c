/* The wire-level bench simulator: see wire.h and docs/wire-simulator.md.
 *
 * Devices over libiio's network protocol, shaped like the kernel drivers a
 * real bench uses:
 *   hx711      load cell ADC: in_voltage0 (channel A), offset binary 24 bit,
 *              the load cell giving 0.1 mV per gram
 *   ina226     power monitor on the pump's supply: shunt (10 ohm), bus
 *              voltage, power, current
 *   ads1015    (an ADS1115): in_voltage0 the pressure transducer (0.5 V at
 *              0 kPa, 10 mV/kPa), in_voltage1 the analog flow sensor (0.25 V
 *              at 0 mL/h, 2 V per mL/h), and their difference
 *   mcp4725    DAC driving the proportional occlusion valve: out_voltage0_raw
 *              0..4095, closed at and above half scale
 *   pumprig-clock  time_ns: in lockstep mode the simulator's time moves only
 *              when rig writes it (rig runs in virtual time and says when)
 * A reading is computed once per device per instant (the power monitor
 * averages since its last reading, as the model does) and cached, so the
 * channels of one device agree. */
#define _GNU_SOURCE
#include "wire.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iiod_server.h"
#include "model.h"

enum wire_dev { DEV_HX711, DEV_INA226, DEV_ADS1015, DEV_DAC, DEV_CLOCK, DEV__COUNT };

#define HX711_SCALE_MV 0.000002328     /* 5 V / 128 / 2^24 */
#define LOADCELL_MV_PER_G 0.1
#define INA226_SHUNT_OHM 10.0
#define INA226_SHUNT_SCALE_MV 0.0025
#define INA226_BUS_SCALE_MV 1.25
#define INA226_CURRENT_SCALE_MA 0.0001
#define INA226_POWER_SCALE_MW 0.00025
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
	struct iiod_device devices[DEV__COUNT];
};

static rig_ns wire_now(struct wire *w)
{
	struct timespec ts;

	if (!w->opts->real_time)
		return w->now_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (rig_ns)(ts.tv_sec - w->origin.tv_sec) * RIG_NS_PER_S + (ts.tv_nsec - w->origin.tv_nsec);
}

static int role_reading(struct wire *w, enum rig_role role, enum quantity q, double *ret)
{
	struct cached *c = &w->cache[role];
	rig_ns t = wire_now(w);

	if (!c->valid || c->t_ns != t) {
		c->valid = true;
		c->t_ns = t;
		c->n = 0;
		c->r = sim_read(w->model, t, role, c->rd, READINGS_MAX, &c->n);
	}
	if (c->r < 0)
		return c->r;
	for (size_t i = 0; i < c->n; i++)
		if (c->rd[i].quantity == q) {
			*ret = c->rd[i].value;
			return 0;
		}
	return -ENODATA;
}

static long clamp_l(double v, long lo, long hi)
{
	if (!(v == v))
		return lo;
	return v < lo ? lo : v > hi ? hi : lround(v);
}

/* The raw count a channel shows now. */
static int channel_raw(struct wire *w, size_t dev, const char *chn, long *ret)
{
	double v, v2;
	int r;

	switch (dev) {
	case DEV_HX711:
		if (strcmp(chn, "voltage1") == 0) {
			*ret = 8388608;   /* channel B: nothing connected */
			return 0;
		}
		r = role_reading(w, ROLE_SCALE, QUANT_MASS_G, &v);
		if (r == 0)
			*ret = clamp_l(8388608 + v * LOADCELL_MV_PER_G / HX711_SCALE_MV, 0, 16777215);
		return r;
	case DEV_INA226:
		if (strcmp(chn, "voltage1") == 0) {
			r = role_reading(w, ROLE_POWER, QUANT_VOLTAGE_V, &v);
			if (r == 0)
				*ret = clamp_l(v * 1000 / INA226_BUS_SCALE_MV, 0, 32767);
			return r;
		}
		r = role_reading(w, ROLE_POWER, QUANT_CURRENT_UA, &v);
		if (r < 0)
			return r;
		if (strcmp(chn, "voltage0") == 0)       /* shunt: I * R, in mV */
			*ret = clamp_l(v * 1e-6 * INA226_SHUNT_OHM * 1000 / INA226_SHUNT_SCALE_MV,
				       -32768, 32767);
		else if (strcmp(chn, "current3") == 0)
			*ret = clamp_l(v / 1000 / INA226_CURRENT_SCALE_MA, -32768, 32767);
		else {                                   /* power2 */
			r = role_reading(w, ROLE_POWER, QUANT_VOLTAGE_V, &v2);
			if (r < 0)
				return r;
			*ret = clamp_l(v2 * v / 1000 / INA226_POWER_SCALE_MW, 0, 65535);
		}
		return 0;
	case DEV_ADS1015: {
		long p = 0, f = 0;

		if (strncmp(chn, "voltage0", 8) == 0) {
			r = role_reading(w, ROLE_PRESSURE, QUANT_PRESSURE_KPA, &v);
			if (r < 0)
				return r;
			p = clamp_l((PRESSURE_MV_AT_0 + PRESSURE_MV_PER_KPA * v) / ADS_SCALE_MV,
				    -32768, 32767);
		}
		if (strcmp(chn, "voltage1") == 0 || strcmp(chn, "voltage0-voltage1") == 0) {
			r = role_reading(w, ROLE_FLOW, QUANT_FLOW_ML_PER_H, &v);
			if (r < 0)
				return r;
			f = clamp_l((FLOW_MV_AT_0 + FLOW_MV_PER_ML_PER_H * v) / ADS_SCALE_MV,
				    -32768, 32767);
		}
		*ret = strcmp(chn, "voltage0") == 0 ? p : strcmp(chn, "voltage1") == 0 ? f : p - f;
		return 0;
	}
	case DEV_DAC:
		*ret = w->dac_raw;
		return 0;
	default:
		return -ENOENT;
	}
}

static const char *channel_scale(size_t dev, const char *chn)
{
	switch (dev) {
	case DEV_HX711: return "0.000002328";
	case DEV_INA226:
		return strcmp(chn, "voltage0") == 0 ? "0.002500" :
		       strcmp(chn, "voltage1") == 0 ? "1.250000" :
		       strcmp(chn, "current3") == 0 ? "0.000100" : "0.000250";
	case DEV_ADS1015: return "0.187500";
	case DEV_DAC: return "1.220703";
	default: return "1";
	}
}

static int read_attr(void *ctx, size_t dev, int chn, const char *attr, char *buf, size_t size)
{
	struct wire *w = ctx;
	const char *chn_id = chn >= 0 ? w->devices[dev].channels[chn].id : NULL;
	long raw;
	int r;

	if (dev == DEV_CLOCK && strcmp(attr, "time_ns") == 0)
		return snprintf(buf, size, "%lld", (long long)wire_now(w));
	if (chn < 0) {
		if (strcmp(attr, "sampling_frequency") == 0)
			return snprintf(buf, size, "%s", dev == DEV_HX711 ? "10" : "860");
		if (strcmp(attr, "shunt_resistor") == 0)
			return snprintf(buf, size, "%.6f", INA226_SHUNT_OHM);
		return -ENOENT;
	}
	if (strcmp(attr, "scale") == 0)
		return snprintf(buf, size, "%s", channel_scale(dev, chn_id));
	if (strcmp(attr, "sampling_frequency") == 0)
		return snprintf(buf, size, "860");
	if (strcmp(attr, "raw") != 0)
		return -ENOENT;
	r = channel_raw(w, dev, chn_id, &raw);
	if (r < 0)
		return r;
	return snprintf(buf, size, "%ld", raw);
}

static int write_attr(void *ctx, size_t dev, int chn, const char *attr, const char *value)
{
	struct wire *w = ctx;
	char *end;

	if (dev == DEV_CLOCK && chn < 0 && strcmp(attr, "time_ns") == 0) {
		long long t = strtoll(value, &end, 10);

		if (end == value || (*end && *end != '\n') || t < 0)
			return -EINVAL;
		/* time only moves forward */
		if (t > w->now_ns)
			w->now_ns = t;
		sim_model_advance(w->model, w->now_ns);
		return 0;
	}
	if (dev == DEV_DAC && chn == 0 && strcmp(attr, "raw") == 0) {
		long raw = strtol(value, &end, 10);
		int r;

		if (end == value || (*end && *end != '\n') || raw < 0 || raw > 4095)
			return -EINVAL;
		r = sim_valve_set_closed(w->model, wire_now(w), raw >= 2048);
		if (r < 0)
			return r;
		w->dac_raw = (int)raw;
		return 0;
	}
	return -EACCES;
}

/* Kernel buffer layout: each enabled channel at its storage size, aligned
 * to it, in scan order. */
static int sample(void *ctx, size_t dev, uint32_t mask, uint8_t *buf, size_t size)
{
	struct wire *w = ctx;
	const struct iiod_device *d = &w->devices[dev];
	size_t off = 0;

	for (size_t c = 0; c < d->n_channels; c++) {
		const struct iiod_channel *ch = &d->channels[c];
		size_t bytes = ch->storage_bits / 8;
		long raw = 0;
		int64_t v;

		if (ch->scan_index < 0 || !(mask & (1u << c)))
			continue;
		if (off % bytes)
			off += bytes - off % bytes;
		if (off + bytes > size)
			return -ENOSPC;
		if (strcmp(ch->id, "timestamp") == 0) {
			v = wire_now(w);
		} else {
			int r = channel_raw(w, dev, ch->id, &raw);

			if (r < 0)
				return r;
			v = raw;
		}
		for (size_t b = 0; b < bytes; b++)   /* little endian */
			buf[off + b] = (uint8_t)((uint64_t)v >> (8 * b));
		off += bytes;
	}
	return (int)off;
}

static const struct iiod_ops ops = { read_attr, write_attr, sample };

#define ATTR(n, f) { n, f }

static void build_devices(struct wire *w)
{
	struct iiod_device *d = w->devices;

	d[DEV_HX711] = (struct iiod_device){
		.id = "iio:device0", .name = "hx711", .n_channels = 3,
		.channels = {
			{ "voltage0", false, 0, "le:u24/32>>0", 32, "0.000002328",
			  { ATTR("raw", "in_voltage0_raw"), ATTR("scale", "in_voltage_scale") }, 2 },
			{ "voltage1", false, 1, "le:u24/32>>0", 32, "0.000002328",
			  { ATTR("raw", "in_voltage1_raw"), ATTR("scale", "in_voltage_scale") }, 2 },
			{ "timestamp", false, 2, "le:s64/64>>0", 64, NULL, { { 0 } }, 0 },
		},
		.attrs = { "sampling_frequency" }, .n_attrs = 1,
	};
	d[DEV_INA226] = (struct iiod_device){
		.id = "iio:device1", .name = "ina226", .n_channels = 5,
		.channels = {
			{ "voltage0", false, 0, "le:u16/16>>0", 16, "0.002500",
			  { ATTR("raw", "in_voltage0_raw"), ATTR("scale", "in_voltage0_scale") }, 2 },
			{ "voltage1", false, 1, "le:u16/16>>0", 16, "1.250000",
			  { ATTR("raw", "in_voltage1_raw"), ATTR("scale", "in_voltage1_scale") }, 2 },
			{ "power2", false, 2, "le:u16/16>>0", 16, "0.000250",
			  { ATTR("raw", "in_power2_raw"), ATTR("scale", "in_power2_scale") }, 2 },
			{ "current3", false, 3, "le:u16/16>>0", 16, "0.000100",
			  { ATTR("raw", "in_current3_raw"), ATTR("scale", "in_current3_scale") }, 2 },
			{ "timestamp", false, 4, "le:s64/64>>0", 64, NULL, { { 0 } }, 0 },
		},
		.attrs = { "sampling_frequency", "shunt_resistor" }, .n_attrs = 2,
	};
	d[DEV_ADS1015] = (struct iiod_device){
		.id = "iio:device2", .name = "ads1015", .n_channels = 4,
		.channels = {
			{ "voltage0", false, 0, "le:S16/16>>0", 16, "0.187500",
			  { ATTR("raw", "in_voltage0_raw"), ATTR("scale", "in_voltage0_scale"),
			    ATTR("sampling_frequency", "in_voltage0_sampling_frequency") }, 3 },
			{ "voltage1", false, 1, "le:S16/16>>0", 16, "0.187500",
			  { ATTR("raw", "in_voltage1_raw"), ATTR("scale", "in_voltage1_scale"),
			    ATTR("sampling_frequency", "in_voltage1_sampling_frequency") }, 3 },
			{ "voltage0-voltage1", false, 2, "le:S16/16>>0", 16, "0.187500",
			  { ATTR("raw", "in_voltage0-voltage1_raw"),
			    ATTR("scale", "in_voltage0-voltage1_scale") }, 2 },
			{ "timestamp", false, 3, "le:s64/64>>0", 64, NULL, { { 0 } }, 0 },
		},
	};
	d[DEV_DAC] = (struct iiod_device){
		.id = "iio:device3", .name = "mcp4725", .n_channels = 1,
		.channels = {
			{ "voltage0", true, -1, NULL, 0, NULL,
			  { ATTR("raw", "out_voltage0_raw"), ATTR("scale", "out_voltage0_scale") }, 2 },
		},
	};
	d[DEV_CLOCK] = (struct iiod_device){
		.id = "iio:device4", .name = "pumprig-clock", .attrs = { "time_ns" }, .n_attrs = 1,
	};
}

int sim_wire_serve(const struct wire_opts *opts)
{
	struct wire w = { .opts = opts };
	struct iiod_server *srv = NULL;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &w.origin);
	w.model = sim_model_new(&opts->bench->sim, opts->bench->sim.fluid_density_g_per_ml);
	if (!w.model)
		return -EINVAL;
	build_devices(&w);
	r = iiod_server_new(w.devices, DEV__COUNT, &ops, &w, opts->addr, opts->port, &srv);
	if (r < 0) {
		sim_model_free(w.model);
		return r;
	}
	fprintf(opts->announce, "iio ip:%s:%u\n", opts->addr, iiod_server_port(srv));
	fprintf(opts->announce, "ready\n");
	fflush(opts->announce);
	while (!*opts->stop) {
		struct pollfd pfd[32];
		int fds[32];
		size_t n = iiod_server_fds(srv, fds, 32);

		for (size_t i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		r = poll(pfd, n, 200);
		if (r < 0 && errno != EINTR)
			break;
		for (size_t i = 0; r > 0 && i < n; i++)
			if (pfd[i].revents)
				iiod_server_handle(srv, pfd[i].fd);
	}
	iiod_server_free(srv);
	sim_model_free(w.model);
	return 0;
}
