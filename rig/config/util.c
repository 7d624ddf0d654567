/* Reading helpers shared by the loaders: see config_internal.h. */
#define _GNU_SOURCE  /* vasprintf */
#include "internal.h"
#include "rig/base/infile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	default: return "something else";
	}
}

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

void cfg_error(struct cfg_ctx *ctx, const config_setting_t *at, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diag_add(ctx->diags, ctx->path, line_of(at), "%s", msg ? msg : "out of memory");
	free(msg);
	ctx->errors++;
}

/* Input files are small; anything larger is a mistake (a data file given
 * as a sequence), not something to parse. */
#define CFG_FILE_MAX (1 << 20)

/* Reads the whole file into a NUL-terminated buffer, or reports why not. */
static char *read_text(struct cfg_ctx *ctx, size_t *ret_len)
{
	FILE *f = infile_fopen(ctx->path);
	char *text, why[128];
	size_t n;

	if (!f) {
		if (errno == RIG_ENOTREG)
			diag_add(ctx->diags, ctx->path, 0, "%s; give a libconfig text file",
				 infile_strerror(ctx->path, errno, why, sizeof(why)));
		else
			diag_add(ctx->diags, ctx->path, 0, "cannot read the file (%s); give a "
				 "readable libconfig file", strerror(errno));
		return NULL;
	}
	text = malloc(CFG_FILE_MAX + 1);
	if (!text) {
		fclose(f);
		diag_add(ctx->diags, ctx->path, 0, "out of memory reading the file");
		return NULL;
	}
	n = fread(text, 1, CFG_FILE_MAX + 1, f);
	if (ferror(f) || n > CFG_FILE_MAX) {
		diag_add(ctx->diags, ctx->path, 0, ferror(f) ? "cannot read the file (I/O error)" :
			 "the file is larger than 1 MiB; input files are small text files");
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	text[n] = '\0';
	*ret_len = n;
	return text;
}

/* libconfig's @include would pull in files that the run directory's copy of
 * the inputs does not hold (and libconfig 1.5 exits the process on some bad
 * include paths), so every input file must stand alone. */
static int refuse_includes(struct cfg_ctx *ctx, const char *text)
{
	int line = 1, found = 0;

	for (const char *p = text; *p; line++) {
		const char *eol = strchr(p, '\n');

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "@include", 8) == 0) {
			diag_add(ctx->diags, ctx->path, line, "@include is not allowed; each "
				 "sequence, bench and device file must stand alone so the run "
				 "directory's copy of it is the whole input");
			found++;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return found;
}

int cfg_read(struct cfg_ctx *ctx, config_t *cfg)
{
	size_t len = 0, skip = 0;
	char *text;

	config_init(cfg);
	text = read_text(ctx, &len);
	if (!text) {
		ctx->errors++;
		return -EINVAL;
	}
	/* the text's own problems first: parsed, they would only be a syntax
	 * error at line 1, or a CR-only file read as one line */
	if (cfg_text_check_raw(ctx, text, len, &skip) < 0 || refuse_includes(ctx, text + skip)) {
		free(text);
		ctx->errors++;
		return -EINVAL;
	}
	if (config_read_string(cfg, text + skip) == CONFIG_TRUE) {
		free(text);
		return cfg_text_check_strings(ctx, cfg) < 0 ? -EINVAL : 0;
	}
	free(text);
	diag_add(ctx->diags, ctx->path, config_error_line(cfg),
		 "%s; the file must be libconfig syntax: key = value; groups { ... }; "
		 "lists ( ... ), every setting ended by ';'", config_error_text(cfg));
	ctx->errors++;
	return -EINVAL;
}

const char *cfg_join(const char *const *names, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i]; i++) {
		int w = snprintf(buf + n, size - n, "%s%s", i ? ", " : "", names[i]);

		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
	}
	return buf;
}

void cfg_check_keys(struct cfg_ctx *ctx, const config_setting_t *group, const char *what,
		    const char *const *allowed)
{
	char list[512];
	int n;

	if (!group)
		return;
	n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		config_setting_t *child = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(child);
		bool ok = false;

		if (!name)
			continue;
		for (size_t k = 0; allowed[k] && !ok; k++)
			ok = strcmp(allowed[k], name) == 0;
		if (!ok)
			cfg_error(ctx, child, "unknown key '%s' in %s; allowed: %s", name, what,
				  cfg_join(allowed, list, sizeof(list)));
	}
}

static config_setting_t *member(const config_setting_t *group, const char *key)
{
	return group ? config_setting_get_member(group, key) : NULL;
}

static void missing(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
		    const char *hint)
{
	const char *name = group ? config_setting_name(group) : NULL;

	if (name)
		cfg_error(ctx, group, "missing '%s' in %s; %s", key, name, hint);
	else
		cfg_error(ctx, group, "missing '%s'; %s", key, hint);
}

config_setting_t *cfg_group(struct cfg_ctx *ctx, const config_setting_t *parent, const char *key,
			    bool required)
{
	config_setting_t *s = member(parent, key);

	if (!s) {
		if (required && parent)
			missing(ctx, parent, key, "it is a required group: key = { ... };");
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		cfg_error(ctx, s, "'%s' must be a group { ... }; it is %s", key,
			  type_name(config_setting_type(s)));
		return NULL;
	}
	return s;
}

int cfg_string(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	       bool required, char *buf, size_t size)
{
	config_setting_t *s = member(group, key);
	const char *v;

	if (!s) {
		if (required && group)
			missing(ctx, group, key, "it is required: key = \"text\";");
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_error(ctx, s, "'%s' must be a string in double quotes; it is %s", key,
			  type_name(config_setting_type(s)));
		return -1;
	}
	v = config_setting_get_string(s);
	if (required && v[0] == '\0') {
		cfg_error(ctx, s, "'%s' is empty; it must be a non-empty string", key);
		return -1;
	}
	if (strlen(v) >= size) {
		cfg_error(ctx, s, "'%s' is too long (%zu characters); at most %zu are allowed", key,
			  strlen(v), size - 1);
		return -1;
	}
	memcpy(buf, v, strlen(v) + 1);
	return 1;
}

int cfg_requirement(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
		    bool required, char *buf, size_t size)
{
	int r = cfg_string(ctx, group, key, required, buf, size);
	size_t n;

	if (r != 1 || !buf[0])
		return r;
	n = strlen(buf);
	if (strspn(buf, " \t\r\n\v\f") == n) {
		cfg_error(ctx, member(group, key), "'%s' is blank; a requirement id names the "
			  "requirement a verdict answers, e.g. \"ITP-40-SRS-ACC-001\"", key);
		buf[0] = '\0';
		return -1;
	}
	if (strchr(" \t\r\n\v\f", buf[0]) || strchr(" \t\r\n\v\f", buf[n - 1])) {
		cfg_error(ctx, member(group, key), "'%s' = \"%s\" begins or ends with white space, "
			  "which a reader of the results cannot see; remove it", key, buf);
		buf[0] = '\0';
		return -1;
	}
	return 1;
}

int cfg_ident(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	      bool required, char *buf, size_t size)
{
	char tmp[RIG_TEXT_MAX];
	int r = cfg_string(ctx, group, key, required, tmp, size < sizeof(tmp) ? size : sizeof(tmp));

	if (r != 1)
		return r;
	for (const char *c = tmp; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.')) {
			cfg_error(ctx, member(group, key), "'%s' = \"%s\" must be one word made of "
				  "letters, digits, '_', '-' and '.'", key, tmp);
			return -1;
		}
	}
	if (tmp[0] == '\0') {
		cfg_error(ctx, member(group, key), "'%s' is empty; it must be a non-empty name", key);
		return -1;
	}
	memcpy(buf, tmp, strlen(tmp) + 1);
	return 1;
}

/* "%g" with the canonical unit, for range messages. */
/* A limit as a reader would write it: a duration in the largest unit that
 * holds it whole ("7 day", not "604800 s"); a lower limit that only says
 * "more than zero" (1e-6 and less) as that. */
static void fmt_limit(char *buf, size_t size, double v, enum qty_kind kind)
{
	static const struct {
		double s;
		const char *unit;
	} units[] = { { 86400, "day" }, { 3600, "h" }, { 60, "min" } };

	if (v > 0 && v <= 1e-6) {
		snprintf(buf, size, "just above 0 %s", qty_kind_canonical(kind));
		return;
	}
	if (kind == QTY_DURATION)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (v >= units[i].s && fmod(v, units[i].s) == 0) {
				snprintf(buf, size, "%g %s", v / units[i].s, units[i].unit);
				return;
			}
	snprintf(buf, size, "%g %s", v, qty_kind_canonical(kind));
}

int cfg_qty(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	    enum qty_kind kind, bool required, double min, double max, double *ret)
{
	config_setting_t *s = member(group, key);
	const char *text;
	char lo[48], hi[48];
	double v;
	int r;

	if (!s) {
		if (required && group) {
			char hint[256];

			snprintf(hint, sizeof(hint), "it is required: %s = \"<number> <unit>\" with "
				 "a %s unit (%s)", key, qty_kind_name(kind), qty_kind_units(kind));
			missing(ctx, group, key, hint);
		}
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_error(ctx, s, "'%s' must be a string with a unit, like \"%s\"; it is %s "
			  "(units: %s)", key, kind == QTY_DURATION ? "30 min" : "1.5 mL",
			  type_name(config_setting_type(s)), qty_kind_units(kind));
		return -1;
	}
	text = config_setting_get_string(s);
	r = qty_parse(text, kind, &v);
	switch (r) {
	case 0:
		break;
	case -ENODATA:
		cfg_error(ctx, s, "'%s' = \"%s\" has no unit; write the %s with one of: %s", key,
			  text, qty_kind_name(kind), qty_kind_units(kind));
		return -1;
	case -ENOENT:
		cfg_error(ctx, s, "'%s' = \"%s\" has an unknown unit for a %s; allowed units: %s",
			  key, text, qty_kind_name(kind), qty_kind_units(kind));
		return -1;
	case -ERANGE:
		cfg_error(ctx, s, "'%s' = \"%s\" is out of range; it must be a finite number", key,
			  text);
		return -1;
	default:
		cfg_error(ctx, s, "'%s' = \"%s\" is not a number with a unit; write it like "
			  "\"0.5 %s\"", key, text, qty_kind_canonical(kind));
		return -1;
	}
	if (v < min || v > max) {
		fmt_limit(lo, sizeof(lo), min, kind);
		fmt_limit(hi, sizeof(hi), max, kind);
		cfg_error(ctx, s, "'%s' = \"%s\" is out of range; allowed %s to %s", key, text, lo, hi);
		return -1;
	}
	*ret = v;
	return 1;
}

int cfg_duration(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
		 bool required, double min_s, double max_s, rig_ns *ret)
{
	double s;
	int r = cfg_qty(ctx, group, key, QTY_DURATION, required, min_s, max_s, &s);

	if (r == 1)
		*ret = (rig_ns)llround(s * 1e9);
	return r;
}

int cfg_choice(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	       bool required, const char *const *names, int *ret)
{
	char text[RIG_ID_MAX], list[256];
	int r = cfg_string(ctx, group, key, required, text, sizeof(text));

	if (r != 1) {
		if (r == 0 && required)
			return 0;
		return r;
	}
	for (int i = 0; names[i]; i++) {
		if (strcmp(names[i], text) == 0) {
			*ret = i;
			return 1;
		}
	}
	cfg_error(ctx, member(group, key), "'%s' = \"%s\" must be one of: %s", key, text,
		  cfg_join(names, list, sizeof(list)));
	return -1;
}

int cfg_bool(struct cfg_ctx *ctx, const config_setting_t *group, const char *key, bool *ret)
{
	config_setting_t *s = member(group, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cfg_error(ctx, s, "'%s' must be true or false (no quotes); it is %s", key,
			  type_name(config_setting_type(s)));
		return -1;
	}
	*ret = config_setting_get_bool(s);
	return 1;
}

int cfg_number(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	       double min, double max, double *ret)
{
	config_setting_t *s = member(group, key);
	double v;

	if (!s)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT: v = config_setting_get_float(s); break;
	case CONFIG_TYPE_INT: v = config_setting_get_int(s); break;
	case CONFIG_TYPE_INT64: v = (double)config_setting_get_int64(s); break;
	default:
		cfg_error(ctx, s, "'%s' must be a plain number (no quotes, no unit); it is %s", key,
			  type_name(config_setting_type(s)));
		return -1;
	}
	if (!isfinite(v) || v < min || v > max) {
		cfg_error(ctx, s, "'%s' = %g is out of range; allowed %g to %g", key, v, min, max);
		return -1;
	}
	*ret = v;
	return 1;
}

int cfg_whole(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	      double min, double max, const char *of_what, long *ret)
{
	double v;
	int r = cfg_number(ctx, group, key, min, max, &v);

	if (r != 1)
		return r;
	if (v != floor(v)) {
		cfg_error(ctx, member(group, key), "'%s' must be a whole number%s%s, %g..%g", key,
			  of_what ? " of " : "", of_what ? of_what : "", min, max);
		return -1;
	}
	*ret = (long)v;
	return 1;
}

int cfg_uint64(struct cfg_ctx *ctx, const config_setting_t *group, const char *key,
	       uint64_t *ret)
{
	config_setting_t *s = member(group, key);
	long long v;

	if (!s)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT: v = config_setting_get_int(s); break;
	case CONFIG_TYPE_INT64: v = config_setting_get_int64(s); break;
	default:
		cfg_error(ctx, s, "'%s' must be an integer (no quotes); it is %s", key,
			  type_name(config_setting_type(s)));
		return -1;
	}
	if (v < 0) {
		cfg_error(ctx, s, "'%s' = %lld is out of range; allowed 0 or more", key, v);
		return -1;
	}
	*ret = (uint64_t)v;
	return 1;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int cfg_date(struct cfg_ctx *ctx, const config_setting_t *group, const char *key, char *buf,
	     size_t size)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	char t[RIG_ID_MAX];
	int r = cfg_string(ctx, group, key, false, t, sizeof(t));
	int y, m, d;

	if (r != 1)
		return r;
	if (strlen(t) != 10 || t[4] != '-' || t[7] != '-')
		goto bad;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (t[i] < '0' || t[i] > '9'))
			goto bad;
	y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
	m = (t[5] - '0') * 10 + (t[6] - '0');
	d = (t[8] - '0') * 10 + (t[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap(y)))
		goto bad;
	if (size < 11)
		goto bad;
	memcpy(buf, t, 11);
	return 1;
bad:
	cfg_error(ctx, member(group, key), "'%s' = \"%s\" is not a date; write it as "
		  "\"YYYY-MM-DD\", for example \"2027-01-31\"", key, t);
	return -1;
}

config_setting_t *cfg_root_group(struct cfg_ctx *ctx, config_t *cfg, const char *top)
{
	config_setting_t *root = config_root_setting(cfg);
	const char *allowed[] = { top, NULL };
	config_setting_t *g;

	cfg_check_keys(ctx, root, "the top level", allowed);
	g = config_setting_get_member(root, top);
	if (!g) {
		cfg_error(ctx, NULL, "missing '%s'; the file must hold one group: %s = { ... };",
			  top, top);
		return NULL;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cfg_error(ctx, g, "'%s' must be a group { ... }; it is %s", top,
			  type_name(config_setting_type(g)));
		return NULL;
	}
	return g;
}
