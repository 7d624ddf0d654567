/* The run's id, as run.json holds it: made once when the run is created
 * (rig/engine/rundir.c) and never rewritten, so a copy of the run directory
 * or a regeneration of its reports keeps it.  The judge, the reports and
 * rig sign read it here, with one validation. */
#ifndef RIG_BASE_RUNID_H
#define RIG_BASE_RUNID_H

#include <jansson.h>
#include <stddef.h>

/* Every buffer that holds a run id has this size: a longer id is no id,
 * the same for rig sign, verify, the judge, the reports and the history. */
#define RUN_ID_MAX 128

/* A parsed run.json's run_id into buf (RUN_ID_MAX bytes): 0; -ENODATA when
 * it holds none, or one that is not one line of UTF-8 text without control
 * characters shorter than RUN_ID_MAX (a run made before runs had an id, or
 * an edited run.json).  buf is "" on every error. */
int run_id_of(const json_t *run, char buf[RUN_ID_MAX]);
/* The same from run_dir/run.json: also -EBADMSG when it is no JSON object,
 * -ENOENT or another -errno when it cannot be read. */
int run_id_read(const char *run_dir, char buf[RUN_ID_MAX]);

#endif
