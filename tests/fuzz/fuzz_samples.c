/* libFuzzer harness for samples.csv rows (rig/base/record.h): every line of
 * the input through the one parser every reader uses; a row it accepts must
 * be one the recorder could have written. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rig/base/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *save = NULL;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct sample_row row;
		char as_read[256], again[256];
		enum sample_damage d;

		snprintf(as_read, sizeof(as_read), "%s\n", line);
		d = sample_row_parse(line, &row);

		if (*sample_damage_text(d) == '\0' && d != SAMPLE_ROW_OK)
			abort();
		if (d != SAMPLE_ROW_OK)
			continue;
		if (row.t_ns < 0 || !record_role_quantity(row.role, row.quantity) ||
		    (!isfinite(row.value) && !(row.flags & SAMPLE_OUT_OF_RANGE)) ||
		    strlen(row.value_text) > SAMPLE_VALUE_TEXT_MAX || strlen(row.flags_text) > 4)
			abort();
		/* written again by the recorder: the same characters */
		sample_row_format(again, sizeof(again), row.t_ns, row.role, row.quantity, row.value,
				  row.flags_text);
		if (strlen(as_read) < sizeof(as_read) - 1 && strcmp(again, as_read) != 0)
			abort();
	}
	free(text);
	return 0;
}
