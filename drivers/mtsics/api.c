/* The "mtsics" backend: a laboratory (micro)balance on a serial port,
 * speaking MT-SICS (protocol.h), because a load cell ADC cannot resolve the
 * micrograms the lowest implantable rates deliver per sample.  A reading is
 * "SI" (immediately): a dynamic answer is kept and flagged unstable, as the
 * analysis ignores unsettled readings.  Where a settled value is wanted (the
 * points of a calibration) it is "S", optionally after "Z" (zero); a tare is
 * "T".  Every byte goes to RUN_DIR/wire-balance.log. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "rig/base/bench.h"
#include "drivers/driver.h"
#include "drivers/tty.h"
#include "protocol.h"

/* SI is answered at once, settled or not: a second is a generous bound at
 * any baud rate.  S, T and Z are answered only once the balance has settled
 * (MT-SICS: the command waits for stability and answers "I" if the
 * balance's own stability timeout passes first), which after a load is
 * placed takes seconds on a microbalance and longer in a draught. */
#define REPLY_TIMEOUT_MS 1000
#define STABLE_TIMEOUT_MS 10000

struct instrument_pdata {
	struct tty tty;
};

static unsigned reply_timeout_ms(enum mtsics_cmd cmd)
{
	return cmd == MT_SI ? REPLY_TIMEOUT_MS : STABLE_TIMEOUT_MS;
}

static int ask(struct instrument *inst, enum mtsics_cmd cmd, struct mtsics_response *rep)
{
	struct instrument_pdata *p = inst->pdata;
	rig_ns t = rig_clock_now(inst->env->clock);
	char line[MTSICS_LINE_MAX];
	const char *in;
	int n = mtsics_format_cmd(cmd, line, sizeof(line)), r;

	if (n < 0)
		return n;
	/* A balance answers a command it has started on even after we gave up
	 * waiting: that late answer, still in the input, would otherwise be
	 * read as this command's (a stale weight, or a "T S" parsed as
	 * malformed).  MT-SICS has no sequence numbers to tell them apart. */
	r = tty_discard_input(&p->tty, t);
	if (r < 0)
		return r;
	r = tty_write(&p->tty, line, (size_t)n, t);
	if (r < 0)
		return r;
	r = tty_read_line(&p->tty, reply_timeout_ms(cmd), t, &in);
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

/* Z and S both wait on the balance's own stability detection, which
 * judges the weighing cell's signal and is better placed to than we are
 * with a series of SI readings. */
static int mt_read_settled(struct instrument *inst, bool zero, struct reading *ret)
{
	struct mtsics_response rep;
	int r;

	if (zero) {
		r = ask(inst, MT_Z, &rep);
		if (r < 0)
			return r;
	}
	r = ask(inst, MT_S, &rep);
	if (r == -EBUSY)
		return -EAGAIN;   /* any zero is done: a second would restart the settling */
	if (r < 0)
		return r;
	if (rep.status != MT_STABLE || !rep.has_value)
		return -EPROTO;
	*ret = (struct reading){ rig_clock_now(inst->env->clock), QUANT_MASS_G, rep.value_g, 0 };
	return 0;
}

static const struct sensor_ops mt_sensor = {
	.read = mt_read, .tare = mt_tare, .read_settled = mt_read_settled,
};

const struct backend mtsics_backend = {
	.name = "mtsics",
	.roles = 1u << ROLE_SCALE,
	.open = mt_open,
	.close = mt_close,
	.sensor = &mt_sensor,
};
