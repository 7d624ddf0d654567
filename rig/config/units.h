/* Quantities with explicit units, as written in sequence, bench and device
 * files: "30 s", "0.5 mL/day", "120 kPa".  A number without a unit is an error.
 *
 * Every kind has one canonical unit, the one the program computes in; the
 * canonical unit is part of every field name that holds such a value
 * (rate_ml_per_h, pressure_kpa, ...). */
#ifndef RIG_UNITS_H
#define RIG_UNITS_H

#include <stddef.h>

enum qty_kind {
	QTY_DURATION,    /* canonical s (loaders store rig_ns): ns us ms s min h day week year */
	QTY_VOLUME,      /* mL:   nL uL mL L */
	QTY_RATE,        /* mL/h: uL/h uL/min mL/h mL/min mL/day (also mL/d) */
	QTY_PRESSURE,    /* kPa:  Pa kPa bar mbar psi mmHg cmH2O */
	QTY_MASS,        /* g:    ug mg g kg */
	QTY_MASS_RATE,   /* g/h:  ug/h mg/h g/h mg/min mg/day */
	QTY_CURRENT,     /* uA:   nA uA mA A */
	QTY_CHARGE,      /* mAh:  uAh mAh Ah nC uC mC C */
	QTY_VOLTAGE,     /* V:    uV mV V */
	QTY_TEMPERATURE, /* degC: degC K */
	QTY_DENSITY,     /* g/mL: g/mL g/cm3 kg/m3 kg/L */
	QTY_PERCENT,     /* %:    % ppm */
	QTY_COMPLIANCE,  /* mL/kPa: uL/kPa mL/kPa uL/mmHg */
	QTY_U_MULTIPLE,  /* U: a multiple of a value's expanded uncertainty (a guard band) */
	QTY_TEMPERATURE_DIFF, /* K: K degC (a difference: no offset) */
	QTY__COUNT
};

/* Human name of a kind ("duration") and the list of accepted units
 * ("ns, us, ms, s, min, h, day, week, year"), for error messages. */
const char *qty_kind_name(enum qty_kind kind);
const char *qty_kind_units(enum qty_kind kind);
const char *qty_kind_canonical(enum qty_kind kind);

/* Parses "<number> <unit>" (space between optional, "µ" accepted for "u").
 * The number is locale-independent decimal with optional sign and exponent.
 * Returns 0 and the value in the kind's canonical unit, or:
 *   -ENODATA  no unit given,
 *   -EINVAL   not a number,
 *   -ENOENT   unit unknown or of another kind,
 *   -ERANGE   not finite / overflows. */
int qty_parse(const char *text, enum qty_kind kind, double *ret_value);

#endif
