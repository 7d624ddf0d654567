/* The run's id, as run.json holds it: made once when the run is created
 * (rig/engine/rundir.c) and never rewritten, so a copy of the run directory
 * or a regeneration of its reports keeps it.  The judge, the reports and
 * rig sign read it here, with one validation. */
#ifndef RIG_BASE_RUNID_H
#define RIG_BASE_RUNID_H

#include <stddef.h>

/* run_dir/run.json's run_id into buf (len bytes): 0; -ENODATA when run.json
 * holds none, or one that is not one line of UTF-8 text without control
 * characters that fits in len (a run made before runs had an id, or an
 * edited run.json); -EBADMSG when run.json is no JSON object; -ENOENT or
 * another -errno when it cannot be read.  buf is "" on every error. */
int run_id_read(const char *run_dir, char *buf, size_t len);

#endif
