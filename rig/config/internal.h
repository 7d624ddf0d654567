/* Shared reading helpers for the three loaders.  Each helper reports its own
 * problem as "file:line: what is wrong; what is allowed" and counts it, so a
 * loader reads on after an error and the user sees every problem at once. */
#ifndef RIG_CONFIG_INTERNAL_H
#define RIG_CONFIG_INTERNAL_H

#include <libconfig.h>
#include <stdbool.h>
#include "config.h"
#include "units.h"

struct cfg_ctx {
	const char *path;
	struct diag_list *diags;
	int errors;
};

/* Reads the file; on failure reports it (I/O: line 0; syntax: its line).
 * Only a regular file is read, never blocking on a FIFO; its text must pass
 * both checks below. */
int cfg_read(struct cfg_ctx *ctx, config_t *cfg);

/* text.c: the file's bytes before parsing (UTF-8, LF or CR LF line ends, no
 * control characters; a UTF-16 byte-order mark refused, a UTF-8 one skipped:
 * *ret_skip bytes), then every string value after it (UTF-8, no control
 * characters but tab).  Each reports every problem at its line; -1 if any. */
int cfg_text_check_raw(struct cfg_ctx *ctx, const char *text, size_t len, size_t *ret_skip);
int cfg_text_check_strings(struct cfg_ctx *ctx, const config_t *cfg);

void cfg_error(struct cfg_ctx *ctx, const config_setting_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reports every child of group whose name is not in allowed (NULL-terminated). */
void cfg_check_keys(struct cfg_ctx *ctx, const config_setting_t *group, const char *what,
		    const char *const *allowed);

/* Each getter returns 1 when the key was present and valid, 0 when absent
 * (reported if required), -1 when present but invalid (reported).  The output
 * is left untouched unless 1 is returned, so callers preset defaults. */
config_setting_t *cfg_group(struct cfg_ctx *ctx, const config_setting_t *parent, const char *key,
			    bool required);
int cfg_string(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	       bool required, char *buf, size_t size);
int cfg_qty(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	    enum qty_kind kind, bool required, double min, double max, double *ret);
int cfg_duration(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
		 bool required, double min_s, double max_s, rig_ns *ret);
int cfg_choice(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	       bool required, const char *const *names, int *ret);
int cfg_bool(struct cfg_ctx *ctx, const config_setting_t *group, const char *key, bool *ret);
int cfg_number(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	       double min, double max, double *ret);
/* A plain number that must be whole, min..max: "'key' must be a whole
 * number[ of what], min..max" otherwise (what may be NULL). */
int cfg_whole(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	      double min, double max, const char *of_what, long *ret);
int cfg_uint64(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	       uint64_t *ret);
/* "2026-01-31": a real calendar date. */
int cfg_date(struct cfg_ctx *ctx, const config_setting_t *group, const char *key, char *buf,
	     size_t size);
/* Identifier: letters, digits, '_', '-', '.'; non-empty. */
/* A requirement id: a string (cfg_string) that is not blank and neither
 * begins nor ends with white space. */
int cfg_requirement(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
		    bool required, char *buf, size_t size);
int cfg_ident(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	      bool required, char *buf, size_t size);

/* Checks that the root holds exactly one group named top; returns it or NULL. */
config_setting_t *cfg_root_group(struct cfg_ctx *ctx, config_t *cfg, const char *top);

/* "a, b, c" from a NULL-terminated list, into buf. */
const char *cfg_join(const char *const *names, char *buf, size_t size);

#endif
