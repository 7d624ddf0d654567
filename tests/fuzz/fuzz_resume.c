/* libFuzzer harness for reading a crashed run's events.jsonl back (rig
 * resume): arbitrary bytes, cut into lines, through the scanner.  Whatever
 * it accepts must leave a plan the engine can use: a step number not
 * negative, a rate finite and not negative, the marks in bounds.  Seeded
 * with the event logs in tests/data/resume/ (tools/test-all). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "rig/engine/resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resume_scan st = { 0 };
	const char *text = (const char *)data, *end = text + size;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t len = nl ? (size_t)(nl - text) + 1 : (size_t)(end - text);

		if (resume_scan_event(&st, text, len) < 0)
			__builtin_trap();
		text += len;
	}
	if (st.last_step < 0 || !isfinite(st.rate_ml_per_h) || st.rate_ml_per_h < 0 ||
	    st.n_marks > st.cap_marks || st.n_skipped > st.n_lines)
		__builtin_trap();
	for (size_t i = 0; i < st.n_marks; i++)
		(void)st.marks[i].t_ns;
	resume_scan_free(&st);
	return 0;
}
