/* The seal's readers called directly: the manifest and signature parsers
 * refuse what they do not know, and paths that leave the run directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "rig/seal/manifest.h"
#include "rig/seal/signature.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse_text(const char *text, size_t *line)
{
	struct manifest m;
	int r = manifest_parse(text, strlen(text), &m, line);

	if (r == 0)
		manifest_free(&m);
	return r;
}

Test(integrity, the_manifest_reader_refuses_paths_that_leave_the_run_directory)
{
	/* verify would otherwise digest (and report on) files outside the run */
	static const char *const bad[] = {
		HEX64 "  ../outside\n", HEX64 "  /etc/passwd\n", HEX64 "  a/../../b\n",
		HEX64 "  ./samples.csv\n", HEX64 "  a//b\n", HEX64 "  dir/\n",
		HEX64 "  SHA256SUMS\n", "\\" HEX64 "  name\\nwith-newline\n",
		HEX64 " samples.csv\n",                        /* one space */
		"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef  x\n",
		HEX64 "  x\n" HEX64 "  x\n",                   /* listed twice */
	};
	size_t line;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse_text(bad[i], &line), -EBADMSG, "accepted: %s", bad[i]);
	cr_expect_eq(parse_text("# comment\n" HEX64 "  ok\n" HEX64 "  ../x\n", &line), -EBADMSG);
	cr_expect_eq(line, 3, "the offending line is named");
	/* GNU sha256sum's binary-mode marker reads the same bytes here */
	cr_expect_eq(parse_text(HEX64 " *data/scale.csv\n" HEX64 "  samples.csv", &line), 0);
}

Test(integrity, the_signature_reader_refuses_what_it_does_not_know)
{
	struct sig_secret_key key;
	struct signature sig;
	char *text, *bad;
	size_t len, line;

	/* RFC 8032 section 7.1, TEST 1: the secret key (seed, then public key)
	 * and the signature of the empty message */
	static const char key_text[] = "pumprig ed25519 secret key\n"
		"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n";

	cr_assert_eq(sig_secret_key_parse(key_text, strlen(key_text), &key), 0);
	cr_assert_eq(sig_sign_format(&key, "SHA256SUMS", "", 0, &text, &len), 0);
	cr_expect_not_null(strstr(text, "signature: e5564300c360ac729086e2cc806e828a84877f1eb8e5d974"
				  "d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
				  "24655141438e7a100b\n"), "%s", text);
	free(text);
	cr_assert_eq(sig_sign_format(&key, "SHA256SUMS", "abc", 3, &text, &len), 0);
	cr_assert_eq(sig_parse(text, len, &sig, &line), 0);
	cr_expect(sig_check(&sig, "abc", 3));
	cr_expect(!sig_check(&sig, "abd", 3));
	/* another algorithm, an unknown key, a fingerprint that does not fit */
	bad = strdup(text);
	memcpy(strstr(bad, "ed25519"), "ed25518", 7);
	cr_expect_eq(sig_parse(bad, len, &sig, &line), -EBADMSG);
	cr_expect_eq(line, 2);
	free(bad);
	bad = strdup(text);
	memcpy(strstr(bad, "signed-file"), "signed-fild", 11);
	cr_expect_eq(sig_parse(bad, len, &sig, &line), -EBADMSG);
	free(bad);
	bad = strdup(text);
	{
		char *fp = strstr(bad, "key-fingerprint: sha256:") + strlen("key-fingerprint: sha256:");

		*fp = *fp == '0' ? '1' : '0';
	}
	cr_expect_eq(sig_parse(bad, len, &sig, &line), -EBADMSG);
	free(bad);
	/* truncated: the signature line is missing */
	cr_expect_eq(sig_parse(text, (size_t)(strstr(text, "signature: ") - text), &sig, &line),
		     -EBADMSG);
	free(text);
}
