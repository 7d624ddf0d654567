/* The wire-level bench simulator behind `rig sim serve`: the same physics
 * model as the in-process "sim" backend, served the way hardware is, so the
 * real iio (and serial) backends and libiio's own tools can be tested without
 * hardware.  See docs/wire-simulator.md for the devices, channels and the
 * transducer scalings it presents. */
#ifndef RIG_SIM_WIRE_H
#define RIG_SIM_WIRE_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include "rig/base/bench.h"

struct wire_opts {
	const struct bench *bench;      /* its simulator group is the physics */
	const char *addr;               /* "127.0.0.1" unless told otherwise */
	unsigned port;                  /* 0: any free port */
	bool real_time;                 /* false: time moves only when rig syncs it */
	FILE *announce;                 /* where the endpoints and "ready" are printed */
	const char *links_dir;          /* if set: DIR/pump and DIR/balance link to the ptys */
	volatile sig_atomic_t *stop;    /* set by a signal handler */
};

/* Serves until *stop is set; returns 0 or -errno (cannot listen). */
int sim_wire_serve(const struct wire_opts *opts);

#endif
