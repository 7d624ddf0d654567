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

/* "sealed twice: first by rig run at T (end of run), then by ..." */
static void seal_history(const struct journal_seal *seals, size_t n, char *buf, size_t len)
{
	char words[32];
	size_t k;

	k = (size_t)snprintf(buf, len, "sealed %s%s", times_words(n, words), n == 1 ? "," : ":");
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s by %s at %s (%s)",
				      i == 0 ? (n == 1 ? "" : " first") : ", then", seals[i].sealed_by,
				      seals[i].utc, seals[i].why);
}

bool journal_print(FILE *f, const struct journal_check *c, const char *path, const char *source,
		   bool hint)
{
	const struct journal_lookup *l = &c->l;
	const struct journal_seal *latest = l->n_seals ? &l->seals[l->n_seals - 1] : NULL;
	char history[2048];

	if (c->verdict == JOURNAL_NONE) {
		fprintf(f, "BAD      journal: there is no journal at %s (from %s), so this seal cannot "
			"be checked against the station's%s\n", path, source, hint ?
			" (give --journal FILE, the journal of the station that sealed the run, or "
			"--no-journal)" : "");
		return false;
	}
	fprintf(f, "journal  %s: %zu line%s, %s\n", path, l->n_lines, l->n_lines == 1 ? "" : "s",
		l->broken_line ? "ITS CHAIN BREAKS" : "chain intact");
	if (l->broken_line)
		fprintf(f, "BAD      journal: line %zu is not where it was written (its number, or its "
			"digest of the line before it, is wrong): a line of the journal was edited, "
			"inserted or taken out%s\n", l->broken_line,
			l->broken_line > 1 ? " just before it" : " before it");
	if (l->n_unreadable)
		fprintf(f, "note     journal: %zu line%s (the first: line %zu) %s not a seal (torn by a "
			"crash, or written by hand)\n", l->n_unreadable, l->n_unreadable == 1 ? "" : "s",
			l->unreadable_line, l->n_unreadable == 1 ? "is" : "are");
	if (!c->run[0])
		fprintf(f, "note     journal: the run has no run.json, which names it in the journal\n");
	if (latest) {
		seal_history(l->seals, l->n_seals, history, sizeof(history));
		fprintf(f, "journal  %s\n", history);
		for (size_t i = 0; i < l->n_seals; i++)
			fprintf(f, "seal %-3zu %s by %s (%s), %s%s; line %zu%s\n", i + 1, l->seals[i].utc,
				l->seals[i].sealed_by, l->seals[i].why, l->seals[i].key[0] ?
				"signed by key " : "unsigned", l->seals[i].key, l->seals[i].line,
				i + 1 == c->match ? ": this SHA256SUMS" : "");
	}
	switch (c->verdict) {
	case JOURNAL_UNSEALED:
		fprintf(f, "journal  no seal of this run\n");
		break;
	case JOURNAL_GONE:
		fprintf(f, "BAD      journal: the run has no %s, yet the journal holds its seal (the "
			"latest: %s by %s): the seal was taken away, as if the run had never been "
			"sealed\n", MANIFEST_NAME, latest->utc, latest->sealed_by);
		break;
	case JOURNAL_UNKNOWN:
		fprintf(f, "BAD      journal: this %s (sha256:%s) is in no line of the journal: rig did "
			"not seal it on this station (%s written or edited by hand, or the journal is "
			"another station's)", MANIFEST_NAME, c->manifest, MANIFEST_NAME);
		if (latest)
			fprintf(f, "; the run's latest seal, %s by %s, was %s sha256:%s", latest->utc,
				latest->sealed_by, MANIFEST_NAME, latest->manifest);
		fputc('\n', f);
		break;
	case JOURNAL_OTHER_RUN:
		fprintf(f, "BAD      journal: this %s is the seal of another run: line %zu, run %s in "
			"%s, sealed %s by %s\n", MANIFEST_NAME, l->other.line, l->other.run,
			l->other.run_dir, l->other.utc, l->other.sealed_by);
		break;
	case JOURNAL_NOT_LATEST:
		fprintf(f, "BAD      journal: this %s is seal %zu of %zu of this run: it was sealed again "
			"at %s by %s (%s), and what is here is the record as it was before (rolled "
			"back)\n", MANIFEST_NAME, c->match, l->n_seals, latest->utc, latest->sealed_by,
			latest->why);
		break;
	default:
		break;
	}
	if (c->unfollowed > 1)
		fprintf(f, "BAD      journal: seal %zu of this run replaced a %s that was not seal %zu: "
			"it was sealed over a manifest rig did not write, or a line between them was "
			"taken out\n", c->unfollowed, MANIFEST_NAME, c->unfollowed - 1);
	else if (c->unfollowed == 1)
		fprintf(f, "BAD      journal: the run's first seal in the journal replaced a %s "
			"(sha256:%s): an earlier seal was taken out of the journal, or it was sealed "
			"over a manifest rig did not write\n", MANIFEST_NAME, l->seals[0].replaced);
	if (c->dir_replaced)
		fprintf(f, "BAD      journal: the latest seal made in this folder (line %zu, %s by %s) "
			"is of another run (%s): this run was put here afterwards%s%s (folders swapped, "
			"or one copied over another)\n", l->other_at_dir.line, l->other_at_dir.utc,
			l->other_at_dir.sealed_by, l->other_at_dir.run,
			latest && strcmp(latest->run_dir, c->run_dir) ? "; it was sealed in " : "",
			latest && strcmp(latest->run_dir, c->run_dir) ? latest->run_dir : "");
	/* Not faults (a crashed run is sealed after the fact), but what a
	 * reviewer must know: the record was not sealed as it was taken, and
	 * what was sealed in this folder before it. */
	if (latest && strcmp(l->seals[0].sealed_by, "rig run") != 0)
		fprintf(f, "note     journal: the run's first seal (line %zu, %s) was made by %s (%s), "
			"not by rig run at the run's end: the record was not sealed as it was taken "
			"(a run that crashed, or a record written or replaced afterwards)\n",
			l->seals[0].line, l->seals[0].utc, l->seals[0].sealed_by, l->seals[0].why);
	if (latest && l->n_other_at_dir && l->other_at_dir.line < l->seals[0].line)
		fprintf(f, "note     journal: another run%s%s was sealed in this folder before this run's "
			"first seal (line %zu, %s by %s): if that run's folder was used again, this "
			"run is not that run\n", l->other_at_dir.run_id[0] ? " " : "",
			l->other_at_dir.run_id, l->other_at_dir.line, l->other_at_dir.utc,
			l->other_at_dir.sealed_by);
	if (l->same_id_found)
		fprintf(f, "BAD      journal: a run with run_id %s was already sealed at %s by %s with "
			"another run.json (line %zu, run %s in %s): this run.json is not the one rig "
			"sealed, and the run cannot be sealed again as if for the first time\n", c->run_id, l->same_id.utc,
			l->same_id.sealed_by, l->same_id.line, l->same_id.run, l->same_id.run_dir);
	return integrity_journal_ok(c);
}

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
		/* a journal named on the command line must be there, and a file */
		snprintf(w.path, sizeof(w.path), "%s", d.journal);
		if (journal_refuse_special("verify", &w) < 0)
			return EXIT_BAD_INPUT;
		if (access(d.journal, R_OK) != 0) {
			fprintf(stderr, "rig verify: --journal %s: %s\n", TERM_SAFE(d.journal),
				strerror(errno));
			return EXIT_BAD_INPUT;
		}
	} else if (!d.no_journal && (journal_where_resolve("verify", &w) < 0 ||
				     journal_refuse_special("verify", &w) < 0)) {
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
