/* Diagnostics list: see diag.h. */
#define _GNU_SOURCE  /* vasprintf */
#include "diag.h"
#include "text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_add(struct diag_list *list, const char *file, int line, const char *fmt, ...)
{
	struct diag *d;
	va_list ap;
	char *msg = NULL;
	int n;

	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct diag *items = realloc(list->items, cap * sizeof(*items));

		if (!items)
			return;   /* out of memory: the load still fails, with fewer messages */
		list->items = items;
		list->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	d = &list->items[list->n];
	d->file = strdup(file ? file : "?");
	if (!d->file) {
		free(msg);
		return;
	}
	d->line = line;
	d->msg = msg;
	list->n++;
}

void diag_print(const struct diag_list *list, FILE *out)
{
	/* A message may quote what it found (a file name, a value): to a
	 * terminal, its control characters are shown, not obeyed. */
	for (size_t i = 0; i < list->n; i++) {
		const struct diag *d = &list->items[i];

		if (d->line > 0)
			fprintf(out, "%s:%d: %s\n", TERM_SAFE(d->file), d->line, TERM_SAFE(d->msg));
		else
			fprintf(out, "%s: %s\n", TERM_SAFE(d->file), TERM_SAFE(d->msg));
	}
}

void diag_clear(struct diag_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].file);
		free(list->items[i].msg);
	}
	free(list->items);
	list->items = NULL;
	list->n = list->cap = 0;
}
