/* One run per bench at a time.
 *
 * A run (or a resume) holds an exclusive flock(2) on a file named after the
 * bench id, in $PUMPRIG_LOCK_DIR, else /run/lock/pumprig, else
 * $XDG_RUNTIME_DIR/pumprig, else /tmp/pumprig-lock-<uid>.  The file holds
 * one JSON line naming the holder: {"pid", "host", "run_dir", "since"}.  The
 * kernel drops a flock when its holder dies however it dies, so a file with
 * a holder line whose flock is free was left by a run that crashed: it is
 * stale, and taken over.  A run that ends empties the file before letting go. */
#ifndef RIG_LOCK_H
#define RIG_LOCK_H

#include <stddef.h>

struct bench_lock;

/* Takes the bench's lock for run_dir.  Returns 0 (and, when the previous
 * holder crashed, its holder line in stale, else stale = ""), -EBUSY with
 * the live holder's line in holder, or another negative errno (holder then
 * says what could not be done). */
int bench_lock_acquire(const char *bench_id, const char *run_dir, struct bench_lock **ret,
		       char *holder, size_t holder_len, char *stale, size_t stale_len);
/* The run directory changed after taking the lock (a suffixed default name). */
int bench_lock_set_run_dir(struct bench_lock *lock, const char *run_dir);
/* The lock file's path. */
const char *bench_lock_path(const struct bench_lock *lock);
/* Empties the file and lets go; accepts NULL. */
void bench_lock_release(struct bench_lock *lock);

/* A holder line in words: "pid 123 on host x since T, recording to DIR";
 * the line itself when it is no JSON. */
void bench_lock_describe(const char *line, char *buf, size_t len);

#endif
