/* SHA-256 digests of files, through libsodium: the identity of an input file
 * in a report and the entries of a run directory's manifest. */
#ifndef RIG_DIGEST_H
#define RIG_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN 64   /* characters, without the terminating NUL */

/* Streams the file at path (constant memory) into ret_hex (lowercase,
 * DIGEST_HEX_LEN + 1 bytes).  Returns 0 or a negative errno. */
int digest_file_sha256(const char *path, char ret_hex[DIGEST_HEX_LEN + 1]);

/* The same over a buffer in memory. */
void digest_buf_sha256(const void *buf, size_t len, char ret_hex[DIGEST_HEX_LEN + 1]);

#endif
