/* rig probe: see probe.c. */
#ifndef RIG_PROBE_H
#define RIG_PROBE_H

#include <stdio.h>
#include "rig/config/config.h"

/* Prints the table; returns how many instruments failed, or -errno. */
int rig_probe(const struct bench *bench, FILE *out);

#endif
