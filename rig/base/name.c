/* A person's printed name: what it may hold, and what two are compared by
 * (name.h says why). */
#include "name.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

struct range {
	uint32_t lo, hi;
};

/* Characters that are not seen: the format characters (Cf) a name could
 * carry unseen, and the fillers and selectors that render as nothing. */
static const struct range invisible[] = {
	{ 0x00AD, 0x00AD },   /* soft hyphen */
	{ 0x034F, 0x034F },   /* combining grapheme joiner */
	{ 0x061C, 0x061C },   /* Arabic letter mark */
	{ 0x115F, 0x1160 },   /* Hangul fillers */
	{ 0x17B4, 0x17B5 },
	{ 0x180B, 0x180F },   /* Mongolian selectors, vowel separator */
	{ 0x200B, 0x200F },   /* zero-width space, (non-)joiner, LRM, RLM */
	{ 0x202A, 0x202E },   /* embeddings and overrides */
	{ 0x2060, 0x2064 },   /* word joiner, invisible operators */
	{ 0x2066, 0x206F },   /* isolates, deprecated format characters */
	{ 0x3164, 0x3164 },   /* Hangul filler */
	{ 0xFE00, 0xFE0F },   /* variation selectors */
	{ 0xFEFF, 0xFEFF },   /* byte order mark, zero-width no-break space */
	{ 0xFFA0, 0xFFA0 },   /* halfwidth Hangul filler */
	{ 0xFFF9, 0xFFFB },   /* interlinear annotation */
	{ 0x1BCA0, 0x1BCA3 }, /* shorthand format controls */
	{ 0x1D173, 0x1D17A }, /* musical format characters */
	{ 0xE0000, 0xE0FFF }, /* tags, variation selectors supplement */
};

/* Spaces other than U+0020 (Zs, and the line and paragraph separators). */
static const struct range odd_space[] = {
	{ 0x00A0, 0x00A0 }, { 0x1680, 0x1680 }, { 0x2000, 0x200A }, { 0x2028, 0x2029 },
	{ 0x202F, 0x202F }, { 0x205F, 0x205F }, { 0x3000, 0x3000 },
};

/* Combining diacritical marks: "e" followed by U+0301 shows as the one
 * letter U+00E9 and would be another name to compare; every Latin, Greek
 * and Cyrillic letter with its accent has a character of its own. */
static const struct range combining[] = {
	{ 0x0300, 0x036F }, { 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF }, { 0x20D0, 0x20FF },
	{ 0xFE20, 0xFE2F },
};

#define FULLWIDTH_LO 0xFF01u   /* U+FF01..U+FF5E are U+0021..U+007E */
#define FULLWIDTH_HI 0xFF5Eu
#define FULLWIDTH_SHIFT 0xFEE0u

/* Cyrillic and Greek letters that look like a Latin one, and that letter
 * (lower case: the skeleton folds case).  From Unicode's confusables.txt,
 * the letters a Latin name can be spelled with. */
static const struct {
	uint32_t cp;
	char latin;
} lookalike[] = {
	/* Greek capitals and small letters */
	{ 0x0391, 'a' }, { 0x0392, 'b' }, { 0x0395, 'e' }, { 0x0396, 'z' }, { 0x0397, 'h' },
	{ 0x0399, 'i' }, { 0x039A, 'k' }, { 0x039C, 'm' }, { 0x039D, 'n' }, { 0x039F, 'o' },
	{ 0x03A1, 'p' }, { 0x03A4, 't' }, { 0x03A5, 'y' }, { 0x03A7, 'x' }, { 0x03B1, 'a' },
	{ 0x03B3, 'y' }, { 0x03B9, 'i' }, { 0x03BA, 'k' }, { 0x03BD, 'v' }, { 0x03BF, 'o' },
	{ 0x03C1, 'p' }, { 0x03C5, 'u' }, { 0x03C7, 'x' }, { 0x03F2, 'c' }, { 0x03F3, 'j' },
	{ 0x03F9, 'c' },
	/* Cyrillic */
	{ 0x0405, 's' }, { 0x0406, 'i' }, { 0x0408, 'j' }, { 0x0410, 'a' }, { 0x0412, 'b' },
	{ 0x0415, 'e' }, { 0x041A, 'k' }, { 0x041C, 'm' }, { 0x041D, 'h' }, { 0x041E, 'o' },
	{ 0x0420, 'p' }, { 0x0421, 'c' }, { 0x0422, 't' }, { 0x0423, 'y' }, { 0x0425, 'x' },
	{ 0x0430, 'a' }, { 0x0435, 'e' }, { 0x043E, 'o' }, { 0x0440, 'p' }, { 0x0441, 'c' },
	{ 0x0443, 'y' }, { 0x0445, 'x' }, { 0x0450, 'e' }, { 0x0451, 'e' }, { 0x0455, 's' },
	{ 0x0456, 'i' }, { 0x0457, 'i' }, { 0x0458, 'j' }, { 0x04AE, 'y' }, { 0x04AF, 'y' },
	{ 0x04BA, 'h' }, { 0x04BB, 'h' }, { 0x04C0, 'l' }, { 0x04CF, 'l' }, { 0x0500, 'd' },
	{ 0x0501, 'd' }, { 0x051A, 'q' }, { 0x051B, 'q' }, { 0x051C, 'w' }, { 0x051D, 'w' },
};

static bool in_ranges(uint32_t cp, const struct range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	return false;
}

#define IN(cp, table) in_ranges((cp), (table), sizeof(table) / sizeof((table)[0]))

enum script { SCRIPT_NONE, SCRIPT_LATIN, SCRIPT_GREEK, SCRIPT_CYRILLIC };

static enum script script_of(uint32_t cp)
{
	if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
	    (cp >= 0x00C0 && cp <= 0x024F && cp != 0x00D7 && cp != 0x00F7) ||
	    (cp >= 0x1E00 && cp <= 0x1EFF))
		return SCRIPT_LATIN;
	if ((cp >= 0x0370 && cp <= 0x03FF) || (cp >= 0x1F00 && cp <= 0x1FFF))
		return SCRIPT_GREEK;
	if (cp >= 0x0400 && cp <= 0x052F)
		return SCRIPT_CYRILLIC;
	return SCRIPT_NONE;
}

bool name_check(const char *s, struct name_fault *ret)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	struct name_fault f = { NAME_BLANK, 0, 0 };
	enum script seen = SCRIPT_NONE;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = text_utf8_char(p + i, len - i, &cp);
		enum script sc;

		if (n == 0) {   /* not UTF-8: text_one_line's to refuse */
			n = 1;
			cp = p[i];
		}
		if (cp == ' ' || cp == '\t') {
			seen = SCRIPT_NONE;
			i += n;
			continue;
		}
		if (f.problem == NAME_BLANK)
			f.problem = NAME_OK;
		if (IN(cp, invisible)) {
			f = (struct name_fault){ NAME_INVISIBLE, i, cp };
			break;
		}
		if (IN(cp, odd_space)) {
			f = (struct name_fault){ NAME_ODD_SPACE, i, cp };
			break;
		}
		if (IN(cp, combining)) {
			f = (struct name_fault){ NAME_COMBINING, i, cp };
			break;
		}
		if (cp >= FULLWIDTH_LO && cp <= FULLWIDTH_HI) {
			f = (struct name_fault){ NAME_FULLWIDTH, i, cp };
			break;
		}
		sc = script_of(cp);
		if (sc != SCRIPT_NONE && seen != SCRIPT_NONE && sc != seen) {
			f = (struct name_fault){ NAME_MIXED_SCRIPT, i, cp };
			break;
		}
		if (sc != SCRIPT_NONE)
			seen = sc;
		i += n;
	}
	if (ret)
		*ret = f;
	return f.problem == NAME_OK;
}

const char *name_fault_describe(const struct name_fault *f, char *buf, size_t size)
{
	static const char *const what[] = {
		[NAME_OK] = "nothing wrong",
		[NAME_BLANK] = "nothing but blanks",
		[NAME_INVISIBLE] = "an invisible (format) character",
		[NAME_ODD_SPACE] = "a space other than the ASCII space",
		[NAME_FULLWIDTH] = "a fullwidth form of an ASCII character",
		[NAME_MIXED_SCRIPT] = "a letter of another script in a word of Latin letters, or "
				      "the reverse: a look-alike",
		[NAME_COMBINING] = "a combining accent; write the accented letter as one "
				   "character (é, not e and U+0301)",
	};

	if (f->problem == NAME_OK || f->problem == NAME_BLANK)
		snprintf(buf, size, "%s", what[f->problem]);
	else
		snprintf(buf, size, "U+%04X (%s) at byte %zu", (unsigned)f->cp, what[f->problem],
			 f->offset);
	return buf;
}

static char fold(uint32_t cp)
{
	if (cp >= FULLWIDTH_LO && cp <= FULLWIDTH_HI)
		cp -= FULLWIDTH_SHIFT;
	if (cp < 0x80)
		return (char)(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp);
	for (size_t i = 0; i < sizeof(lookalike) / sizeof(lookalike[0]); i++)
		if (lookalike[i].cp == cp)
			return lookalike[i].latin;
	return 0;
}

void name_skeleton(const char *s, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), o = 0;
	bool space = false;

	if (size == 0)
		return;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = text_utf8_char(p + i, len - i, &cp);
		char c;

		if (n == 0) {
			n = 1;
			cp = p[i];
		}
		if (IN(cp, invisible)) {
			i += n;
			continue;
		}
		c = fold(cp);
		if (c == ' ' || c == '\t' || IN(cp, odd_space)) {
			space = o > 0;
			i += n;
			continue;
		}
		if (space) {
			if (o + 1 >= size)
				break;
			out[o++] = ' ';
			space = false;
		}
		if (c) {
			if (o + 1 >= size)
				break;
			out[o++] = c;
		} else {   /* kept as it is */
			if (o + n >= size)
				break;
			memcpy(out + o, p + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
}
