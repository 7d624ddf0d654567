/* libFuzzer harness for the three file loaders and their diagnostics.
 * The first byte chooses the loader; the rest is the file.  Seeded with the
 * shipped sequences and fixtures (tools/test-all).  Any crash, leak,
 * sanitizer finding or hang is a failure. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rig/config/config.h"

static char path[4096];

static void write_input(const uint8_t *data, size_t size)
{
	FILE *f;

	if (!path[0]) {
		int fd;

		const char *tmp = getenv("TMPDIR");

		snprintf(path, sizeof(path), "%s/pumprig-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list diags = { 0 };
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	uint8_t which;

	if (size < 1)
		return 0;
	which = data[0] % 3;
	write_input(data + 1, size - 1);
	switch (which) {
	case 0: seq_load(path, &seq, &diags); break;
	case 1: bench_load(path, &bench, &diags); break;
	default: device_load(path, &dev, &diags); break;
	}
	/* Formatting every diagnostic exercises the message code too. */
	{
		FILE *null = fopen("/dev/null", "w");

		if (null) {
			diag_print(&diags, null);
			fclose(null);
		}
	}
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	diag_clear(&diags);
	return 0;
}
