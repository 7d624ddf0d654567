/* Diagnostics for input files: "file:line: what is wrong; what is allowed".
 * Loaders collect every problem in a file before refusing it, so a user fixes
 * them in one pass.  Library code never prints; the CLI prints the list once. */
#ifndef RIG_DIAG_H
#define RIG_DIAG_H

#include <stdio.h>
#include <stddef.h>

struct diag {
	char *file;
	int line;          /* 0 when the problem has no line (file unreadable) */
	char *msg;         /* "what is wrong; what is allowed" */
};

struct diag_list {
	struct diag *items;
	size_t n, cap;
};

void diag_add(struct diag_list *list, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "file:line: msg\n" each, control characters escaped (text.h) */
void diag_print(const struct diag_list *list, FILE *out);
void diag_clear(struct diag_list *list);                   /* frees; list reusable */

#endif
