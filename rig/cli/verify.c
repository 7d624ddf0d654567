/* rig verify: a run checked against its manifest and signature. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage_verify[] =
	"Usage: rig verify RUN_DIR [--public-key FILE]\n"
	"\n"
	"Recomputes the SHA-256 of every file in RUN_DIR and compares with SHA256SUMS:\n"
	"prints every ADDED, CHANGED and MISSING file, and checks SHA256SUMS.sig.\n"
	"With --public-key (a .pub file from rig keygen) the run must be signed by\n"
	"that key.  Exit status 0 when everything matches, 1 when anything does not\n"
	"(or there is no manifest), 2 for usage or a RUN_DIR that is not a run\n"
	"directory (no run.json and inputs/, no manifest).\n";

static int verify_main(int argc, char **argv)
{
	struct dir_opts d = { 0 };
	unsigned char pk[SIG_PUBLIC_KEY_BYTES];
	char fp[SIG_FINGERPRINT_LEN + 1] = "";
	struct integrity_result ir;
	int r = parse_dir_opts(argc, argv, usage_verify, 1, "P", &d);

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	if (require_run_dir(d.run_dir, "verify", "nothing was done") != 0)
		return EXIT_BAD_INPUT;
	if (d.public_key) {
		r = sig_public_key_load(d.public_key, pk);
		if (r < 0) {
			fprintf(stderr, "rig verify: %s: %s\n", d.public_key, r == -EBADMSG ?
				"not a pumprig public key (the .pub file rig keygen writes)" :
				strerror(-r));
			return EXIT_BAD_INPUT;
		}
		sig_fingerprint(pk, fp);
	}
	r = integrity_check(d.run_dir, NULL, d.public_key ? pk : NULL, print_change, stdout, &ir);
	if (r < 0) {
		fprintf(stderr, "rig verify: cannot read %s: %s\n", d.run_dir, strerror(-r));
		return r == -ENOENT || r == -ENOTDIR ? EXIT_BAD_INPUT : EXIT_CHECK_FAILED;
	}
	if (!ir.manifest_found) {
		printf("MISSING  %s: the run was never sealed (rig report seals it)\n", MANIFEST_NAME);
	} else if (ir.manifest_malformed) {
		printf("BAD      %s:%zu: not a manifest line\n", MANIFEST_NAME, ir.manifest_bad_line);
	} else {
		if (ir.sealed_utc[0])
			printf("sealed   %s by %s\n", ir.sealed_utc, ir.sealed_by);
		if (ir.after_the_fact[0])
			printf("note     sealed after the fact: %s\n", ir.after_the_fact);
		if (!ir.sig_found && ir.signed_by_key[0])
			printf("MISSING  %s: %s says it was signed by key %s\n", MANIFEST_SIG_NAME,
			       MANIFEST_NAME, ir.signed_by_key);
		else if (!ir.sig_found && ir.sig_expected_missing)
			printf("MISSING  %s: the run is not signed, and a public key (%s) was given\n",
			       MANIFEST_SIG_NAME, fp);
		else if (!ir.sig_found)
			printf("unsigned (no %s)\n", MANIFEST_SIG_NAME);
		else if (ir.sig_malformed)
			printf("BAD      %s%s%zu: not a pumprig signature file\n", MANIFEST_SIG_NAME,
			       ir.sig_bad_line ? ":" : "", ir.sig_bad_line);
		else if (!ir.sig_valid)
			printf("BAD      %s: the signature does not match %s (key %s)\n",
			       MANIFEST_SIG_NAME, MANIFEST_NAME, ir.sig_fingerprint);
		else if (ir.sig_other_key)
			printf("BAD      %s: signed by key %s, not by the expected key %s\n",
			       MANIFEST_SIG_NAME, ir.sig_fingerprint, fp);
		else
			printf("signed   by key %s: valid\n", ir.sig_fingerprint);
	}
	if (integrity_ok(&ir)) {
		printf("OK: %zu files match %s%s\n", ir.n_listed, MANIFEST_NAME,
		       ir.sig_found ? ", signature valid" : "");
		return EXIT_PASS;
	}
	printf("FAILED: %zu added, %zu changed, %zu missing%s\n", ir.n_added, ir.n_changed,
	       ir.n_missing, ir.manifest_found && !ir.manifest_malformed && (ir.sig_malformed ||
	       (ir.sig_found && !ir.sig_valid) || ir.sig_other_key || ir.sig_expected_missing) ?
	       "; signature not accepted" : "");
	return EXIT_CHECK_FAILED;
}

const struct rig_command cmd_verify = { "verify", usage_verify, verify_main };
