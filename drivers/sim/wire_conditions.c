/* The wire simulator's sensors of the measured conditions (wire.h,
 * docs/wire-simulator.md), served when the bench file has their roles on
 * the iio backend, shaped as the kernel drivers present them (Linux 6.1):
 *
 *   bme280    (drivers/iio/pressure/bmp280-core.c) the air's temperature,
 *             humidity and pressure as processed values, each channel not
 *             indexed, with its oversampling ratio:
 *               in_temp_input              milli-degrees Celsius, a multiple
 *                                          of 10 (the compensated 0.01 degC
 *                                          times 10)
 *               in_humidityrelative_input  milli-percent (the compensated
 *                                          1/1024 % times 1000 / 1024,
 *                                          truncated)
 *               in_pressure_input          kPa, 9 decimals (the compensated
 *                                          Q24.8 Pa over 256000, truncated)
 *   max31865  (drivers/iio/temperature/max31865.c) the fluid's temperature
 *             as an RTD converter's count: in_temp_raw the 15-bit ratio
 *             R_RTD / R_REF x 32768 of a PT100 (IEC 60751) on a 400 ohm
 *             reference, in_temp_scale 31.250000 (the driver's "0.03125
 *             degree" a count) and no offset: the driver does not
 *             linearise, so raw x scale is the count / 32 in degC, about
 *             the temperature + 256 degC, and the bench's calibration maps
 *             it (the datasheet's approximation: gain 1, offset -256 K).
 *
 * Neither device has a buffer, a trigger or a timestamp channel. */
#include "wire_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The PT100 (IEC 60751: R0 100 ohm, A, B, and C below 0 degC) and the
 * MAX31865's reference resistor. */
#define PT100_R0 100.0
#define PT100_A 3.9083e-3
#define PT100_B -5.775e-7
#define PT100_C -4.183e-12
#define RTD_REF_OHM 400.0
#define MAX31865_SCALE "31.250000"

static double pt100_ohm(double t_c)
{
	double r = 1 + PT100_A * t_c + PT100_B * t_c * t_c;

	if (t_c < 0)
		r += PT100_C * (t_c - 100) * t_c * t_c * t_c;
	return PT100_R0 * r;
}

static bool role_on_iio(const struct bench *b, enum rig_role role)
{
	const struct instrument_cfg *ic = &b->instrument[role];

	return ic->present && strcmp(ic->backend, "iio") == 0;
}

#define ATTR(n, f) { n, f }

void wire_conditions_build(struct wire *w)
{
	const struct bench *b = w->opts->bench;

	w->bme_os[0] = 2;    /* the driver's defaults: temperature 2x */
	w->bme_os[1] = 16;   /* humidity */
	w->bme_os[2] = 16;   /* pressure */
	w->max_notch_hz = 60;
	if (role_on_iio(b, ROLE_AIR_TEMP) || role_on_iio(b, ROLE_HUMIDITY) ||
	    role_on_iio(b, ROLE_AIR_PRESSURE)) {
		w->kind[w->n_devices] = DEV_BME280;
		w->devices[w->n_devices++] = (struct iiod_device){
			.id = "iio:device5", .name = "bme280", .n_channels = 3,
			.channels = {
				{ "pressure", false, -1, NULL, 0, NULL,
				  { ATTR("input", "in_pressure_input"),
				    ATTR("oversampling_ratio", "in_pressure_oversampling_ratio") }, 2 },
				{ "temp", false, -1, NULL, 0, NULL,
				  { ATTR("input", "in_temp_input"),
				    ATTR("oversampling_ratio", "in_temp_oversampling_ratio") }, 2 },
				{ "humidityrelative", false, -1, NULL, 0, NULL,
				  { ATTR("input", "in_humidityrelative_input"),
				    ATTR("oversampling_ratio", "in_humidityrelative_oversampling_ratio") },
				  2 },
			},
		};
	}
	if (role_on_iio(b, ROLE_FLUID_TEMP)) {
		w->kind[w->n_devices] = DEV_MAX31865;
		w->devices[w->n_devices++] = (struct iiod_device){
			.id = "iio:device6", .name = "max31865", .n_channels = 2,
			.channels = {
				{ "temp", false, -1, NULL, 0, NULL,
				  { ATTR("raw", "in_temp_raw"), ATTR("scale", "in_temp_scale") }, 2 },
				/* the driver's in_filter_notch_center_frequency, a
				 * device attribute libiio takes for a channel's */
				{ "filter", false, -1, NULL, 0, NULL,
				  { ATTR("notch_center_frequency", "in_filter_notch_center_frequency") },
				  1 },
			},
			.attrs = { "fault_ovuv", "sampling_frequency_available" }, .n_attrs = 2,
		};
	}
}

/* The BME280 channel's index into bme_os, or -1. */
static int bme_channel(const char *chn)
{
	return strcmp(chn, "temp") == 0 ? 0 : strcmp(chn, "humidityrelative") == 0 ? 1 :
	       strcmp(chn, "pressure") == 0 ? 2 : -1;
}

static int bme280_input(struct wire *w, int c, char *buf, size_t size)
{
	static const enum rig_role roles[] = { ROLE_AIR_TEMP, ROLE_HUMIDITY, ROLE_AIR_PRESSURE };
	static const enum quantity qs[] = { QUANT_TEMPERATURE_C, QUANT_HUMIDITY_PCT,
					    QUANT_PRESSURE_KPA };
	double v;
	int r = wire_role_reading(w, roles[c], qs[c], wire_now(w), &v);

	if (r < 0)
		return r;
	if (!isfinite(v))   /* a `nan` fault: what no register could hold */
		return -EIO;
	switch (c) {
	case 0:   /* the compensated value is in 0.01 degC (-40..85 on the chip) */
		return snprintf(buf, size, "%ld", lround(fmin(8500, fmax(-4000, v * 100))) * 10);
	case 1: {   /* 1/1024 %, clamped to 0..100 % by the compensation */
		long h = lround(fmin(102400, fmax(0, v * 1024)));

		return snprintf(buf, size, "%ld", h * 1000 / 1024);
	}
	default: {  /* Pa in Q24.8 (an unsigned 32-bit value); kPa to 9 places */
		long long q = llround(fmin(4294967295.0, fmax(0, v * 1000 * 256)));
		long long n = q * 1000000000LL / 256000;

		return snprintf(buf, size, "%lld.%09lld", n / 1000000000LL, n % 1000000000LL);
	}
	}
}

static int max31865_raw(struct wire *w, char *buf, size_t size)
{
	double t;
	int r = wire_role_reading(w, ROLE_FLUID_TEMP, QUANT_TEMPERATURE_C, wire_now(w), &t);
	long code;

	if (r < 0)
		return r;
	if (!isfinite(t))
		return -EIO;
	code = lround(fmin(32767, fmax(0, pt100_ohm(t) / RTD_REF_OHM * 32768)));
	return snprintf(buf, size, "%ld", code);
}

int wire_conditions_read(struct wire *w, enum wire_dev k, const char *chn, const char *attr,
			 char *buf, size_t size)
{
	if (k == DEV_BME280) {
		int c = chn ? bme_channel(chn) : -1;

		if (c < 0)
			return -ENOENT;
		if (strcmp(attr, "oversampling_ratio") == 0)
			return snprintf(buf, size, "%d", w->bme_os[c]);
		if (strcmp(attr, "input") == 0)
			return bme280_input(w, c, buf, size);
		return -ENOENT;
	}
	if (!chn) {
		if (strcmp(attr, "fault_ovuv") == 0)
			return snprintf(buf, size, "0");
		if (strcmp(attr, "sampling_frequency_available") == 0)
			return snprintf(buf, size, "50 60");
		return -ENOENT;
	}
	if (strcmp(chn, "filter") == 0 && strcmp(attr, "notch_center_frequency") == 0)
		return snprintf(buf, size, "%d", w->max_notch_hz);
	if (strcmp(chn, "temp") == 0 && strcmp(attr, "scale") == 0)
		return snprintf(buf, size, "%s", MAX31865_SCALE);
	if (strcmp(chn, "temp") == 0 && strcmp(attr, "raw") == 0)
		return max31865_raw(w, buf, size);
	return -ENOENT;
}

/* A whole number as sysfs takes one (kstrtoint: a trailing newline allowed). */
static bool whole(const char *value, long *ret)
{
	char *end;

	*ret = strtol(value, &end, 10);
	return end != value && (!*end || strcmp(end, "\n") == 0);
}

int wire_conditions_write(struct wire *w, enum wire_dev k, const char *chn, const char *attr,
			  const char *value)
{
	long v;

	if (k == DEV_BME280 && chn && bme_channel(chn) >= 0 &&
	    strcmp(attr, "oversampling_ratio") == 0) {
		/* one of the chip's ratios, or the driver refuses (EINVAL) */
		if (!whole(value, &v) || (v != 1 && v != 2 && v != 4 && v != 8 && v != 16))
			return -EINVAL;
		w->bme_os[bme_channel(chn)] = (int)v;
		return 0;
	}
	if (k == DEV_MAX31865 && chn && strcmp(chn, "filter") == 0 &&
	    strcmp(attr, "notch_center_frequency") == 0) {
		if (!whole(value, &v) || (v != 50 && v != 60))
			return -EINVAL;
		w->max_notch_hz = (int)v;
		return 0;
	}
	return -EACCES;
}
