/* Run directories: created fresh for each run, never overwritten. */
#ifndef RIG_RUNDIR_H
#define RIG_RUNDIR_H

#include <stddef.h>
#include "config.h"

/* Default location: runs/<UTC yyyymmddThhmmssZ>-<sequence id>. */
void rundir_default_path(const struct sequence *seq, char *buf, size_t len);

/* Creates dir (and missing parents); an existing dir is -EEXIST.  Then copies
 * the three input files to dir/inputs/ and writes dir/run.json (software
 * version, start time, host, command line, inputs). */
int rundir_create(const char *dir, const struct sequence *seq, const struct bench *bench,
		  const struct device *dev, int argc, char **argv, bool virtual_time,
		  char *err, size_t err_len);

#endif
