/* The recorder: every sample and event goes to the run directory as it is taken.
 *
 *   samples.csv   t_ns,role,quantity,value,unit,flags   (one row per reading)
 *   events.jsonl  one JSON object per line: {"t_ns":..,"event":"..",...}
 *
 * Both are appended through stdio buffers.  Samples are handed to the kernel
 * (fflush) every bench flush interval of *run* time but at most twice a flush
 * interval of *wall* time, and whenever the 64 KiB buffer is full; they are
 * fsync'ed every flush interval of wall time.  On a bench on the real clock,
 * where the two times go together, a kill -9 or a power loss loses at most
 * one interval; in virtual time a kill -9 loses at most one buffer of rows
 * (docs/faults.md, "Durability").  Events are written and fsync'ed one by one.  Every line that
 * reached the file is complete or is the one torn last line, which readers
 * skip. */
#ifndef RIG_RECORDER_H
#define RIG_RECORDER_H

#include <jansson.h>
#include "rig/base/rtime.h"
#include "drivers/driver.h"

struct recorder;

/* Opens (creates, never truncates an existing file) both files in run_dir. */
int recorder_open(struct recorder **ret, const char *run_dir, rig_ns flush_interval_ns);
/* Opens both existing files of a crashed run to append to (rig resume); a
 * torn last line is ended with a newline first. */
int recorder_open_append(struct recorder **ret, const char *run_dir, rig_ns flush_interval_ns);
/* Flushes, fsyncs and closes; returns the first write error seen, if any. */
int recorder_close(struct recorder *rec);

int recorder_sample(struct recorder *rec, enum rig_role role, const struct reading *r);
/* Appends {"t_ns": t_ns, "event": name, ...fields}; steals the reference to
 * `fields` (may be NULL). */
int recorder_event(struct recorder *rec, rig_ns t_ns, const char *name, json_t *fields);
/* Flushes and fsyncs now. */
int recorder_sync(struct recorder *rec);
/* Deletes the disk reserve a recorder keeps in run_dir (see recorder.c)
 * if one is left there, as a crash leaves it: before a run is judged. */
void recorder_drop_reserve(const char *run_dir);

#endif
