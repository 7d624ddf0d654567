/* The serial line protocol of a bench-instrumented pump (docs/pump-link.md).
 * Pure: formatting and parsing only, no I/O, so it is tested and fuzzed
 * without a device.
 *
 * Every line is "<body>*HH\r\n", HH the two upper-case hex digits of the XOR
 * of the body's bytes.  The host sends "<seq> <command>"; the pump answers
 * "<seq> OK", "<seq> ERR <errno> <text>" or "<seq> STATUS ..." with the same
 * sequence number, so a retried command and a late answer are recognised. */
#ifndef RIG_PUMPLINK_PROTOCOL_H
#define RIG_PUMPLINK_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PUMPLINK_LINE_MAX 160   /* longest valid line, "\r\n" included */

enum pumplink_cmd_kind { PL_RATE, PL_BOLUS, PL_STOP, PL_STATUS, PL_IDENT, PL_REFILL };

struct pumplink_cmd {
	unsigned seq;
	enum pumplink_cmd_kind kind;
	double rate_ml_per_h;        /* RATE, BOLUS */
	double volume_ml;            /* BOLUS, REFILL */
	bool patient;                /* BOLUS: a patient's demand ("PATIENT" after the rate),
	                                refused within the pump's lockout */
};

enum pumplink_reply_kind { PL_OK, PL_ERR, PL_STATUS_REPLY, PL_IDENT_REPLY };

/* A serial number or firmware version on the link: 1 to 40 printable ASCII
 * characters, no space and no '*' (the checksum's mark). */
#define PUMPLINK_IDENT_MAX 40
bool pumplink_ident_token_valid(const char *s);

struct pumplink_reply {
	unsigned seq;
	enum pumplink_reply_kind kind;
	int err;                     /* ERR: a positive errno value */
	/* STATUS */
	bool running, bolus_active;
	double rate_ml_per_h;
	uint32_t alarms;             /* 1 occlusion, 2 low battery (replacement), 4 reservoir
	                                low, 8 reservoir empty (stopped) */
	double delivered_ml, battery_v, reservoir_ml;
	/* IDENT: what the pump says it is */
	char serial[PUMPLINK_IDENT_MAX + 1];
	char firmware[PUMPLINK_IDENT_MAX + 1];
	/* IDENT: the answer ends in "SIMULATOR": the pump is rig's own wire
	 * simulator (rig sim serve), whose record is never evidence */
	bool simulator;
};

uint8_t pumplink_checksum(const char *body, size_t len);

/* Formats a whole line ("...*HH\r\n"); returns its length, or -ENOSPC. */
int pumplink_format_cmd(const struct pumplink_cmd *cmd, char *buf, size_t size);
int pumplink_format_reply(const struct pumplink_reply *rep, char *buf, size_t size);

/* Parses one line (with or without its "\r\n").  -EBADMSG: no or a wrong
 * checksum; -ENOMSG: an unknown command or reply; -EINVAL: malformed
 * fields, numbers out of range, trailing text. */
int pumplink_parse_cmd(const char *line, size_t len, struct pumplink_cmd *ret);
int pumplink_parse_reply(const char *line, size_t len, struct pumplink_reply *ret);

/* Collects bytes into lines.  pumplink_assembler_push returns 1 and the
 * line (without "\r\n", NUL-terminated) when one is complete, 0 when more is
 * needed, -EMSGSIZE when a line overflowed (it is discarded up to its end). */
struct pumplink_assembler {
	char buf[PUMPLINK_LINE_MAX];
	size_t n;
	bool overflow;
};
int pumplink_assembler_push(struct pumplink_assembler *a, char c, const char **ret_line);

#endif
