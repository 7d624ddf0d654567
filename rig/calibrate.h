/* rig calibrate scale: see calibrate.c. */
#ifndef RIG_CALIBRATE_H
#define RIG_CALIBRATE_H

#include <stdio.h>
#include "config.h"

/* Prompts on out, waits for a line on in at each step; writes the record to
 * record_path (which must not exist).  Returns 0 or -errno. */
int rig_calibrate_scale(const struct bench *bench, double reference_g, const char *record_path,
			FILE *in, FILE *out);

#endif
