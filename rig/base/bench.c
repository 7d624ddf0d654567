/* Names of the roles and quantities as the record and the files write them. */
#include "bench.h"

#include <string.h>

static const char *const role_names[] = {
	[ROLE_PUMP] = "pump", [ROLE_SCALE] = "scale", [ROLE_FLOW] = "flow",
	[ROLE_PRESSURE] = "pressure", [ROLE_POWER] = "power", [ROLE_VALVE] = "valve",
	[ROLE_ALARM] = "alarm", [ROLE_ESTOP] = "estop",
	[ROLE_FLUID_TEMP] = "fluid_temperature", [ROLE_AIR_TEMP] = "air_temperature",
	[ROLE_HUMIDITY] = "humidity", [ROLE_AIR_PRESSURE] = "air_pressure", [ROLE__COUNT] = NULL,
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
	[QUANT_TEMPERATURE_C] = { "temperature", "degC" },
	[QUANT_HUMIDITY_PCT] = { "humidity", "%" },
};

const char *quantity_name(enum quantity q)
{
	return (unsigned)q < QUANT__COUNT ? quantities[q].name : "?";
}

const char *quantity_unit(enum quantity q)
{
	return (unsigned)q < QUANT__COUNT ? quantities[q].unit : "?";
}

enum quantity role_primary_quantity(enum rig_role role)
{
	switch (role) {
	case ROLE_SCALE: return QUANT_MASS_G;
	case ROLE_FLOW: return QUANT_FLOW_ML_PER_H;
	case ROLE_PRESSURE: return QUANT_PRESSURE_KPA;
	case ROLE_POWER: return QUANT_CURRENT_UA;
	case ROLE_FLUID_TEMP: return QUANT_TEMPERATURE_C;
	case ROLE_AIR_TEMP: return QUANT_TEMPERATURE_C;
	case ROLE_HUMIDITY: return QUANT_HUMIDITY_PCT;
	case ROLE_AIR_PRESSURE: return QUANT_PRESSURE_KPA;
	default: return QUANT__COUNT;
	}
}

const char *rig_role_name(enum rig_role role)
{
	return (unsigned)role < ROLE__COUNT ? role_names[role] : NULL;
}

int rig_role_from_name(const char *name)
{
	/* the first letter before strcmp: every samples.csv row asks */
	for (int i = 0; name && i < ROLE__COUNT; i++)
		if (role_names[i][0] == name[0] && strcmp(role_names[i], name) == 0)
			return i;
	return -1;
}
