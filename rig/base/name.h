/* A person's printed name: the operator of a run, the signer of a
 * signature (21 CFR 11.50: the record shows who).
 *
 * Separation of duties (the one who reviewed a run cannot approve it)
 * compares names, so a name must not be able to look like another one and
 * compare as different.  Two rules:
 *
 *  - name_check() refuses what no one types for a name of their own and
 *    what only serves to make two names look alike: characters that are
 *    not seen (Unicode format characters: zero-width space and joiners,
 *    direction marks and overrides, the byte order mark, tags), spaces
 *    other than the ASCII space (no-break, en/em, ideographic ...), the
 *    fullwidth forms of ASCII, a name of nothing but blanks, and a word
 *    that mixes Latin letters with Cyrillic or Greek ones ("Revi\u0435wer"
 *    with a Cyrillic e).
 *  - name_skeleton() is what two names are compared by: ASCII case folded,
 *    runs of blanks one space, padding gone, and (for names recorded before
 *    the check, or written in one script) fullwidth forms and the common
 *    Cyrillic and Greek look-alikes of Latin letters folded to the Latin
 *    letter, invisible characters dropped, other spaces a space.  After
 *    Unicode TR 39's "skeleton", with a small table instead of its whole
 *    confusables list. */
#ifndef RIG_BASE_NAME_H
#define RIG_BASE_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum name_problem {
	NAME_OK,
	NAME_BLANK,          /* nothing but spaces and tabs */
	NAME_INVISIBLE,      /* a format character (Cf) or another invisible one */
	NAME_ODD_SPACE,      /* a space other than U+0020 */
	NAME_FULLWIDTH,      /* U+FF01..U+FF5E */
	NAME_MIXED_SCRIPT,   /* a word with Latin and Cyrillic or Greek letters */
	NAME_COMBINING,      /* a combining diacritical mark: "e" + U+0301 looks like "é" */
};

struct name_fault {
	enum name_problem problem;
	size_t offset;       /* of the character in bytes */
	uint32_t cp;         /* the character */
};

/* Whether s (UTF-8, already through text_one_line) may stand as a
 * person's name; else false and the first problem in *ret (may be NULL). */
bool name_check(const char *s, struct name_fault *ret);

/* The problem in words, for "...: <words>; a name must be ...":
 * "U+200B (an invisible character) at byte 11".  Returns buf. */
const char *name_fault_describe(const struct name_fault *f, char *buf, size_t size);

/* The skeleton of s into out (always NUL-terminated): two names are the
 * same person's when their skeletons are equal. */
void name_skeleton(const char *s, char *out, size_t size);

#endif
