/* The "mtsics" backend: a laboratory (micro)balance on a serial port,
 * speaking MT-SICS (protocol.h), because a load cell ADC cannot resolve the
 * micrograms the lowest implantable rates deliver per sample.  A reading is
 * "SI" (immediately): a dynamic answer is kept and flagged unstable, as the
 * analysis ignores unsettled readings.  Every byte goes to
 * RUN_DIR/wire-balance.log. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../rig/clock.h"
#include "../driver.h"
#include "../tty.h"
#include "protocol.h"

#define REPLY_TIMEOUT_MS 1000

struct instrument_pdata {
	struct tty tty;
};

static int ask(struct instrument *inst, enum mtsics_cmd cmd, struct mtsics_response *rep)
{
	struct instrument_pdata *p = inst->pdata;
	rig_ns t = rig_clock_now(inst->env->clock);
	char line[MTSICS_LINE_MAX];
	const char *in;
	int n = mtsics_format_cmd(cmd, line, sizeof(line)), r;

	if (n < 0)
		return n;
	r = tty_write(&p->tty, line, (size_t)n, t);
	if (r < 0)
		return r;
	r = tty_read_line(&p->tty, REPLY_TIMEOUT_MS, t, &in);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return r;
	if (mtsics_parse_response(in, cmd, rep) < 0)
		return -EPROTO;
	switch (rep->status) {
	case MT_BUSY: return -EBUSY;
	case MT_OVERLOAD:
	case MT_UNDERLOAD: return -ERANGE;
	case MT_ERR_SYNTAX:
	case MT_ERR_TRANSMISSION:
	case MT_ERR_LOGICAL: return -EIO;
	default: return 0;
	}
}

static int mt_open(struct instrument *inst)
{
	struct instrument_pdata *p = calloc(1, sizeof(*p));
	char *log = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	if (inst->env->run_dir && asprintf(&log, "%s/wire-balance.log", inst->env->run_dir) < 0)
		log = NULL;
	r = tty_open(&p->tty, inst->cfg->device, inst->cfg->baud ? inst->cfg->baud : 9600, log);
	free(log);
	if (r < 0) {
		free(p);
		return r;
	}
	inst->pdata = p;
	return 0;
}

static void mt_close(struct instrument *inst)
{
	if (!inst->pdata)
		return;
	tty_close(&inst->pdata->tty);
	free(inst->pdata);
	inst->pdata = NULL;
}

static int mt_read(struct instrument *inst, struct reading *ret, size_t max, size_t *ret_n)
{
	struct mtsics_response rep;
	int r;

	*ret_n = 0;
	if (max < 1)
		return -EINVAL;
	r = ask(inst, MT_SI, &rep);
	if (r < 0)
		return r;
	ret[0] = (struct reading){ rig_clock_now(inst->env->clock), QUANT_MASS_G, rep.value_g,
				   rep.status == MT_DYNAMIC ? SAMPLE_UNSTABLE : 0 };
	*ret_n = 1;
	return 0;
}

static int mt_tare(struct instrument *inst)
{
	struct mtsics_response rep;

	return ask(inst, MT_T, &rep);
}

static const struct sensor_ops mt_sensor = { .read = mt_read, .tare = mt_tare };

const struct backend mtsics_backend = {
	.name = "mtsics",
	.roles = 1u << ROLE_SCALE,
	.open = mt_open,
	.close = mt_close,
	.sensor = &mt_sensor,
};
