/* A serial port for a line protocol: opened raw at a given baud rate (termios),
 * written whole, read a line at a time against a deadline, and every byte
 * optionally logged with its time so the wire can be read back after a run. */
#ifndef RIG_TTY_H
#define RIG_TTY_H

#include <stdbool.h>
#include <stdio.h>
#include "rig/base/bench.h"

struct tty {
	int fd;
	FILE *log;                      /* may be NULL */
	char line[256];
	size_t n;
};

/* The baud rates tty_open takes, ending in 0. */
extern const unsigned tty_bauds[];
bool tty_baud_supported(unsigned baud);

/* Opens path raw, 8N1, no flow control, at one of tty_bauds (else -EINVAL). */
int tty_open(struct tty *t, const char *path, unsigned baud, const char *log_path);
void tty_close(struct tty *t);
/* Writes the whole buffer; t_ns is only for the log. */
int tty_write(struct tty *t, const char *buf, size_t len, rig_ns t_ns);
/* Reads one line (CR LF stripped) within timeout_ms: 1 and the line, 0 on
 * timeout, -errno.  Bytes after the line stay buffered for the next call. */
int tty_read_line(struct tty *t, unsigned timeout_ms, rig_ns t_ns, const char **ret_line);
/* Drops every byte received and not yet read, buffered here or waiting in
 * the port, logging them as received: a late answer to a command that timed
 * out must not be taken for the answer to the next one.  Returns the number
 * of bytes dropped, or -errno. */
int tty_discard_input(struct tty *t, rig_ns t_ns);

#endif
