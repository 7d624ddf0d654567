/* Input files: what rig reads by a path someone gave it (a sequence, a bench
 * or device file, a key, a run directory's files).
 *
 * Such a path may name anything.  A FIFO opened for reading blocks until a
 * writer comes, a directory reads as an error, a device may act on being
 * opened; none of them is an input file.  So the path is looked at first
 * (stat: opens nothing), opened without blocking, looked at again through the
 * open file, and refused unless it is a regular file, with what it is. */
#ifndef RIG_BASE_INFILE_H
#define RIG_BASE_INFILE_H

#include <errno.h>
#include <stdio.h>
#include <sys/types.h>

/* Returned (negated) for a path that is not a regular file; infile_strerror
 * says what it is. */
#define RIG_ENOTREG EMEDIUMTYPE

/* Opens path read-only, never blocking: the file descriptor, or -errno,
 * -RIG_ENOTREG for anything but a regular file (symbolic links followed). */
int infile_open(const char *path);
/* The same as a stdio stream; NULL with errno set. */
FILE *infile_fopen(const char *path);

/* "a directory", "a FIFO (named pipe)", "a socket", "a character device",
 * "a block device", "a symbolic link", "a regular file". */
const char *file_kind_name(mode_t mode);

/* Why path could not be read, for a message (err negative or positive): for
 * RIG_ENOTREG "is a FIFO (named pipe), not a regular file" (looked up again,
 * without opening it), else strerror.  Returns buf. */
const char *infile_strerror(const char *path, int err, char *buf, size_t size);

#endif
