/* The run record's line formats, written by the recorder (rig/engine/) and
 * read back by the judge, the report and resume:
 *
 *   samples.csv   t_ns,role,quantity,value,unit,flags   (one row per reading)
 *
 * flags are letters: U unstable, C clipped, S stale, R out of range. */
#ifndef RIG_BASE_RECORD_H
#define RIG_BASE_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include "bench.h"

void sample_flags_format(uint32_t flags, char buf[8]);
uint32_t sample_flags_parse(const char *text);

/* One line of samples.csv (the newline already removed), split in place.
 * Returns false for a line that is not a complete sample (the header, a torn
 * line). */
bool sample_line_parse(char *line, rig_ns *t_ns, char **role, char **qty, double *value,
		       uint32_t *flags);

#endif
