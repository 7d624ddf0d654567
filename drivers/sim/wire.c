/* The wire-level bench simulator: see wire.h and docs/wire-simulator.md.
 *
 * Devices over libiio's network protocol, shaped like the kernel drivers a
 * real bench uses:
 *   hx711      load cell ADC: in_voltage0 (channel A), offset binary 24 bit,
 *              the load cell giving 0.1 mV per gram
 *   ina226     power monitor on the pump's supply: shunt (25 ohm), bus
 *              voltage, power, current
 *   ads1015    (an ADS1115): in_voltage0 the pressure transducer (0.5 V at
 *              0 kPa, 10 mV/kPa), in_voltage1 the analog flow sensor (0.25 V
 *              at 0 mL/h, 2 V per mL/h), and their difference
 *   mcp4725    DAC driving the proportional occlusion valve: out_voltage0_raw
 *              0..4095, closed at and above half scale
 *   pumprig-clock  time_ns: in lockstep mode the simulator's time moves only
 *              when rig writes it (rig runs in virtual time and says when)
 *   bme280, max31865  the air's and the fluid's sensors, when the bench has
 *              their roles on the iio backend (wire_conditions.c)
 * and on two pseudo-terminals: the pump's command link (pumplink protocol)
 * and a laboratory balance speaking MT-SICS.
 * A reading is computed once per device per instant (the power monitor
 * averages since its last reading, as the model does) and cached, so the
 * channels of one device agree.
 *
 * The IIO devices have the channels and attributes Debian's iiod 0.24
 * serves for those kernel drivers (Linux 6.1), named as libiio presents
 * them: the ina226's shared in_sampling_frequency as a channel "sampling"
 * with an attribute "frequency", and so on (tests/test_iiod_real.c compares
 * iio_info of both). */
#define _GNU_SOURCE
#include "wire_internal.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

rig_ns wire_now(struct wire *w)
{
	struct timespec ts;

	if (!w->opts->real_time)
		return w->now_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (rig_ns)(ts.tv_sec - w->origin.tv_sec) * RIG_NS_PER_S + (ts.tv_nsec - w->origin.tv_nsec);
}

/* The reading of `role` at t (now, or a buffered sample's tick; never
 * earlier than a time the model has already reached). */
int wire_role_reading(struct wire *w, enum rig_role role, enum quantity q, rig_ns t,
			double *ret)
{
	struct cached *c = &w->cache[role];

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

/* The raw count a channel shows at t. */
static int channel_raw(struct wire *w, size_t dev, const char *chn, rig_ns t, long *ret)
{
	double v, v2;
	int r;

	switch (dev) {
	case DEV_HX711:
		if (strcmp(chn, "voltage1") == 0) {
			*ret = 8388608;   /* channel B: nothing connected */
			return 0;
		}
		r = wire_role_reading(w, ROLE_SCALE, QUANT_MASS_G, t, &v);
		if (r == 0)
			*ret = clamp_l(8388608 + v * LOADCELL_MV_PER_G / HX711_SCALE_MV, 0, 16777215);
		return r;
	case DEV_INA226:
		if (strcmp(chn, "voltage1") == 0) {
			r = wire_role_reading(w, ROLE_POWER, QUANT_VOLTAGE_V, t, &v);
			if (r == 0)
				*ret = clamp_l(v * 1000 / INA226_BUS_SCALE_MV, 0, 32767);
			return r;
		}
		r = wire_role_reading(w, ROLE_POWER, QUANT_CURRENT_UA, t, &v);
		if (r < 0)
			return r;
		if (strcmp(chn, "voltage0") == 0)       /* shunt: I * R, in mV */
			*ret = clamp_l(v * 1e-6 * INA226_SHUNT_OHM * 1000 / INA226_SHUNT_SCALE_MV,
				       -32768, 32767);
		else if (strcmp(chn, "current3") == 0)
			*ret = clamp_l(v / 1000 / INA226_CURRENT_SCALE_MA, -32768, 32767);
		else {                                   /* power2 */
			r = wire_role_reading(w, ROLE_POWER, QUANT_VOLTAGE_V, t, &v2);
			if (r < 0)
				return r;
			*ret = clamp_l(v2 * v / 1000 / INA226_POWER_SCALE_MW, 0, 65535);
		}
		return 0;
	case DEV_ADS1015: {
		/* AIN0 the pressure transducer, AIN1 the flow sensor, AIN2 and
		 * AIN3 unconnected (0 V); "voltageA-voltageB" is AINA - AINB */
		long ain[4] = { 0 };
		int a = -1, b = -1;

		if (sscanf(chn, "voltage%d-voltage%d", &a, &b) < 1 || a < 0 || a > 3 || b > 3)
			return -ENOENT;
		if (a == 0 || b == 0) {
			r = wire_role_reading(w, ROLE_PRESSURE, QUANT_PRESSURE_KPA, t, &v);
			if (r < 0)
				return r;
			ain[0] = clamp_l((PRESSURE_MV_AT_0 + PRESSURE_MV_PER_KPA * v) / ADS_SCALE_MV,
					 -32768, 32767);
		}
		if (a == 1 || b == 1) {
			r = wire_role_reading(w, ROLE_FLOW, QUANT_FLOW_ML_PER_H, t, &v);
			if (r < 0)
				return r;
			ain[1] = clamp_l((FLOW_MV_AT_0 + FLOW_MV_PER_ML_PER_H * v) / ADS_SCALE_MV,
					 -32768, 32767);
		}
		*ret = b < 0 ? ain[a] : clamp_l((double)(ain[a] - ain[b]), -32768, 32767);
		return 0;
	}
	case DEV_DAC:
		*ret = w->dac_raw;
		return 0;
	default:
		return -ENOENT;
	}
}

/* A channel's scale as its driver prints it (IIO_VAL_INT_PLUS_NANO on the
 * hx711, IIO_VAL_FRACTIONAL and _LOG2 on the others: 9 decimals). */
static const char *channel_scale(size_t dev, const char *chn)
{
	switch (dev) {
	case DEV_HX711: return "0.000002328";
	case DEV_INA226:
		return strcmp(chn, "voltage0") == 0 ? "0.002500000" :
		       strcmp(chn, "voltage1") == 0 ? "1.250000000" :
		       strcmp(chn, "current3") == 0 ? "0.000100000" : "0.002500000";
	case DEV_ADS1015: return "0.187500000";
	case DEV_DAC: return "1.220703125";
	default: return "1";
	}
}

/* The ADS1115's data rates in samples per second (datasheet, DR bits). */
#define ADS1115_DATA_RATES "8 16 32 64 128 250 475 860"
#define ADS1115_SCALES "0.007812500 0.015625000 0.031250000 0.062500000 0.125000000 0.187500000"
/* The INA226's averaging and conversion times (us), as its driver has them. */
static const int ina226_avg_tab[] = { 1, 4, 16, 64, 128, 256, 512, 1024 };
static const int ina226_conv_tab[] = { 140, 204, 332, 588, 1100, 2116, 4156, 8244 };
#define INA226_INTEGRATION_TIMES "0.000140 0.000204 0.000332 0.000588 0.001100 0.002116 " \
				 "0.004156 0.008244"
/* current_timestamp_clock takes the clocks the kernel offers */
static const char *const ts_clocks[] = { "realtime", "monotonic", "monotonic_raw",
					 "realtime_coarse", "monotonic_coarse", "boottime", "tai" };

static bool ads1115_data_rate(double hz)
{
	static const int rates[] = { 8, 16, 32, 64, 128, 250, 475, 860 };

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		if (hz == rates[i])
			return true;
	return false;
}

/* The table value nearest v (the kernel's find_closest). */
static int closest(const int *tab, size_t n, long v)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++)
		if (labs(tab[i] - v) < labs(tab[best] - v))
			best = i;
	return tab[best];
}

/* The INA226's conversion period: (shunt + bus integration time) x
 * averaging; its in_sampling_frequency is 1e6 / that (us), rounded. */
static long ina226_period_us(const struct wire *w)
{
	return (long)(w->ina_it_us[0] + w->ina_it_us[1]) * w->ina_avg;
}

static int read_attr(void *ctx, size_t dev, int chn, const char *attr, char *buf, size_t size)
{
	struct wire *w = ctx;
	const char *chn_id = chn >= 0 ? w->devices[dev].channels[chn].id : NULL;
	long raw;
	int r;

	if (w->kind[dev] >= DEV_BME280)
		return wire_conditions_read(w, w->kind[dev], chn_id, attr, buf, size);
	if (dev == DEV_CLOCK && strcmp(attr, "time_ns") == 0)
		return snprintf(buf, size, "%lld", (long long)wire_now(w));
	if (dev == DEV_CLOCK && strcmp(attr, "pan_weight_g") == 0)
		return snprintf(buf, size, "0");
	if (chn < 0) {
		if (strcmp(attr, "current_timestamp_clock") == 0)
			return snprintf(buf, size, "%s", w->ts_clock[dev]);
		if (dev == DEV_ADS1015 && strcmp(attr, "sampling_frequency_available") == 0)
			return snprintf(buf, size, "%s", ADS1115_DATA_RATES);
		if (dev == DEV_ADS1015 && strcmp(attr, "scale_available") == 0)
			return snprintf(buf, size, "%s", ADS1115_SCALES);
		if (dev == DEV_INA226 && strcmp(attr, "integration_time_available") == 0)
			return snprintf(buf, size, "%s", INA226_INTEGRATION_TIMES);
		return -ENOENT;
	}
	if (dev == DEV_INA226 && strcmp(chn_id, "sampling") == 0)   /* in_sampling_frequency */
		return snprintf(buf, size, "%ld", (1000000 + ina226_period_us(w) / 2) /
						   ina226_period_us(w));
	if (dev == DEV_INA226 && strcmp(chn_id, "oversampling") == 0)   /* _ratio */
		return snprintf(buf, size, "%d", w->ina_avg);
	if (dev == DEV_INA226 && strcmp(chn_id, "allow") == 0)   /* _async_readout */
		return snprintf(buf, size, "%d", w->ina_async);
	if (dev == DEV_INA226 && strcmp(chn_id, "shunt") == 0)   /* _resistor */
		return snprintf(buf, size, "%.9f", INA226_SHUNT_OHM);
	if (dev == DEV_INA226 && strcmp(attr, "integration_time") == 0)
		return snprintf(buf, size, "0.%06d", w->ina_it_us[chn == 0 ? 0 : 1]);
	if (dev == DEV_ADS1015 && strcmp(attr, "sampling_frequency") == 0)
		return snprintf(buf, size, "%g", w->ads_hz[chn]);
	if (dev == DEV_HX711 && strcmp(attr, "scale_available") == 0)
		return snprintf(buf, size, "%s", chn == 0 ? "0.000002328 0.000004656 "
							  : "0.000009312 ");
	if (strcmp(attr, "scale") == 0)
		return snprintf(buf, size, "%s", channel_scale(dev, chn_id));
	if (strcmp(attr, "raw") != 0)
		return -ENOENT;
	r = channel_raw(w, dev, chn_id, wire_now(w), &raw);
	if (r < 0)
		return r;
	return snprintf(buf, size, "%ld", raw);
}

static int write_attr(void *ctx, size_t dev, int chn, const char *attr, const char *value)
{
	struct wire *w = ctx;
	const char *chn_id = chn >= 0 ? w->devices[dev].channels[chn].id : "";
	char *end;

	if (w->kind[dev] >= DEV_BME280)
		return wire_conditions_write(w, w->kind[dev], chn >= 0 ? chn_id : NULL, attr, value);
	if (dev == DEV_CLOCK && chn < 0 && strcmp(attr, "time_ns") == 0) {
		long long t = strtoll(value, &end, 10);

		if (end == value || (*end && *end != '\n') || t < 0)
			return -EINVAL;
		/* time only moves forward; the buffered samples due on the way
		 * are taken first, each at its own instant, before the model
		 * moves past them */
		if (t > w->now_ns) {
			iiod_server_advance(w->srv, t);
			w->now_ns = t;
		}
		sim_model_advance(w->model, w->now_ns);
		wire_pump_link_update(w);
		return 0;
	}
	if (chn < 0 && strcmp(attr, "current_timestamp_clock") == 0 && dev != DEV_DAC &&
	    dev != DEV_CLOCK) {
		size_t n = strcspn(value, "\n");

		for (size_t i = 0; i < sizeof(ts_clocks) / sizeof(ts_clocks[0]); i++)
			if (strlen(ts_clocks[i]) == n && strncmp(value, ts_clocks[i], n) == 0) {
				snprintf(w->ts_clock[dev], sizeof(w->ts_clock[dev]), "%s", ts_clocks[i]);
				return 0;
			}
		return -EINVAL;
	}
	if (dev == DEV_ADS1015 && chn >= 0 && strcmp(attr, "sampling_frequency") == 0) {
		double hz = strtod(value, &end);

		/* the ADS1115 converts at one of its data rates, and its driver
		 * refuses any other (ads1015_set_data_rate: EINVAL); per channel */
		if (end == value || (*end && *end != '\n') || !ads1115_data_rate(hz))
			return -EINVAL;
		w->ads_hz[chn] = hz;
		return 0;
	}
	if (dev == DEV_INA226 && strcmp(chn_id, "oversampling") == 0) {   /* _ratio */
		long v = strtol(value, &end, 10);

		if (end == value || (*end && *end != '\n') || v < 1 || v > 1024)
			return -EINVAL;
		w->ina_avg = closest(ina226_avg_tab, 8, v);
		return 0;
	}
	if (dev == DEV_INA226 && strcmp(attr, "integration_time") == 0) {
		double s = strtod(value, &end);
		long us = lround(s * 1e6);

		if (end == value || (*end && *end != '\n') || us < 140 || us > 8244)
			return -EINVAL;
		w->ina_it_us[chn == 0 ? 0 : 1] = closest(ina226_conv_tab, 8, us);
		return 0;
	}
	if (dev == DEV_INA226 && strcmp(chn_id, "allow") == 0) {   /* _async_readout */
		if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0 && strcmp(value, "0\n") != 0 &&
		    strcmp(value, "1\n") != 0)
			return -EINVAL;
		w->ina_async = value[0] == '1';
		return 0;
	}
	/* the ina2xx driver's write_raw takes no sampling frequency: the
	 * rate follows from averaging and integration times */
	if (dev == DEV_INA226 && strcmp(chn_id, "sampling") == 0)
		return -EINVAL;
	if (dev == DEV_CLOCK && chn < 0 && strcmp(attr, "pan_weight_g") == 0) {
		double g = strtod(value, &end);

		if (end == value || (*end && *end != '\n') || !(g >= 0 && g <= 1000))
			return -EINVAL;
		sim_scale_place_weight(w->model, wire_now(w), g);
		w->cache[ROLE_SCALE].valid = false;
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
static int sample(void *ctx, size_t dev, uint32_t mask, int64_t t_ns, uint8_t *buf, size_t size)
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
			/* lockstep: the simulated time, which is rig's run time;
			 * real time: the device's current_timestamp_clock, as the
			 * kernel stamps (CLOCK_REALTIME until set; the coarse,
			 * raw and boot clocks are taken for their fine kin) */
			const struct timespec *o = strstr(w->ts_clock[dev], "realtime") ||
							   strcmp(w->ts_clock[dev], "tai") == 0
						   ? &w->origin_real : &w->origin;

			v = t_ns;
			if (w->opts->real_time)
				v += (int64_t)o->tv_sec * RIG_NS_PER_S + o->tv_nsec;
		} else {
			int r = channel_raw(w, dev, ch->id, t_ns, &raw);

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

/* The conversion period of a device that paces its own buffer: only the
 * INA226 does (its driver's capture thread); the hx711 and ADS1115 take a
 * scan at each tick of their trigger. */
static int64_t period_ns(void *ctx, size_t dev)
{
	struct wire *w = ctx;

	return dev == DEV_INA226 ? (int64_t)ina226_period_us(w) * 1000 : RIG_NS_PER_S;
}

static int64_t now_ns(void *ctx)
{
	return wire_now(ctx);
}

static const struct iiod_ops ops = { read_attr, write_attr, sample, period_ns, now_ns };

#define ATTR(n, f) { n, f }
#define ADS_CHANNEL(id, index)                                                               \
	{ id, false, index, "le:s16/16>>0", 16, "0.187500000",                                   \
	  { ATTR("raw", "in_" id "_raw"), ATTR("sampling_frequency", "in_" id "_sampling_frequency"), \
	    ATTR("scale", "in_" id "_scale") }, 3 }

/* The devices, channels and attributes as iiod 0.24 serves them from the
 * kernel drivers' sysfs (attributes in libiio's order, alphabetical; the
 * channels in scan order, then the shared in_ attributes libiio makes
 * channels of), with the scan types as the drivers declare them. */
static void build_devices(struct wire *w)
{
	static const char *const buffer_attrs[] = { "data_available", "direction" };
	struct iiod_device *d = w->devices;

	d[DEV_HX711] = (struct iiod_device){
		.id = "iio:device0", .name = "hx711", .n_channels = 3,
		.channels = {
			{ "voltage0", false, 0, "le:u24/32>>0", 32, "0.000002328",
			  { ATTR("raw", "in_voltage0_raw"), ATTR("scale", "in_voltage_scale"),
			    ATTR("scale_available", "in_voltage0_scale_available") }, 3 },
			{ "voltage1", false, 1, "le:u24/32>>0", 32, "0.000002328",
			  { ATTR("raw", "in_voltage1_raw"), ATTR("scale", "in_voltage_scale"),
			    ATTR("scale_available", "in_voltage1_scale_available") }, 3 },
			{ "timestamp", false, 2, "le:s64/64>>0", 64, NULL, { { 0 } }, 0 },
		},
		.attrs = { "current_timestamp_clock" }, .n_attrs = 1,
	};
	d[DEV_INA226] = (struct iiod_device){
		.id = "iio:device1", .name = "ina226", .n_channels = 9,
		.channels = {
			{ "voltage0", false, 0, "le:u16/16>>0", 16, "0.002500000",
			  { ATTR("integration_time", "in_voltage0_integration_time"),
			    ATTR("raw", "in_voltage0_raw"), ATTR("scale", "in_voltage0_scale") }, 3 },
			{ "voltage1", false, 1, "le:u16/16>>0", 16, "1.250000000",
			  { ATTR("integration_time", "in_voltage1_integration_time"),
			    ATTR("raw", "in_voltage1_raw"), ATTR("scale", "in_voltage1_scale") }, 3 },
			{ "power2", false, 2, "le:u16/16>>0", 16, "0.002500000",
			  { ATTR("raw", "in_power2_raw"), ATTR("scale", "in_power2_scale") }, 2 },
			{ "current3", false, 3, "le:u16/16>>0", 16, "0.000100000",
			  { ATTR("raw", "in_current3_raw"), ATTR("scale", "in_current3_scale") }, 2 },
			{ "timestamp", false, 4, "le:s64/64>>0", 64, NULL, { { 0 } }, 0 },
			/* in_allow_async_readout, in_oversampling_ratio,
			 * in_sampling_frequency, in_shunt_resistor */
			{ "allow", false, -1, NULL, 0, NULL,
			  { ATTR("async_readout", "in_allow_async_readout") }, 1 },
			{ "oversampling", false, -1, NULL, 0, NULL,
			  { ATTR("ratio", "in_oversampling_ratio") }, 1 },
			{ "sampling", false, -1, NULL, 0, NULL,
			  { ATTR("frequency", "in_sampling_frequency") }, 1 },
			{ "shunt", false, -1, NULL, 0, NULL,
			  { ATTR("resistor", "in_shunt_resistor") }, 1 },
		},
		.attrs = { "current_timestamp_clock", "integration_time_available" }, .n_attrs = 2,
	};
	d[DEV_ADS1015] = (struct iiod_device){
		.id = "iio:device2", .name = "ads1015", .n_channels = 9,
		.channels = {
			ADS_CHANNEL("voltage0-voltage1", 0), ADS_CHANNEL("voltage0-voltage3", 1),
			ADS_CHANNEL("voltage1-voltage3", 2), ADS_CHANNEL("voltage2-voltage3", 3),
			ADS_CHANNEL("voltage0", 4), ADS_CHANNEL("voltage1", 5),
			ADS_CHANNEL("voltage2", 6), ADS_CHANNEL("voltage3", 7),
			{ "timestamp", false, 8, "le:s64/64>>0", 64, NULL, { { 0 } }, 0 },
		},
		.attrs = { "current_timestamp_clock", "sampling_frequency_available",
			   "scale_available" },
		.n_attrs = 3,
	};
	for (size_t k = 0; k < 3; k++) {
		struct iiod_device *dev = &d[(enum wire_dev[]){ DEV_HX711, DEV_INA226, DEV_ADS1015 }[k]];

		for (size_t a = 0; a < 2; a++)
			dev->buffer_attrs[a] = buffer_attrs[a];
		dev->n_buffer_attrs = 2;
	}
	d[DEV_DAC] = (struct iiod_device){
		.id = "iio:device3", .name = "mcp4725", .n_channels = 1,
		.channels = {
			{ "voltage0", true, -1, NULL, 0, NULL,
			  { ATTR("raw", "out_voltage0_raw"), ATTR("scale", "out_voltage0_scale") }, 2 },
		},
	};
	d[DEV_CLOCK] = (struct iiod_device){
		.id = "iio:device4", .name = "pumprig-clock", .attrs = { "time_ns", "pan_weight_g" },
		.n_attrs = 2,
	};
	for (size_t k = 0; k <= DEV_CLOCK; k++)
		w->kind[k] = (enum wire_dev)k;
	w->n_devices = DEV_CLOCK + 1;
	/* the bme280 and max31865 after them, when the bench has their roles */
	wire_conditions_build(w);
}

/* A pseudo-terminal in raw mode; returns the master and the slave's path. */

int sim_wire_serve(const struct wire_opts *opts)
{
	struct wire w = { .opts = opts, .pump_fd = -1, .pump_keep = -1, .bal_fd = -1, .bal_keep = -1 };
	struct iiod_server *srv = NULL;
	char pump_path[64], bal_path[64];
	int r;

	clock_gettime(CLOCK_MONOTONIC, &w.origin);
	clock_gettime(CLOCK_REALTIME, &w.origin_real);
	w.model = sim_model_new(&opts->bench->sim, opts->bench->sim.fluid_density_g_per_ml);
	if (!w.model)
		return -EINVAL;
	build_devices(&w);
	/* as the drivers probe (the ADS1115's channels at their fastest rate,
	 * as a device tree's ti,datarate = 7 sets them) */
	for (size_t c = 0; c < IIOD_CHANNELS_MAX; c++)
		w.ads_hz[c] = 860;
	w.ina_avg = 4;
	w.ina_it_us[0] = w.ina_it_us[1] = 1100;
	for (size_t d = 0; d < DEV__COUNT; d++)
		snprintf(w.ts_clock[d], sizeof(w.ts_clock[d]), "realtime");
	r = iiod_server_new(w.devices, w.n_devices, &ops, &w, opts->addr, opts->port, &srv);
	if (r < 0) {
		sim_model_free(w.model);
		return r;
	}
	w.srv = srv;
	/* In real time a READBUF may wait for its samples, as iiod's does; in
	 * lockstep it must not: time moves only when rig says so, and rig may
	 * be the very client waiting for the answer. */
	iiod_server_set_wait(srv, opts->real_time);
	if (wire_open_pty(&w.pump_fd, &w.pump_keep, pump_path, sizeof(pump_path)) < 0 ||
	    wire_open_pty(&w.bal_fd, &w.bal_keep, bal_path, sizeof(bal_path)) < 0) {
		r = -errno;
		iiod_server_free(srv);
		sim_model_free(w.model);
		return r;
	}
	if (opts->links_dir) {
		char link[512];

		mkdir(opts->links_dir, 0755);
		snprintf(link, sizeof(link), "%s/pump", opts->links_dir);
		unlink(link);
		if (symlink(pump_path, link) != 0)
			fprintf(stderr, "rig sim serve: %s: %s\n", link, strerror(errno));
		snprintf(link, sizeof(link), "%s/balance", opts->links_dir);
		unlink(link);
		if (symlink(bal_path, link) != 0)
			fprintf(stderr, "rig sim serve: %s: %s\n", link, strerror(errno));
	}
	fprintf(opts->announce, "iio ip:%s:%u\n", opts->addr, iiod_server_port(srv));
	fprintf(opts->announce, "pump %s\n", pump_path);
	fprintf(opts->announce, "balance %s\n", bal_path);
	fprintf(opts->announce, "ready\n");
	fflush(opts->announce);
	while (!*opts->stop) {
		struct pollfd pfd[34];
		int fds[34];
		size_t n = iiod_server_fds(srv, fds, 32);

		fds[n++] = w.pump_fd;
		fds[n++] = w.bal_fd;
		for (size_t i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (opts->real_time) {
			iiod_server_advance(srv, wire_now(&w));
			wire_pump_link_update(&w);
			wire_balance_pending(&w);
		}
		/* a waiting READBUF is answered within a millisecond of its
		 * sample's time, a waiting S within 10 ms of the balance settling */
		r = poll(pfd, n, iiod_server_waiting(srv) ? 1 : w.bal_s_pending ? 10 : 200);
		if (r < 0 && errno != EINTR)
			break;
		for (size_t i = 0; r > 0 && i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == w.pump_fd || pfd[i].fd == w.bal_fd)
				wire_pty_readable(&w, pfd[i].fd);
			else
				iiod_server_handle(srv, pfd[i].fd);
		}
	}
	if (w.pump_fd >= 0) {
		close(w.pump_fd);
		close(w.pump_keep);
	}
	close(w.bal_fd);
	close(w.bal_keep);
	iiod_server_free(srv);
	sim_model_free(w.model);
	return 0;
}
