/* rig sign: an electronic signature with meaning on a sealed run (21 CFR
 * 11.50, 11.70), and what rig verify says of a run's signatures.  The
 * signature itself is rig/seal/signoff.c's; here: who may sign what, the
 * audit trail appended and the run sealed again (its report then shows the
 * signature), and the history told. */
#include "rig/base/utc.h"
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rig/base/name.h"
#include "rig/base/runid.h"
#include "rig/base/text.h"
#include "rig/base/wholefile.h"
#include "rig/cli/cli.h"
#include "rig/cli/lab/lab.h"
#include "rig/seal/signers.h"
#include "rig/seal/signoff.h"
#include "reports/reports.h"

static const char usage_sign[] =
	"Usage: rig sign RUN_DIR --meaning authored|reviewed|approved --signer NAME\n"
	"                --key FILE [--sign-key FILE | --unsign] [--db TEXT]\n"
	"\n"
	"Signs a sealed run electronically: the printed name, the time (UTC) and what\n"
	"the signature means, made with the signer's own key (--key, a secret key\n"
	"from rig keygen, readable by the signer alone) over the run's id, the\n"
	"SHA-256 of its SHA256SUMS and the SHA-256 of its raw files, so it cannot be\n"
	"moved to another record.  Appended to RUN_DIR/signatures.jsonl (the audit\n"
	"trail); the report is written again to show it, the run sealed again (the\n"
	"station's seal: --sign-key or $PUMPRIG_SIGN_KEY, as for rig report) and\n"
	"stored in the run history.  rig verify checks every signature.\n"
	"The one who reviewed a run cannot approve it, nor the reverse (the same\n"
	"name or the same key): exit status 2.\n"
	"Exit status 0 signed, 2 bad input (nothing written), 4 the run was altered\n"
	"after it was sealed, or could not be sealed again (the signature taken back).\n";

/* The one who reviewed may not approve: returns the conflicting signature
 * or NULL. */
static const struct signoff *separation_conflict(const struct signoff *v, size_t n,
						 const struct signoff *s)
{
	for (size_t i = 0; i < n; i++) {
		bool pair = (v[i].meaning == SIGNOFF_REVIEWED && s->meaning == SIGNOFF_APPROVED) ||
			    (v[i].meaning == SIGNOFF_APPROVED && s->meaning == SIGNOFF_REVIEWED);

		if (pair && signoff_same_person(&v[i], s))
			return &v[i];
	}
	return NULL;
}

/* One key is one person: a signature already made with this key under
 * another name (by skeleton), or NULL. */
static const struct signoff *key_of_another_name(const struct signoff *v, size_t n,
						 const struct signoff *s)
{
	char a[RIG_TEXT_MAX], b[RIG_TEXT_MAX];

	name_skeleton(s->signer, b, sizeof(b));
	for (size_t i = 0; i < n; i++) {
		if (memcmp(v[i].pk, s->pk, sizeof(s->pk)) != 0)
			continue;
		name_skeleton(v[i].signer, a, sizeof(a));
		if (strcmp(a, b) != 0)
			return &v[i];
	}
	return NULL;
}

/* The station's seal key is the station's, not a person's: a signature
 * with meaning made with it would say only that someone at the station
 * held the key.  Whether pk is the key given to seal (skey), the key the
 * manifest in place was signed with, or a key that sealed this run as the
 * station's journal holds it; the words for the one it is, else NULL. */
static const char *station_key_as_person(const char *run_dir, const unsigned char *pk,
					 const struct sig_secret_key *skey)
{
	char fp[SIG_FINGERPRINT_LEN + 1], run[JOURNAL_RUN_MAX];
	struct journal_lookup l = { 0 };
	struct journal_where w;
	struct manifest m = { 0 };
	struct journal *j = NULL;
	const char *what = NULL;
	size_t bad_line;

	if (skey && memcmp(skey->pk, pk, SIG_PUBLIC_KEY_BYTES) == 0)
		return "the station's seal key (--sign-key, else $PUMPRIG_SIGN_KEY)";
	sig_fingerprint(pk, fp);
	if (manifest_load(run_dir, &m, NULL, NULL, &bad_line) == 0 &&
	    strcmp(m.signed_by_key, fp) == 0)
		what = "the key that sealed this run (its SHA256SUMS says signed-by-key)";
	manifest_free(&m);
	if (what)
		return what;
	if (journal_station(&w) < 0 || journal_run_key(run_dir, run) < 0 ||
	    journal_open(w.path, false, false, &j) < 0)
		return NULL;
	if (journal_lookup(j, run, NULL, NULL, NULL, &l) == 0) {
		for (size_t i = 0; i < l.n_seals && !what; i++)
			if (strcmp(l.seals[i].key, fp) == 0)
				what = "a key that sealed this run (the station's seal journal)";
		journal_lookup_free(&l);
	}
	journal_close(j);
	return what;
}

/* signatures.jsonl as it was before: cut back to its old size, or gone
 * when there was none. */
static int take_back(const char *path, bool had, off_t size)
{
	return had ? truncate(path, size) : unlink(path);
}

static int sign_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "meaning", required_argument, NULL, 'm' },
		{ "signer", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "unsign", no_argument, NULL, 'U' },
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *meaning = NULL, *signer = NULL, *key_path = NULL, *station_key = NULL;
	const char *db = NULL, *run_dir;
	struct sig_secret_key key, skey;
	struct signoff s = { 0 }, *v = NULL;
	const struct signoff *clash;
	char path[RIG_PATH_MAX + 32], why[RIG_TEXT_MAX + 32];
	bool have_skey = false, unsign = false, sealed, had;
	size_t n = 0, bad = 0;
	struct name_fault nf;
	struct stat st;
	sigset_t held;
	int c, r, status = EXIT_BAD_INPUT;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': meaning = optarg; break;
		case 's': signer = optarg; break;
		case 'k': key_path = optarg; break;
		case 'K': station_key = optarg; break;
		case 'U': unsign = true; break;
		case 'D': db = optarg; break;
		case 'h': fputs(usage_sign, stdout); return EXIT_PASS;
		default: fprintf(stderr, "\n%s", usage_sign); return EXIT_BAD_INPUT;
		}
	}
	if (optind + 1 != argc || !meaning || !signer || !key_path) {
		fprintf(stderr, "rig sign: give RUN_DIR, --meaning, --signer and --key\n\n%s",
			usage_sign);
		return EXIT_BAD_INPUT;
	}
	run_dir = argv[optind];
	if (signoff_meaning_parse(meaning, &s.meaning) < 0) {
		fprintf(stderr, "rig sign: --meaning %s: not a meaning; allowed: authored, reviewed, "
			"approved\n", TERM_SAFE(meaning));
		return EXIT_BAD_INPUT;
	}
	/* the printed name: one line of text, as the operator's */
	if (!text_one_line(signer, RIG_TEXT_MAX)) {
		fprintf(stderr, "rig sign: --signer \"%s\": the printed name must be one line of UTF-8 "
			"text without control characters, 1 to %d bytes\n", TERM_SAFE(signer),
			RIG_TEXT_MAX - 1);
		return EXIT_BAD_INPUT;
	}
	if (!name_check(signer, &nf)) {
		char w[160];

		fprintf(stderr, "rig sign: --signer \"%s\": %s; a printed name is written with "
			"ordinary spaces and visible characters, each word in one script, so that "
			"it cannot pass for another name\n", TERM_SAFE(signer),
			name_fault_describe(&nf, w, sizeof(w)));
		return EXIT_BAD_INPUT;
	}
	r = sig_secret_key_load(key_path, &key);
	if (r < 0) {
		char w[128];

		fprintf(stderr, "rig sign: --key %s: %s\n", TERM_SAFE(key_path),
			r == -ENOKEY ? "a public key (the .pub file); --key takes the signer's secret key" :
			r == -EACCES ? "readable by others: a signer's key must be the signer's alone "
				       "(chmod 600)" :
			r == -EBADMSG ? "not a pumprig secret key (rig keygen makes one)" :
			infile_strerror(key_path, r, w, sizeof(w)));
		return EXIT_BAD_INPUT;
	}
	if (sign_key_resolve(station_key, "sign", &skey, &have_skey) < 0)
		goto out;
	if (require_run_dir(run_dir, "sign", "nothing was signed") != 0)
		goto out;
	if (run_id_read(run_dir, s.run_id) < 0) {
		fprintf(stderr, "rig sign: %s/run.json holds no run_id (a run made before runs had "
			"one): a signature could not name its record; nothing was signed\n",
			TERM_SAFE(run_dir));
		goto out;
	}
	/* the record signed is the one sealed: nothing may have changed but
	 * the reports, which are written again */
	status = sealed_precheck(run_dir, "sign", true, have_skey, unsign, &sealed);
	if (status != 0)
		goto out;
	if (!sealed) {
		fprintf(stderr, "rig sign: %s is not sealed (a run still going, or one that "
			"crashed): rig report seals it; nothing was signed\n", TERM_SAFE(run_dir));
		status = EXIT_BAD_INPUT;
		goto out;
	}
	r = signoff_load(run_dir, &v, &n, &bad);
	if (r < 0) {
		fprintf(stderr, "rig sign: %s/%s%s%zu: %s; nothing was signed\n", TERM_SAFE(run_dir),
			SIGNOFF_NAME, bad ? ":" : "", bad, r == -EBADMSG ? "not a signature line" :
			strerror(-r));
		status = EXIT_INTEGRITY;
		goto out;
	}
	if (n >= SIGNOFF_MAX) {
		fprintf(stderr, "rig sign: %s holds %d signatures, the most a run may; nothing was "
			"signed\n", TERM_SAFE(run_dir), SIGNOFF_MAX);
		status = EXIT_BAD_INPUT;
		goto out;
	}
	snprintf(s.signer, sizeof(s.signer), "%s", signer);
	memcpy(s.pk, key.pk, sizeof(s.pk));
	clash = separation_conflict(v, n, &s);
	if (clash) {
		fprintf(stderr, "rig sign: %s %s this run (signature %zu, %s%s): the same person "
			"cannot review and approve it; reviewer and approver must be different "
			"people; nothing was signed\n", TERM_SAFE(clash->signer),
			signoff_meaning_name(clash->meaning), clash->n, clash->utc,
			memcmp(clash->pk, key.pk, sizeof(key.pk)) == 0 ? ", with this key" : "");
		status = EXIT_BAD_INPUT;
		goto out;
	}
	clash = key_of_another_name(v, n, &s);
	if (clash) {
		char fp[SIG_FINGERPRINT_LEN + 1];

		sig_fingerprint(key.pk, fp);
		fprintf(stderr, "rig sign: the key %s belongs to %s, who signed this run with it "
			"(signature %zu, %s at %s): one key is one person's, it cannot sign as \"%s\"; "
			"nothing was signed\n", fp, TERM_SAFE(clash->signer), clash->n,
			signoff_meaning_name(clash->meaning), clash->utc, TERM_SAFE(signer));
		status = EXIT_BAD_INPUT;
		goto out;
	}
	{
		const char *station = station_key_as_person(run_dir, key.pk,
							    have_skey ? &skey : NULL);

		if (station) {
			fprintf(stderr, "rig sign: --key %s is %s: a seal says which station made the "
				"record, a signature which person vouches for it; sign with the "
				"signer's own key (rig keygen); nothing was signed\n",
				TERM_SAFE(key_path), station);
			status = EXIT_BAD_INPUT;
			goto out;
		}
	}
	/* ... and on every run of the station: the registry beside the seal
	 * journal names each key's owner from its first signature */
	{
		struct journal_where w;
		char reg[RIG_PATH_MAX + 32], owner[RIG_TEXT_MAX + 64], fp[SIG_FINGERPRINT_LEN + 1];

		sig_fingerprint(key.pk, fp);
		r = journal_station(&w);
		if (r == 0)
			r = signers_path_of(w.path, reg, sizeof(reg));
		if (r == 0 && w.make_dir) {
			char *slash = strrchr(reg, '/');

			if (slash) {
				/* the per-user default's folders, as the journal makes them */
				for (char *q = reg + 1; q <= slash; q++)
					if (*q == '/' || q == slash) {
						char was = *q;

						*q = '\0';
						(void)mkdir(reg, 0755);
						*q = was;
					}
			}
		}
		if (r == 0)
			r = signers_claim(reg, fp, signer, owner, sizeof(owner));
		if (r == -EEXIST) {
			fprintf(stderr, "rig sign: the key %s belongs to %s on this station (%s): one "
				"key is one person's, it cannot sign as \"%s\"; nothing was signed\n",
				fp, TERM_SAFE(owner), TERM_SAFE(reg), TERM_SAFE(signer));
			status = EXIT_BAD_INPUT;
			goto out;
		}
		if (r < 0) {
			fprintf(stderr, "rig sign: the station's signers %s cannot be read or written: "
				"%s; nothing was signed\n", TERM_SAFE(reg), r == -EINVAL ?
				"not a regular file" : strerror(-r));
			status = r == -EINVAL ? EXIT_BAD_INPUT : EXIT_ABORTED;
			goto out;
		}
	}
	r = signoff_record_of(run_dir, s.manifest_sha256, s.record_sha256);
	if (r < 0) {
		fprintf(stderr, "rig sign: %s: cannot read its %s: %s\n", TERM_SAFE(run_dir),
			MANIFEST_NAME, strerror(-r));
		status = EXIT_INTEGRITY;
		goto out;
	}
	rig_utc_text(rig_utc_now(), RIG_UTC_ISO, s.utc, sizeof(s.utc));
	s.n = n + 1;
	r = signoff_sign(&key, &s);
	if (r < 0) {
		fprintf(stderr, "rig sign: cannot sign: %s\n", strerror(-r));
		status = EXIT_ABORTED;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", run_dir, SIGNOFF_NAME);
	had = stat(path, &st) == 0;
	hold_signals(&held);   /* the signature and the new seal together, or neither */
	r = signoff_append(run_dir, &s);
	if (r < 0) {
		fprintf(stderr, "rig sign: %s: cannot write: %s; nothing was signed\n", TERM_SAFE(path),
			strerror(-r));
		if (take_back(path, had, had ? st.st_size : 0) != 0 && errno != ENOENT)
			fprintf(stderr, "rig sign: %s: cannot take the partial line back: %s\n",
				TERM_SAFE(path), strerror(errno));
		release_signals(&held);
		status = EXIT_ABORTED;
		goto out;
	}
	snprintf(why, sizeof(why), "signed: %s by %s", signoff_meaning_name(s.meaning), s.signer);
	status = judge(run_dir, false, "sign", &(struct seal_opts){ .sealed_by = "rig sign",
		.key = have_skey ? &skey : NULL, .unsign = unsign, .why = why }, NULL);
	if (status == EXIT_INTEGRITY) {
		/* the previous seal stands: the signature goes too, or the run
		 * would no longer match it */
		if (take_back(path, had, had ? st.st_size : 0) != 0)
			fprintf(stderr, "rig sign: %s: cannot take the signature back: %s; the run no "
				"longer matches its seal\n", path, strerror(errno));
		else
			fprintf(stderr, "rig sign: the signature was not kept\n");
		release_signals(&held);
		goto out;
	}
	release_signals(&held);
	status = EXIT_PASS;
	printf("signed   %s by %s at %s, key %s; signature %zu of the run, bound to run %s, "
	       "manifest sha256:%s and record sha256:%s\n", signoff_meaning_name(s.meaning),
	       TERM_SAFE(s.signer), s.utc, s.fingerprint, s.n, TERM_SAFE(s.run_id), s.manifest_sha256,
	       s.record_sha256);
	lab_history_store(run_dir, db, true);
out:
	free(v);
	sodium_memzero(&key, sizeof(key));
	sodium_memzero(&skey, sizeof(skey));
	return status;
}

const struct rig_command cmd_sign = { "sign", usage_sign, sign_main };

/* ------------------------------------------------------- rig verify -- */

static bool manifest_journalled(const struct journal_check *jc, const char *hex, size_t *ret_k)
{
	for (size_t i = 0; i < jc->l.n_seals; i++)
		if (strcmp(jc->l.seals[i].manifest, hex) == 0) {
			*ret_k = i + 1;
			return true;
		}
	return false;
}

bool signoff_verify_print(FILE *f, const char *run_dir, const struct journal_check *jc)
{
	char run_id[SIGNOFF_RUN_ID_MAX], manifest_hex[DIGEST_HEX_LEN + 1] = "";
	char record_hex[DIGEST_HEX_LEN + 1] = "";
	struct signoff *v = NULL;
	size_t n = 0, bad = 0;
	bool ok = true;
	int r = signoff_load(run_dir, &v, &n, &bad);

	if (r == -EBADMSG) {
		fprintf(f, "BAD      %s:%zu: not a signature line (each line one signature, "
			"numbered from 1 in order)\n", SIGNOFF_NAME, bad);
		return false;
	}
	if (r < 0) {
		fprintf(f, "BAD      %s: cannot read: %s\n", SIGNOFF_NAME, strerror(-r));
		return false;
	}
	if (n == 0)
		return true;
	(void)run_id_read(run_dir, run_id);   /* "" when none */
	(void)signoff_record_of(run_dir, manifest_hex, record_hex);
	for (size_t i = 0; i < n; i++) {
		const struct signoff *s = &v[i];
		char head[RIG_TEXT_MAX + 96];
		size_t k = 0;

		snprintf(head, sizeof(head), "signature %zu (%s by %s at %s, key %s)", s->n,
			 signoff_meaning_name(s->meaning), TERM_SAFE(s->signer), s->utc, s->fingerprint);
		enum signoff_status st = signoff_status(s, run_id, record_hex);

		if (st == SIGNOFF_ALTERED) {
			fprintf(f, "BAD      %s: the signature does not match what the line says "
				"(altered after it was made)\n", head);
			ok = false;
		} else if (st == SIGNOFF_OTHER_RUN) {
			fprintf(f, "BAD      %s: made for run %s, not this run (%s): a signature "
				"cannot be moved to another record\n", head, TERM_SAFE(s->run_id),
				run_id[0] ? TERM_SAFE(run_id) : "no run_id");
			ok = false;
		} else if (st == SIGNOFF_RECORD_CHANGED) {
			fprintf(f, "BAD      %s: signed record sha256:%s, but the raw files are now "
				"sha256:%s: the record changed after it was signed\n", head,
				s->record_sha256, record_hex[0] ? record_hex : "(no manifest)");
			ok = false;
		} else if (jc && !manifest_journalled(jc, s->manifest_sha256, &k)) {
			fprintf(f, "BAD      %s: the manifest it signed (sha256:%s) is no seal of this "
				"run in the journal\n", head, s->manifest_sha256);
			ok = false;
		} else if (jc) {
			fprintf(f, "signoff  %s: valid; it signed seal %zu of the run\n", head, k);
		} else {
			fprintf(f, "signoff  %s: valid (its manifest not checked against a journal)\n",
				head);
		}
		for (size_t j = 0; j < i; j++)
			if (key_of_another_name(&v[j], 1, s)) {
				fprintf(f, "BAD      signatures %zu and %zu: one key (%s) signed as %s "
					"and as %s; one key is one person's\n", v[j].n, s->n,
					s->fingerprint, TERM_SAFE(v[j].signer), TERM_SAFE(s->signer));
				ok = false;
				break;
			}
		for (size_t k2 = 0; jc && k2 < jc->l.n_seals; k2++)
			if (strcmp(jc->l.seals[k2].key, s->fingerprint) == 0) {
				fprintf(f, "BAD      %s: made with the key that sealed this run (seal "
					"%zu): the station's key, not a person's\n", head, k2 + 1);
				ok = false;
				break;
			}
		for (size_t j = 0; j < i; j++)
			if (separation_conflict(&v[j], 1, s)) {
				fprintf(f, "BAD      signatures %zu and %zu: %s reviewed and approved "
					"this run; reviewer and approver must be different people\n",
					v[j].n, s->n, TERM_SAFE(s->signer));
				ok = false;
			}
	}
	free(v);
	return ok;
}
