/* Text that enters the record, and text that leaves for a terminal.
 *
 * Every string a file or the command line carries into a run's record
 * (run.json, events.jsonl, notes.jsonl, results.json, the reports) must be
 * UTF-8: jansson refuses anything else, and a record that cannot be written
 * is a run without its results.  Such text is checked where it enters
 * (text_check) and refused there, with where and what.
 *
 * What rig prints to a terminal may quote text it did not write: a label, a
 * path, a file name in a run directory, a line of a damaged file.  A control
 * character in it (ESC starts the sequences that clear a screen or move the
 * cursor) would act on the terminal instead of being seen, so every such
 * string goes out through text_escape (TERM_SAFE), which writes them
 * visibly.  Files keep the exact text. */
#ifndef RIG_BASE_TEXT_H
#define RIG_BASE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum text_problem {
	TEXT_OK,
	TEXT_NOT_UTF8,     /* a byte that does not begin or continue a UTF-8 character */
	TEXT_CONTROL,      /* C0 (U+0000..U+001F), DEL (U+007F) or C1 (U+0080..U+009F) */
};

/* Control characters a text may hold all the same. */
#define TEXT_ALLOW_TAB 1u
#define TEXT_ALLOW_NEWLINE 2u

struct text_fault {
	enum text_problem problem;
	size_t offset;         /* of the first offending byte */
	uint32_t value;        /* the byte (TEXT_NOT_UTF8) or code point (TEXT_CONTROL) */
};

/* True when s[0..len) is UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF) without control characters other than those in
 * allow; else false with the first problem in *ret (may be NULL). */
bool text_check(const char *s, size_t len, unsigned allow, struct text_fault *ret);

/* True when s is one line of text that fits a field of size bytes: not
 * NULL, not empty, shorter than size, and text_check without exceptions.
 * An operator's or a signer's name, a run id given on the command line. */
bool text_one_line(const char *s, size_t size);

/* The fault in words: "a byte that is not UTF-8 (0xE9)", "a control
 * character (U+001B, ESC)".  Returns buf. */
const char *text_fault_describe(const struct text_fault *f, char *buf, size_t size);

/* The length of the UTF-8 character at s (1 to 4), or 0 when s[0] does not
 * begin a valid one within len bytes; *ret_cp gets its code point. */
size_t text_utf8_char(const unsigned char *s, size_t len, uint32_t *ret_cp);

/* Copies s into buf for a terminal: printable characters as they are, tab
 * kept, every other control character and DEL as \xNN, C1 controls as
 * \uNNNN, a byte that is not UTF-8 as \xNN.  Always NUL-terminated; a text
 * too long for buf is cut at a character boundary and ends in "...".
 * Returns buf. */
const char *text_escape(const char *s, char *buf, size_t size);

/* text_escape into a buffer that lives until the end of the enclosing block,
 * for one argument of a printf: fprintf(stderr, "%s", TERM_SAFE(label)). */
#define TEXT_TERM_MAX 4096
#define TERM_SAFE(s) text_escape((s), (char[TEXT_TERM_MAX]){ 0 }, TEXT_TERM_MAX)

/* Cuts an incomplete UTF-8 character off the end of s, as a truncating
 * snprintf can leave one. */
void text_trim_partial(char *s);

#endif
