/* The iio backend: the IIO settings rig changes, each found, set, read back
 * and put back when the last instrument needing it closes; and the rates a
 * converter is asked for (api.c says which for each driver). */
#define _GNU_SOURCE   /* strerrorname_np */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ------------------------------------------- settings rig changes -- */

/* Each IIO setting rig changed, with its value before, shared by the
 * instruments that need it (two pressure and flow channels of one ADS1115
 * on one trigger): put back when the last of them lets go. */
#define CHANGES_MAX 32
/* CHANGE_BUFFER: an attribute of the device's buffer/ that libiio changes
 * on rig's behalf (its length), put back all the same. */
enum change_kind { CHANGE_ATTR, CHANGE_TRIGGER, CHANGE_BUFFER };
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

int iiob_hold(struct instrument *inst, struct change *c)
{
	struct instrument_pdata *p = inst->pdata;

	if (p->n_held == HELD_MAX)
		return iiob_fail(inst->cfg, -ENOSPC, "more than %d IIO settings for one instrument",
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

/* The kernel will not change a device's trigger, timestamp clock or
 * buffer length while its buffer is enabled (EBUSY).  Locally the buffer is
 * disabled by the time libiio's iio_buffer_destroy returns; through iiod
 * 0.24 it is not: iiod answers the client's CLOSE as soon as it has taken
 * the client off the device's list, and its own R/W thread disables and
 * frees the kernel buffer afterwards, in its own time.  A write refused with
 * EBUSY is asked again every RESTORE_RETRY_MS until the answer bound has
 * passed. */
#define RESTORE_RETRY_MS 5

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int change_attr(struct instrument_pdata *p, const struct change *c, struct iioa_attr *a)
{
	return c->kind == CHANGE_BUFFER ? iioa_buf_attr_find(p->ctx, c->device, c->name, a)
		: iioa_attr_find(p->ctx, c->device, c->channel[0] ? c->channel : NULL, c->name, a);
}

static int change_write(struct instrument_pdata *p, const struct change *c, const char *value)
{
	struct iioa_attr a;
	int r;

	if (c->kind == CHANGE_TRIGGER)
		return iioa_dev_trigger_set(p->ctx, c->device, value);
	r = change_attr(p, c, &a);
	return r < 0 ? r : iioa_attr_write(&a, value);
}

static int change_read(struct instrument_pdata *p, const struct change *c, char *buf, size_t size)
{
	struct iioa_attr a;
	int r;

	if (c->kind == CHANGE_TRIGGER)
		return iioa_dev_trigger(p->ctx, c->device, buf, size);
	r = change_attr(p, c, &a);
	return r < 0 ? r : iioa_attr_read(&a, buf, size);
}

/* The deadline for asking a refused write again: the whole answer timeout
 * from now.  iiob_mono_ms truncates, so the millisecond already begun is
 * not counted in it. */
static long long restore_deadline(const struct instrument_pdata *p)
{
	return iiob_mono_ms() + 1 + p->timeout_ms;
}

/* Puts c's old value back and reads it back: 0, -EIO when the device
 * reads otherwise (back: what it reads), or the write's -errno; a write
 * refused with EBUSY is asked again until deadline (CLOCK_MONOTONIC ms). */
static int change_restore(struct instrument *inst, const struct change *c, long long deadline,
			  char *back, size_t size)
{
	struct instrument_pdata *p = inst->pdata;
	long long t0;
	int r;

	for (;;) {
		t0 = iiob_mono_ms();
		r = change_write(p, c, c->old);
		if (r != -EBUSY || t0 >= deadline)
			break;
		pause_ms(RESTORE_RETRY_MS);
	}
	r = iiob_link_after(inst, r, t0, "putting %s %s back", c->device, c->file);
	if (r < 0)
		return r;
	t0 = iiob_mono_ms();
	r = iiob_link_after(inst, change_read(p, c, back, size), t0, "reading %s %s back", c->device,
			    c->file);
	if (r < 0)
		return r;
	if (c->kind == CHANGE_TRIGGER ? strcmp(back, c->old) != 0 : !same_value(back, c->old))
		return -EIO;
	return 0;
}

/* Puts c back, or says (instrument_warn) why it stays as rig left it:
 * never silently.  reachable: whether the board can still be told;
 * deadline: until when a write the kernel refuses as busy is asked again
 * (one answer bound for all the settings of one close). */
static void change_put_back(struct instrument *inst, const struct change *c, bool reachable,
			    long long deadline)
{
	const struct instrument_cfg *ic = inst->cfg;
	char back[VALUE_MAX] = "", t[32];
	int r = reachable ? change_restore(inst, c, deadline, back, sizeof(back)) : -ENOTCONN;

	if (r == 0)
		return;
	if (!reachable)
		instrument_warn(inst, "IIO device \"%s\" at %s: %s not put back to \"%s\" (rig had set "
				"\"%s\"): the link is down, nothing can be said to the board", c->device,
				ic->uri, c->file, c->old, c->now);
	else if (r == -EIO)
		instrument_warn(inst, "IIO device \"%s\" at %s: %s not put back to \"%s\" (rig had set "
				"\"%s\"): it reads \"%s\" after rig wrote it", c->device, ic->uri,
				c->file, c->old, c->now, back);
	else if (r == -EBUSY)
		instrument_warn(inst, "IIO device \"%s\" at %s: %s not put back to \"%s\" (rig had set "
				"\"%s\"): the kernel still refused it after %s (%s: its buffer still "
				"enabled, by another client?)", c->device, ic->uri, c->file, c->old,
				c->now, iiob_seconds_text(inst->pdata->timeout_ms, t, sizeof(t)),
				iiob_errno_text(r));
	else
		instrument_warn(inst, "IIO device \"%s\" at %s: %s not put back to \"%s\" (rig had set "
				"\"%s\"): %s", c->device, ic->uri, c->file, c->old, c->now,
				iiob_errno_text(r));
}

/* The errors of a write the driver itself turned down (its write_raw
 * refused the value, or the attribute is read only), as opposed to a
 * link that failed on the way. */
static bool write_refused(int r)
{
	return r == -EINVAL || r == -EACCES || r == -EPERM;
}

/* Sets attribute `name` of `device` (channel: where a per-channel one is
 * looked for first) to value, reads it back, and records the value it had;
 * `purpose` says why rig needs it, for the refusal.  *ret_refused (when
 * not NULL) says whether a failure was the driver refusing the write. */
static int setting_apply(struct instrument *inst, const char *device, const char *channel,
			 const char *name, const char *value, const char *purpose, bool *ret_refused)
{
	struct instrument_pdata *p = inst->pdata;
	const struct instrument_cfg *ic = inst->cfg;
	const char *id = iioa_dev_id(p->ctx, device);
	char old[VALUE_MAX], back[VALUE_MAX];
	struct iioa_attr a;
	struct change *c;
	long long t0;
	int r = iioa_attr_find(p->ctx, device, channel, name, &a);

	if (ret_refused)
		*ret_refused = false;
	if (r == -ENOENT)
		return iiob_fail(ic, -ENOENT, "IIO device \"%s\" at %s has no %s%s%s (looked for the "
			    "channel's, the device's, and in_%s shared by its channels): rig sets it "
			    "to %s %s, and will not run without it (iio_attr -u %s -c %s lists what "
			    "it has)", device, ic->uri, name, channel ? " for channel " : "",
			    channel ? channel : "", name, value, purpose, ic->uri, device);
	if (r < 0)
		return iiob_fail(ic, r, "IIO device \"%s\" at %s: %s", device, ic->uri, iiob_errno_text(r));
	c = change_find(CHANGE_ATTR, ic->uri, id, a.file);
	if (c) {
		if (!same_value(c->now, value))
			return iiob_fail(ic, -EBUSY, "%s %s is set to %s for another instrument of this "
				    "bench; this one needs %s %s: they cannot share it", device,
				    a.file, c->now, value, purpose);
		return iiob_hold(inst, c);
	}
	t0 = iiob_mono_ms();
	r = iiob_link_after(inst, iioa_attr_read(&a, old, sizeof(old)), t0, "reading %s %s", device,
		       a.file);
	if (r < 0)
		return r;
	if (same_value(old, value))
		return 0;   /* as rig needs it already: nothing to put back */
	c = change_new();
	if (!c)
		return iiob_fail(ic, -ENOSPC, "more than %d IIO settings changed at once", CHANGES_MAX);
	c->kind = CHANGE_ATTR;
	snprintf(c->uri, sizeof(c->uri), "%s", ic->uri);
	snprintf(c->dev_id, sizeof(c->dev_id), "%s", id);
	snprintf(c->device, sizeof(c->device), "%s", device);
	snprintf(c->channel, sizeof(c->channel), "%s", channel ? channel : "");
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->file, sizeof(c->file), "%s", a.file);
	snprintf(c->old, sizeof(c->old), "%s", old);
	snprintf(c->now, sizeof(c->now), "%s", value);
	t0 = iiob_mono_ms();
	r = iioa_attr_write(&a, value);
	if (ret_refused)
		*ret_refused = write_refused(r);
	r = iiob_link_after(inst, r, t0, "setting %s %s to %s (%s)", device, a.file, value, purpose);
	if (r < 0) {
		*c = (struct change){ 0 };
		return r;
	}
	t0 = iiob_mono_ms();
	r = iiob_link_after(inst, iioa_attr_read(&a, back, sizeof(back)), t0, "reading %s %s back",
		       device, a.file);
	if (r >= 0 && !same_value(back, value))
		r = iiob_fail(ic, -EIO, "IIO device \"%s\": %s reads %s after rig set it to %s %s: "
			      "the driver did not take it", device, a.file, back, value, purpose);
	if (r < 0) {
		/* what went wrong first is the account, not what putting back met */
		struct failure saved = *iiob_failure_slot(ic);

		change_put_back(inst, c, iiob_link_alive(p), restore_deadline(p));
		*iiob_failure_slot(ic) = saved;
		*c = (struct change){ 0 };
		return r;
	}
	return iiob_hold(inst, c);
}

int iiob_setting_apply(struct instrument *inst, const char *device, const char *channel,
		       const char *name, const char *value, const char *purpose)
{
	return setting_apply(inst, device, channel, name, value, purpose, NULL);
}

/* Assigns `trigger` to `device`, recording the trigger it had. */
int iiob_trigger_apply(struct instrument *inst, const char *device, const char *trigger)
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
			return iiob_fail(ic, -EBUSY, "IIO device \"%s\" is paced by trigger \"%s\" for "
				    "another instrument of this bench; this one names \"%s\"", device,
				    c->now, trigger);
		return iiob_hold(inst, c);
	}
	t0 = iiob_mono_ms();
	r = iioa_dev_trigger(p->ctx, device, old, sizeof(old));
	if (r == -ENOENT)
		return iiob_fail(ic, -ENOENT, "IIO device \"%s\" takes no trigger (it has no "
			    "trigger/current_trigger: its driver paces its own buffer): remove "
			    "trigger = \"%s\" from the bench", device, trigger);
	r = iiob_link_after(inst, r, t0, "reading the trigger of %s", device);
	if (r < 0)
		return r;
	if (strcmp(old, trigger) == 0 || strcmp(old, iioa_dev_id(p->ctx, trigger)) == 0)
		return 0;
	c = change_new();
	if (!c)
		return iiob_fail(ic, -ENOSPC, "more than %d IIO settings changed at once", CHANGES_MAX);
	c->kind = CHANGE_TRIGGER;
	snprintf(c->uri, sizeof(c->uri), "%s", ic->uri);
	snprintf(c->dev_id, sizeof(c->dev_id), "%s", id);
	snprintf(c->device, sizeof(c->device), "%s", device);
	snprintf(c->file, sizeof(c->file), "trigger/current_trigger");
	snprintf(c->old, sizeof(c->old), "%s", old);
	snprintf(c->now, sizeof(c->now), "%s", trigger);
	t0 = iiob_mono_ms();
	r = iiob_link_after(inst, iioa_dev_trigger_set(p->ctx, device, trigger), t0,
		       "assigning trigger \"%s\" to %s", trigger, device);
	if (r < 0) {
		*c = (struct change){ 0 };
		return r;
	}
	t0 = iiob_mono_ms();
	r = iiob_link_after(inst, iioa_dev_trigger(p->ctx, device, back, sizeof(back)), t0,
		       "reading the trigger of %s back", device);
	if (r >= 0 && strcmp(back, trigger) != 0 && strcmp(back, iioa_dev_id(p->ctx, trigger)) != 0)
		r = iiob_fail(ic, -EIO, "IIO device \"%s\" has trigger \"%s\" after rig assigned "
			      "\"%s\"", device, back, trigger);
	if (r < 0) {
		struct failure saved = *iiob_failure_slot(ic);

		change_put_back(inst, c, iiob_link_alive(p), restore_deadline(p));
		*iiob_failure_slot(ic) = saved;
		*c = (struct change){ 0 };
		return r;
	}
	return iiob_hold(inst, c);
}

/* Remembers buffer attribute `name` of `device` as it is now, to be put
 * back when the instrument closes: libiio's local backend writes the
 * buffer's length when it opens a buffer (the scans asked for, then four
 * times as many) and leaves it so, and Debian's iiod does the same on the
 * board.  Nothing to do where the device (or the server's description of
 * it) has no such attribute. */
int iiob_setting_keep(struct instrument *inst, const char *device, const char *name)
{
	struct instrument_pdata *p = inst->pdata;
	const struct instrument_cfg *ic = inst->cfg;
	const char *id = iioa_dev_id(p->ctx, device);
	char old[VALUE_MAX];
	struct iioa_attr a;
	struct change *c;
	long long t0;
	int r = iioa_buf_attr_find(p->ctx, device, name, &a);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return iiob_fail(ic, r, "IIO device \"%s\" at %s: %s", device, ic->uri, iiob_errno_text(r));
	c = change_find(CHANGE_BUFFER, ic->uri, id, a.file);
	if (c)
		return iiob_hold(inst, c);
	t0 = iiob_mono_ms();
	r = iiob_link_after(inst, iioa_attr_read(&a, old, sizeof(old)), t0, "reading %s %s", device,
		       a.file);
	if (r < 0)
		return r;
	c = change_new();
	if (!c)
		return iiob_fail(ic, -ENOSPC, "more than %d IIO settings changed at once", CHANGES_MAX);
	c->kind = CHANGE_BUFFER;
	snprintf(c->uri, sizeof(c->uri), "%s", ic->uri);
	snprintf(c->dev_id, sizeof(c->dev_id), "%s", id);
	snprintf(c->device, sizeof(c->device), "%s", device);
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->file, sizeof(c->file), "%s", a.file);
	snprintf(c->old, sizeof(c->old), "%s", old);
	snprintf(c->now, sizeof(c->now), "%s", old);
	return iiob_hold(inst, c);
}

/* Lets go of the instrument's settings, newest first; the last instrument
 * to let go of one puts its old value back and reads it back, or says
 * (instrument_warn) why it could not: the link down, the kernel refusing,
 * the device reading otherwise. */
void iiob_settings_release(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;
	bool reachable = iiob_link_alive(p);
	long long deadline = restore_deadline(p);

	while (p->n_held > 0) {
		struct change *c = &changes[p->held[--p->n_held]];

		if (--c->refs > 0)
			continue;
		change_put_back(inst, c, reachable, deadline);
		reachable = reachable && iiob_link_alive(p);
		*c = (struct change){ 0 };
	}
}

void iiob_rate_text(double hz, char *buf, size_t size)
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
	long long t0 = iiob_mono_ms();
	int r = iioa_attr_find(inst->pdata->ctx, ic->device, channel, name, &a);

	if (r == -ENOENT)
		return iiob_fail(ic, -ENOENT, "IIO device \"%s\" at %s has no %s for channel %s: rig "
			    "needs it to work out the rate it converts at", ic->device, ic->uri,
			    name, channel);
	if (r == 0)
		r = iiob_link_after(inst, iioa_attr_read(&a, text, sizeof(text)), t0, "reading %s %s",
			       ic->device, a.file);
	if (r < 0)
		return r;
	*ret = strtod(text, &end);
	if (end == text || !(*ret > 0))
		return iiob_fail(ic, -EPROTO, "IIO device \"%s\": %s reads \"%s\", not a time", ic->device,
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
		return iiob_fail(ic, -ERANGE, "%s converts at most %.0f times per second with its "
			    "integration times (%g s shunt + %g s bus, no averaging): slower than a "
			    "period of %s asks; a longer period, or shorter integration times "
			    "(in_voltage0_integration_time, in_voltage1_integration_time)",
			    ic->device, 1 / (t_shunt + t_bus), t_shunt, t_bus, period);
	*scan_hz = 1 / ((t_shunt + t_bus) * best);
	snprintf(value, sizeof(value), "%d", best);
	snprintf(purpose, sizeof(purpose), "(%.4g conversions per second: its rate, "
		 "in_sampling_frequency, is read only) for a period of %s", *scan_hz, period);
	return iiob_setting_apply(inst, ic->device, NULL, "oversampling_ratio", value, purpose);
}

/* A driver that keeps a rate of its own: its sampling_frequency is read
 * only, or it turns down every value written (the IIO simple dummy's
 * in_sampling_frequency, 3.000033, takes none).  Under a trigger the
 * trigger paces the scans and the converter's rate is the bench's
 * business, as the hx711's RATE pin is; without one, the scans come at the
 * converter's own rate, which must then be at least the period's. */
static int own_rate(struct instrument *inst, double hz, const char *period, double *scan_hz)
{
	const struct instrument_cfg *ic = inst->cfg;
	struct iioa_attr a;
	char value[VALUE_MAX], *end;
	double rate;
	long long t0 = iiob_mono_ms();
	int r = iioa_attr_find(inst->pdata->ctx, ic->device, ic->channel, "sampling_frequency", &a);

	if (r == 0)
		r = iiob_link_after(inst, iioa_attr_read(&a, value, sizeof(value)), t0, "reading %s %s",
			       ic->device, a.file);
	if (r < 0)
		return r;
	rate = strtod(value, &end);
	if (end == value || !(rate > 0))
		return iiob_fail(ic, -EPROTO, "IIO device \"%s\": %s reads \"%s\", not a rate", ic->device,
			    a.file, value);
	if (ic->trigger[0]) {
		iiob_failure_clear(ic);
		*scan_hz = hz;
		return 0;
	}
	if (rate < hz * (1 - 1e-6))
		return iiob_fail(ic, -ERANGE, "%s converts %s times per second (%s, which its driver does "
			    "not let rig change): slower than a period of %s asks; a longer period, or "
			    "a trigger to pace the scans", ic->device, value, a.file, period);
	iiob_failure_clear(ic);
	*scan_hz = rate;
	return 0;
}

/* What paces the converter itself, as its kernel driver takes it (see the
 * top of this file); *scan_hz: the rate its scans will come at, when it
 * paces its own buffer (no trigger). */
int iiob_converter_rate(struct instrument *inst, double hz, const char *period,
			  double *scan_hz)
{
	struct instrument_pdata *p = inst->pdata;
	const struct instrument_cfg *ic = inst->cfg;
	const char *drv = iioa_dev_name(p->ctx, ic->device);
	char list[256], value[32], purpose[160];
	struct iioa_attr a;
	double rate = hz, fastest;
	bool refused;
	long long t0;
	int r;

	*scan_hz = hz;
	if (strcmp(drv, "hx711") == 0)
		return 0;   /* no rate of its own: its RATE pin; the trigger paces it */
	if (iiob_name_in(drv, ina226_family))
		return ina226_rate(inst, hz, period, scan_hz);
	if (iiob_name_in(drv, ina219_family)) {
		/* no averaging in the driver: its rate is what its integration
		 * times make it, read only */
		if (iioa_attr_find(p->ctx, ic->device, NULL, "sampling_frequency", &a) < 0)
			return iiob_fail(ic, -ENOENT, "IIO device \"%s\" at %s has no in_sampling_frequency",
				    ic->device, ic->uri);
		t0 = iiob_mono_ms();
		r = iiob_link_after(inst, iioa_attr_read(&a, value, sizeof(value)), t0, "reading %s %s",
			       ic->device, a.file);
		if (r < 0)
			return r;
		*scan_hz = strtod(value, NULL);
		if (*scan_hz < hz * (1 - 1e-6))
			return iiob_fail(ic, -ERANGE, "%s converts %s times per second (%s, set by its "
				    "integration times): slower than a period of %s asks", ic->device,
				    value, a.file, period);
		return 0;
	}
	/* one of the rates it lists, where it lists them (the ADS1x15: its
	 * driver refuses any other, EINVAL) */
	if (iioa_attr_find(p->ctx, ic->device, ic->channel, "sampling_frequency_available", &a) ==
	    0) {
		t0 = iiob_mono_ms();
		r = iiob_link_after(inst, iioa_attr_read(&a, list, sizeof(list)), t0, "reading %s %s",
			       ic->device, a.file);
		if (r < 0)
			return r;
		if (choose_rate(list, hz, &rate, &fastest) < 0)
			return iiob_fail(ic, -ERANGE, "%s/%s converts at most %g times per second (its %s "
				    "lists every rate it has: %s): slower than a period of %s asks; "
				    "a longer period, or a faster converter", ic->device, ic->channel,
				    fastest, a.file, list, period);
	}
	iiob_rate_text(rate, value, sizeof(value));
	snprintf(purpose, sizeof(purpose), "(conversions per second) for a period of %s", period);
	*scan_hz = rate;
	r = setting_apply(inst, ic->device, ic->channel, "sampling_frequency", value, purpose,
			  &refused);
	if (r < 0 && refused)
		return own_rate(inst, hz, period, scan_hz);
	return r;
}
