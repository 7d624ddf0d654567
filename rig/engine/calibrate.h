/* rig calibrate scale: see calibrate.c. */
#ifndef RIG_CALIBRATE_H
#define RIG_CALIBRATE_H

#include <stdbool.h>
#include <stdio.h>
#include "rig/config/config.h"

struct instrument;
struct rig_clock;
struct sim_clock_link;

#define RIG_CAL_READINGS 10   /* settled readings averaged at each point */

/* One calibration point. */
struct rig_cal_point {
	double mean, sd;               /* of RIG_CAL_READINGS settled readings */
	bool by_scale;                 /* settled as the scale itself judged (MT-SICS S) */
	bool zeroed;                   /* the scale was zeroed first (MT-SICS Z) */
	int skipped;                   /* readings flagged unstable, left out */
};

/* Measures one point on an open scale: its own settled readings where its
 * backend has them (zero: after zeroing it), else readings not flagged
 * unstable, letting time pass on clock (and telling link, a wire simulator
 * in lockstep; may be NULL) while it settles.  -ETIMEDOUT if it does not
 * settle within two minutes. */
int rig_calibrate_point(struct instrument *inst, struct rig_clock *clock,
			struct sim_clock_link *link, bool zero, struct rig_cal_point *ret);

/* Prompts on out, waits for a line on in at each step; writes the record to
 * record_path (which must not exist).  Returns 0 or -errno. */
int rig_calibrate_scale(const struct bench *bench, double reference_g, const char *record_path,
			FILE *in, FILE *out);

#endif
