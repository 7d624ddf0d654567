/* libFuzzer harness for the readers of a run directory's seal: the manifest
 * (SHA256SUMS), the signature file and the key files.  All three are read
 * from directories and key stores someone else may have written.  The first
 * byte chooses the reader; the rest is the file.  A manifest that parses must
 * format and parse again to the same entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rig/seal/manifest.h"
#include "rig/seal/signature.h"

static void manifest_round_trip(const char *data, size_t size)
{
	struct manifest m, again;
	size_t line;
	char *text;
	size_t len;

	if (manifest_parse(data, size, &m, &line) < 0)
		return;
	if (manifest_format(&m, &text, &len) < 0)
		abort();
	if (manifest_parse(text, len, &again, &line) < 0 || again.n != m.n)
		abort();
	for (size_t i = 0; i < m.n; i++)
		if (strcmp(m.entries[i].path, again.entries[i].path) ||
		    strcmp(m.entries[i].hex, again.entries[i].hex) ||
		    !manifest_path_valid(m.entries[i].path))
			abort();
	free(text);
	manifest_free(&again);
	manifest_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	struct signature sig;
	struct sig_secret_key sk;
	unsigned char pk[SIG_PUBLIC_KEY_BYTES];
	size_t line;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: manifest_round_trip(text, size - 1); break;
	case 1:
		if (sig_parse(text, size - 1, &sig, &line) == 0)
			(void)sig_check(&sig, text, size - 1);
		break;
	case 2: sig_public_key_parse(text, size - 1, pk); break;
	default: sig_secret_key_parse(text, size - 1, &sk); break;
	}
	return 0;
}
