/* The run record's line formats, written by the recorder (rig/engine/) and
 * read back by the judge, the report and resume:
 *
 *   samples.csv   t_ns,role,quantity,value,unit,flags   (one row per reading)
 *
 * flags are letters: U unstable, C clipped, S stale, R out of range. */
#ifndef RIG_BASE_RECORD_H
#define RIG_BASE_RECORD_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include "bench.h"

void sample_flags_format(uint32_t flags, char buf[8]);
uint32_t sample_flags_parse(const char *text);

/* The header line rig writes first. */
#define SAMPLES_HEADER "t_ns,role,quantity,value,unit,flags"

/* Whether a role records a quantity: scale mass, flow flow, pressure
 * pressure, power current and voltage, alarm alarm (its line's edges), pump
 * delivered, reservoir and voltage (its own telemetry). */
bool record_role_quantity(enum rig_role role, enum quantity q);

/* What is wrong with a samples.csv row that is not one rig writes. */
enum sample_damage {
	SAMPLE_ROW_OK,
	SAMPLE_ROW_MALFORMED,         /* not six fields, or a time or a value not written
					 as the recorder writes them (a sign, a space, a
					 leading zero, a trailing zero, 11 digits...) */
	SAMPLE_ROW_NEGATIVE_TIME,     /* run time starts at 0 and only goes on */
	SAMPLE_ROW_UNKNOWN_ROLE,
	SAMPLE_ROW_UNKNOWN_QUANTITY,  /* one its role does not record */
	SAMPLE_ROW_WRONG_UNIT,        /* not the unit rig records the quantity in */
	SAMPLE_ROW_UNKNOWN_FLAG,      /* a flag other than U, C, S, R */
	SAMPLE_ROW_NOT_FINITE,        /* NaN or infinite without the R flag rig gives it */
};
/* "negative time", ...; "" for SAMPLE_ROW_OK. */
const char *sample_damage_text(enum sample_damage d);

/* The longest value text rig writes (%.10g) is 17 characters. */
#define SAMPLE_VALUE_TEXT_MAX 32

/* snprintf(buf, len, "%.10g", v), the same text character for character,
 * at a fraction of its cost (the recorder writes one per reading); its
 * length. */
int sample_value_format(char *buf, size_t len, double v);
/* One samples.csv row with its newline, as
 * "%lld,%s,%s,%.10g,%s,%s\n" of t_ns, the role's, quantity's and unit's
 * names, value and flags would print it; its length (which may be len or
 * more when buf is too short, as snprintf's). */
int sample_row_format(char *buf, size_t len, rig_ns t_ns, enum rig_role role, enum quantity q,
		      double value, const char *flags);

/* One samples.csv row, split in place: the parsed fields, and the value
 * and flags as written (to be copied character for character). */
struct sample_row {
	rig_ns t_ns;
	enum rig_role role;
	enum quantity quantity;
	double value;
	uint32_t flags;
	const char *value_text, *flags_text;
};

/* One line of samples.csv (the newline already removed), split in place.
 * Returns SAMPLE_ROW_OK with *ret filled for a reading rig could have
 * written, else what is wrong with it (the header is MALFORMED too: the
 * caller skips the first line).  A row flagged R may hold a value that is
 * not finite: the recorder flags every such reading R. */
enum sample_damage sample_row_parse(char *line, struct sample_row *ret);

/* The run's samples.csv to read: the plain file while there is one (a run
 * being recorded, interrupted, or of a bench that does not compress), else
 * samples.csv.zst decompressed as it is read (record_zst.c).  It can be
 * rewound, not otherwise sought.  NULL with errno set when neither can be
 * opened. */
FILE *samples_open(const char *run_dir);
/* samples.csv replaced by samples.csv.zst (zstd, with its checksum), the
 * compressed file durable before the plain one is removed; 0 also when
 * there is no plain file (compressed before).  A negative errno leaves
 * samples.csv as it was. */
int samples_compress(const char *run_dir);

#endif
