/* rig verify: a run checked against its manifest and signature. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage_verify[] =
	"Usage: rig verify RUN_DIR [--public-key FILE] [--journal FILE | --no-journal]\n"
	"\n"
	"Recomputes the SHA-256 of every file in RUN_DIR and compares with SHA256SUMS:\n"
	"prints every ADDED, CHANGED and MISSING file, and checks SHA256SUMS.sig.\n"
	"With --public-key (a .pub file from rig keygen) the run must be signed by\n"
	"that key.  Then checks SHA256SUMS against the station's seal journal\n"
	"($PUMPRIG_JOURNAL, else /var/lib/pumprig/seal-journal.jsonl when that folder\n"
	"exists, else $XDG_STATE_HOME/pumprig/seal-journal.jsonl): it must be the\n"
	"latest seal rig made of this run there; every seal of the run is listed.\n"
	"  --journal FILE   check against this journal (another station's, copied)\n"
	"  --no-journal     do not (a SHA256SUMS rewritten by hand then passes unless\n"
	"                   it was signed)\n"
	"Exit status 0 when everything matches, 1 when anything does not (or there\n"
	"is no manifest, or the journal does not hold the seal), 2 for usage or a\n"
	"RUN_DIR that is not a run directory (no run.json and inputs/, no manifest).\n";

static int verify_main(int argc, char **argv)
{
	struct dir_opts d = { 0 };
	unsigned char pk[SIG_PUBLIC_KEY_BYTES];
	char fp[SIG_FINGERPRINT_LEN + 1] = "";
	struct integrity_result ir;
	struct journal_where w = { .source = "--journal" };
	struct journal_check jc = { 0 };
	bool journal_ok = true, sigs_ok;
	int r = parse_dir_opts(argc, argv, usage_verify, 1, "PJn", &d);

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	if (d.journal && d.no_journal) {
		fprintf(stderr, "rig verify: --journal and --no-journal exclude each other\n\n%s",
			usage_verify);
		return EXIT_BAD_INPUT;
	}
	if (d.journal) {
		/* a journal named on the command line must be there */
		if (access(d.journal, R_OK) != 0) {
			fprintf(stderr, "rig verify: --journal %s: %s\n", TERM_SAFE(d.journal),
				strerror(errno));
			return EXIT_BAD_INPUT;
		}
		snprintf(w.path, sizeof(w.path), "%s", d.journal);
	} else if (!d.no_journal && journal_where_resolve("verify", &w) < 0) {
		return EXIT_BAD_INPUT;
	}
	if (d.public_key) {
		r = sig_public_key_load(d.public_key, pk);
		if (r < 0) {
			char why[128];

			fprintf(stderr, "rig verify: %s: %s\n", TERM_SAFE(d.public_key),
				r == -ENOKEY ? "this is a secret key; --public-key takes the public "
					       "key, the .pub file rig keygen wrote beside it (keep "
					       "the secret one on the station)" :
				r == -EBADMSG ? "not a pumprig public key (the .pub file rig keygen "
						"writes)" :
				infile_strerror(d.public_key, r, why, sizeof(why)));
			return EXIT_BAD_INPUT;
		}
		sig_fingerprint(pk, fp);
	}
	if (require_run_dir(d.run_dir, "verify", "nothing was done") != 0)
		return EXIT_BAD_INPUT;
	r = integrity_check(d.run_dir, NULL, d.public_key ? pk : NULL, print_change, stdout, &ir);
	if (r < 0) {
		fprintf(stderr, "rig verify: cannot read %s: %s\n", TERM_SAFE(d.run_dir), strerror(-r));
		return r == -ENOENT || r == -ENOTDIR ? EXIT_BAD_INPUT : EXIT_CHECK_FAILED;
	}
	if (!ir.manifest_found) {
		printf("MISSING  %s: the run was never sealed (rig report seals it)\n", MANIFEST_NAME);
	} else if (ir.manifest_malformed) {
		printf("BAD      %s:%zu: not a manifest line\n", MANIFEST_NAME, ir.manifest_bad_line);
	} else {
		if (ir.sealed_utc[0])
			printf("sealed   %s by %s\n", TERM_SAFE(ir.sealed_utc), TERM_SAFE(ir.sealed_by));
		if (ir.after_the_fact[0])
			printf("note     sealed after the fact: %s\n", TERM_SAFE(ir.after_the_fact));
		if (!ir.sig_found && ir.signed_by_key[0])
			printf("MISSING  %s: %s says it was signed by key %s\n", MANIFEST_SIG_NAME,
			       MANIFEST_NAME, TERM_SAFE(ir.signed_by_key));
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
	if (d.no_journal) {
		printf("journal  not checked (--no-journal): a %s rewritten by hand cannot be told "
		       "from one rig wrote, unless it is signed\n", MANIFEST_NAME);
	} else {
		r = integrity_journal_check(d.run_dir, w.path, &jc);
		if (r < 0)
			printf("BAD      journal: cannot check against %s: %s\n", w.path, strerror(-r));
		journal_ok = r == 0 && journal_print(stdout, &jc, w.path, w.source, true);
	}
	/* the signatures with meaning (rig sign), each bound to this record */
	sigs_ok = signoff_verify_print(stdout, d.run_dir, d.no_journal || !journal_ok ? NULL : &jc);
	if (integrity_ok(&ir) && journal_ok && sigs_ok) {
		printf("OK: %zu files match %s%s%s\n", ir.n_listed, MANIFEST_NAME,
		       ir.sig_found ? ", signature valid" : "",
		       d.no_journal ? "" : ", the latest seal in the station's journal");
		integrity_journal_check_free(&jc);
		return EXIT_PASS;
	}
	printf("FAILED: %zu added, %zu changed, %zu missing%s%s%s\n", ir.n_added, ir.n_changed,
	       ir.n_missing, ir.manifest_found && !ir.manifest_malformed && (ir.sig_malformed ||
	       (ir.sig_found && !ir.sig_valid) || ir.sig_other_key || ir.sig_expected_missing) ?
	       "; signature not accepted" : "",
	       journal_ok ? "" : "; the seal is not what the station's journal holds",
	       sigs_ok ? "" : "; a signature is not accepted");
	integrity_journal_check_free(&jc);
	return EXIT_CHECK_FAILED;
}

const struct rig_command cmd_verify = { "verify", usage_verify, verify_main };
