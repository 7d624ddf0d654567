/* The "pumplink" backend: the pump under test on a serial line, speaking the
 * protocol of protocol.h (docs/pump-link.md).  Each command is answered by
 * the pump within 500 ms or sent again with the same sequence number, three
 * times at most; an answer to another sequence number (a late answer to an
 * earlier try) is skipped.  Every byte on the wire goes to
 * RUN_DIR/wire-pump.log with its run time. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "rig/base/bench.h"
#include "drivers/driver.h"
#include "drivers/tty.h"
#include "protocol.h"

#define REPLY_TIMEOUT_MS 500
#define TRIES 3

struct instrument_pdata {
	struct tty tty;
	unsigned seq;   /* kept across a reconnect: a late answer never matches */
};

static rig_ns now(struct instrument *inst)
{
	return rig_clock_now(inst->env->clock);
}

static int exchange(struct instrument *inst, struct pumplink_cmd *cmd, struct pumplink_reply *rep)
{
	struct instrument_pdata *p = inst->pdata;
	char line[PUMPLINK_LINE_MAX];
	int n, r;

	cmd->seq = p->seq = (p->seq + 1) % 1000000;
	n = pumplink_format_cmd(cmd, line, sizeof(line));
	if (n < 0)
		return n;
	for (int attempt = 0; attempt < TRIES; attempt++) {
		const char *in;

		r = tty_write(&p->tty, line, (size_t)n, now(inst));
		if (r < 0)
			return r;
		while ((r = tty_read_line(&p->tty, REPLY_TIMEOUT_MS, now(inst), &in)) == 1) {
			if (pumplink_parse_reply(in, strlen(in), rep) < 0 || rep->seq != cmd->seq)
				continue;   /* garbled, or an answer to an earlier try */
			return rep->kind == PL_ERR ? -rep->err : 0;
		}
		if (r < 0 && r != -EMSGSIZE)
			return r;
	}
	return -ETIMEDOUT;
}

/* Opens the tty; the wire log is appended to, so a reopened link keeps
 * every byte of the one before. */
static int link_open(struct instrument *inst, struct tty *tty)
{
	char *log = NULL;
	int r;

	if (inst->env->run_dir && asprintf(&log, "%s/wire-pump.log", inst->env->run_dir) < 0)
		log = NULL;
	r = tty_open(tty, inst->cfg->device, inst->cfg->baud ? inst->cfg->baud : 115200, log);
	free(log);
	return r;
}

static int pl_open(struct instrument *inst)
{
	struct instrument_pdata *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = link_open(inst, &p->tty);
	if (r < 0) {
		free(p);
		return r;
	}
	/* A pump takes a repeat of the last sequence number it carried out for
	 * the host's retry and does not carry it out again (docs/pump-link.md).
	 * A new session that numbered from 1 again would meet the numbers of
	 * the session before it (rig run's identity check, then the run; one
	 * run, then the next): it starts at a random number instead. */
	{
		unsigned rnd = 0;

		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			rnd = (unsigned)now(inst) ^ (unsigned)getpid();
		p->seq = rnd % 1000000;
	}
	inst->pdata = p;
	return 0;
}

/* A device node that went (a USB adapter unplugged) may be back under the
 * same path; until it is, commands fail with -ENOTCONN (the port closed)
 * and a later reconnect tries again. */
static int pl_reconnect(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;

	if (!p)
		return -EBADF;
	tty_close(&p->tty);
	return link_open(inst, &p->tty);
}

static int pl_stop(struct instrument *inst)
{
	struct pumplink_cmd cmd = { .kind = PL_STOP };
	struct pumplink_reply rep;

	return exchange(inst, &cmd, &rep);
}

static void pl_close(struct instrument *inst)
{
	if (!inst->pdata)
		return;
	tty_close(&inst->pdata->tty);
	free(inst->pdata);
	inst->pdata = NULL;
}

static int pl_set_rate(struct instrument *inst, double rate_ml_per_h)
{
	struct pumplink_cmd cmd = { .kind = PL_RATE, .rate_ml_per_h = rate_ml_per_h };
	struct pumplink_reply rep;

	return exchange(inst, &cmd, &rep);
}

static int pl_bolus(struct instrument *inst, double volume_ml, double rate_ml_per_h,
		    enum bolus_demand demand)
{
	struct pumplink_cmd cmd = { .kind = PL_BOLUS, .volume_ml = volume_ml,
				    .rate_ml_per_h = rate_ml_per_h,
				    .patient = demand == BOLUS_PATIENT };
	struct pumplink_reply rep;

	return exchange(inst, &cmd, &rep);
}

static int pl_refill(struct instrument *inst, double volume_ml)
{
	struct pumplink_cmd cmd = { .kind = PL_REFILL, .volume_ml = volume_ml };
	struct pumplink_reply rep;

	return exchange(inst, &cmd, &rep);
}

static int pl_status(struct instrument *inst, struct pump_status *ret)
{
	struct pumplink_cmd cmd = { .kind = PL_STATUS };
	struct pumplink_reply rep;
	int r = exchange(inst, &cmd, &rep);

	if (r < 0)
		return r;
	if (rep.kind != PL_STATUS_REPLY)
		return -EPROTO;
	*ret = (struct pump_status){
		.running = rep.running, .bolus_active = rep.bolus_active,
		.rate_ml_per_h = rep.rate_ml_per_h, .alarms = rep.alarms,
		.delivered_ml = rep.delivered_ml, .battery_v = rep.battery_v,
		.reservoir_ml = rep.reservoir_ml,
	};
	return 0;
}

static int pl_identify(struct instrument *inst, struct pump_identity *ret)
{
	struct pumplink_cmd cmd = { .kind = PL_IDENT };
	struct pumplink_reply rep;
	int r = exchange(inst, &cmd, &rep);

	if (r < 0)
		return r;
	if (rep.kind != PL_IDENT_REPLY)
		return -EPROTO;
	snprintf(ret->serial, sizeof(ret->serial), "%s", rep.serial);
	snprintf(ret->firmware, sizeof(ret->firmware), "%s", rep.firmware);
	ret->simulator = rep.simulator;
	return 0;
}

static const struct pump_ops pl_pump = {
	.set_rate = pl_set_rate, .bolus = pl_bolus, .stop = pl_stop, .status = pl_status,
	.refill = pl_refill, .reconnect = pl_reconnect, .identify = pl_identify,
};

const struct backend pumplink_backend = {
	.name = "pumplink",
	.roles = 1u << ROLE_PUMP,
	.open = pl_open,
	.close = pl_close,
	.pump = &pl_pump,
};
