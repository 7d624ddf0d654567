/* rig probe: see probe.c. */
#ifndef RIG_PROBE_H
#define RIG_PROBE_H

#include <stdio.h>
#include "rig/config/config.h"

/* Prints the table; returns how many instruments failed, or -errno. */
int rig_probe(const struct bench *bench, FILE *out);

/* Opens the bench's pump alone, asks it who it is over its own link, and
 * closes it again (the pump is stopped, as every close leaves it).  A
 * simulated pump in process that the bench gives no identity plays the
 * device dev.  0 with *ret, or a negative errno (-ENOTSUP: the pump cannot
 * say) with what failed in err. */
struct device;
struct pump_identity;
int rig_pump_identity(const struct bench *bench, const struct device *dev,
		      struct pump_identity *ret, char *err, size_t err_len);

#endif
