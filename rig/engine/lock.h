/* One run per bench, and one user per physical instrument, at a time.
 *
 * A run (a resume, a probe, a calibration) holds an exclusive flock(2) on a
 * file named after the bench id, and one on a file per physical resource the
 * bench uses (bench_resources(): serial devices, IIO channels and buffers,
 * GPIO lines, a wire simulator's clock), named "res@" and the first 32 hex
 * digits of the SHA-256 of the resource's normalised key.  So a copy of a
 * bench file under another id still finds its pump taken.  The files live in
 * $PUMPRIG_LOCK_DIR, else /run/lock/pumprig, else $XDG_RUNTIME_DIR/pumprig,
 * else /tmp/pumprig-lock-<uid>.  Each holds one JSON line naming the holder:
 * {"pid", "host", "run_dir", "since", "bench", "command"} and, in a
 * resource's file, "resource" (what it is, in words).
 *
 * The bench's file is taken first, then the resources' in the order of their
 * keys, each without waiting: the first one busy gives everything up.  Two
 * runs that need the same resources therefore meet at the same first one,
 * and one of them gets them all: in any other order each could take one and
 * both be refused.
 *
 * The kernel drops a flock when its holder dies however it dies, so a file
 * with a holder line whose flock is free was left by a run that crashed: it
 * is stale, and taken over.  A holder that ends empties its files before
 * letting go; one that gives up (a resource busy) puts back the lines it
 * found, so a crashed run's trace is not lost. */
#ifndef RIG_LOCK_H
#define RIG_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "rig/config/config.h"

struct bench_lock;

/* What was busy, for the message: the bench itself or one resource. */
struct lock_busy {
	bool bench;                          /* the bench id's lock */
	char what[RESOURCE_KEY_MAX];         /* "bench SIM-1", "serial device /dev/ttyUSB0" */
	char user[RIG_ID_MAX + 16];          /* the role or output using it here ("" for the bench) */
	int line;                            /* its line in the bench file */
	char holder[RIG_PATH_MAX + 1024];    /* the live holder's line */
	char path[RIG_PATH_MAX];             /* the lock file */
};

/* Takes the bench's lock and every resource's for run_dir ("" when the
 * holder records nowhere: probe, calibrate), command saying who ("rig run").
 * Returns 0 (and, when a previous holder crashed, its holder line in stale
 * and its file in bench_lock_stale_path(), else stale = ""), -EBUSY with
 * *busy filled, or another negative errno (busy->holder then says what could
 * not be done). */
int bench_lock_acquire(const struct bench *bench, const char *run_dir, const char *command,
		       struct bench_lock **ret, struct lock_busy *busy, char *stale,
		       size_t stale_len);
/* Whether anyone holds the bench or one of its resources now, without
 * taking anything or touching any file's content: 0 when free, -EBUSY with
 * *busy filled, or another negative errno.  For rig safe, which waits for
 * no lock and takes none. */
int bench_lock_query(const struct bench *bench, struct lock_busy *busy);
/* The run directory changed after taking the lock (a suffixed default name). */
int bench_lock_set_run_dir(struct bench_lock *lock, const char *run_dir);
/* The bench's lock file. */
const char *bench_lock_path(const struct bench_lock *lock);
/* The file whose stale holder line was taken over ("" when none). */
const char *bench_lock_stale_path(const struct bench_lock *lock);
/* How many files are held (the bench's and one per distinct resource). */
size_t bench_lock_count(const struct bench_lock *lock);
/* Empties the files and lets go; accepts NULL. */
void bench_lock_release(struct bench_lock *lock);
/* Lets go, putting back in each file the line found there: a holder that
 * records nowhere (probe, calibrate) leaves a crashed run's trace for the
 * next run to note.  Accepts NULL. */
void bench_lock_release_restoring(struct bench_lock *lock);

/* A holder line in words: "run DIR (pid 123 on host x since T, bench B)",
 * or "rig probe (pid ...)" for a holder with no run directory; the line
 * itself when it is no JSON. */
void bench_lock_describe(const char *line, char *buf, size_t len);

#endif
