/* The "sim" backend: glue between the driver interface and the physics model.
 *
 * Every instrument on the simulated bench shares the one model in
 * inst->env->sim; each operation hands it the driving clock's now, so the
 * physics runs at whatever speed that clock runs (real or virtual). */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include "rig/base/bench.h"

static struct sim_model *model_of(struct instrument *inst)
{
	return inst->env->sim;
}

static rig_ns now(struct instrument *inst)
{
	return rig_clock_now(inst->env->clock);
}

/* A bench output line on the simulated bench drives nothing physical (a
 * relay, a pump's enable): it keeps its level, for the record. */
struct instrument_pdata {
	bool on;
};

static int sim_open(struct instrument *inst)
{
	if (!inst->env || !inst->env->sim || !inst->env->clock)
		return -EINVAL;
	if ((unsigned)inst->role >= ROLE__COUNT)
		return -EINVAL;
	inst->pdata = NULL;   /* all state lives in the shared model */
	if (inst->is_output) {
		inst->pdata = calloc(1, sizeof(*inst->pdata));
		if (!inst->pdata)
			return -ENOMEM;
		inst->pdata->on = inst->cfg->safe_closed;   /* opened at its safe level */
	}
	return 0;
}

/* Only an output's level is held here; the model is shared.  instrument_close
 * has already stopped the pump and set the valve and outputs to their safe
 * states. */
static void sim_close(struct instrument *inst)
{
	free(inst->pdata);
	inst->pdata = NULL;
}

/* ----------------------------------------------------------------- pump -- */

/* A command carried out whose answer was lost looks to the host like no
 * answer at all. */
static int as_host_sees(int r)
{
	return r == -ECOMM ? -ETIMEDOUT : r;
}

static int pump_op_set_rate(struct instrument *inst, double rate_ml_per_h)
{
	if (inst->role != ROLE_PUMP)
		return -ENOTSUP;
	return as_host_sees(sim_pump_set_rate(model_of(inst), now(inst), rate_ml_per_h));
}

static int pump_op_bolus(struct instrument *inst, double volume_ml, double rate_ml_per_h,
			 enum bolus_demand demand)
{
	if (inst->role != ROLE_PUMP)
		return -ENOTSUP;
	return as_host_sees(sim_pump_bolus(model_of(inst), now(inst), volume_ml, rate_ml_per_h,
					   demand));
}

static int pump_op_stop(struct instrument *inst)
{
	if (inst->role != ROLE_PUMP)
		return -ENOTSUP;
	return as_host_sees(sim_pump_stop(model_of(inst), now(inst)));
}

static int pump_op_refill(struct instrument *inst, double volume_ml)
{
	if (inst->role != ROLE_PUMP)
		return -ENOTSUP;
	return as_host_sees(sim_pump_refill(model_of(inst), now(inst), volume_ml));
}

/* In process there is no link to reopen; the model's faults decide
 * whether the pump answers. */
static int pump_op_reconnect(struct instrument *inst)
{
	return inst->role == ROLE_PUMP ? 0 : -ENOTSUP;
}

static int pump_op_status(struct instrument *inst, struct pump_status *ret)
{
	if (inst->role != ROLE_PUMP)
		return -ENOTSUP;
	return sim_pump_status(model_of(inst), now(inst), ret);
}

static int pump_op_identify(struct instrument *inst, struct pump_identity *ret)
{
	if (inst->role != ROLE_PUMP)
		return -ENOTSUP;
	return sim_pump_identity(model_of(inst), now(inst), ret);
}

static const struct pump_ops sim_pump_ops = {
	.identify = pump_op_identify,
	.set_rate = pump_op_set_rate,
	.bolus = pump_op_bolus,
	.stop = pump_op_stop,
	.refill = pump_op_refill,
	.status = pump_op_status,
	.reconnect = pump_op_reconnect,
};

/* -------------------------------------------------------------- sensors -- */

/* One table for the four sensor roles; the model tells them apart by role
 * (and answers -EINVAL for a role that is no sensor). */

static int sensor_op_read(struct instrument *inst, struct reading *ret, size_t max, size_t *ret_n)
{
	return sim_read(model_of(inst), now(inst), inst->role, ret, max, ret_n);
}

static int sensor_op_tare(struct instrument *inst)
{
	if (inst->role != ROLE_SCALE)
		return -ENOTSUP;
	return sim_scale_tare(model_of(inst), now(inst));
}

static const struct sensor_ops sim_sensor_ops = {
	.read = sensor_op_read,
	.tare = sensor_op_tare,
};

/* ---------------------------------------------------------------- valve -- */

static int valve_op_set_closed(struct instrument *inst, bool closed)
{
	if (inst->is_output) {
		inst->pdata->on = closed;
		return 0;
	}
	if (inst->role != ROLE_VALVE)
		return -ENOTSUP;
	return sim_valve_set_closed(model_of(inst), now(inst), closed);
}

static const struct valve_ops sim_valve_ops = {
	.set_closed = valve_op_set_closed,
};

/* ---------------------------------------------------------------- input -- */

static int input_op_level(struct instrument *inst, bool *ret_active)
{
	if (inst->role == ROLE_ESTOP)
		return sim_estop_level(model_of(inst), now(inst), ret_active);
	if (inst->role != ROLE_ALARM)
		return -ENOTSUP;
	return sim_alarm_level(model_of(inst), now(inst), ret_active);
}

static int input_op_next_edge(struct instrument *inst, struct edge *ret)
{
	if (inst->role == ROLE_ESTOP)
		return sim_estop_next_edge(model_of(inst), now(inst), ret);
	if (inst->role != ROLE_ALARM)
		return -ENOTSUP;
	return sim_alarm_next_edge(model_of(inst), now(inst), ret);
}

static const struct input_ops sim_input_ops = {
	.level = input_op_level,
	.next_edge = input_op_next_edge,
};

const struct backend sim_backend = {
	.name = "sim",
	.roles = (1u << ROLE_PUMP) | (1u << ROLE_SCALE) | (1u << ROLE_FLOW) |
		 (1u << ROLE_PRESSURE) | (1u << ROLE_POWER) | (1u << ROLE_VALVE) |
		 (1u << ROLE_ALARM) | (1u << ROLE_ESTOP) | (1u << ROLE_FLUID_TEMP) |
		 (1u << ROLE_AIR_TEMP) | (1u << ROLE_HUMIDITY) | (1u << ROLE_AIR_PRESSURE),
	.open = sim_open,
	.close = sim_close,
	.pump = &sim_pump_ops,
	.sensor = &sim_sensor_ops,
	.valve = &sim_valve_ops,
	.input = &sim_input_ops,
	.outputs = true,
};
