/* UTF-8 checks and terminal escaping: see text.h. */
#include "text.h"

#include <stdio.h>
#include <string.h>

size_t text_utf8_char(const unsigned char *s, size_t len, uint32_t *ret_cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;   /* the second byte's range */
	uint32_t cp;
	size_t n;

	if (len == 0)
		return 0;
	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}
	/* RFC 3629, table 3-7 of the Unicode standard: the second byte's range
	 * excludes overlong forms (E0, F0), surrogates (ED) and code points past
	 * U+10FFFF (F4). */
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	*ret_cp = cp;
	return n;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

bool text_one_line(const char *s, size_t size)
{
	size_t len = s ? strlen(s) : 0;

	return len > 0 && len < size && text_check(s, len, 0, NULL);
}

bool text_check(const char *s, size_t len, unsigned allow, struct text_fault *ret)
{
	const unsigned char *p = (const unsigned char *)s;
	struct text_fault f = { TEXT_OK, 0, 0 };

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = text_utf8_char(p + i, len - i, &cp);

		if (n == 0) {
			f = (struct text_fault){ TEXT_NOT_UTF8, i, p[i] };
			break;
		}
		if (is_control(cp) && !(cp == '\t' && (allow & TEXT_ALLOW_TAB)) &&
		    !(cp == '\n' && (allow & TEXT_ALLOW_NEWLINE))) {
			f = (struct text_fault){ TEXT_CONTROL, i, cp };
			break;
		}
		i += n;
	}
	if (ret)
		*ret = f;
	return f.problem == TEXT_OK;
}

const char *text_fault_describe(const struct text_fault *f, char *buf, size_t size)
{
	static const char *const c0[0x20] = {
		"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF", "VT",
		"FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
		"CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
	};

	switch (f->problem) {
	case TEXT_NOT_UTF8:
		snprintf(buf, size, "a byte that is not UTF-8 (0x%02X)", (unsigned)f->value);
		break;
	case TEXT_CONTROL:
		snprintf(buf, size, "a control character (U+%04X%s%s)", (unsigned)f->value,
			 f->value < 0x20 ? ", " : f->value == 0x7F ? ", DEL" : "",
			 f->value < 0x20 ? c0[f->value] : "");
		break;
	default:
		snprintf(buf, size, "nothing wrong");
		break;
	}
	return buf;
}

/* Characters that reorder or break what a terminal shows without being
 * controls: the bidirectional marks, embeddings, overrides and isolates
 * ("st\u202eart" shows as "stra", reversed), and the line and paragraph
 * separators.  Escaped on a terminal like a control, kept in files. */
static bool is_spoofing(uint32_t cp)
{
	return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

const char *text_escape(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), out = 0;

	if (size == 0)
		return buf;
	for (size_t i = 0; i < len;) {
		char piece[8];
		uint32_t cp;
		size_t n = text_utf8_char(p + i, len - i, &cp), k;

		if (n == 0) {
			k = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", p[i]);
			n = 1;
		} else if (cp == '\t' || (!is_control(cp) && !is_spoofing(cp))) {
			memcpy(piece, p + i, n);
			k = n;
		} else if (cp < 0x80) {
			k = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", (unsigned)cp);
		} else {
			k = (size_t)snprintf(piece, sizeof(piece), "\\u%04x", (unsigned)cp);
		}
		/* room for this piece, and for "..." should anything follow it */
		if (out + k + (i + n < len ? 3 : 0) >= size) {
			if (out + 3 < size) {
				memcpy(buf + out, "...", 3);
				out += 3;
			}
			break;
		}
		memcpy(buf + out, piece, k);
		out += k;
		i += n;
	}
	buf[out] = '\0';
	return buf;
}

void text_trim_partial(char *s)
{
	size_t len = strlen(s), start = len;
	uint32_t cp;

	/* back to the last byte that begins a character (at most 3 back) */
	while (start > 0 && len - start < 4 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
		start--;
	if (start == 0)
		return;
	start--;
	if (text_utf8_char((const unsigned char *)s + start, len - start, &cp) == 0 &&
	    (unsigned char)s[start] >= 0xC2)
		s[start] = '\0';
}
