/* libFuzzer harness for the readers of a run directory's seal: the manifest
 * (SHA256SUMS), the signature file, the key files and a line of the
 * station's seal journal.  All are read from places someone else may have
 * written.  The first byte chooses the reader; the rest is the file.  A
 * manifest, and a journal line, that parse must format and parse again to
 * the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rig/seal/journal.h"
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

static void journal_round_trip(const char *data, size_t size)
{
	static struct journal_seal s, again;
	char prev[DIGEST_HEX_LEN + 1], prev2[DIGEST_HEX_LEN + 1], *text;
	size_t len;

	if (journal_parse_line(data, size, &s, prev) < 0)
		return;
	if (journal_format_line(&s, prev, &text, &len) < 0)
		return;   /* a string jansson read but will not write (not UTF-8): refused */
	if (journal_parse_line(text, len, &again, prev2) < 0 || memcmp(&s, &again, sizeof(s)) ||
	    strcmp(prev, prev2))
		abort();
	free(text);
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
	switch (data[0] % 5) {
	case 0: manifest_round_trip(text, size - 1); break;
	case 1:
		if (sig_parse(text, size - 1, &sig, &line) == 0)
			(void)sig_check(&sig, text, size - 1);
		break;
	case 2: sig_public_key_parse(text, size - 1, pk); break;
	case 4: journal_round_trip(text, size - 1); break;
	default: sig_secret_key_parse(text, size - 1, &sk); break;
	}
	return 0;
}
