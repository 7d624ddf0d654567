/* Quantities with explicit units: see units.h.
 *
 * Each unit is a factor to its kind's canonical unit (value_canonical =
 * value * factor + offset; only kelvin has an offset).  Conversion factors:
 * 1 psi = 6.894757293168 kPa and 1 mmHg = 0.133322387415 kPa (NIST SP 811),
 * 1 cmH2O = 0.0980665 kPa (conventional, g_n = 9.80665 m/s^2), 1 C = 1 A s =
 * 1/3.6 mAh, 1 year = 365.25 days (Julian year). */
#define _GNU_SOURCE  /* strtod_l, newlocale */
#include "units.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct unit {
	const char *name;
	enum qty_kind kind;
	double factor;
	double offset;
};

#define MMHG_KPA 0.133322387415

static const struct unit units[] = {
	{ "ns", QTY_DURATION, 1e-9, 0 },
	{ "us", QTY_DURATION, 1e-6, 0 },
	{ "ms", QTY_DURATION, 1e-3, 0 },
	{ "s", QTY_DURATION, 1, 0 },
	{ "min", QTY_DURATION, 60, 0 },
	{ "h", QTY_DURATION, 3600, 0 },
	{ "day", QTY_DURATION, 86400, 0 },
	{ "week", QTY_DURATION, 7 * 86400, 0 },
	{ "year", QTY_DURATION, 365.25 * 86400, 0 },

	{ "nL", QTY_VOLUME, 1e-6, 0 },
	{ "uL", QTY_VOLUME, 1e-3, 0 },
	{ "mL", QTY_VOLUME, 1, 0 },
	{ "L", QTY_VOLUME, 1e3, 0 },

	{ "uL/h", QTY_RATE, 1e-3, 0 },
	{ "uL/min", QTY_RATE, 60e-3, 0 },
	{ "mL/h", QTY_RATE, 1, 0 },
	{ "mL/min", QTY_RATE, 60, 0 },
	{ "mL/day", QTY_RATE, 1.0 / 24, 0 },
	{ "mL/d", QTY_RATE, 1.0 / 24, 0 },

	{ "Pa", QTY_PRESSURE, 1e-3, 0 },
	{ "kPa", QTY_PRESSURE, 1, 0 },
	{ "bar", QTY_PRESSURE, 100, 0 },
	{ "mbar", QTY_PRESSURE, 0.1, 0 },
	{ "psi", QTY_PRESSURE, 6.894757293168, 0 },
	{ "mmHg", QTY_PRESSURE, MMHG_KPA, 0 },
	{ "cmH2O", QTY_PRESSURE, 0.0980665, 0 },

	{ "ug", QTY_MASS, 1e-6, 0 },
	{ "mg", QTY_MASS, 1e-3, 0 },
	{ "g", QTY_MASS, 1, 0 },
	{ "kg", QTY_MASS, 1e3, 0 },

	{ "ug/h", QTY_MASS_RATE, 1e-6, 0 },
	{ "mg/h", QTY_MASS_RATE, 1e-3, 0 },
	{ "g/h", QTY_MASS_RATE, 1, 0 },
	{ "mg/min", QTY_MASS_RATE, 60e-3, 0 },
	{ "mg/day", QTY_MASS_RATE, 1e-3 / 24, 0 },

	{ "nA", QTY_CURRENT, 1e-3, 0 },
	{ "uA", QTY_CURRENT, 1, 0 },
	{ "mA", QTY_CURRENT, 1e3, 0 },
	{ "A", QTY_CURRENT, 1e6, 0 },

	{ "uAh", QTY_CHARGE, 1e-3, 0 },
	{ "mAh", QTY_CHARGE, 1, 0 },
	{ "Ah", QTY_CHARGE, 1e3, 0 },
	{ "nC", QTY_CHARGE, 1e-9 / 3.6, 0 },
	{ "uC", QTY_CHARGE, 1e-6 / 3.6, 0 },
	{ "mC", QTY_CHARGE, 1e-3 / 3.6, 0 },
	{ "C", QTY_CHARGE, 1 / 3.6, 0 },

	{ "uV", QTY_VOLTAGE, 1e-6, 0 },
	{ "mV", QTY_VOLTAGE, 1e-3, 0 },
	{ "V", QTY_VOLTAGE, 1, 0 },

	{ "degC", QTY_TEMPERATURE, 1, 0 },
	{ "K", QTY_TEMPERATURE, 1, -273.15 },

	{ "g/mL", QTY_DENSITY, 1, 0 },
	{ "g/cm3", QTY_DENSITY, 1, 0 },
	{ "kg/m3", QTY_DENSITY, 1e-3, 0 },
	{ "kg/L", QTY_DENSITY, 1, 0 },

	{ "%", QTY_PERCENT, 1, 0 },
	{ "ppm", QTY_PERCENT, 1e-4, 0 },

	{ "uL/kPa", QTY_COMPLIANCE, 1e-3, 0 },
	{ "mL/kPa", QTY_COMPLIANCE, 1, 0 },
	{ "uL/mmHg", QTY_COMPLIANCE, 1e-3 / MMHG_KPA, 0 },

	{ "U", QTY_U_MULTIPLE, 1, 0 },
	/* a temperature difference (an uncertainty): a kelvin is a degree */
	{ "K", QTY_TEMPERATURE_DIFF, 1, 0 },
	{ "degC", QTY_TEMPERATURE_DIFF, 1, 0 },
};

static const struct {
	const char *name, *canonical, *accepted;
} kinds[QTY__COUNT] = {
	[QTY_DURATION] = { "duration", "s", "ns, us, ms, s, min, h, day, week, year" },
	[QTY_VOLUME] = { "volume", "mL", "nL, uL, mL, L" },
	[QTY_RATE] = { "flow rate", "mL/h", "uL/h, uL/min, mL/h, mL/min, mL/day" },
	[QTY_PRESSURE] = { "pressure", "kPa", "Pa, kPa, bar, mbar, psi, mmHg, cmH2O" },
	[QTY_MASS] = { "mass", "g", "ug, mg, g, kg" },
	[QTY_MASS_RATE] = { "mass rate", "g/h", "ug/h, mg/h, g/h, mg/min, mg/day" },
	[QTY_CURRENT] = { "current", "uA", "nA, uA, mA, A" },
	[QTY_CHARGE] = { "charge", "mAh", "uAh, mAh, Ah, nC, uC, mC, C" },
	[QTY_VOLTAGE] = { "voltage", "V", "uV, mV, V" },
	[QTY_TEMPERATURE] = { "temperature", "degC", "degC, K" },
	[QTY_DENSITY] = { "density", "g/mL", "g/mL, g/cm3, kg/m3, kg/L" },
	[QTY_PERCENT] = { "percentage", "%", "%, ppm" },
	[QTY_COMPLIANCE] = { "compliance", "mL/kPa", "uL/kPa, mL/kPa, uL/mmHg" },
	[QTY_U_MULTIPLE] = { "multiple of the expanded uncertainty", "U", "U" },
	[QTY_TEMPERATURE_DIFF] = { "temperature difference", "K", "K, degC" },
};

const char *qty_kind_name(enum qty_kind kind)
{
	return (unsigned)kind < QTY__COUNT ? kinds[kind].name : "?";
}

const char *qty_kind_units(enum qty_kind kind)
{
	return (unsigned)kind < QTY__COUNT ? kinds[kind].accepted : "?";
}

const char *qty_kind_canonical(enum qty_kind kind)
{
	return (unsigned)kind < QTY__COUNT ? kinds[kind].canonical : "?";
}

/* strtod in the C locale whatever the process's locale is, so "0.5" never
 * depends on LC_NUMERIC. */
static double strtod_c(const char *s, char **end)
{
	static locale_t c_locale;

	if (!c_locale)
		c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	return c_locale ? strtod_l(s, end, c_locale) : strtod(s, end);
}

static bool is_decimal_char(char c)
{
	return (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == 'e' || c == 'E';
}

/* Copies the unit text with the micro sign (U+00B5) or Greek mu (U+03BC)
 * spelled "u"; returns -ENOENT if it does not fit. */
static int normalise_unit(const char *in, char *out, size_t size)
{
	size_t n = 0;

	while (*in) {
		char c = *in;

		if ((unsigned char)in[0] == 0xC2 && (unsigned char)in[1] == 0xB5) {
			c = 'u';
			in += 2;
		} else if ((unsigned char)in[0] == 0xCE && (unsigned char)in[1] == 0xBC) {
			c = 'u';
			in += 2;
		} else {
			in++;
		}
		if (n + 1 >= size)
			return -ENOENT;
		out[n++] = c;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	return 0;
}

int qty_parse(const char *text, enum qty_kind kind, double *ret_value)
{
	char unit[32];
	const char *p = text;
	char *end;
	double number, value;

	if (!text || (unsigned)kind >= QTY__COUNT)
		return -EINVAL;
	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	number = strtod_c(p, &end);
	if (end == p)
		return -EINVAL;
	/* Plain decimal only: strtod also takes "nan", "inf" and hex floats. */
	for (const char *c = p; c < end; c++)
		if (!is_decimal_char(*c))
			return -EINVAL;
	if (errno == ERANGE && fabs(number) > 1)
		return -ERANGE;
	if (!isfinite(number))
		return -ERANGE;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end == '\0')
		return -ENODATA;
	if (normalise_unit(end, unit, sizeof(unit)) < 0)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].kind != kind || strcmp(units[i].name, unit) != 0)
			continue;
		value = number * units[i].factor + units[i].offset;
		if (!isfinite(value))
			return -ERANGE;
		*ret_value = value;
		return 0;
	}
	return -ENOENT;
}
