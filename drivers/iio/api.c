/* The "iio" backend: sensors on Linux IIO ADCs and the occlusion valve on an
 * IIO DAC, through libiio (adapter.c), locally ("local:") or from a board
 * running iiod ("ip:HOST").
 *
 * A sensor reads its channel's `raw` attribute and turns it into the
 * channel's physical unit with the kernel's `scale` (and `offset` where the
 * driver has one): voltages in mV, currents in mA.  The bench file's
 * calibration then maps that onto the role's quantity (grams per mV for a
 * load cell, kPa per mV for a pressure transducer, mL/h per mV for an analog
 * flow sensor); a power monitor reports its current channel in uA and its bus
 * voltage channel (`voltage_channel`, default "voltage1") in V.  The load
 * cell has no tare of its own: the scale role tares in software
 * (instrument.c).  The valve's DAC is written full scale to close and 0 to
 * open. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../rig/clock.h"
#include "../driver.h"
#include "adapter.h"

#define IIO_TIMEOUT_MS 5000
#define DAC_CLOSED_RAW 4095

struct instrument_pdata {
	struct iioa_ctx *ctx;
	struct iioa_chan *ch, *volt;
	double scale, offset, volt_scale;
};

static int chan_scale(struct iioa_chan *ch, double *scale, double *offset)
{
	int r = iioa_chan_read_double(ch, "scale", scale);

	if (r < 0)
		return r;
	*offset = 0;
	if (iioa_chan_has_attr(ch, "offset"))
		return iioa_chan_read_double(ch, "offset", offset);
	return 0;
}

static void iio_close(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;

	if (!p)
		return;
	/* Leave the valve at its declared safe state. */
	if (inst->role == ROLE_VALVE && p->ch)
		(void)iioa_chan_write_long(p->ch, "raw",
					   inst->cfg->safe_closed ? DAC_CLOSED_RAW : 0);
	free(p->ch);
	free(p->volt);
	iioa_close(p->ctx);
	free(p);
	inst->pdata = NULL;
}

static int iio_open(struct instrument *inst)
{
	const struct instrument_cfg *cfg = inst->cfg;
	struct instrument_pdata *p = calloc(1, sizeof(*p));
	double unused;
	int r;

	if (!p)
		return -ENOMEM;
	inst->pdata = p;
	r = iioa_open(cfg->uri, IIO_TIMEOUT_MS, &p->ctx);
	if (r == 0)
		r = iioa_channel(p->ctx, cfg->device, cfg->channel, inst->role == ROLE_VALVE, &p->ch);
	if (r == 0 && inst->role != ROLE_VALVE)
		r = chan_scale(p->ch, &p->scale, &p->offset);
	if (r == 0 && inst->role == ROLE_POWER) {
		r = iioa_channel(p->ctx, cfg->device,
				 cfg->channel2[0] ? cfg->channel2 : "voltage1", false, &p->volt);
		if (r == 0)
			r = chan_scale(p->volt, &p->volt_scale, &unused);
	}
	if (r == 0 && inst->role == ROLE_VALVE)
		r = iioa_chan_write_long(p->ch, "raw", cfg->safe_closed ? DAC_CLOSED_RAW : 0);
	if (r < 0)
		iio_close(inst);
	return r;
}

static int read_physical(struct iioa_chan *ch, double scale, double offset, double *ret)
{
	long long raw;
	int r = iioa_chan_read_long(ch, "raw", &raw);

	if (r < 0)
		return r;
	*ret = ((double)raw + offset) * scale;
	return 0;
}

static int iio_read(struct instrument *inst, struct reading *ret, size_t max, size_t *ret_n)
{
	struct instrument_pdata *p = inst->pdata;
	rig_ns t = rig_clock_now(inst->env->clock);
	double v;
	int r;

	*ret_n = 0;
	if (max < 2)
		return -EINVAL;
	r = read_physical(p->ch, p->scale, p->offset, &v);
	if (r < 0)
		return r;
	switch (inst->role) {
	case ROLE_SCALE: ret[0] = (struct reading){ t, QUANT_MASS_G, v, 0 }; break;
	case ROLE_FLOW: ret[0] = (struct reading){ t, QUANT_FLOW_ML_PER_H, v, 0 }; break;
	case ROLE_PRESSURE: ret[0] = (struct reading){ t, QUANT_PRESSURE_KPA, v, 0 }; break;
	case ROLE_POWER: {
		double mv;

		ret[0] = (struct reading){ t, QUANT_CURRENT_UA, v * 1000, 0 };   /* mA -> uA */
		r = read_physical(p->volt, p->volt_scale, 0, &mv);
		if (r < 0)
			return r;
		ret[1] = (struct reading){ t, QUANT_VOLTAGE_V, mv / 1000, 0 };
		*ret_n = 2;
		return 0;
	}
	default:
		return -ENOTSUP;
	}
	*ret_n = 1;
	return 0;
}

static int iio_set_closed(struct instrument *inst, bool closed)
{
	return iioa_chan_write_long(inst->pdata->ch, "raw", closed ? DAC_CLOSED_RAW : 0);
}

static const struct sensor_ops iio_sensor = { .read = iio_read };
static const struct valve_ops iio_valve = { .set_closed = iio_set_closed };

const struct backend iio_backend = {
	.name = "iio",
	.roles = 1u << ROLE_SCALE | 1u << ROLE_FLOW | 1u << ROLE_PRESSURE | 1u << ROLE_POWER |
		 1u << ROLE_VALVE,
	.open = iio_open,
	.close = iio_close,
	.sensor = &iio_sensor,
	.valve = &iio_valve,
};

/* ------------------------------------------------------ time in lockstep -- */

struct sim_clock_link {
	struct iioa_ctx *ctx;
};

int sim_clock_link_open(const char *uri, struct sim_clock_link **ret)
{
	struct sim_clock_link *l = calloc(1, sizeof(*l));
	char buf[64];
	int r;

	*ret = NULL;
	if (!l)
		return -ENOMEM;
	r = iioa_open(uri, IIO_TIMEOUT_MS, &l->ctx);
	if (r == 0)
		r = iioa_dev_read(l->ctx, "pumprig-clock", "time_ns", buf, sizeof(buf));
	if (r < 0) {
		iioa_close(l->ctx);
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

int sim_clock_link_set(struct sim_clock_link *l, rig_ns t_ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)t_ns);
	return iioa_dev_write(l->ctx, "pumprig-clock", "time_ns", buf);
}

void sim_clock_link_close(struct sim_clock_link *l)
{
	if (!l)
		return;
	iioa_close(l->ctx);
	free(l);
}
