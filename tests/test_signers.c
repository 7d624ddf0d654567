/* Who signs, and who runs (an outside audit of rig sign): a name that
 * only looks like another one (a no-break or zero-width space, a Cyrillic
 * letter, a fullwidth one) is no way round "reviewer and approver are
 * different people"; one key is one person; the station's seal key is no
 * person's; an operator of blanks names nobody. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "rig/base/name.h"

#define SEQ "sequences/dose-accuracy.cfg"
#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

static int run_named(const char *tmp, const char *name, const char *const *extra, char **ret_run)
{
	char *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT), *run;
	const char *args[24] = { "run", seq, "--bench", bench, "--dut", dut, "-o", NULL, "-q" };
	int n = 9, status;

	if (asprintf(&run, "%s/%s", tmp, name) < 0)
		abort();
	args[7] = run;
	while (extra && *extra && n < 22)
		args[n++] = *extra++;
	args[n] = NULL;
	status = th_rig(tmp, args);
	free(seq);
	free(bench);
	free(dut);
	if (ret_run)
		*ret_run = run;
	else
		free(run);
	return status;
}

static void keygen(const char *tmp, const char *name)
{
	char *out = th_path(tmp, name);

	cr_assert_eq(th_rig(tmp, (const char *[]){ "keygen", "--out", out, NULL }), 0);
	free(out);
}

static int sign(const char *tmp, const char *run, const char *meaning, const char *signer,
		const char *key)
{
	char *k = th_path(tmp, key);
	int st = th_rig(tmp, (const char *[]){ "sign", run, "--meaning", meaning, "--signer", signer,
					       "--key", k, NULL });

	free(k);
	return st;
}

static bool exists(const char *dir, const char *name)
{
	char *p = th_path(dir, name);
	struct stat st;
	bool r = stat(p, &st) == 0;

	free(p);
	return r;
}

/* ---------------------------------------------------------- look-alikes -- */

#define NBSP "\xc2\xa0"            /* U+00A0 */
#define ZWSP "\xe2\x80\x8b"        /* U+200B */
#define CYR_IE "\xd0\xb5"          /* U+0435, Cyrillic small ie */
#define FW_R "\xef\xbc\xb2"        /* U+FF32, fullwidth R */

static const struct {
	const char *name;
	enum name_problem problem;
} attacks[] = {
	{ "R." NBSP "Reviewer", NAME_ODD_SPACE },
	{ "R. Reviewer" ZWSP, NAME_INVISIBLE },
	{ "R. Revi" CYR_IE "wer", NAME_MIXED_SCRIPT },
	{ FW_R ". Reviewer", NAME_FULLWIDTH },
	{ "R.\xe2\x80\x83Reviewer", NAME_ODD_SPACE },           /* U+2003 em space */
	{ "R.\xe3\x80\x80Reviewer", NAME_ODD_SPACE },           /* U+3000 */
	{ "R. \xe2\x80\xaeReviewer", NAME_INVISIBLE },          /* U+202E RLO */
	{ "R. Re\xe2\x81\xa0viewer", NAME_INVISIBLE },          /* U+2060 word joiner */
	{ "\xef\xbb\xbfR. Reviewer", NAME_INVISIBLE },          /* U+FEFF */
	{ "R. R\xce\xb5viewer", NAME_MIXED_SCRIPT },            /* Greek epsilon */
	/* an outside audit's: "Reviewe" + U+0301 + "r" shows as "Reviewér" */
	{ "R. Reviewe\xcc\x81r", NAME_COMBINING },
	{ "R. Reviewer\xcc\x88", NAME_COMBINING },              /* U+0308 diaeresis */
	{ "   ", NAME_BLANK },
};

Test(signers, names_that_only_look_like_another_are_refused_by_name_check)
{
	struct name_fault f;

	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		cr_assert(!name_check(attacks[i].name, &f), "%zu accepted", i);
		cr_assert_eq(f.problem, attacks[i].problem, "%zu: %d", i, f.problem);
	}
	/* what people's names are written with */
	cr_assert(name_check("R. Reviewer", NULL));
	cr_assert(name_check("Zo\xc3\xab M\xc3\xbcller-O'Brien", NULL));        /* Latin-1 */
	cr_assert(name_check("\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd \xd0\x9f\xd0\xb5\xd1\x82\xd1\x80\xd0\xbe\xd0\xb2",
			     NULL));                                             /* Иван Петров */
	cr_assert(name_check("\xe7\x8e\x8b\xe8\x8a\xb3", NULL));                 /* 王芳 */
	cr_assert(name_check("Anna \xce\x9a\xce\xbf\xcf\x8d\xcf\x81\xcf\x84\xce\xb7", NULL)); /* Κούρτη */
}

Test(signers, the_skeleton_folds_look_alikes_to_the_latin_name)
{
	static const char *const same[] = {
		"R. Reviewer", "r.  REVIEWER ", "R." NBSP "Reviewer", "R. Reviewer" ZWSP,
		"R. Revi" CYR_IE "wer", FW_R ". Reviewer",
		/* wholly Cyrillic or Greek look-alikes, which no script rule refuses */
		"\xce\xa1. \xd0\xa0\xd0\xb5viewer",
		FW_R "\xef\xbc\x8e\xe3\x80\x80\xef\xbc\xb2\xef\xbd\x85\xef\xbd\x96\xef\xbd\x89"
		"\xef\xbd\x85\xef\xbd\x97\xef\xbd\x85\xef\xbd\x92",
	};
	char ref[256], sk[256];

	name_skeleton("R. Reviewer", ref, sizeof(ref));
	cr_assert_str_eq(ref, "r. reviewer");
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		name_skeleton(same[i], sk, sizeof(sk));
		if (i == 6)   /* Greek Rho and Cyrillic Er look like P, not R */
			cr_assert_str_eq(sk, "p. peviewer");
		else
			cr_assert_str_eq(sk, ref, "%zu: %s", i, sk);
	}
	name_skeleton("A. Reviewer", sk, sizeof(sk));
	cr_assert_str_neq(sk, ref);
}

Test(signers, rig_sign_refuses_each_look_alike_of_the_reviewer_as_approver)
{
	char *tmp = th_tmpdir(), *run, *before, *after, *err;

	keygen(tmp, "rev");
	keygen(tmp, "app");
	cr_assert_eq(run_named(tmp, "run", NULL, &run), 0);
	cr_assert_eq(sign(tmp, run, "reviewed", "R. Reviewer", "rev"), 0);
	before = th_slurp(run, "SHA256SUMS");
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		cr_assert_eq(sign(tmp, run, "approved", attacks[i].name, "app"), 2, "%zu", i);
		err = th_slurp(tmp, "stderr");
		cr_assert(strstr(err, "rig sign: --signer \""), "%zu: %s", i, err);
		cr_assert(strstr(err, "cannot pass for another name"), "%zu: %s", i, err);
		free(err);
	}
	after = th_slurp(run, "SHA256SUMS");
	cr_assert_str_eq(before, after, "nothing was signed");
	free(after);
	free(before);
	free(run);
	free(tmp);
}

Test(signers, a_whole_word_in_look_alike_letters_is_the_same_signer)
{
	char *tmp = th_tmpdir(), *run, *err;

	keygen(tmp, "rev");
	keygen(tmp, "app");
	cr_assert_eq(run_named(tmp, "run", NULL, &run), 0);
	cr_assert_eq(sign(tmp, run, "reviewed", "A. Reviewer", "rev"), 0);
	/* "A." with the Cyrillic A: one script in that word, the same skeleton */
	cr_assert(name_check("\xd0\x90. Reviewer", NULL));
	cr_assert_eq(sign(tmp, run, "approved", "\xd0\x90. Reviewer", "app"), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "reviewer and approver must be different people"), "%s", err);
	free(err);
	free(run);
	free(tmp);
}

/* ------------------------------------------------------------ operator -- */

Test(signers, an_operator_of_blanks_is_refused_like_none)
{
	char *tmp = th_tmpdir(), *err;

	cr_assert_eq(run_named(tmp, "run", (const char *[]){ "--operator", "   ", NULL }, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "nothing but blanks"), "%s", err);
	free(err);
	cr_assert(!exists(tmp, "run"), "nothing is created");
	setenv("PUMPRIG_OPERATOR", "   ", 1);
	cr_assert_eq(run_named(tmp, "run", NULL, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "nothing but blanks"), "%s", err);
	free(err);
	cr_assert(!exists(tmp, "run"));
	/* and a look-alike operator too */
	cr_assert_eq(run_named(tmp, "run", (const char *[]){ "--operator", "Ann" NBSP "Operator",
							     NULL }, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "a space other than the ASCII space"), "%s", err);
	free(err);
	free(tmp);
}

/* ------------------------------------------------------ one key, one name -- */

Test(signers, one_key_cannot_sign_under_two_names)
{
	char *tmp = th_tmpdir(), *run, *err, *out;

	keygen(tmp, "eng");
	cr_assert_eq(run_named(tmp, "run", NULL, &run), 0);
	cr_assert_eq(sign(tmp, run, "authored", "A. Engineer", "eng"), 0);
	cr_assert_eq(sign(tmp, run, "approved", "Q. Approver", "eng"), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "belongs to A. Engineer, who signed this run with it (signature 1"),
		  "%s", err);
	cr_assert(strstr(err, "one key is one person's"), "%s", err);
	free(err);
	out = th_slurp(run, "signatures.jsonl");
	cr_assert_null(strstr(out, "Q. Approver"), "nothing was signed");
	free(out);
	/* the same person again with the same key is fine (another meaning) */
	cr_assert_eq(sign(tmp, run, "reviewed", "a.  engineer", "eng"), 0);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "verify", run, NULL }), 0, "%s",
		     th_slurp(tmp, "stdout"));
	free(run);
	free(tmp);
}

/* ... and on every run of the station (21 CFR 11.100(a)): an outside audit
 * signed one run as "A. Engineer" and the next as "Q. Approver" with one
 * key.  The station's signers registry (signers.jsonl beside the seal
 * journal) names the key's owner from its first signature. */
Test(signers, one_key_cannot_sign_under_two_names_on_two_runs)
{
	char *tmp = th_tmpdir(), *a, *b, *err, *reg;

	keygen(tmp, "eng");
	cr_assert_eq(run_named(tmp, "a", NULL, &a), 0);
	cr_assert_eq(run_named(tmp, "b", NULL, &b), 0);
	cr_assert_eq(sign(tmp, a, "authored", "A. Engineer", "eng"), 0);
	cr_assert_eq(sign(tmp, b, "approved", "Q. Approver", "eng"), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "belongs to A. Engineer (first signed 20") &&
		  strstr(err, "on this station") && strstr(err, "one key is one person's"), "%s", err);
	free(err);
	cr_assert(!exists(b, "signatures.jsonl"), "nothing was signed");
	/* its owner signs the other run with it, in any spelling of the name */
	cr_assert_eq(sign(tmp, b, "reviewed", "a.  ENGINEER", "eng"), 0);
	/* the registry as a FIFO: refused, nothing signed, no wait */
	reg = th_path(tmp, "signers.jsonl");
	cr_assert_eq(unlink(reg), 0);
	cr_assert_eq(mkfifo(reg, 0600), 0);
	keygen(tmp, "rev");
	cr_assert_eq(sign(tmp, a, "reviewed", "R. Reviewer", "rev"), 2);
	cr_assert(strstr(th_slurp(tmp, "stderr"), "not a regular file"), "%s",
		  th_slurp(tmp, "stderr"));
	free(reg);
	free(a);
	free(b);
	free(tmp);
}

Test(signers, the_stations_seal_key_is_no_persons_signing_key)
{
	char *tmp = th_tmpdir(), *run, *err, *station, *k;

	keygen(tmp, "station");
	station = th_path(tmp, "station");
	cr_assert_eq(run_named(tmp, "run", (const char *[]){ "--sign-key", station, NULL }, &run), 0);
	/* given as the station's seal key too */
	k = th_path(tmp, "station");
	cr_assert_eq(th_rig(tmp, (const char *[]){ "sign", run, "--meaning", "approved", "--signer",
						   "Q. Approver", "--key", k, "--sign-key", station,
						   NULL }), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "is the station's seal key"), "%s", err);
	free(err);
	/* not given as such (the run sealed unsigned from now on): the manifest
	 * names it as the key that sealed the run */
	cr_assert_eq(th_rig(tmp, (const char *[]){ "sign", run, "--meaning", "approved", "--signer",
						   "Q. Approver", "--key", k, "--unsign", NULL }), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "is the key that sealed this run"), "%s", err);
	free(err);
	cr_assert(!exists(run, "signatures.jsonl"), "nothing was signed");
	/* a person's own key signs, the run sealed with the station's */
	keygen(tmp, "q");
	free(k);
	k = th_path(tmp, "q");
	cr_assert_eq(th_rig(tmp, (const char *[]){ "sign", run, "--meaning", "approved", "--signer",
						   "Q. Approver", "--key", k, "--sign-key", station,
						   NULL }), 0, "%s", th_slurp(tmp, "stderr"));
	free(k);
	free(station);
	free(run);
	free(tmp);
}

/* ------------------------------------------------------ history show -- */

#include <jansson.h>

Test(signers, history_show_lists_the_runs_personal_signatures)
{
	char *tmp = th_tmpdir(), *run, *db, *out, *meta_text;
	json_t *meta, *shown, *sigs;
	const char *id;

	keygen(tmp, "rev");
	keygen(tmp, "app");
	cr_assert_eq(run_named(tmp, "run", NULL, &run), 0);
	cr_assert_eq(sign(tmp, run, "reviewed", "R. Reviewer", "rev"), 0);
	cr_assert_eq(sign(tmp, run, "approved", "Q. Approver", "app"), 0);
	meta_text = th_slurp(run, "run.json");
	meta = json_loads(meta_text, 0, NULL);
	id = json_string_value(json_object_get(meta, "run_id"));
	/* the history rig run and rig sign stored it in by default */
	if (asprintf(&db, "sqlite:%s/history.sqlite", tmp) < 0)
		abort();
	cr_assert_eq(th_rig(tmp, (const char *[]){ "history", "show", id, "--db", db, NULL }), 0,
		     "%s", th_slurp(tmp, "stderr"));
	out = th_slurp(tmp, "stdout");
	cr_assert(strstr(out, "\nsignatures\n  1   reviewed  by R. Reviewer at "), "%s", out);
	cr_assert(strstr(out, "  2   approved  by Q. Approver at "), "%s", out);
	cr_assert(strstr(out, ": valid\n"), "%s", out);
	free(out);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "history", "show", id, "--db", db, "--json",
						   NULL }), 0);
	out = th_slurp(tmp, "stdout");
	shown = json_loads(out, 0, NULL);
	sigs = json_object_get(shown, "signatures");
	cr_assert_eq(json_array_size(sigs), 2, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(sigs, 1), "signer")),
			 "Q. Approver");
	cr_assert(json_is_true(json_object_get(json_array_get(sigs, 0), "valid")));
	json_decref(shown);
	free(out);
	json_decref(meta);
	free(meta_text);
	free(db);
	free(run);
	free(tmp);
}
