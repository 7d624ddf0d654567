/* rig probe: see probe.c. */
#ifndef RIG_PROBE_H
#define RIG_PROBE_H

#include <stdbool.h>
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

/* What rig found at the other end of the bench's links, before a run: its
 * own wire simulator (rig sim serve), whatever the bench file says of it.
 * A run on it is never verification evidence (run.json "wire_simulator"). */
#define WIRE_SIM_SEEN_MAX 8
struct wire_sim_seen {
	bool found;
	size_t n;                                /* how it was recognised, one line each */
	char how[WIRE_SIM_SEEN_MAX][RIG_TEXT_MAX + 96];
};
/* Asks every IIO context on the network that an instrument or output of the
 * bench names whether it is the simulator's (it serves `pumprig-clock`),
 * and takes pump (may be NULL) for what the pump said of itself (IDENT).
 * 0 with *ret; a negative errno, with what failed in err, when a context
 * cannot be reached: nobody can then tell what the run would talk to. */
int rig_wire_simulator_find(const struct bench *bench, const struct pump_identity *pump,
			    struct wire_sim_seen *ret, char *err, size_t err_len);

#endif
