/* Role-checked wrappers over the backends' operation tables.  The engine calls
 * only these; an operation a backend does not provide answers -ENOTSUP. */
#define _GNU_SOURCE   /* vasprintf */
#include "driver.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether inst's backend has that operation. */
#define OP(inst, table, op) ((inst) && (inst)->backend->table && (inst)->backend->table->op)

int instrument_open(struct instrument **ret, enum rig_role role, struct driver_env *env)
{
	const struct instrument_cfg *cfg = &env->bench->instrument[role];
	const struct backend *be;
	struct instrument *inst;
	int r;

	*ret = NULL;
	be = backend_find(cfg->backend);
	if (!be)
		return -ENOENT;
	if (!(be->roles & (1u << role)))
		return -ENOTSUP;
	inst = calloc(1, sizeof(*inst));
	if (!inst)
		return -ENOMEM;
	inst->role = role;
	inst->backend = be;
	inst->cfg = cfg;
	inst->env = env;
	if (be->open) {
		r = be->open(inst);
		if (r < 0) {
			free(inst);
			return r;
		}
	}
	*ret = inst;
	return 0;
}

int output_open(struct instrument **ret, const struct output_cfg *cfg, struct driver_env *env)
{
	const struct backend *be = backend_find(cfg->line.backend);
	struct instrument *inst;
	int r;

	*ret = NULL;
	if (!be)
		return -ENOENT;
	if (!be->outputs || !be->valve || !be->valve->set_closed)
		return -ENOTSUP;
	inst = calloc(1, sizeof(*inst));
	if (!inst)
		return -ENOMEM;
	inst->role = ROLE_VALVE;   /* the nearest kind: a digital output */
	inst->is_output = true;
	inst->backend = be;
	inst->cfg = &cfg->line;
	inst->env = env;
	if (be->open && (r = be->open(inst)) < 0) {
		free(inst);
		return r;
	}
	*ret = inst;
	return 0;
}

int output_set(struct instrument *inst, bool on)
{
	return inst && inst->is_output ? inst->backend->valve->set_closed(inst, on) : -ENOTSUP;
}

/* Before any backend lets go of its hardware, the pump is stopped and the
 * valve and every output line set to their declared safe states, the same
 * way for every backend; what cannot be done is said (driver_env.warn,
 * with instrument_error_text's why), never dropped.  The engine has made
 * the bench safe before it closes (safe.c); this is the last word, also for
 * rig probe and safe, and for a close after a failed open of another
 * instrument. */
void instrument_close(struct instrument *inst)
{
	const char *what = NULL, *state = NULL;
	int r = 0;

	if (!inst)
		return;
	if (inst->is_output && OP(inst, valve, set_closed)) {
		what = "output", state = inst->cfg->safe_closed ? "on" : "off";
		r = output_set(inst, inst->cfg->safe_closed);
	} else if (inst->role == ROLE_VALVE && OP(inst, valve, set_closed)) {
		what = "valve", state = inst->cfg->safe_closed ? "closed" : "open";
		r = valve_set_closed(inst, inst->cfg->safe_closed);
	} else if (inst->role == ROLE_PUMP && OP(inst, pump, stop)) {
		what = "pump", state = "stopped";
		r = pump_stop(inst);
	}
	if (r < 0) {
		char why[512];

		instrument_warn(inst, "the %s not left %s on closing: %s", what, state,
				instrument_error_text(inst->cfg, r, why, sizeof(why)));
	}
	if (inst->backend->close)
		inst->backend->close(inst);
	free(inst);
}

void instrument_warn(struct instrument *inst, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	int n;

	if (!inst || !inst->env || !inst->env->warn)
		return;
	/* whole: a settings warning runs to about 900 bytes, its cause last,
	 * and a cut inside a UTF-8 character would lose the run's event */
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	inst->env->warn(inst->env->warn_arg, inst->cfg, n >= 0 ? text : "(out of memory)");
	free(text);
}

const char *instrument_error_text(const struct instrument_cfg *ic, int err, char *buf,
				  size_t size)
{
	const char *b = ic->backend;
	bool serial = strcmp(b, "pumplink") == 0 || strcmp(b, "mtsics") == 0;
	bool local = strncmp(ic->uri, "local:", 6) == 0 || !ic->uri[0];
	const char *uri = local ? "local:" : ic->uri;
	const struct backend *be = backend_find(b);

	if (be && be->error_text && be->error_text(ic, err, buf, size))
		return buf;
	if (strcmp(b, "gpiod") == 0 && err == -ENODEV)
		snprintf(buf, size, "no GPIO chip \"%s\" on this machine (ls /dev/gpiochip*; "
			 "gpiodetect)", ic->device);
	else if (strcmp(b, "gpiod") == 0 && err == -ENOENT)
		snprintf(buf, size, "GPIO chip \"%s\" has no line \"%s\" (gpioinfo %s)", ic->device,
			 ic->channel, ic->device);
	else if (serial && (err == -ENOENT || err == -ENODEV))
		snprintf(buf, size, "no serial port %s (is the adapter plugged in? ls /dev/serial/by-id)",
			 ic->device);
	else if (serial && err == -EACCES)
		snprintf(buf, size, "may not open %s (%s; add the user to group dialout)", ic->device,
			 strerror(-err));
	/* libiio's local backend fails with ENOENT when the kernel has no IIO
	 * bus at all: no driver loaded, or no IIO support */
	else if (strcmp(b, "iio") == 0 && local && err == -ENOENT)
		snprintf(buf, size, "no IIO devices on this machine (/sys/bus/iio is missing: is the "
			 "driver for %s loaded, or its device-tree overlay applied?)", ic->device);
	else if (strcmp(b, "iio") == 0 && err == -ENODEV)
		snprintf(buf, size, "no IIO device \"%s\" in %s (iio_info -u %s lists what is there)",
			 ic->device, uri, uri);
	else if (strcmp(b, "iio") == 0 && err == -ENOENT)
		snprintf(buf, size, "IIO device \"%s\" has no channel \"%s\" (iio_attr -u %s -c %s)",
			 ic->device, ic->channel, uri, ic->device);
	else if (strcmp(b, "iio") == 0 && err == -ERANGE)
		snprintf(buf, size, "%s/%s cannot convert as fast as its period asks (its "
			 "sampling_frequency_available lists every rate it has): a longer period, "
			 "or a faster converter", ic->device, ic->channel);
	else if (strcmp(b, "iio") == 0 && (err == -ECONNREFUSED || err == -EHOSTUNREACH ||
					   err == -ETIMEDOUT))
		snprintf(buf, size, "no iiod answers at %s (%s: is iiod running on that board?)",
			 ic->uri, strerror(-err));
	else
		snprintf(buf, size, "%s", strerror(-err));
	return buf;
}


int pump_set_rate(struct instrument *inst, double rate_ml_per_h)
{
	return OP(inst, pump, set_rate) ? inst->backend->pump->set_rate(inst, rate_ml_per_h) : -ENOTSUP;
}

int pump_reconnect(struct instrument *inst)
{
	return OP(inst, pump, reconnect) ? inst->backend->pump->reconnect(inst) : -ENOTSUP;
}

int pump_identify(struct instrument *inst, struct pump_identity *ret)
{
	return OP(inst, pump, identify) ? inst->backend->pump->identify(inst, ret) : -ENOTSUP;
}

int pump_bolus(struct instrument *inst, double volume_ml, double rate_ml_per_h,
	       enum bolus_demand demand)
{
	return OP(inst, pump, bolus) ? inst->backend->pump->bolus(inst, volume_ml, rate_ml_per_h, demand)
				     : -ENOTSUP;
}

int pump_refill(struct instrument *inst, double volume_ml)
{
	return OP(inst, pump, refill) ? inst->backend->pump->refill(inst, volume_ml) : -ENOTSUP;
}

int pump_stop(struct instrument *inst)
{
	return OP(inst, pump, stop) ? inst->backend->pump->stop(inst) : -ENOTSUP;
}

int pump_status(struct instrument *inst, struct pump_status *ret)
{
	return OP(inst, pump, status) ? inst->backend->pump->status(inst, ret) : -ENOTSUP;
}

int sensor_read(struct instrument *inst, struct reading *ret, size_t max, size_t *ret_n)
{
	int r;

	*ret_n = 0;
	if (!OP(inst, sensor, read))
		return -ENOTSUP;
	r = inst->backend->sensor->read(inst, ret, max, ret_n);
	if (r < 0)
		return r;
	/* The bench file's calibration maps the instrument's primary quantity
	 * onto the reference: value = gain * raw + offset. */
	/* A buffered batch holds many readings of it (the first reading's
	 * quantity): every one is calibrated, not just the first. */
	for (size_t i = 0; i < *ret_n; i++) {
		if (ret[i].quantity != ret[0].quantity)
			continue;
		ret[i].value = inst->cfg->cal.gain * ret[i].value + inst->cfg->cal.offset;
		if (inst->soft_tared)
			ret[i].value -= inst->soft_tare;
	}
	return 0;
}

int sensor_tare(struct instrument *inst)
{
	struct reading rd[READINGS_MAX];
	size_t n = 0;
	int r;

	if (OP(inst, sensor, tare))
		return inst->backend->sensor->tare(inst);
	if (inst->role != ROLE_SCALE)
		return -ENOTSUP;
	/* A load cell ADC has no tare: take the present reading as zero. */
	inst->soft_tared = false;
	r = sensor_read(inst, rd, READINGS_MAX, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENODATA;
	inst->soft_tare = rd[0].value;
	inst->soft_tared = true;
	return 0;
}

int sensor_read_settled(struct instrument *inst, bool zero, struct reading *ret)
{
	int r;

	if (!OP(inst, sensor, read_settled))
		return -ENOTSUP;
	r = inst->backend->sensor->read_settled(inst, zero, ret);
	if (r < 0)
		return r;
	ret->value = inst->cfg->cal.gain * ret->value + inst->cfg->cal.offset;
	if (inst->soft_tared)
		ret->value -= inst->soft_tare;
	return 0;
}

int valve_set_closed(struct instrument *inst, bool closed)
{
	return OP(inst, valve, set_closed) ? inst->backend->valve->set_closed(inst, closed) : -ENOTSUP;
}

int input_level(struct instrument *inst, bool *ret_active)
{
	return OP(inst, input, level) ? inst->backend->input->level(inst, ret_active) : -ENOTSUP;
}

int input_next_edge(struct instrument *inst, struct edge *ret)
{
	return OP(inst, input, next_edge) ? inst->backend->input->next_edge(inst, ret) : -ENOTSUP;
}
