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
 * open.
 *
 * Buffered capture (bench: capture = "buffer", or a period under 50 ms): the
 * device's sampling_frequency is set to 1/period (device attribute, or the
 * channel's where the driver has it per channel, as the ADS1x15); a driver
 * whose buffer is triggered (hx711, ads1015: the kernel refuses to enable it
 * without a trigger, EINVAL) is given the bench's `trigger`, whose own
 * sampling_frequency (an hrtimer's) is set to 1/period too, since it is the
 * trigger that paces the scans; the INA2xx paces itself and takes none.  Its
 * channels and timestamp are enabled, and every collection (`batch`) takes
 * whatever the device has converted since the last one.  Each reading carries
 * its scan's own timestamp, not the time the batch arrived: with a simulator
 * in lockstep (bench.sim_clock) the timestamp is the simulated time, which is
 * rig's run time; otherwise the kernel's CLOCK_MONOTONIC stamp
 * (current_timestamp_clock set to "monotonic" where the driver offers it),
 * turned into run time, which holds for local: contexts and the wire
 * simulator in real time on this host.  A real iiod answers a READBUF only
 * when the whole buffer is full, so the buffer holds one batch's worth of
 * scans and the wait is at most about one period. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rig/base/bench.h"
#include "drivers/driver.h"
#include "adapter.h"
#include "scan.h"

#define IIO_TIMEOUT_MS 5000
#define DAC_CLOSED_RAW 4095

struct instrument_pdata {
	struct iioa_ctx *ctx;
	struct iioa_chan *ch, *volt;
	double scale, offset, volt_scale;
	/* buffered capture: the buffer, readings demultiplexed from its last
	 * refill and not yet handed over, and how raw counts are read */
	struct iioa_buf *buf;
	struct reading *pend;
	size_t pend_head, pend_n, pend_cap;
	bool twos[2];          /* field stored 'u' but filled in two's complement */
	bool ts_is_run_time;   /* timestamps already on rig's run time */
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

/* The INA2xx shunt-voltage and current registers hold two's complement
 * (current flows both ways through a shunt), though the kernel driver
 * declares every ina2xx scan element unsigned. */
static bool twos_complement_field(struct iioa_ctx *ctx, const char *device, const char *channel)
{
	return strncmp(iioa_dev_name(ctx, device), "ina2", 4) == 0 &&
	       (strcmp(channel, "voltage0") == 0 || strncmp(channel, "current", 7) == 0);
}

/* A converter that runs at a fixed set of rates (the ADS1x15's data rates,
 * listed in its sampling_frequency_available) takes only one of them: the
 * kernel driver refuses any other with EINVAL.  The slowest that is at least
 * hz, so that each trigger tick finds a fresh conversion; -ERANGE when even
 * the fastest is slower than the period asks.  A channel without the list
 * takes hz itself. */
static int choose_rate(struct iioa_chan *ch, double hz, double *ret)
{
	char list[256], *p, *end;
	double best = INFINITY;

	*ret = hz;
	if (!iioa_chan_has_attr(ch, "sampling_frequency_available") ||
	    iioa_chan_read_text(ch, "sampling_frequency_available", list, sizeof(list)) <= 0)
		return 0;
	for (p = list;; p = end) {
		double v = strtod(p, &end);

		if (end == p)
			break;
		/* a rate within a part per million of hz is hz */
		if (v >= hz * (1 - 1e-6) && v < best)
			best = v;
	}
	if (!isfinite(best))
		return -ERANGE;
	*ret = best;
	return 0;
}

static int buffer_open(struct instrument *inst)
{
	const struct instrument_cfg *cfg = inst->cfg;
	struct instrument_pdata *p = inst->pdata;
	const char *chans[2] = { cfg->channel, cfg->channel2[0] ? cfg->channel2 : "voltage1" };
	size_t n = inst->role == ROLE_POWER ? 2 : 1, scans;
	double hz = 1e9 / (double)cfg->period_ns;
	rig_ns batch = cfg->batch_ns > cfg->period_ns ? cfg->batch_ns : cfg->period_ns;
	int r;

	/* the sampling frequency is the device's (shared by its channels);
	 * a driver with none converts at its own fixed rate */
	if (iioa_dev_has_attr(p->ctx, cfg->device, "sampling_frequency")) {
		char text[32];

		snprintf(text, sizeof(text), "%.6f", hz);
		r = iioa_dev_write(p->ctx, cfg->device, "sampling_frequency", text);
	} else if (iioa_chan_has_attr(p->ch, "sampling_frequency")) {
		double rate;

		r = choose_rate(p->ch, hz, &rate);
		if (r == 0)
			r = iioa_chan_write_double(p->ch, "sampling_frequency", rate);
	} else {
		r = 0;
	}
	if (r < 0)
		return r;
	/* hx711 and ads1015 take a scan only when their trigger fires: the
	 * trigger (bench: trigger = "NAME") ticks at the period, and is
	 * assigned before the buffer is enabled, which fails without one */
	if (cfg->trigger[0]) {
		r = iioa_dev_set_trigger(p->ctx, cfg->device, cfg->trigger, hz);
		if (r < 0)
			return r;
	}
	p->ts_is_run_time = inst->env->bench && inst->env->bench->sim_clock_uri[0];
	if (!p->ts_is_run_time && iioa_dev_has_attr(p->ctx, cfg->device, "current_timestamp_clock"))
		(void)iioa_dev_write(p->ctx, cfg->device, "current_timestamp_clock", "monotonic");
	/* one batch of scans, and room for a late collection */
	scans = (size_t)(batch / cfg->period_ns) + 1;
	scans = scans < 16 ? 16 : scans > 65536 ? 65536 : scans;
	for (size_t i = 0; i < n; i++)
		p->twos[i] = twos_complement_field(p->ctx, cfg->device, chans[i]);
	r = iioa_buf_open(p->ctx, cfg->device, chans, n, scans, &p->buf);
	if (r < 0)
		return r;
	if (!iioa_buf_has_timestamp(p->buf))
		return -ENOTSUP;   /* no time for its samples but the arrival's */
	p->pend_cap = 2 * scans;
	p->pend = calloc(p->pend_cap, sizeof(*p->pend));
	return p->pend ? 0 : -ENOMEM;
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
	iioa_buf_close(p->buf);
	free(p->pend);
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
	if (r == 0 && inst->role != ROLE_VALVE && cfg->buffered)
		r = buffer_open(inst);
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

static double field_count(struct instrument_pdata *p, size_t k, size_t i)
{
	const struct scan_format *f = iioa_buf_format(p->buf, i);
	int64_t v = scan_value_extract(f, iioa_buf_field(p->buf, k, i));

	return (double)(p->twos[i] && !f->is_signed ? scan_twos_complement((uint64_t)v, f->real_bits)
						    : v);
}

/* Refills the buffer and turns every scan into readings, in the same units
 * and by the same scale as attribute reads. */
static int buffer_collect(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;
	size_t n_fields = inst->role == ROLE_POWER ? 2 : 1, scans, out = 0;
	int r = iioa_buf_refill(p->buf, &scans);

	p->pend_head = p->pend_n = 0;
	if (r < 0)
		return r;
	if (scans * n_fields > p->pend_cap)
		scans = p->pend_cap / n_fields;
	for (size_t k = 0; k < scans; k++) {
		int64_t ts = scan_value_extract(iioa_buf_format(p->buf, n_fields),
						iioa_buf_field(p->buf, k, n_fields));
		rig_ns t = p->ts_is_run_time ? ts : rig_clock_from_monotonic(inst->env->clock, ts);
		double v = (field_count(p, k, 0) + p->offset) * p->scale;

		switch (inst->role) {
		case ROLE_SCALE: p->pend[out++] = (struct reading){ t, QUANT_MASS_G, v, 0 }; break;
		case ROLE_FLOW: p->pend[out++] = (struct reading){ t, QUANT_FLOW_ML_PER_H, v, 0 }; break;
		case ROLE_PRESSURE:
			p->pend[out++] = (struct reading){ t, QUANT_PRESSURE_KPA, v, 0 };
			break;
		case ROLE_POWER:
			p->pend[out++] = (struct reading){ t, QUANT_CURRENT_UA, v * 1000, 0 };
			p->pend[out++] = (struct reading){ t, QUANT_VOLTAGE_V,
							   field_count(p, k, 1) * p->volt_scale / 1000, 0 };
			break;
		default:
			return -ENOTSUP;
		}
	}
	p->pend_n = out;
	return 0;
}

/* Hands over the readings of the last refill, refilling when none are left;
 * several calls drain one refill when `max` is small. */
static int buffer_read(struct instrument *inst, struct reading *ret, size_t max, size_t *ret_n)
{
	struct instrument_pdata *p = inst->pdata;
	size_t n;

	if (p->pend_head == p->pend_n) {
		int r = buffer_collect(inst);

		if (r < 0)
			return r;
	}
	n = p->pend_n - p->pend_head;
	if (n > max)
		n = max - max % (inst->role == ROLE_POWER ? 2 : 1);
	memcpy(ret, p->pend + p->pend_head, n * sizeof(*ret));
	p->pend_head += n;
	*ret_n = n;
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
	if (p->buf)
		return buffer_read(inst, ret, max, ret_n);
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
