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

#include "rig/base/bench.h"
#include "drivers/driver.h"
#include "adapter.h"
#include "scan.h"

#define ANSWER_TIMEOUT_DEFAULT_NS (3 * RIG_NS_PER_S)
#define SIM_CLOCK_TIMEOUT_MS 5000
#define DAC_CLOSED_RAW 4095
#define HELD_MAX 8
#define VALUE_MAX 128

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "No such file or directory (ENOENT)" */
static const char *errno_text(int err)
{
	static char buf[160];
	const char *name = strerrorname_np(err < 0 ? -err : err);

	snprintf(buf, sizeof(buf), "%s (%s)", strerror(err < 0 ? -err : err), name ? name : "?");
	return buf;
}

/* "1 s", "0.5 s" */
static const char *seconds_text(unsigned ms, char *buf, size_t size)
{
	snprintf(buf, size, "%g s", ms / 1000.0);
	return buf;
}

/* ------------------------------------------------- what went wrong -- */

/* The account of the last error each instrument's open or operation
 * returned, for instrument_error_text. */
#define FAILURES_MAX 32
static struct failure {
	const struct instrument_cfg *ic;
	int err;
	char text[512];
} failures[FAILURES_MAX];
static unsigned failures_next;

static struct failure *failure_slot(const struct instrument_cfg *ic)
{
	for (size_t i = 0; i < FAILURES_MAX; i++)
		if (failures[i].ic == ic)
			return &failures[i];
	for (size_t i = 0; i < FAILURES_MAX; i++)
		if (!failures[i].ic)
			return &failures[i];
	return &failures[failures_next++ % FAILURES_MAX];
}

/* Records err for ic with its account; returns err. */
__attribute__((format(printf, 3, 4)))
static int fail(const struct instrument_cfg *ic, int err, const char *fmt, ...)
{
	struct failure *f = failure_slot(ic);
	char text[sizeof(f->text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	f->ic = ic;
	f->err = err;
	memcpy(f->text, text, sizeof(text));
	return err;
}

static void failure_clear(const struct instrument_cfg *ic)
{
	for (size_t i = 0; i < FAILURES_MAX; i++)
		if (failures[i].ic == ic)
			failures[i] = (struct failure){ 0 };
}

static const char *iio_error_text(const struct instrument_cfg *ic, int err, char *buf,
				  size_t size)
{
	for (size_t i = 0; i < FAILURES_MAX; i++)
		if (failures[i].ic == ic && failures[i].err == err) {
			snprintf(buf, size, "%s", failures[i].text);
			return buf;
		}
	return NULL;
}

/* ---------------------------------------------------------- links -- */

/* What the instruments on one URI know of it. */
#define LINKS_MAX 16
static struct link {
	char uri[RIG_TEXT_MAX];
	unsigned refs;
	unsigned gen;           /* bumped each time the link is found down */
	bool down;
	int err;                /* -ETIMEDOUT: no answer; else the broken connection's */
	char why[256];
	long long since_ms;
	unsigned timeout_ms;
} links[LINKS_MAX];

static struct link *link_get(const char *uri)
{
	struct link *free_slot = NULL;

	if (strncmp(uri, "ip:", 3) != 0)
		return NULL;   /* local: no network between rig and the kernel */
	for (size_t i = 0; i < LINKS_MAX; i++) {
		if (strcmp(links[i].uri, uri) == 0) {
			links[i].refs++;
			return &links[i];
		}
		if (!free_slot && links[i].refs == 0)
			free_slot = &links[i];
	}
	if (!free_slot)
		return NULL;   /* more boards than that: each instrument on its own */
	*free_slot = (struct link){ .refs = 1 };
	snprintf(free_slot->uri, sizeof(free_slot->uri), "%s", uri);
	return free_slot;
}

static void link_put(struct link *l)
{
	if (l && l->refs > 0)
		l->refs--;
}

__attribute__((format(printf, 3, 4)))
static void link_down(struct link *l, int err, const char *fmt, ...)
{
	va_list ap;

	if (!l)
		return;
	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	l->err = err;
	l->down = true;
	l->since_ms = mono_ms();
	l->gen++;
}

/* ---------------------------------------------------- the instrument -- */

struct instrument_pdata {
	struct iioa_ctx *ctx;
	struct link *link;
	unsigned gen;            /* the link's generation when this one opened */
	unsigned timeout_ms;
	struct iioa_chan *ch, *volt;
	double scale, offset, volt_scale;
	/* buffered capture: the buffer, readings demultiplexed from its last
	 * refill and not yet handed over, and how raw counts are read */
	struct iioa_buf *buf;
	struct reading *pend;
	size_t pend_head, pend_n, pend_cap;
	bool twos[2];          /* field stored 'u' but filled in two's complement */
	bool ts_is_run_time;   /* timestamps already on rig's run time */
	/* the settings this instrument changed, or shares with another that
	 * changed them (indices into changes[]) */
	int held[HELD_MAX];
	size_t n_held;
};

/* 0 when the instrument's link has not been found down since it opened;
 * else the link's error (the instrument must be opened again). */
static int link_check(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;
	struct link *l = p->link;

	if (!l || l->gen == p->gen)
		return 0;
	return fail(inst->cfg, l->err, "%s", l->why);
}

/* The same, for a close: whether the board can still be told anything. */
static bool link_alive(const struct instrument_pdata *p)
{
	return p->ctx && (!p->link || p->link->gen == p->gen);
}

/* After one operation on the link that began at t0_ms and returned r: an
 * error that took the whole bound is the server not answering (libiio 0.24
 * says -EPIPE for a timeout and for a closed connection alike); one that
 * came at once on a broken connection is that.  Either way every
 * instrument on the link learns it.  Returns r, -ETIMEDOUT for no answer. */
__attribute__((format(printf, 4, 5)))
static int link_after(struct instrument *inst, int r, long long t0_ms, const char *fmt, ...)
{
	struct instrument_pdata *p = inst->pdata;
	const char *uri = inst->cfg->uri;
	long long took = mono_ms() - t0_ms;
	char doing[200], t[32];
	va_list ap;

	if (r >= 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(doing, sizeof(doing), fmt, ap);
	va_end(ap);
	if (p->link && (r == -EPIPE || r == -ETIMEDOUT || r == -EAGAIN) &&
	    took >= (long long)p->timeout_ms * 9 / 10) {
		link_down(p->link, -ETIMEDOUT, "no answer from %s within %s (%s)", uri,
			  seconds_text(p->timeout_ms, t, sizeof(t)), doing);
		return fail(inst->cfg, -ETIMEDOUT, "%s", p->link->why);
	}
	if (p->link && (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN)) {
		link_down(p->link, r, "the connection to %s broke (%s: %s)", uri, doing,
			  errno_text(r));
		return fail(inst->cfg, r, "%s", p->link->why);
	}
	return fail(inst->cfg, r, "%s: %s", doing, errno_text(r));
}

/* ------------------------------------------- settings rig changes -- */

/* Each IIO setting rig changed, with its value before, shared by the
 * instruments that need it (two pressure and flow channels of one ADS1115
 * on one trigger): put back when the last of them lets go. */
#define CHANGES_MAX 32
enum change_kind { CHANGE_ATTR, CHANGE_TRIGGER };
static struct change {
	unsigned refs;
	enum change_kind kind;
	char uri[RIG_TEXT_MAX];
	char dev_id[RIG_ID_MAX];      /* libiio's id: the key, whatever the bench calls it */
	char device[RIG_ID_MAX], channel[RIG_ID_MAX], name[64];   /* to find it again */
	char file[96];                /* for messages */
	char old[VALUE_MAX], now[VALUE_MAX];
} changes[CHANGES_MAX];

/* The same value as the kernel prints it back: "100" and "100.000000". */
static bool same_value(const char *a, const char *b)
{
	char *ea, *eb;
	double x = strtod(a, &ea), y = strtod(b, &eb);

	if (ea != a && eb != b && !*ea && !*eb)
		return fabs(x - y) <= 1e-9 * fmax(1, fabs(x));
	return strcmp(a, b) == 0;
}

static struct change *change_find(enum change_kind kind, const char *uri, const char *dev_id,
				  const char *file)
{
	for (size_t i = 0; i < CHANGES_MAX; i++) {
		struct change *c = &changes[i];

		if (c->refs && c->kind == kind && strcmp(c->uri, uri) == 0 &&
		    strcmp(c->dev_id, dev_id) == 0 && strcmp(c->file, file) == 0)
			return c;
	}
	return NULL;
}

static int hold(struct instrument *inst, struct change *c)
{
	struct instrument_pdata *p = inst->pdata;

	if (p->n_held == HELD_MAX)
		return fail(inst->cfg, -ENOSPC, "more than %d IIO settings for one instrument",
			    HELD_MAX);
	c->refs++;
	p->held[p->n_held++] = (int)(c - changes);
	return 0;
}

static struct change *change_new(void)
{
	for (size_t i = 0; i < CHANGES_MAX; i++)
		if (changes[i].refs == 0) {
			changes[i] = (struct change){ 0 };
			return &changes[i];
		}
	return NULL;
}

/* Sets attribute `name` of `device` (channel: where a per-channel one is
 * looked for first) to value, reads it back, and records the value it had;
 * `purpose` says why rig needs it, for the refusal. */
static int setting_apply(struct instrument *inst, const char *device, const char *channel,
			 const char *name, const char *value, const char *purpose)
{
	struct instrument_pdata *p = inst->pdata;
	const struct instrument_cfg *ic = inst->cfg;
	const char *id = iioa_dev_id(p->ctx, device);
	char old[VALUE_MAX], back[VALUE_MAX];
	struct iioa_attr a;
	struct change *c;
	long long t0;
	int r = iioa_attr_find(p->ctx, device, channel, name, &a);

	if (r == -ENOENT)
		return fail(ic, -ENOENT, "IIO device \"%s\" at %s has no %s%s%s (looked for the "
			    "channel's, the device's, and in_%s shared by its channels): rig sets it "
			    "to %s %s, and will not run without it (iio_attr -u %s -c %s lists what "
			    "it has)", device, ic->uri, name, channel ? " for channel " : "",
			    channel ? channel : "", name, value, purpose, ic->uri, device);
	if (r < 0)
		return fail(ic, r, "IIO device \"%s\" at %s: %s", device, ic->uri, errno_text(r));
	c = change_find(CHANGE_ATTR, ic->uri, id, a.file);
	if (c) {
		if (!same_value(c->now, value))
			return fail(ic, -EBUSY, "%s %s is set to %s for another instrument of this "
				    "bench; this one needs %s %s: they cannot share it", device,
				    a.file, c->now, value, purpose);
		return hold(inst, c);
	}
	t0 = mono_ms();
	r = link_after(inst, iioa_attr_read(&a, old, sizeof(old)), t0, "reading %s %s", device,
		       a.file);
	if (r < 0)
		return r;
	if (same_value(old, value))
		return 0;   /* as rig needs it already: nothing to put back */
	c = change_new();
	if (!c)
		return fail(ic, -ENOSPC, "more than %d IIO settings changed at once", CHANGES_MAX);
	t0 = mono_ms();
	r = link_after(inst, iioa_attr_write(&a, value), t0, "setting %s %s to %s (%s)", device,
		       a.file, value, purpose);
	if (r < 0)
		return r;
	t0 = mono_ms();
	r = link_after(inst, iioa_attr_read(&a, back, sizeof(back)), t0, "reading %s %s back",
		       device, a.file);
	if (r >= 0 && !same_value(back, value)) {
		t0 = mono_ms();
		(void)link_after(inst, iioa_attr_write(&a, old), t0, "putting %s %s back", device,
				 a.file);
		return fail(ic, -EIO, "IIO device \"%s\": %s reads %s after rig set it to %s %s: "
			    "the driver did not take it", device, a.file, back, value, purpose);
	}
	if (r < 0) {
		t0 = mono_ms();
		(void)link_after(inst, iioa_attr_write(&a, old), t0, "putting %s %s back", device,
				 a.file);
		return r;
	}
	c->kind = CHANGE_ATTR;
	snprintf(c->uri, sizeof(c->uri), "%s", ic->uri);
	snprintf(c->dev_id, sizeof(c->dev_id), "%s", id);
	snprintf(c->device, sizeof(c->device), "%s", device);
	snprintf(c->channel, sizeof(c->channel), "%s", channel ? channel : "");
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->file, sizeof(c->file), "%s", a.file);
	snprintf(c->old, sizeof(c->old), "%s", old);
	snprintf(c->now, sizeof(c->now), "%s", value);
	return hold(inst, c);
}

/* Assigns `trigger` to `device`, recording the trigger it had. */
static int trigger_apply(struct instrument *inst, const char *device, const char *trigger)
{
	struct instrument_pdata *p = inst->pdata;
	const struct instrument_cfg *ic = inst->cfg;
	const char *id = iioa_dev_id(p->ctx, device);
	char old[VALUE_MAX], back[VALUE_MAX];
	struct change *c = change_find(CHANGE_TRIGGER, ic->uri, id, "trigger/current_trigger");
	long long t0;
	int r;

	if (c) {
		if (strcmp(c->now, trigger) != 0)
			return fail(ic, -EBUSY, "IIO device \"%s\" is paced by trigger \"%s\" for "
				    "another instrument of this bench; this one names \"%s\"", device,
				    c->now, trigger);
		return hold(inst, c);
	}
	t0 = mono_ms();
	r = iioa_dev_trigger(p->ctx, device, old, sizeof(old));
	if (r == -ENOENT)
		return fail(ic, -ENOENT, "IIO device \"%s\" takes no trigger (it has no "
			    "trigger/current_trigger: its driver paces its own buffer): remove "
			    "trigger = \"%s\" from the bench", device, trigger);
	r = link_after(inst, r, t0, "reading the trigger of %s", device);
	if (r < 0)
		return r;
	if (strcmp(old, trigger) == 0 || strcmp(old, iioa_dev_id(p->ctx, trigger)) == 0)
		return 0;
	c = change_new();
	if (!c)
		return fail(ic, -ENOSPC, "more than %d IIO settings changed at once", CHANGES_MAX);
	t0 = mono_ms();
	r = link_after(inst, iioa_dev_trigger_set(p->ctx, device, trigger), t0,
		       "assigning trigger \"%s\" to %s", trigger, device);
	if (r < 0)
		return r;
	t0 = mono_ms();
	r = link_after(inst, iioa_dev_trigger(p->ctx, device, back, sizeof(back)), t0,
		       "reading the trigger of %s back", device);
	if (r < 0)
		return r;
	if (strcmp(back, trigger) != 0 && strcmp(back, iioa_dev_id(p->ctx, trigger)) != 0) {
		(void)iioa_dev_trigger_set(p->ctx, device, old);
		return fail(ic, -EIO, "IIO device \"%s\" has trigger \"%s\" after rig assigned "
			    "\"%s\"", device, back, trigger);
	}
	c->kind = CHANGE_TRIGGER;
	snprintf(c->uri, sizeof(c->uri), "%s", ic->uri);
	snprintf(c->dev_id, sizeof(c->dev_id), "%s", id);
	snprintf(c->device, sizeof(c->device), "%s", device);
	snprintf(c->file, sizeof(c->file), "trigger/current_trigger");
	snprintf(c->old, sizeof(c->old), "%s", old);
	snprintf(c->now, sizeof(c->now), "%s", trigger);
	return hold(inst, c);
}

/* Lets go of the instrument's settings, newest first; the last instrument
 * to let go of one puts its old value back (unless the link is down: then
 * nothing can be said to the board). */
static void settings_release(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;
	bool reachable = link_alive(p);

	while (p->n_held > 0) {
		struct change *c = &changes[p->held[--p->n_held]];
		struct iioa_attr a;
		long long t0 = mono_ms();

		if (--c->refs > 0)
			continue;
		if (reachable && c->kind == CHANGE_TRIGGER)
			(void)link_after(inst, iioa_dev_trigger_set(p->ctx, c->device, c->old), t0,
					 "putting the trigger of %s back", c->device);
		else if (reachable &&
			 iioa_attr_find(p->ctx, c->device, c->channel[0] ? c->channel : NULL, c->name,
					&a) == 0)
			(void)link_after(inst, iioa_attr_write(&a, c->old), t0, "putting %s %s back",
					 c->device, c->file);
		reachable = reachable && link_alive(p);
		*c = (struct change){ 0 };
	}
}

/* ------------------------------------------------- buffered capture -- */

static int chan_scale(struct instrument *inst, struct iioa_chan *ch, const char *channel,
		      double *scale, double *offset)
{
	long long t0 = mono_ms();
	int r = link_after(inst, iioa_chan_read_double(ch, "scale", scale), t0,
			   "reading %s %s scale", inst->cfg->device, channel);

	*offset = 0;
	if (r == 0 && iioa_chan_has_attr(ch, "offset")) {
		t0 = mono_ms();
		r = link_after(inst, iioa_chan_read_double(ch, "offset", offset), t0,
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

static bool name_in(const char *name, const char *const *list)
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
static void rate_text(double hz, char *buf, size_t size)
{
	if (hz == floor(hz))
		snprintf(buf, size, "%.0f", hz);
	else
		snprintf(buf, size, "%.3f", hz);
}

/* The slowest rate of a list ("8 16 32 ... 860") at least hz, so that each
 * trigger tick finds a fresh conversion; -ERANGE when even the fastest is
 * slower. */
static int choose_rate(const char *list, double hz, double *ret, double *fastest)
{
	double best = INFINITY;
	const char *p;
	char *end;

	*fastest = 0;
	for (p = list;; p = end) {
		double v = strtod(p, &end);

		if (end == p)
			break;
		*fastest = fmax(*fastest, v);
		/* a rate within a part per million of hz is hz */
		if (v >= hz * (1 - 1e-6) && v < best)
			best = v;
	}
	if (!isfinite(best))
		return -ERANGE;
	*ret = best;
	return 0;
}

static const char *const ina226_family[] = { "ina226", "ina230", "ina231", NULL };
static const char *const ina219_family[] = { "ina219", "ina220", NULL };

/* A time in seconds read from an attribute ("0.001100"). */
static int read_seconds(struct instrument *inst, const char *channel, const char *name,
			double *ret)
{
	const struct instrument_cfg *ic = inst->cfg;
	struct iioa_attr a;
	char text[VALUE_MAX], *end;
	long long t0 = mono_ms();
	int r = iioa_attr_find(inst->pdata->ctx, ic->device, channel, name, &a);

	if (r == -ENOENT)
		return fail(ic, -ENOENT, "IIO device \"%s\" at %s has no %s for channel %s: rig "
			    "needs it to work out the rate it converts at", ic->device, ic->uri,
			    name, channel);
	if (r == 0)
		r = link_after(inst, iioa_attr_read(&a, text, sizeof(text)), t0, "reading %s %s",
			       ic->device, a.file);
	if (r < 0)
		return r;
	*ret = strtod(text, &end);
	if (end == text || !(*ret > 0))
		return fail(ic, -EPROTO, "IIO device \"%s\": %s reads \"%s\", not a time", ic->device,
			    a.file, text);
	return 0;
}

/* The INA226's rate is a consequence (its driver refuses to write
 * in_sampling_frequency, EINVAL): 1 / ((shunt + bus integration time) x
 * averaging).  rig sets the most averaging (in_oversampling_ratio) that
 * still converts at least hz. */
static int ina226_rate(struct instrument *inst, double hz, const char *period, double *scan_hz)
{
	static const int avg[] = { 1, 4, 16, 64, 128, 256, 512, 1024 };
	const struct instrument_cfg *ic = inst->cfg;
	double t_shunt, t_bus;
	char value[16], purpose[160];
	int best = 0, r;

	r = read_seconds(inst, "voltage0", "integration_time", &t_shunt);
	if (r == 0)
		r = read_seconds(inst, "voltage1", "integration_time", &t_bus);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(avg) / sizeof(avg[0]); i++)
		if (1 / ((t_shunt + t_bus) * avg[i]) >= hz * (1 - 1e-6))
			best = avg[i];
	if (!best)
		return fail(ic, -ERANGE, "%s converts at most %.0f times per second with its "
			    "integration times (%g s shunt + %g s bus, no averaging): slower than a "
			    "period of %s asks; a longer period, or shorter integration times "
			    "(in_voltage0_integration_time, in_voltage1_integration_time)",
			    ic->device, 1 / (t_shunt + t_bus), t_shunt, t_bus, period);
	*scan_hz = 1 / ((t_shunt + t_bus) * best);
	snprintf(value, sizeof(value), "%d", best);
	snprintf(purpose, sizeof(purpose), "(%.4g conversions per second: its rate, "
		 "in_sampling_frequency, is read only) for a period of %s", *scan_hz, period);
	return setting_apply(inst, ic->device, NULL, "oversampling_ratio", value, purpose);
}

/* What paces the converter itself, as its kernel driver takes it (see the
 * top of this file); *scan_hz: the rate its scans will come at, when it
 * paces its own buffer (no trigger). */
static int converter_rate(struct instrument *inst, double hz, const char *period,
			  double *scan_hz)
{
	struct instrument_pdata *p = inst->pdata;
	const struct instrument_cfg *ic = inst->cfg;
	const char *drv = iioa_dev_name(p->ctx, ic->device);
	char list[256], value[32], purpose[160];
	struct iioa_attr a;
	double rate = hz, fastest;
	long long t0;
	int r;

	*scan_hz = hz;
	if (strcmp(drv, "hx711") == 0)
		return 0;   /* no rate of its own: its RATE pin; the trigger paces it */
	if (name_in(drv, ina226_family))
		return ina226_rate(inst, hz, period, scan_hz);
	if (name_in(drv, ina219_family)) {
		/* no averaging in the driver: its rate is what its integration
		 * times make it, read only */
		if (iioa_attr_find(p->ctx, ic->device, NULL, "sampling_frequency", &a) < 0)
			return fail(ic, -ENOENT, "IIO device \"%s\" at %s has no in_sampling_frequency",
				    ic->device, ic->uri);
		t0 = mono_ms();
		r = link_after(inst, iioa_attr_read(&a, value, sizeof(value)), t0, "reading %s %s",
			       ic->device, a.file);
		if (r < 0)
			return r;
		*scan_hz = strtod(value, NULL);
		if (*scan_hz < hz * (1 - 1e-6))
			return fail(ic, -ERANGE, "%s converts %s times per second (%s, set by its "
				    "integration times): slower than a period of %s asks", ic->device,
				    value, a.file, period);
		return 0;
	}
	/* one of the rates it lists, where it lists them (the ADS1x15: its
	 * driver refuses any other, EINVAL) */
	if (iioa_attr_find(p->ctx, ic->device, ic->channel, "sampling_frequency_available", &a) ==
	    0) {
		t0 = mono_ms();
		r = link_after(inst, iioa_attr_read(&a, list, sizeof(list)), t0, "reading %s %s",
			       ic->device, a.file);
		if (r < 0)
			return r;
		if (choose_rate(list, hz, &rate, &fastest) < 0)
			return fail(ic, -ERANGE, "%s/%s converts at most %g times per second (its %s "
				    "lists every rate it has: %s): slower than a period of %s asks; "
				    "a longer period, or a faster converter", ic->device, ic->channel,
				    fastest, a.file, list, period);
	}
	rate_text(rate, value, sizeof(value));
	snprintf(purpose, sizeof(purpose), "(conversions per second) for a period of %s", period);
	*scan_hz = rate;
	return setting_apply(inst, ic->device, ic->channel, "sampling_frequency", value, purpose);
}

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
		return fail(cfg, -ERANGE, "a buffered capture with a period of %s waits up to that "
			    "for each collection, too long for the answer timeout of %s (which must "
			    "be more than twice the period)", period,
			    seconds_text(p->timeout_ms, t, sizeof(t)));
	r = converter_rate(inst, hz, period, &scan_hz);
	if (r < 0)
		return r;
	/* hx711 and ads1015 take a scan only when their trigger fires: the
	 * trigger (bench: trigger = "NAME") ticks at the period, and is
	 * assigned before the buffer is enabled, which fails without one */
	if (cfg->trigger[0]) {
		struct iioa_attr a;

		if (!iioa_has_device(p->ctx, cfg->trigger))
			return fail(cfg, -ENXIO, "no IIO trigger \"%s\" at %s (an hrtimer trigger is "
				    "made with mkdir /sys/kernel/config/iio/triggers/hrtimer/%s; "
				    "iio_info -u %s lists the triggers there)", cfg->trigger, cfg->uri,
				    cfg->trigger, cfg->uri);
		if (iioa_attr_find(p->ctx, cfg->trigger, NULL, "sampling_frequency", &a) == 0) {
			rate_text(hz, value, sizeof(value));
			snprintf(purpose, sizeof(purpose), "(ticks per second) for a period of %s",
				 period);
			r = setting_apply(inst, cfg->trigger, NULL, "sampling_frequency", value,
					  purpose);
			if (r < 0)
				return r;
		}
		r = trigger_apply(inst, cfg->device, cfg->trigger);
		if (r < 0)
			return r;
	}
	p->ts_is_run_time = inst->env->bench && inst->env->bench->sim_clock_uri[0];
	if (!p->ts_is_run_time) {
		r = setting_apply(inst, cfg->device, NULL, "current_timestamp_clock", "monotonic",
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
	t0 = mono_ms();
	r = iioa_buf_open(p->ctx, cfg->device, chans, n, scans, &p->buf);
	if (r < 0)
		return link_after(inst, r, t0, "opening a buffer of %zu scans on %s (channel%s %s%s%s "
				  "and the timestamp) at %s", scans, cfg->device, n > 1 ? "s" : "",
				  chans[0], n > 1 ? ", " : "", n > 1 ? chans[1] : "", cfg->uri);
	if (!iioa_buf_has_timestamp(p->buf))
		return fail(cfg, -ENOTSUP, "IIO device \"%s\" has no timestamp channel: its "
			    "buffered samples would have no time of their own", cfg->device);
	p->pend_cap = 2 * scans;
	p->pend = calloc(p->pend_cap, sizeof(*p->pend));
	return p->pend ? 0 : fail(cfg, -ENOMEM, "%s", errno_text(-ENOMEM));
}

static void iio_close(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;
	bool reachable;

	if (!p)
		return;
	reachable = link_alive(p);
	/* Leave the valve at its declared safe state. */
	if (inst->role == ROLE_VALVE && p->ch && reachable) {
		long long t0 = mono_ms();

		(void)link_after(inst, iioa_chan_write_long(p->ch, "raw", inst->cfg->safe_closed
									 ? DAC_CLOSED_RAW : 0),
				 t0, "setting %s %s raw to its safe state", inst->cfg->device,
				 inst->cfg->channel);
		reachable = link_alive(p);
	}
	/* the buffer first: the kernel changes no trigger under an enabled one */
	iioa_buf_close(p->buf, !reachable);
	p->buf = NULL;
	settings_release(inst);
	free(p->pend);
	free(p->ch);
	free(p->volt);
	iioa_close(p->ctx);
	link_put(p->link);
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
		return fail(cfg, -ENOMEM, "%s", errno_text(-ENOMEM));
	failure_clear(cfg);
	inst->pdata = p;
	p->timeout_ms = (unsigned)((bound + RIG_NS_PER_MS - 1) / RIG_NS_PER_MS);
	p->link = link_get(cfg->uri);
	if (p->link) {
		p->link->timeout_ms = p->timeout_ms;
		p->gen = p->link->gen;
	}
	/* a board found silent a moment ago is not asked again within the
	 * bound: instruments opened in turn do not each wait it out */
	if (p->link && p->link->down && p->link->err == -ETIMEDOUT &&
	    mono_ms() - p->link->since_ms < p->timeout_ms) {
		r = fail(cfg, -ETIMEDOUT, "%s", p->link->why);
		goto out;
	}
	t0 = mono_ms();
	r = iioa_open(cfg->uri, p->timeout_ms, &p->ctx);
	if (r == -ETIMEDOUT || (r == -EPIPE && mono_ms() - t0 >= p->timeout_ms * 9 / 10)) {
		link_down(p->link, -ETIMEDOUT, "no answer from %s within %s (connecting)", cfg->uri,
			  seconds_text(p->timeout_ms, t, sizeof(t)));
		r = fail(cfg, -ETIMEDOUT, "no answer from %s within %s (connecting)", cfg->uri,
			 seconds_text(p->timeout_ms, t, sizeof(t)));
		goto out;
	}
	if (local && r == -ENOENT)
		r = fail(cfg, r, "no IIO devices on this machine (/sys/bus/iio is missing: is the "
			 "driver for %s loaded, or its device-tree overlay applied?)", cfg->device);
	else if (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH ||
		 r == -ETIMEDOUT)
		r = fail(cfg, r, "no iiod answers at %s (%s: is iiod running on that board?)",
			 cfg->uri, errno_text(r));
	else if (r < 0)
		r = fail(cfg, r, "cannot open the IIO context %s: %s", local ? "local:" : cfg->uri,
			 errno_text(r));
	if (r < 0)
		goto out;
	if (p->link) {
		p->link->down = false;
		p->gen = p->link->gen;
	}
	if (!iioa_has_device(p->ctx, cfg->device)) {
		r = fail(cfg, -ENODEV, "no IIO device \"%s\" in %s (iio_info -u %s lists what is "
			 "there)", cfg->device, local ? "local:" : cfg->uri,
			 local ? "local:" : cfg->uri);
		goto out;
	}
	r = iioa_channel(p->ctx, cfg->device, cfg->channel, inst->role == ROLE_VALVE, &p->ch);
	if (r == -ENOENT)
		r = fail(cfg, r, "IIO device \"%s\" has no %s channel \"%s\" (channel; iio_attr -u %s "
			 "-c %s lists its channels)", cfg->device,
			 inst->role == ROLE_VALVE ? "output" : "input", cfg->channel,
			 local ? "local:" : cfg->uri, cfg->device);
	else if (r < 0)
		r = fail(cfg, r, "IIO device \"%s\" channel \"%s\": %s", cfg->device, cfg->channel,
			 errno_text(r));
	if (r == 0 && inst->role != ROLE_VALVE)
		r = chan_scale(inst, p->ch, cfg->channel, &p->scale, &p->offset);
	if (r == 0 && inst->role == ROLE_POWER) {
		r = iioa_channel(p->ctx, cfg->device, chan2, false, &p->volt);
		if (r == -ENOENT)
			r = fail(cfg, r, "IIO device \"%s\" has no input channel \"%s\" "
				 "(voltage_channel, the bus voltage; iio_attr -u %s -c %s lists its "
				 "channels)", cfg->device, chan2, local ? "local:" : cfg->uri,
				 cfg->device);
		else if (r < 0)
			r = fail(cfg, r, "IIO device \"%s\" channel \"%s\": %s", cfg->device, chan2,
				 errno_text(r));
		if (r == 0)
			r = chan_scale(inst, p->volt, chan2, &p->volt_scale, &unused);
	}
	if (r == 0 && inst->role == ROLE_VALVE) {
		t0 = mono_ms();
		r = link_after(inst, iioa_chan_write_long(p->ch, "raw", cfg->safe_closed
							  ? DAC_CLOSED_RAW : 0),
			       t0, "setting %s %s raw to its safe state", cfg->device, cfg->channel);
	}
	if (r == 0 && inst->role != ROLE_VALVE && cfg->buffered)
		r = buffer_open(inst);
out:
	if (r < 0) {
		/* what went wrong first is the account, not what closing met */
		struct failure saved = *failure_slot(cfg);

		iio_close(inst);
		*failure_slot(cfg) = saved;
	} else {
		failure_clear(cfg);
	}
	return r;
}

static int read_physical(struct instrument *inst, struct iioa_chan *ch, const char *channel,
			 double scale, double offset, double *ret)
{
	long long raw, t0 = mono_ms();
	int r = link_after(inst, iioa_chan_read_long(ch, "raw", &raw), t0, "reading %s %s raw",
			   inst->cfg->device, channel);

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
	long long t0 = mono_ms();
	int r = link_after(inst, iioa_buf_refill(p->buf, &scans), t0,
			   "collecting the buffer of %s", inst->cfg->device);

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
	const struct instrument_cfg *cfg = inst->cfg;
	rig_ns t = rig_clock_now(inst->env->clock);
	double v;
	int r;

	*ret_n = 0;
	if (max < 2)
		return -EINVAL;
	r = link_check(inst);
	if (r < 0)
		return r;
	if (p->buf)
		return buffer_read(inst, ret, max, ret_n);
	r = read_physical(inst, p->ch, cfg->channel, p->scale, p->offset, &v);
	if (r < 0)
		return r;
	switch (inst->role) {
	case ROLE_SCALE: ret[0] = (struct reading){ t, QUANT_MASS_G, v, 0 }; break;
	case ROLE_FLOW: ret[0] = (struct reading){ t, QUANT_FLOW_ML_PER_H, v, 0 }; break;
	case ROLE_PRESSURE: ret[0] = (struct reading){ t, QUANT_PRESSURE_KPA, v, 0 }; break;
	case ROLE_POWER: {
		double mv;

		ret[0] = (struct reading){ t, QUANT_CURRENT_UA, v * 1000, 0 };   /* mA -> uA */
		r = read_physical(inst, p->volt, cfg->channel2[0] ? cfg->channel2 : "voltage1",
				  p->volt_scale, 0, &mv);
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
	long long t0 = mono_ms();
	int r = link_check(inst);

	if (r < 0)
		return r;
	return link_after(inst, iioa_chan_write_long(inst->pdata->ch, "raw",
						     closed ? DAC_CLOSED_RAW : 0),
			  t0, "setting %s %s raw", inst->cfg->device, inst->cfg->channel);
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
	.error_text = iio_error_text,
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
