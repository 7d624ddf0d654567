/* The subset of METTLER TOLEDO's MT-SICS (Standard Interface Command Set,
 * level 0/1) that pumprig uses with a laboratory (micro)balance on a serial
 * port.  Pure formatting and parsing, no I/O.
 *
 * Commands end CR LF: "S" stable weight, "SI" weight immediately, "T" tare,
 * "Z" zero.  Responses: "S S <value> <unit>" (stable), "S D <value> <unit>"
 * (dynamic: not settled, to SI only), "S I" (busy, not executable now),
 * "S +" / "S -" (over- / underload); "T S <tare> <unit>", "T I", "T +",
 * "T -"; "Z A", "Z I", "Z +", "Z -"; "ES", "ET", "EL" (syntax, transmission,
 * logical error).  Values are right-aligned in a fixed-width field.
 * SI answers at once; S, T and Z first wait for the balance to settle (an
 * "I" if it does not within the balance's own stability timeout). */
#ifndef RIG_MTSICS_PROTOCOL_H
#define RIG_MTSICS_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#define MTSICS_LINE_MAX 64

enum mtsics_cmd { MT_S, MT_SI, MT_T, MT_Z };

enum mtsics_status {
	MT_STABLE,      /* S (to S, SI, T) */
	MT_DYNAMIC,     /* D: value not settled */
	MT_DONE,        /* A: zero done */
	MT_BUSY,        /* I */
	MT_OVERLOAD,    /* + */
	MT_UNDERLOAD,   /* - */
	MT_ERR_SYNTAX,  /* ES */
	MT_ERR_TRANSMISSION, /* ET */
	MT_ERR_LOGICAL, /* EL */
};

struct mtsics_response {
	enum mtsics_cmd cmd;            /* which command it answers */
	enum mtsics_status status;
	bool has_value;
	double value_g;                 /* converted from the unit given */
};

const char *mtsics_cmd_text(enum mtsics_cmd cmd);   /* "SI" */
/* "SI\r\n" into buf; returns the length or -ENOSPC. */
int mtsics_format_cmd(enum mtsics_cmd cmd, char *buf, size_t size);
/* A command line (without CR LF): 0, or -ENOMSG for one not in the subset. */
int mtsics_parse_cmd(const char *line, enum mtsics_cmd *ret);
/* A response line (without CR LF) to cmd: 0, or -EINVAL if malformed.
 * ES/ET/EL parse (status says which) whatever the command. */
int mtsics_parse_response(const char *line, enum mtsics_cmd cmd, struct mtsics_response *ret);
/* The simulator's side: a response line with CR LF. */
int mtsics_format_response(const struct mtsics_response *rep, char *buf, size_t size);

#endif
