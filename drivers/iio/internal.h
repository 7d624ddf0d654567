/* Shared by the iio backend's files: api.c (the instruments: open, read,
 * buffered capture, the valve, time in lockstep), links.c (what went wrong,
 * and what the instruments on one URI know of it) and settings.c (the IIO
 * settings rig changes and puts back, and the converters' rates).  Not for
 * use outside drivers/iio/. */
#ifndef RIG_IIO_INTERNAL_H
#define RIG_IIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "rig/base/bench.h"
#include "drivers/driver.h"
#include "adapter.h"
#include "scan.h"

#define SIM_CLOCK_TIMEOUT_MS 5000
#define DAC_CLOSED_RAW 4095
#define HELD_MAX 8
#define VALUE_MAX 128

/* The account of the last error an instrument's open or operation returned
 * (links.c), for instrument_error_text. */
struct failure {
	const struct instrument_cfg *ic;
	int err;
	char text[512];
};

struct change;   /* a setting rig changed (settings.c) */

/* What the instruments on one URI know of it. */
#define LINKS_MAX 16
struct link {
	char uri[RIG_TEXT_MAX];
	unsigned refs;
	unsigned gen;           /* bumped each time the link is found down */
	bool down;
	int err;                /* -ETIMEDOUT: no answer; else the broken connection's */
	char why[256];
	long long since_ms;
	unsigned timeout_ms;
};

struct instrument_pdata {
	struct iioa_ctx *ctx;
	struct link *link;
	unsigned gen;            /* the link's generation when this one opened */
	unsigned timeout_ms;
	struct iioa_chan *ch, *volt;
	double scale, offset, volt_scale;
	/* a measured condition: the channel's processed value (its `input`
	 * attribute) is read instead of raw, offset and scale */
	bool processed;
	/* what turns the channel's IIO unit into the role's (1000: mA to uA;
	 * 1e-3: milli-degrees Celsius, milli-percent) */
	double unit;
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

int iiob_converter_rate(struct instrument *inst, double hz, const char *period, double *scan_hz);
const char *iiob_errno_text(int err);
int iiob_fail(const struct instrument_cfg *ic, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void iiob_failure_clear(const struct instrument_cfg *ic);
struct failure *iiob_failure_slot(const struct instrument_cfg *ic);
int iiob_hold(struct instrument *inst, struct change *c);
const char *iiob_error_text(const struct instrument_cfg *ic, int err, char *buf, size_t size);
int iiob_link_after(struct instrument *inst, int r, long long t0_ms, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool iiob_link_alive(const struct instrument_pdata *p);
int iiob_link_check(struct instrument *inst);
void iiob_link_down(struct link *l, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct link *iiob_link_get(const char *uri);
void iiob_link_put(struct link *l);
long long iiob_mono_ms(void);
bool iiob_name_in(const char *name, const char *const *list);
void iiob_rate_text(double hz, char *buf, size_t size);
const char *iiob_seconds_text(unsigned ms, char *buf, size_t size);
int iiob_setting_apply(struct instrument *inst, const char *device, const char *channel, const char *name, const char *value, const char *purpose);
int iiob_setting_keep(struct instrument *inst, const char *device, const char *name);
void iiob_settings_release(struct instrument *inst);
int iiob_trigger_apply(struct instrument *inst, const char *device, const char *trigger);

#endif
