/* The calibration gate: a run does not start on an instrument whose
 * calibration has expired, unless the operator says so (and the run records
 * that it did). */
#ifndef RIG_CALGATE_H
#define RIG_CALGATE_H

#include <stddef.h>
#include "rig/config/config.h"

#define UTC_DATE_LEN 10   /* "2026-11-25" */

struct cal_expired {
	enum rig_role role;
	int line;                     /* the instrument's group in the bench file */
	char serial[RIG_ID_MAX];
	char due[16];
};

/* Today's date in UTC, "YYYY-MM-DD". */
void calgate_today_utc(char ret[UTC_DATE_LEN + 1]);

/* True when the instrument's calibration states a due date before today
 * (both "YYYY-MM-DD", which compare as text). */
bool calgate_instrument_expired(const struct instrument_cfg *ic, const char *today);

/* Fills ret (room for ROLE__COUNT) with every present instrument whose
 * calibration is overdue on `today`; returns how many. */
size_t calgate_expired(const struct bench *bench, const char *today,
		       struct cal_expired ret[ROLE__COUNT]);

#endif
