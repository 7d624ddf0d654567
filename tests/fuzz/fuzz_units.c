/* libFuzzer harness for quantity parsing ("0.5 mL/day"), every kind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rig/config/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	double v;

	if (size < 1 || size > 256)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	qty_parse(text, (enum qty_kind)(data[0] % QTY__COUNT), &v);
	free(text);
	return 0;
}
