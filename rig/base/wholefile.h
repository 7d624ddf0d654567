/* Small files read and written whole: a signature, a manifest, run.json, a
 * spool mark.  Reading refuses what is no regular file (never blocking on a
 * FIFO) and what is larger than the caller allows; writing goes beside the
 * file, is forced to disk and renamed over it, and the directory is forced
 * too, so a reader (or a crash) sees the old file or the new one, never half
 * of one. */
#ifndef RIG_BASE_WHOLEFILE_H
#define RIG_BASE_WHOLEFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Reads path whole into a malloc'd, NUL-terminated buffer.  nofollow: a
 * symbolic link in its place is refused (-ELOOP).  Returns 0, -ENOENT,
 * -RIG_ENOTREG (rig/base/infile.h) for anything but a regular file, -EFBIG
 * over max bytes, or another negative errno. */
int wholefile_read(const char *path, size_t max, bool nofollow, char **ret, size_t *ret_len);

/* Replaces dir/name with the len bytes of data, durably (the temporary name
 * holds the pid, so writers in several processes never share it).  Returns 0
 * or a negative errno (nothing replaced). */
int wholefile_replace(const char *dir, const char *name, const void *data, size_t len);

/* fsync of the directory itself: a rename or an unlink in it reaches the
 * disk only with it.  0 or a negative errno. */
int dir_sync(const char *dir);

#endif
