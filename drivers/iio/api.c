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
 * The measured conditions (fluid_temperature, air_temperature, humidity,
 * air_pressure) read a channel's processed value, its `input` attribute,
 * where the driver has one (the bmp280 driver's BME280: in_temp_input in
 * milli-degrees Celsius, in_humidityrelative_input in milli-percent,
 * in_pressure_input in kPa), and raw, offset and scale otherwise, in the
 * same units (the max31865 driver: in_temp_raw x in_temp_scale, 31.25
 * m°C a count, no offset: the driver does not linearise the RTD, so the
 * bench's calibration maps the converter's count/32 onto the temperature,
 * docs/wire-simulator.md).  Readings are in °C, % and kPa.  They are read
 * through attributes only: such a sensor has no buffer.
 *
 * Buffered capture (bench: capture = "buffer", or a period under 50 ms):
 * rig sets what paces the conversions, then enables the channels and the
 * timestamp, and every collection (`batch`) takes whatever the device has
 * converted since the last one:
 *   - the converter's rate, as its kernel driver takes it: the ADS1x15's
 *     per-channel sampling_frequency, one of its data rates (its
 *     sampling_frequency_available, shared by all its channels: a device
 *     attribute);
 *     the INA226's in_oversampling_ratio (its in_sampling_frequency is read
 *     only: a consequence of averaging and the integration times); nothing
 *     on the hx711 (its RATE pin fixes 10 or 80 per second); on any other
 *     driver its sampling_frequency, per channel, the device's, or shared
 *     (in_sampling_frequency, which libiio 0.24 presents as a channel
 *     "sampling" with an attribute "frequency");
 *   - for a driver whose buffer is triggered (hx711, ads1015: the kernel
 *     refuses to enable it without a trigger, EINVAL), the bench's
 *     `trigger`, its own sampling_frequency (an hrtimer's) at 1/period,
 *     since it is the trigger that paces the scans;
 *   - current_timestamp_clock "monotonic", unless a simulator in lockstep
 *     stamps the scans with rig's run time (bench.sim_clock).
 * Each of them is found and set, and read back, or the open fails and says
 * which; what rig changed is put back as it was when the last instrument
 * that needed it closes, and when the open fails half way.  Each reading
 * carries its scan's own timestamp, not the time the batch arrived.  A real
 * iiod answers a READBUF only when the whole buffer is full, so the buffer
 * holds one batch's worth of scans and the wait is at most about one period.
 *
 * Links: every operation on an ip: context is bounded by the answer timeout
 * (driver_env.answer_timeout_ns).  The instruments on one URI share what
 * they learn of it: once one of them has waited the bound out (a stopped
 * iiod keeps its port open and answers nothing), the others fail at once
 * with the same error instead of waiting their own turn, until each is
 * opened again, and an open within the bound of that silence fails at once
 * too.  So a silent board is reported within one bound, however many
 * instruments it carries. */
#define _GNU_SOURCE   /* strerrorname_np */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ------------------------------------------------- buffered capture -- */

static int chan_scale(struct instrument *inst, struct iioa_chan *ch, const char *channel,
		      double *scale, double *offset)
{
	long long t0 = iiob_mono_ms();
	int r = iiob_link_after(inst, iioa_chan_read_double(ch, "scale", scale), t0,
			   "reading %s %s scale", inst->cfg->device, channel);

	*offset = 0;
	if (r == 0 && iioa_chan_has_attr(ch, "offset")) {
		t0 = iiob_mono_ms();
		r = iiob_link_after(inst, iioa_chan_read_double(ch, "offset", offset), t0,
			       "reading %s %s offset", inst->cfg->device, channel);
	}
	return r;
}

/* The INA2xx shunt-voltage and current registers hold two's complement
 * (current flows both ways through a shunt), though the kernel driver
 * declares every ina2xx scan element unsigned. */
static bool twos_complement_field(struct iioa_ctx *ctx, const char *device, const char *channel)
{
	return strncmp(iioa_dev_name(ctx, device), "ina2", 4) == 0 &&
	       (strcmp(channel, "voltage0") == 0 || strncmp(channel, "current", 7) == 0);
}

/* What turns a channel's value in the IIO ABI's unit into the role's
 * primary quantity: a current in mA into uA; a temperature in milli-degrees
 * Celsius and a relative humidity in milli-percent into degC and %; the
 * others as they are (the ADC channels carry the bench's calibration to
 * g, mL/h and kPa; a pressure in kPa). */
static double role_unit(enum rig_role role)
{
	switch (role) {
	case ROLE_POWER: return 1000;
	case ROLE_FLUID_TEMP: case ROLE_AIR_TEMP: case ROLE_HUMIDITY: return 1e-3;
	default: return 1;
	}
}

bool iiob_name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

/* A rate as text the kernel takes and prints back the same: whole numbers
 * bare (the hrtimer trigger took whole hertz only, kstrtoul, until it
 * learned millihertz: a whole frequency goes as an integer so that either
 * kernel takes it). */

static int buffer_open(struct instrument *inst)
{
	const struct instrument_cfg *cfg = inst->cfg;
	struct instrument_pdata *p = inst->pdata;
	const char *chans[2] = { cfg->channel, cfg->channel2[0] ? cfg->channel2 : "voltage1" };
	size_t n = inst->role == ROLE_POWER ? 2 : 1, scans;
	double hz = 1e9 / (double)cfg->period_ns, scan_hz;
	rig_ns batch = cfg->batch_ns > cfg->period_ns ? cfg->batch_ns : cfg->period_ns;
	char period[32], value[32], purpose[96], t[32];
	long long t0;
	int r;

	snprintf(period, sizeof(period), "%g s", (double)cfg->period_ns / RIG_NS_PER_S);
	/* a READBUF waits up to a period for its last scan, and iiod gives
	 * its own reads half the client's timeout */
	if (2 * (double)cfg->period_ns >= p->timeout_ms * (double)RIG_NS_PER_MS)
		return iiob_fail(cfg, -ERANGE, "a buffered capture with a period of %s waits up to that "
			    "for each collection, too long for the answer timeout of %s (which must "
			    "be more than twice the period)", period,
			    iiob_seconds_text(p->timeout_ms, t, sizeof(t)));
	r = iiob_converter_rate(inst, hz, period, &scan_hz);
	if (r < 0)
		return r;
	/* hx711 and ads1015 take a scan only when their trigger fires: the
	 * trigger (bench: trigger = "NAME") ticks at the period, and is
	 * assigned before the buffer is enabled, which fails without one */
	if (cfg->trigger[0]) {
		struct iioa_attr a;

		if (!iioa_has_device(p->ctx, cfg->trigger))
			return iiob_fail(cfg, -ENXIO, "no IIO trigger \"%s\" at %s (an hrtimer trigger is "
				    "made with mkdir /sys/kernel/config/iio/triggers/hrtimer/%s; "
				    "iio_info -u %s lists the triggers there)", cfg->trigger, cfg->uri,
				    cfg->trigger, cfg->uri);
		if (iioa_attr_find(p->ctx, cfg->trigger, NULL, "sampling_frequency", &a) == 0) {
			iiob_rate_text(hz, value, sizeof(value));
			snprintf(purpose, sizeof(purpose), "(ticks per second) for a period of %s",
				 period);
			r = iiob_setting_apply(inst, cfg->trigger, NULL, "sampling_frequency", value,
					  purpose);
			if (r < 0)
				return r;
		}
		r = iiob_trigger_apply(inst, cfg->device, cfg->trigger);
		if (r < 0)
			return r;
	}
	p->ts_is_run_time = inst->env->bench && inst->env->bench->sim_clock_uri[0];
	if (!p->ts_is_run_time) {
		r = iiob_setting_apply(inst, cfg->device, NULL, "current_timestamp_clock", "monotonic",
				  "(scans stamped on the clock rig runs on)");
		if (r < 0)
			return r;
	}
	/* one batch of scans at the rate they come (the trigger's, or the
	 * converter's own: an INA226 at its nearest rate above the period's),
	 * and one more: a READBUF answers when it has them all, so each
	 * collection waits at most one scan and the record keeps up */
	if (cfg->trigger[0])
		scan_hz = hz;
	scans = (size_t)ceil((double)batch / RIG_NS_PER_S * scan_hz - 1e-6) + 1;
	scans = scans < 16 ? 16 : scans > 65536 ? 65536 : scans;
	for (size_t i = 0; i < n; i++)
		p->twos[i] = twos_complement_field(p->ctx, cfg->device, chans[i]);
	r = iiob_setting_keep(inst, cfg->device, "length");
	if (r < 0)
		return r;
	t0 = iiob_mono_ms();
	r = iioa_buf_open(p->ctx, cfg->device, chans, n, scans, &p->buf);
	if (r < 0)
		return iiob_link_after(inst, r, t0, "opening a buffer of %zu scans on %s (channel%s %s%s%s "
				  "and the timestamp) at %s", scans, cfg->device, n > 1 ? "s" : "",
				  chans[0], n > 1 ? ", " : "", n > 1 ? chans[1] : "", cfg->uri);
	if (!iioa_buf_has_timestamp(p->buf))
		return iiob_fail(cfg, -ENOTSUP, "IIO device \"%s\" has no timestamp channel: its "
			    "buffered samples would have no time of their own", cfg->device);
	p->pend_cap = 2 * scans;
	p->pend = calloc(p->pend_cap, sizeof(*p->pend));
	return p->pend ? 0 : iiob_fail(cfg, -ENOMEM, "%s", iiob_errno_text(-ENOMEM));
}

static void iio_close(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;
	bool reachable;

	if (!p)
		return;
	/* (the valve was set to its safe state by instrument_close) */
	reachable = iiob_link_alive(p);
	/* the buffer first: the kernel changes no trigger under an enabled one */
	iioa_buf_close(p->buf, !reachable);
	p->buf = NULL;
	iiob_settings_release(inst);
	free(p->pend);
	free(p->ch);
	free(p->volt);
	iioa_close(p->ctx);
	iiob_link_put(p->link);
	free(p);
	inst->pdata = NULL;
}

static int iio_open(struct instrument *inst)
{
	const struct instrument_cfg *cfg = inst->cfg;
	struct instrument_pdata *p = calloc(1, sizeof(*p));
	rig_ns bound = inst->env->answer_timeout_ns > 0 ? inst->env->answer_timeout_ns
						       : ANSWER_TIMEOUT_DEFAULT_NS;
	const char *chan2 = cfg->channel2[0] ? cfg->channel2 : "voltage1";
	bool local = strncmp(cfg->uri, "local:", 6) == 0 || !cfg->uri[0];
	double unused;
	char t[32];
	long long t0;
	int r;

	if (!p)
		return iiob_fail(cfg, -ENOMEM, "%s", iiob_errno_text(-ENOMEM));
	iiob_failure_clear(cfg);
	inst->pdata = p;
	p->timeout_ms = (unsigned)((bound + RIG_NS_PER_MS - 1) / RIG_NS_PER_MS);
	p->link = iiob_link_get(cfg->uri);
	if (p->link) {
		p->link->timeout_ms = p->timeout_ms;
		p->gen = p->link->gen;
	}
	/* a board found silent a moment ago is not asked again within the
	 * bound: instruments opened in turn do not each wait it out */
	if (p->link && p->link->down && p->link->err == -ETIMEDOUT &&
	    iiob_mono_ms() - p->link->since_ms < p->timeout_ms) {
		r = iiob_fail(cfg, -ETIMEDOUT, "%s", p->link->why);
		goto out;
	}
	t0 = iiob_mono_ms();
	r = iioa_open(cfg->uri, p->timeout_ms, &p->ctx);
	if (r == -ETIMEDOUT || (r == -EPIPE && iiob_mono_ms() - t0 >= p->timeout_ms * 9 / 10)) {
		iiob_link_down(p->link, -ETIMEDOUT, "no answer from %s within %s (connecting)", cfg->uri,
			  iiob_seconds_text(p->timeout_ms, t, sizeof(t)));
		r = iiob_fail(cfg, -ETIMEDOUT, "no answer from %s within %s (connecting)", cfg->uri,
			 iiob_seconds_text(p->timeout_ms, t, sizeof(t)));
		goto out;
	}
	if (local && r == -ENOENT)
		r = iiob_fail(cfg, r, "no IIO devices on this machine (/sys/bus/iio is missing: is the "
			 "driver for %s loaded, or its device-tree overlay applied?)", cfg->device);
	else if (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH ||
		 r == -ETIMEDOUT)
		r = iiob_fail(cfg, r, "no iiod answers at %s (%s: is iiod running on that board?)",
			 cfg->uri, iiob_errno_text(r));
	else if (r < 0)
		r = iiob_fail(cfg, r, "cannot open the IIO context %s: %s", local ? "local:" : cfg->uri,
			 iiob_errno_text(r));
	if (r < 0)
		goto out;
	if (p->link) {
		p->link->down = false;
		p->gen = p->link->gen;
	}
	if (!iioa_has_device(p->ctx, cfg->device)) {
		r = iiob_fail(cfg, -ENODEV, "no IIO device \"%s\" in %s (iio_info -u %s lists what is "
			 "there)", cfg->device, local ? "local:" : cfg->uri,
			 local ? "local:" : cfg->uri);
		goto out;
	}
	r = iioa_channel(p->ctx, cfg->device, cfg->channel, inst->role == ROLE_VALVE, &p->ch);
	if (r == -ENOENT)
		r = iiob_fail(cfg, r, "IIO device \"%s\" has no %s channel \"%s\" (channel; iio_attr -u %s "
			 "-c %s lists its channels)", cfg->device,
			 inst->role == ROLE_VALVE ? "output" : "input", cfg->channel,
			 local ? "local:" : cfg->uri, cfg->device);
	else if (r < 0)
		r = iiob_fail(cfg, r, "IIO device \"%s\" channel \"%s\": %s", cfg->device, cfg->channel,
			 iiob_errno_text(r));
	p->unit = role_unit(inst->role);
	if (r == 0 && role_is_condition(inst->role)) {
		p->processed = iioa_chan_has_attr(p->ch, "input");
		if (!p->processed && !iioa_chan_has_attr(p->ch, "raw"))
			r = iiob_fail(cfg, -ENOENT, "IIO device \"%s\" channel \"%s\" has neither an input "
				 "(processed) nor a raw attribute (iio_attr -u %s -c %s %s lists its "
				 "attributes)", cfg->device, cfg->channel, local ? "local:" : cfg->uri,
				 cfg->device, cfg->channel);
		else if (cfg->buffered)
			r = iiob_fail(cfg, -ENOTSUP, "%s on IIO device \"%s\" is read through its "
				 "attributes only, not through a buffer (capture = \"buffer\", or a period "
				 "under 50 ms, is for the ADC channels)", rig_role_name(inst->role),
				 cfg->device);
	}
	if (r == 0 && inst->role != ROLE_VALVE && !p->processed)
		r = chan_scale(inst, p->ch, cfg->channel, &p->scale, &p->offset);
	if (r == 0 && inst->role == ROLE_POWER) {
		r = iioa_channel(p->ctx, cfg->device, chan2, false, &p->volt);
		if (r == -ENOENT)
			r = iiob_fail(cfg, r, "IIO device \"%s\" has no input channel \"%s\" "
				 "(voltage_channel, the bus voltage; iio_attr -u %s -c %s lists its "
				 "channels)", cfg->device, chan2, local ? "local:" : cfg->uri,
				 cfg->device);
		else if (r < 0)
			r = iiob_fail(cfg, r, "IIO device \"%s\" channel \"%s\": %s", cfg->device, chan2,
				 iiob_errno_text(r));
		if (r == 0)
			r = chan_scale(inst, p->volt, chan2, &p->volt_scale, &unused);
	}
	if (r == 0 && inst->role == ROLE_VALVE) {
		t0 = iiob_mono_ms();
		r = iiob_link_after(inst, iioa_chan_write_long(p->ch, "raw", cfg->safe_closed
							  ? DAC_CLOSED_RAW : 0),
			       t0, "setting %s %s raw to its safe state", cfg->device, cfg->channel);
	}
	if (r == 0 && inst->role != ROLE_VALVE && cfg->buffered)
		r = buffer_open(inst);
out:
	if (r < 0) {
		/* what went wrong first is the account, not what closing met */
		struct failure saved = *iiob_failure_slot(cfg);

		iio_close(inst);
		*iiob_failure_slot(cfg) = saved;
	} else {
		iiob_failure_clear(cfg);
	}
	return r;
}

static int read_physical(struct instrument *inst, struct iioa_chan *ch, const char *channel,
			 double scale, double offset, double *ret)
{
	long long raw, t0 = iiob_mono_ms();
	int r = iiob_link_after(inst, iioa_chan_read_long(ch, "raw", &raw), t0, "reading %s %s raw",
			   inst->cfg->device, channel);

	if (r < 0)
		return r;
	*ret = ((double)raw + offset) * scale;
	return 0;
}

static double field_count(const struct instrument_pdata *p, const struct scan_format *f, size_t i,
			  const uint8_t *at)
{
	int64_t v = scan_value_extract(f, at);

	return (double)(p->twos[i] && !f->is_signed ? scan_twos_complement((uint64_t)v, f->real_bits)
						    : v);
}

/* Refills the buffer and turns every scan into readings, in the same units
 * and by the same scale as attribute reads. */
static int buffer_collect(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;
	size_t n_fields = inst->role == ROLE_POWER ? 2 : 1, scans, out = 0;
	long long t0 = iiob_mono_ms();
	int r = iiob_link_after(inst, iioa_buf_refill(p->buf, &scans), t0,
			   "collecting the buffer of %s", inst->cfg->device);

	p->pend_head = p->pend_n = 0;
	if (r < 0)
		return r;
	if (scans * n_fields > p->pend_cap)
		scans = p->pend_cap / n_fields;
	if (scans > 0) {
		/* where each field of the first scan lies, and the step between
		 * scans: asked once a refill */
		const struct scan_format *f[3];
		const uint8_t *at[3];
		ptrdiff_t step = iioa_buf_step(p->buf);
		enum quantity q = role_primary_quantity(inst->role);

		for (size_t i = 0; i <= n_fields; i++) {
			f[i] = iioa_buf_format(p->buf, i);
			at[i] = iioa_buf_first(p->buf, i);
		}
		for (size_t k = 0; k < scans; k++) {
			int64_t ts = scan_value_extract(f[n_fields], at[n_fields] + (ptrdiff_t)k * step);
			rig_ns t = p->ts_is_run_time ? ts
						     : rig_clock_from_monotonic(inst->env->clock, ts);
			double v = (field_count(p, f[0], 0, at[0] + (ptrdiff_t)k * step) + p->offset) *
				   p->scale;

			p->pend[out++] = (struct reading){ t, q, v * p->unit, 0 };
			if (inst->role == ROLE_POWER)   /* and the bus voltage, mV -> V */
				p->pend[out++] = (struct reading){ t, QUANT_VOLTAGE_V,
					field_count(p, f[1], 1, at[1] + (ptrdiff_t)k * step) *
					p->volt_scale / 1000, 0 };
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
	const struct instrument_cfg *cfg = inst->cfg;
	rig_ns t = rig_clock_now(inst->env->clock);
	double v;
	int r;

	*ret_n = 0;
	if (max < 2)
		return -EINVAL;
	r = iiob_link_check(inst);
	if (r < 0)
		return r;
	if (p->buf)
		return buffer_read(inst, ret, max, ret_n);
	if (p->processed) {
		long long t0 = iiob_mono_ms();

		r = iiob_link_after(inst, iioa_chan_read_double(p->ch, "input", &v), t0,
			       "reading %s %s input", cfg->device, cfg->channel);
	} else {
		r = read_physical(inst, p->ch, cfg->channel, p->scale, p->offset, &v);
	}
	if (r < 0)
		return r;
	if (!role_is_sensor(inst->role))
		return -ENOTSUP;
	ret[0] = (struct reading){ t, role_primary_quantity(inst->role), v * p->unit, 0 };
	*ret_n = 1;
	if (inst->role == ROLE_POWER) {   /* and the bus voltage, mV -> V */
		double mv;

		r = read_physical(inst, p->volt, cfg->channel2[0] ? cfg->channel2 : "voltage1",
				  p->volt_scale, 0, &mv);
		if (r < 0)
			return r;
		ret[1] = (struct reading){ t, QUANT_VOLTAGE_V, mv / 1000, 0 };
		*ret_n = 2;
	}
	return 0;
}

static int iio_set_closed(struct instrument *inst, bool closed)
{
	long long t0 = iiob_mono_ms();
	int r = iiob_link_check(inst);

	if (r < 0)
		return r;
	return iiob_link_after(inst, iioa_chan_write_long(inst->pdata->ch, "raw",
						     closed ? DAC_CLOSED_RAW : 0),
			  t0, "setting %s %s raw", inst->cfg->device, inst->cfg->channel);
}

static const struct sensor_ops iio_sensor = { .read = iio_read };
static const struct valve_ops iio_valve = { .set_closed = iio_set_closed };

const struct backend iio_backend = {
	.name = "iio",
	.roles = 1u << ROLE_SCALE | 1u << ROLE_FLOW | 1u << ROLE_PRESSURE | 1u << ROLE_POWER |
		 1u << ROLE_VALVE | 1u << ROLE_FLUID_TEMP | 1u << ROLE_AIR_TEMP | 1u << ROLE_HUMIDITY |
		 1u << ROLE_AIR_PRESSURE,
	.open = iio_open,
	.close = iio_close,
	.sensor = &iio_sensor,
	.valve = &iio_valve,
	.error_text = iiob_error_text,
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
	r = iioa_open(uri, SIM_CLOCK_TIMEOUT_MS, &l->ctx);
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

int sim_wire_serves_iio(const char *uri, rig_ns answer_timeout_ns)
{
	rig_ns bound = answer_timeout_ns > 0 ? answer_timeout_ns : ANSWER_TIMEOUT_DEFAULT_NS;
	struct iioa_ctx *ctx = NULL;
	int r = iioa_open(uri, (unsigned)((bound + RIG_NS_PER_MS - 1) / RIG_NS_PER_MS), &ctx);

	if (r < 0)
		return r;
	r = iioa_has_device(ctx, "pumprig-clock") ? 1 : 0;
	iioa_close(ctx);
	return r;
}
