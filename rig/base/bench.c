/* Names of the roles and quantities as the record and the files write them. */
#include "bench.h"

#include <string.h>

static const char *const role_names[] = {
	[ROLE_PUMP] = "pump", [ROLE_SCALE] = "scale", [ROLE_FLOW] = "flow",
	[ROLE_PRESSURE] = "pressure", [ROLE_POWER] = "power", [ROLE_VALVE] = "valve",
	[ROLE_ALARM] = "alarm", [ROLE_ESTOP] = "estop", [ROLE__COUNT] = NULL,
};

static const struct {
	const char *name;
	const char *unit;
} quantities[QUANT__COUNT] = {
	[QUANT_MASS_G] = { "mass", "g" },
	[QUANT_FLOW_ML_PER_H] = { "flow", "mL/h" },
	[QUANT_PRESSURE_KPA] = { "pressure", "kPa" },
	[QUANT_CURRENT_UA] = { "current", "uA" },
	[QUANT_VOLTAGE_V] = { "voltage", "V" },
	[QUANT_ALARM_LEVEL] = { "alarm", "1" },
	[QUANT_DELIVERED_ML] = { "delivered", "mL" },
	[QUANT_RESERVOIR_ML] = { "reservoir", "mL" },
};

const char *quantity_name(enum quantity q)
{
	return (unsigned)q < QUANT__COUNT ? quantities[q].name : "?";
}

const char *quantity_unit(enum quantity q)
{
	return (unsigned)q < QUANT__COUNT ? quantities[q].unit : "?";
}

const char *rig_role_name(enum rig_role role)
{
	return (unsigned)role < ROLE__COUNT ? role_names[role] : NULL;
}

int rig_role_from_name(const char *name)
{
	for (int i = 0; name && i < ROLE__COUNT; i++)
		if (strcmp(role_names[i], name) == 0)
			return i;
	return -1;
}
