/* What an input file's text may hold: see internal.h (cfg_text_*).
 *
 * A file is checked twice.  Its bytes before parsing: UTF-8 throughout, lines
 * ended by LF or CRLF, no control characters; each problem at its line (a
 * parse of such a file would only say "syntax error" at line 1, or worse,
 * read a CR-only file as one line, a comment that swallows everything).
 * Then every string value after parsing: libconfig's escapes (\x1b, \xff)
 * make bytes the file does not hold, so the values are checked as well;
 * except \x00, which libconfig drops, and which is looked for in the bytes.
 * Either way the string never reaches the record, where jansson would refuse
 * it and leave the run without its results. */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include "rig/base/text.h"

/* A binary file would give a problem per line; past this many, one line
 * says how many more there are. */
#define RAW_PROBLEMS_MAX 10

struct raw_scan {
	struct cfg_ctx *ctx;
	int found;
};

static void raw_problem(struct raw_scan *rs, int line, const char *fmt, const char *what,
			size_t column)
{
	if (++rs->found <= RAW_PROBLEMS_MAX)
		diag_add(rs->ctx->diags, rs->ctx->path, line, fmt, what, column);
}

/* The column (1-based, in characters) of byte offset off within its line. */
static size_t column_of(const unsigned char *line, size_t off)
{
	size_t col = 1;
	uint32_t cp;

	for (size_t i = 0; i < off; col++) {
		size_t n = text_utf8_char(line + i, off - i, &cp);

		i += n ? n : 1;
	}
	return col;
}

static int hex_digit(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* libconfig turns the escape \x00 into nothing ("ab\x00cd" is read as
 * "abcd"), so the check of the parsed values below never sees it, and the
 * record would hold another text than the copied input.  The other \x
 * escapes of a control character survive parsing and are refused there,
 * naming the key; this one is looked for here, in the string literals of
 * the file's bytes (comments skipped), and refused at its line. */
static void scan_nul_escapes(struct raw_scan *rs, const unsigned char *p, size_t len,
			     size_t start)
{
	enum { CODE, STRING, LINE_COMMENT, BLOCK_COMMENT } st = CODE;
	size_t line_start = start;
	int line = 1;

	for (size_t i = start; i < len; i++) {
		if (p[i] == '\n') {
			line++;
			line_start = i + 1;
			st = st == LINE_COMMENT ? CODE : st;
		} else if (st == CODE && p[i] == '"') {
			st = STRING;
		} else if (st == CODE && (p[i] == '#' || (p[i] == '/' && i + 1 < len &&
							   p[i + 1] == '/'))) {
			st = LINE_COMMENT;
		} else if (st == CODE && p[i] == '/' && i + 1 < len && p[i + 1] == '*') {
			st = BLOCK_COMMENT;
			i++;
		} else if (st == BLOCK_COMMENT && p[i] == '*' && i + 1 < len && p[i + 1] == '/') {
			st = CODE;
			i++;
		} else if (st == STRING && p[i] == '"') {
			st = CODE;
		} else if (st == STRING && p[i] == '\\' && i + 1 < len && p[i + 1] != '\n') {
			if (p[i + 1] == 'x' && i + 3 < len && hex_digit(p[i + 2]) == 0 &&
			    hex_digit(p[i + 3]) == 0)
				raw_problem(rs, line, "%s at column %zu makes a control character "
					    "(U+0000, NUL), which libconfig drops from the string "
					    "without a word; text in these files is UTF-8 without "
					    "control characters (tab is allowed)", "the escape \\x00",
					    column_of(p + line_start, i - line_start));
			i++;   /* the escaped character: \" does not end the string */
		}
	}
}

int cfg_text_check_raw(struct cfg_ctx *ctx, const char *text, size_t len, size_t *ret_skip)
{
	const unsigned char *p = (const unsigned char *)text;
	struct raw_scan rs = { .ctx = ctx };
	bool has_lf = memchr(text, '\n', len) != NULL;
	size_t start = 0;
	int line = 1;

	*ret_skip = 0;
	if (len >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
		diag_add(ctx->diags, ctx->path, 1, "the file is UTF-16 text (it begins with the "
			 "byte-order mark %02X %02X); input files are UTF-8: save it as UTF-8",
			 p[0], p[1]);
		ctx->errors++;
		return -1;
	}
	/* A UTF-8 byte-order mark says nothing UTF-8 does not: it is skipped
	 * (editors on Windows write one). */
	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		start = *ret_skip = 3;
	for (size_t i = start, line_start = start; i < len;) {
		uint32_t cp;
		size_t n = text_utf8_char(p + i, len - i, &cp);
		char what[64];

		if (n == 0) {
			snprintf(what, sizeof(what), "0x%02X", p[i]);
			raw_problem(&rs, line, "the byte %s (column %zu) is not UTF-8; input files "
				    "are UTF-8 text: save the file as UTF-8", what,
				    column_of(p + line_start, i - line_start));
			/* one problem a line is enough to find it */
			while (i < len && p[i] != '\n')
				i++;
			continue;
		}
		if (cp == '\r' && !(i + 1 < len && p[i + 1] == '\n')) {
			if (!has_lf) {
				diag_add(ctx->diags, ctx->path, 1, "the lines end with a carriage "
					 "return alone (CR, as old Mac OS wrote them); lines must end "
					 "with LF (Unix) or CR LF (Windows): convert the file, for "
					 "example with tr '\\r' '\\n'");
				ctx->errors++;
				return -1;
			}
			raw_problem(&rs, line, "%s at column %zu is not followed by LF; lines must "
				    "end with LF (Unix) or CR LF (Windows)", "a carriage return (CR)",
				    column_of(p + line_start, i - line_start));
		} else if (cp != '\n' && cp != '\r' && cp != '\t' &&
			   !text_check(text + i, n, 0, NULL)) {
			struct text_fault f = { TEXT_CONTROL, i, cp };

			text_fault_describe(&f, what, sizeof(what));
			raw_problem(&rs, line, "%s at column %zu; input files are plain text: no "
				    "control characters but tab and the line ends", what,
				    column_of(p + line_start, i - line_start));
		}
		i += n;
		if (cp == '\n') {
			line++;
			line_start = i;
		}
	}
	if (!rs.found)
		scan_nul_escapes(&rs, p, len, start);
	if (rs.found > RAW_PROBLEMS_MAX)
		diag_add(ctx->diags, ctx->path, 0, "%d more problems of this kind; is it a text "
			 "file?", rs.found - RAW_PROBLEMS_MAX);
	ctx->errors += rs.found;
	return rs.found ? -1 : 0;
}

/* The name a message gives a setting: its key, or for an element of a
 * list, the list's key and the element's place. */
static void setting_name(const config_setting_t *s, char *buf, size_t size)
{
	const config_setting_t *parent = config_setting_parent(s);
	const char *name = config_setting_name(s);

	if (name)
		snprintf(buf, size, "'%s'", name);
	else if (parent && config_setting_name(parent))
		snprintf(buf, size, "element %d of '%s'", config_setting_index(s) + 1,
			 config_setting_name(parent));
	else
		snprintf(buf, size, "a string");
}

static void check_setting(struct cfg_ctx *ctx, const config_setting_t *s)
{
	int type = config_setting_type(s);

	if (type == CONFIG_TYPE_GROUP || type == CONFIG_TYPE_LIST || type == CONFIG_TYPE_ARRAY) {
		int n = config_setting_length(s);

		for (int i = 0; i < n; i++)
			check_setting(ctx, config_setting_get_elem(s, (unsigned)i));
		return;
	}
	if (type == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);
		struct text_fault f;
		char name[96], what[64], shown[160];

		if (text_check(v, strlen(v), TEXT_ALLOW_TAB, &f))
			return;
		setting_name(s, name, sizeof(name));
		text_fault_describe(&f, what, sizeof(what));
		cfg_error(ctx, s, "%s = \"%s\" holds %s, %s; text in these files is UTF-8 "
			  "without control characters (tab is allowed)", name,
			  text_escape(v, shown, sizeof(shown)), what,
			  f.problem == TEXT_NOT_UTF8 ? "made by an escape such as \\xff" :
			  f.value == '\n' || f.value == '\r' ? "a line break inside the quotes, or "
			  "an escape such as \\n" :
			  "made by an escape such as \\x1b");
	}
}

int cfg_text_check_strings(struct cfg_ctx *ctx, const config_t *cfg)
{
	int before = ctx->errors;

	check_setting(ctx, config_root_setting(cfg));
	return ctx->errors > before ? -1 : 0;
}
