/* The "gpiod" backend: digital lines through libgpiod 1.6 (every libgpiod call
 * is in this file, so the 2.x API is this file's change).
 *
 * A line is found by the bench file's `device` (chip name, path or number:
 * "gpiochip0", "/dev/gpiochip0", "0") and `channel` (line name, or offset
 * when it is a number); `active_low` inverts it.  Outputs (the occlusion
 * valve, and the bench's output lines: relays, a pump's enable) are driven to
 * their declared safe level when requested and when released, and are
 * requested with the chip's pull (bias) towards that level, where the chip
 * has one: many controllers let go of a released line (the Raspberry Pi's
 * makes it an input again, gpio-sim gives it back to its pull), so after
 * rig, even after a kill -9, the line sits wherever the pull holds it.
 * Inputs (the pump's alarm line, the emergency stop) are requested
 * for both edges; an edge carries the kernel's timestamp (CLOCK_MONOTONIC
 * since Linux 5.7), converted to run time, so a time-to-alarm is measured
 * from when the line changed, not from when rig looked. */
#include <errno.h>
#include <gpiod.h>
#include <stdlib.h>
#include <string.h>

#include "rig/base/bench.h"
#include "drivers/driver.h"

#define CONSUMER "pumprig"

struct instrument_pdata {
	struct gpiod_chip *chip;
	struct gpiod_line *line;
	bool output;
};

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void gp_close(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;

	if (!p)
		return;
	if (p->line)   /* at its safe level: instrument_close set it */
		gpiod_line_release(p->line);
	if (p->chip)
		gpiod_chip_close(p->chip);
	free(p);
	inst->pdata = NULL;
}

static int gp_open(struct instrument *inst)
{
	const struct instrument_cfg *cfg = inst->cfg;
	struct instrument_pdata *p = calloc(1, sizeof(*p));
	int flags = cfg->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0, r;

	if (!p)
		return -ENOMEM;
	inst->pdata = p;
	errno = 0;
	p->chip = gpiod_chip_open_lookup(cfg->device);
	if (!p->chip) {
		/* no such chip: -ENODEV, told apart from a chip without the line */
		r = errno && errno != ENOENT ? -errno : -ENODEV;
		goto fail;
	}
	errno = 0;
	p->line = is_number(cfg->channel) ?
		  gpiod_chip_get_line(p->chip, (unsigned)strtoul(cfg->channel, NULL, 10)) :
		  gpiod_chip_find_line(p->chip, cfg->channel);
	if (!p->line) {
		r = errno ? -errno : -ENOENT;
		goto fail;
	}
	p->output = inst->role == ROLE_VALVE;   /* the valve, or a bench output line */
	if (p->output) {
		/* the wire's safe level, which the pull is to hold */
		bool high = cfg->safe_closed != cfg->active_low;
		int bias = high ? GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP
				: GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;

		r = gpiod_line_request_output_flags(p->line, CONSUMER, flags | bias,
						    cfg->safe_closed ? 1 : 0);
		/* a chip or kernel (before 5.5) that cannot set a pull: the
		 * bench's own wiring must hold the safe level (README) */
		if (r < 0 && (errno == EINVAL || errno == EOPNOTSUPP))
			r = gpiod_line_request_output_flags(p->line, CONSUMER, flags,
							    cfg->safe_closed ? 1 : 0);
	} else
		r = gpiod_line_request_both_edges_events_flags(p->line, CONSUMER, flags);
	if (r < 0) {
		r = -errno;
		p->line = NULL;   /* not requested: nothing to release */
		goto fail;
	}
	return 0;
fail:
	gp_close(inst);
	return r;
}

static int gp_set_closed(struct instrument *inst, bool closed)
{
	return gpiod_line_set_value(inst->pdata->line, closed ? 1 : 0) < 0 ? -errno : 0;
}

static int gp_level(struct instrument *inst, bool *ret_active)
{
	int v = gpiod_line_get_value(inst->pdata->line);

	if (v < 0)
		return -errno;
	*ret_active = v == 1;
	return 0;
}

static int gp_next_edge(struct instrument *inst, struct edge *ret)
{
	struct timespec zero = { 0, 0 };
	struct gpiod_line_event ev;
	int r = gpiod_line_event_wait(inst->pdata->line, &zero);

	if (r <= 0)
		return r < 0 ? -errno : 0;
	if (gpiod_line_event_read(inst->pdata->line, &ev) < 0)
		return -errno;
	ret->rising = ev.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
	ret->t_ns = rig_clock_from_monotonic(inst->env->clock,
					     (rig_ns)ev.ts.tv_sec * RIG_NS_PER_S + ev.ts.tv_nsec);
	return 1;
}

static const struct valve_ops gp_valve = { .set_closed = gp_set_closed };
static const struct input_ops gp_input = { .level = gp_level, .next_edge = gp_next_edge };

const struct backend gpiod_backend = {
	.name = "gpiod",
	.roles = 1u << ROLE_VALVE | 1u << ROLE_ALARM | 1u << ROLE_ESTOP,
	.open = gp_open,
	.close = gp_close,
	.valve = &gp_valve,
	.input = &gp_input,
	.outputs = true,
};
