/* The line formats of a run's record, shared by its writer and its readers. */
#include "record.h"

#include <errno.h>
#include <stdlib.h>

void sample_flags_format(uint32_t flags, char buf[8])
{
	char *p = buf;

	if (flags & SAMPLE_UNSTABLE)
		*p++ = 'U';
	if (flags & SAMPLE_CLIPPED)
		*p++ = 'C';
	if (flags & SAMPLE_STALE)
		*p++ = 'S';
	if (flags & SAMPLE_OUT_OF_RANGE)
		*p++ = 'R';
	*p = '\0';
}

uint32_t sample_flags_parse(const char *text)
{
	uint32_t flags = 0;

	for (; *text && *text != '\n' && *text != '\r'; text++) {
		switch (*text) {
		case 'U': flags |= SAMPLE_UNSTABLE; break;
		case 'C': flags |= SAMPLE_CLIPPED; break;
		case 'S': flags |= SAMPLE_STALE; break;
		case 'R': flags |= SAMPLE_OUT_OF_RANGE; break;
		default: break;
		}
	}
	return flags;
}

bool sample_line_parse(char *line, rig_ns *t_ns, char **role, char **qty, double *value,
		       uint32_t *flags)
{
	char *p = line, *end, *fields[6];
	size_t n = 0;

	fields[n++] = p;
	while (*p && n < 6) {
		if (*p == ',') {
			*p = '\0';
			fields[n++] = p + 1;
		}
		p++;
	}
	if (n != 6)
		return false;
	errno = 0;
	*t_ns = strtoll(fields[0], &end, 10);
	if (errno || end == fields[0] || *end)
		return false;
	*value = strtod(fields[3], &end);
	if (end == fields[3] || *end)
		return false;
	*role = fields[1];
	*qty = fields[2];
	*flags = sample_flags_parse(fields[5]);
	return true;
}
