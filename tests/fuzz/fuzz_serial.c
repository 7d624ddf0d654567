/* libFuzzer harness for the serial protocols: arbitrary bytes through the
 * pump link's line assembler and both of its parsers, and each line through
 * the MT-SICS command and response parsers, and as an IIO scan format (a
 * format that parses must extract a value from any bytes without reading
 * past its storage).  What parses must format back into a line that parses
 * to the same thing. */
#include <stdint.h>
#include <string.h>

#include "drivers/iio/scan.h"
#include "drivers/mtsics/protocol.h"
#include "drivers/pumplink/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pumplink_assembler a = { 0 };
	const char *line;

	for (size_t i = 0; i < size; i++) {
		struct pumplink_cmd cmd, again;
		struct pumplink_reply rep;
		struct mtsics_response mr;
		struct scan_format sf;
		enum mtsics_cmd mc;
		char buf[PUMPLINK_LINE_MAX];

		if (pumplink_assembler_push(&a, (char)data[i], &line) != 1)
			continue;
		if (pumplink_parse_cmd(line, strlen(line), &cmd) == 0 &&
		    pumplink_format_cmd(&cmd, buf, sizeof(buf)) > 0 &&
		    (pumplink_parse_cmd(buf, strlen(buf), &again) != 0 || again.kind != cmd.kind ||
		     again.seq != cmd.seq))
			__builtin_trap();
		(void)pumplink_parse_reply(line, strlen(line), &rep);
		(void)mtsics_parse_cmd(line, &mc);
		for (int c = MT_S; c <= MT_Z; c++)
			(void)mtsics_parse_response(line, (enum mtsics_cmd)c, &mr);
		if (scan_format_parse(line, &sf) == 0) {
			uint8_t bytes[8];
			int64_t v;

			memset(bytes, 0xa5, sizeof(bytes));
			if (sf.storage_bits > 64 || sf.real_bits + sf.shift > sf.storage_bits)
				__builtin_trap();
			v = scan_value_extract(&sf, bytes);
			/* an unsigned field never reads negative below 64 bits */
			if (!sf.is_signed && sf.real_bits < 64 && v < 0)
				__builtin_trap();
		}
	}
	return 0;
}
