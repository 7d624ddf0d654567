/* The station's seal journal through the CLI: a run resealed outside rig
 * (the attack of issue 1 of 7: an edited samples.csv, its manifest line
 * fixed, the signature deleted, then rig report --sign-key), a manifest
 * rebuilt by hand with sha256sum or signed with the station's own key, a
 * seal taken away, a run rolled back to an earlier seal, two runs'
 * manifests or folders swapped, journal lines taken out or edited, another
 * station's journal; legitimate reseals said plainly; concurrent seals; a
 * journal that cannot be written. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"
#include "helpers.h"
#include "rig/seal/journal.h"
#include "rig/seal/manifest.h"
#include "rig/seal/signature.h"

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

static int sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	st = system(cmd);
	free(cmd);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static char *path_in(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

/* Runs the short sequence (10 min of virtual time) into tmp/name, with up
 * to four more arguments; it must end and be sealed (exit 1: it has no check,
 * so nothing was judged). */
static char *run_short(const char *tmp, const char *name, const char *const *extra)
{
	char *seq = path_in(tmp, "short.cfg"), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *run = path_in(tmp, name);
	const char *args[16] = { "run", seq, "--bench", bench, "--dut", dut, "-o", run, "-q" };
	int n = 9;

	if (access(seq, F_OK) != 0)
		free(th_write_file(tmp, "short.cfg", short_seq));
	while (extra && *extra && n < 14)
		args[n++] = *extra++;
	args[n] = NULL;
	cr_assert_eq(th_rig(tmp, args), 1, "rig run failed: %s", th_slurp(tmp, "stderr"));
	free(seq);
	free(bench);
	free(dut);
	return run;
}

static int rig(const char *tmp, const char *a, const char *b, const char *c, const char *d,
	       const char *e)
{
	const char *args[] = { a, b, c, d, e, NULL };

	return th_rig(tmp, args);
}

/* A signed run, the station's key in tmp/station and tmp/station.pub. */
static char *signed_run(const char *tmp, const char *name, char **ret_key)
{
	char *key = path_in(tmp, "station"), *run;
	const char *extra[] = { "--sign-key", key, NULL };

	if (access(key, F_OK) != 0)
		cr_assert_eq(rig(tmp, "keygen", "--out", key, NULL, NULL), 0);
	run = run_short(tmp, name, extra);
	*ret_key = key;
	return run;
}

static void done(char *tmp)
{
	sh("rm -rf -- '%s'", tmp);
	free(tmp);
}

/* The digest GNU coreutils gives a file. */
static void sha256sum_of(const char *path, char hex[65])
{
	char *cmd;
	FILE *p;

	if (asprintf(&cmd, "sha256sum '%s'", path) < 0)
		abort();
	p = popen(cmd, "r");
	free(cmd);
	cr_assert_not_null(p);
	cr_assert_eq(fread(hex, 1, 64, p), 64);
	hex[64] = '\0';
	pclose(p);
}

static void replace_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* Changes one reading of the record (its 5th line's value, through zstd:
 * an ended run's samples.csv is samples.csv.zst) and writes the file's new
 * digest into SHA256SUMS, as a forger would. */
static void forge_samples(const char *run)
{
	char *samples = path_in(run, "samples.csv.zst"), *sums = path_in(run, "SHA256SUMS");
	char *text, *line, hex[65];

	cr_assert_eq(sh("zstd -q -d -c '%s' | sed '5s/,[0-9.]*,/,9.999,/' | zstd -q -c > '%s.new' && "
			"mv '%s.new' '%s'", samples, samples, samples, samples), 0);
	sha256sum_of(samples, hex);
	text = th_read_file(sums);
	line = strstr(text, "  samples.csv.zst\n");
	cr_assert_not_null(line);
	memcpy(line - 64, hex, 64);
	replace_file(sums, text);
	free(text);
	free(sums);
	free(samples);
}

/* The journal's lines, parsed, with their chain checked independently:
 * each line's prev_line_sha256 is sha256sum of the line before it. */
static size_t journal_read_checked(const char *tmp, struct journal_seal *seals, size_t max)
{
	char *text = th_slurp(tmp, "seal-journal.jsonl"), *p, *lines = path_in(tmp, "line");
	char prev_want[65], prev[65];
	size_t n = 0;

	cr_assert_not_null(text);
	memset(prev_want, '0', 64);
	prev_want[64] = '\0';
	for (p = text; *p; n++) {
		char *nl = strchr(p, '\n');

		cr_assert_not_null(nl, "the journal ends in a torn line");
		cr_assert_lt(n, max);
		cr_assert_eq(journal_parse_line(p, (size_t)(nl - p), &seals[n], prev), 0,
			     "line %zu is not a journal line: %.*s", n + 1, (int)(nl - p), p);
		cr_assert_eq(seals[n].line, n + 1);
		cr_assert_str_eq(prev, prev_want, "line %zu does not chain to line %zu", n + 1, n);
		*nl = '\0';
		replace_file(lines, p);
		sha256sum_of(lines, prev_want);
		p = nl + 1;
	}
	free(lines);
	free(text);
	return n;
}

Test(journal, the_attack_in_the_issue_is_refused_by_report_and_named_by_verify)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, "run", &key);
	char *pub = path_in(tmp, "station.pub"), *sig = path_in(run, "SHA256SUMS.sig");
	char *sums_forged, *sums_after, *results_before, *results_after, *journal_before, *out, *err;

	forge_samples(run);
	cr_assert_eq(unlink(sig), 0);
	sums_forged = th_slurp(run, "SHA256SUMS");
	results_before = th_slurp(run, "results.json");
	journal_before = th_slurp(tmp, "seal-journal.jsonl");
	/* every file matches the forged manifest, and no signature stands in
	 * the way: only the journal can tell */
	cr_assert_eq(sh("cd '%s' && sha256sum --quiet --strict -c SHA256SUMS", run), 0);
	cr_assert_eq(rig(tmp, "report", run, "--sign-key", key, NULL), 4);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "is in no line of the journal"), "%s", err);
	cr_expect_not_null(strstr(err, "nothing was written"), "%s", err);
	sums_after = th_slurp(run, "SHA256SUMS");
	results_after = th_slurp(run, "results.json");
	cr_expect_str_eq(sums_after, sums_forged, "rig report resealed the forged run");
	cr_expect_str_eq(results_after, results_before);
	cr_expect_neq(access(sig, F_OK), 0, "rig report signed the forged run");
	free(results_after);
	results_after = th_slurp(tmp, "seal-journal.jsonl");
	cr_expect_str_eq(results_after, journal_before, "the refused seal was journalled");
	cr_assert_eq(rig(tmp, "verify", run, "--public-key", pub, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "BAD      journal: this SHA256SUMS (sha256:"), "%s", out);
	cr_expect_not_null(strstr(out, "is in no line of the journal"), "%s", out);
	cr_expect_not_null(strstr(out, "the seal is not what the station's journal holds"), "%s", out);
	free(out);
	free(err);
	free(journal_before);
	free(results_after);
	free(results_before);
	free(sums_after);
	free(sums_forged);
	free(sig);
	free(pub);
	free(key);
	free(run);
	done(tmp);
}

/* The same attack, the run made "another run" by one whitespace byte of its
 * run.json: the journal keyed runs by run.json's digest alone, so rig report
 * sealed it as a first seal ("sealed after the fact") and rig verify said
 * OK.  The run's id finds it in the journal all the same. */
Test(journal, a_run_json_edited_by_one_byte_is_still_the_run_its_run_id_names)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, "run", &key);
	char *pub = path_in(tmp, "station.pub"), *sums = path_in(run, "SHA256SUMS");
	char *sig = path_in(run, "SHA256SUMS.sig"), *run_json = path_in(run, "run.json");
	char *text, *journal_before, *journal_after, *out, *err;

	forge_samples(run);
	cr_assert_eq(unlink(sums), 0);
	cr_assert_eq(unlink(sig), 0);
	text = th_read_file(run_json);
	cr_assert_eq(strncmp(text, "{\n  \"", 4), 0, "%.20s", text);
	text[2] = '\t';   /* one whitespace byte: the same JSON, another digest */
	replace_file(run_json, text);
	journal_before = th_slurp(tmp, "seal-journal.jsonl");
	cr_assert_eq(rig(tmp, "report", run, "--sign-key", key, NULL), 4);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "a run with run_id "), "%s", err);
	cr_expect_not_null(strstr(err, "was already sealed at 20"), "%s", err);
	cr_expect_not_null(strstr(err, "nothing was written"), "%s", err);
	cr_expect_neq(access(sums, F_OK), 0, "rig report sealed the forged run");
	cr_expect_neq(access(sig, F_OK), 0, "rig report signed the forged run");
	journal_after = th_slurp(tmp, "seal-journal.jsonl");
	cr_expect_str_eq(journal_after, journal_before, "the refused seal was journalled");
	cr_assert_eq(rig(tmp, "verify", run, "--public-key", pub, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "BAD      journal: a run with run_id "), "%s", out);
	cr_expect_not_null(strstr(out, "was already sealed at 20"), "%s", out);
	cr_expect_not_null(strstr(out, "by rig run with another run.json"), "%s", out);
	free(out);
	/* a note would seal it too */
	cr_assert_eq(rig(tmp, "note", run, "looks fine", "--sign-key", key), 4);
	free(err);
	free(journal_after);
	free(journal_before);
	free(text);
	free(run_json);
	free(sig);
	free(sums);
	free(pub);
	free(key);
	free(run);
	done(tmp);
}

/* An outside audit's variant: the run id itself edited in place, so the
 * run is, to the journal, a run never sealed, in a folder where another
 * was.  It can be sealed after the fact (a crashed run must be), and
 * rig verify then says plainly both things a reviewer must know. */
Test(journal, a_run_id_edited_in_place_is_said_to_be_sealed_after_the_fact_where_another_was)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, "run", &key);
	char *pub = path_in(tmp, "station.pub"), *sums = path_in(run, "SHA256SUMS");
	char *sig = path_in(run, "SHA256SUMS.sig"), *run_json = path_in(run, "run.json");
	char *text, *id, *out;

	forge_samples(run);
	cr_assert_eq(unlink(sums), 0);
	cr_assert_eq(unlink(sig), 0);
	text = th_read_file(run_json);
	id = strstr(text, "\"run_id\": \"");
	cr_assert_not_null(id, "%s", text);
	id = strchr(id + 10, '-');
	cr_assert_not_null(id);
	id = strrchr(strndup(text, (size_t)(strchr(id, '"') - text)), '-');   /* the tail */
	memcpy(strstr(text, id), "-deadbeef", 9);
	replace_file(run_json, text);
	/* sealed (exit 0 or 1: the verdict of the forged samples) */
	cr_assert_leq(rig(tmp, "report", run, "--sign-key", key, NULL), 1, "%s",
		      th_slurp(tmp, "stderr"));
	cr_assert_eq(rig(tmp, "verify", run, "--public-key", pub, NULL), 0);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "note     journal: the run's first seal (line "), "%s", out);
	cr_expect_not_null(strstr(out, "not by rig run at the run's end"), "%s", out);
	cr_expect_not_null(strstr(out, "note     journal: another run 20"), "%s", out);
	cr_expect_not_null(strstr(out, "was sealed in this folder before this run's first seal"),
			   "%s", out);
	free(out);
	free(text);
	free(run_json);
	free(sig);
	free(sums);
	free(pub);
	free(key);
	free(run);
	done(tmp);
}

/* The attacker holds the station's key (it lies on the station) and signs
 * a manifest made by hand: the signature is valid, the journal is not
 * fooled. */
Test(journal, a_manifest_signed_with_the_stations_key_outside_rig_is_named)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, "run", &key);
	char *pub = path_in(tmp, "station.pub"), *sums = path_in(run, "SHA256SUMS"), *text, *sig;
	char *out;
	size_t sig_len;
	struct sig_secret_key sk;

	forge_samples(run);
	cr_assert_eq(sig_secret_key_load(key, &sk), 0);
	text = th_read_file(sums);
	cr_assert_eq(sig_sign_format(&sk, "SHA256SUMS", text, strlen(text), &sig, &sig_len), 0);
	free(th_write_file(run, "SHA256SUMS.sig", sig));
	cr_assert_eq(rig(tmp, "verify", run, "--public-key", pub, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "signed   by key sha256:"), "%s", out);
	cr_expect_not_null(strstr(out, ": valid\n"), "the signature itself is good: %s", out);
	cr_expect_not_null(strstr(out, "is in no line of the journal"), "%s", out);
	free(out);
	/* without the journal nothing can tell: what the threat model says */
	cr_assert_eq(rig(tmp, "verify", run, "--public-key", pub, "--no-journal"), 0);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "journal  not checked (--no-journal)"), "%s", out);
	cr_assert_eq(rig(tmp, "report", run, "--sign-key", key, NULL), 4);
	cr_assert_eq(rig(tmp, "note", run, "looks fine", "--sign-key", key), 4);
	free(out);
	free(sig);
	free(text);
	free(sums);
	free(pub);
	free(key);
	free(run);
	done(tmp);
}

Test(journal, results_json_edited_and_resealed_by_hand_with_sha256sum_is_named)
{
	char *tmp = th_tmpdir(), *run = run_short(tmp, "run", NULL), *results, *text, *at, *out;
	char *err, *notes_before, *notes_after;

	results = path_in(run, "results.json");
	text = th_read_file(results);
	at = strstr(text, "\"overall_verdict\": \"");
	cr_assert_not_null(at);
	memcpy(at + strlen("\"overall_verdict\": \""), "fail", 4);   /* "pass" -> "fail" */
	replace_file(results, text);
	/* a whole new manifest, as GNU sha256sum makes it */
	cr_assert_eq(sh("cd '%s' && find . -type f ! -name 'SHA256SUMS*' | sed 's|^\\./||' | "
			"LC_ALL=C sort | xargs sha256sum > SHA256SUMS.new && mv SHA256SUMS.new "
			"SHA256SUMS", run), 0);
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_null(strstr(out, "CHANGED"), "the files match the new manifest: %s", out);
	cr_expect_not_null(strstr(out, "is in no line of the journal"), "%s", out);
	notes_before = th_slurp(run, "notes.jsonl");
	cr_assert_eq(rig(tmp, "report", run, NULL, NULL, NULL), 4);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "is in no line of the journal"), "%s", err);
	cr_assert_eq(rig(tmp, "note", run, "all good", NULL, NULL), 4);
	notes_after = th_slurp(run, "notes.jsonl");
	cr_expect((notes_before == NULL) == (notes_after == NULL) &&
		  (!notes_after || !strcmp(notes_before, notes_after)), "the refused note was kept");
	free(notes_after);
	free(notes_before);
	free(err);
	free(out);
	free(text);
	free(results);
	free(run);
	done(tmp);
}

Test(journal, a_second_legitimate_report_says_sealed_twice_and_verifies)
{
	char *tmp = th_tmpdir(), *run = run_short(tmp, "run", NULL), *err, *out, *sums;
	struct journal_seal seals[4];
	char hex[65];

	cr_assert_eq(rig(tmp, "report", run, NULL, NULL, NULL), 1);   /* no check in it: nothing judged */
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, " sealed twice: first by rig run at 20"), "%s", err);
	cr_expect_not_null(strstr(err, "this time by rig report (re-judged)"), "%s", err);
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 0);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "journal  sealed twice: first by rig run at 20"), "%s", out);
	cr_expect_not_null(strstr(out, ", then by rig report at 20"), "%s", out);
	cr_expect_not_null(strstr(out, "line 2: this SHA256SUMS\n"), "%s", out);
	cr_expect_not_null(strstr(out, "OK: "), "%s", out);
	/* the journal's own account: two lines chained, the second replacing
	 * the first, the manifest's digest as sha256sum gives it */
	cr_assert_eq(journal_read_checked(tmp, seals, 4), 2);
	sums = path_in(run, "SHA256SUMS");
	sha256sum_of(sums, hex);
	cr_expect_str_eq(seals[1].manifest, hex);
	cr_expect_str_eq(seals[1].replaced, seals[0].manifest);
	cr_expect_str_eq(seals[0].replaced, "");
	cr_expect_str_eq(seals[0].sealed_by, "rig run");
	cr_expect_str_eq(seals[0].why, "end of run");
	cr_expect_str_eq(seals[1].sealed_by, "rig report");
	cr_expect_str_eq(seals[1].run, seals[0].run);
	cr_expect_str_eq(seals[1].key, "");
	cr_expect_eq(seals[1].run_dir[0], '/');
	cr_assert_eq(rig(tmp, "report", run, NULL, NULL, NULL), 1);   /* no check in it: nothing judged */
	free(err);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, " sealed 3 times: first by rig run at 20"), "%s", err);
	free(sums);
	free(out);
	free(err);
	free(run);
	done(tmp);
}

Test(journal, a_note_reseals_signed_journalled_and_verifies)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, "run", &key), *pub, *out;
	struct journal_seal seals[4];
	char fp[SIG_FINGERPRINT_LEN + 1];
	unsigned char pk[SIG_PUBLIC_KEY_BYTES];

	pub = path_in(tmp, "station.pub");
	cr_assert_eq(rig(tmp, "note", run, "bubble seen at 3 min", "--sign-key", key), 0);
	cr_assert_eq(rig(tmp, "verify", run, "--public-key", pub, NULL), 0);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "then by rig note at 20"), "%s", out);
	cr_expect_not_null(strstr(out, "(note added), signed by key sha256:"), "%s", out);
	cr_assert_eq(journal_read_checked(tmp, seals, 4), 2);
	cr_assert_eq(sig_public_key_load(pub, pk), 0);
	sig_fingerprint(pk, fp);
	cr_expect_str_eq(seals[0].key, fp);
	cr_expect_str_eq(seals[1].key, fp);
	cr_expect_str_eq(seals[1].why, "note added");
	/* and an unsigned reseal on purpose is said so in the journal */
	cr_assert_eq(rig(tmp, "report", run, "--unsign", NULL, NULL), 1);   /* no check in it: nothing judged */
	cr_assert_eq(journal_read_checked(tmp, seals, 4), 3);
	cr_expect_str_eq(seals[2].key, "");
	cr_expect_str_eq(seals[2].why, "re-judged, its signature removed (--unsign)");
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 0);
	free(out);
	free(pub);
	free(key);
	free(run);
	done(tmp);
}

Test(journal, a_run_rolled_back_to_an_earlier_seal_is_named)
{
	char *tmp = th_tmpdir(), *run = run_short(tmp, "run", NULL), *out, *err;

	/* the record as sealed by rig run, kept aside; a note (say, "the
	 * vessel was not oiled") seals it again; the old copy put back */
	cr_assert_eq(sh("cp -a '%s' '%s/aside'", run, tmp), 0);
	cr_assert_eq(rig(tmp, "note", run, "vessel not oiled: discard", NULL, NULL), 0);
	cr_assert_eq(sh("rm -rf '%s' && mv '%s/aside' '%s'", run, tmp, run), 0);
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_null(strstr(out, "CHANGED"), "the old record is whole: %s", out);
	cr_expect_not_null(strstr(out, "this SHA256SUMS is seal 1 of 2 of this run"), "%s", out);
	cr_expect_not_null(strstr(out, "by rig note (note added)"), "%s", out);
	cr_expect_not_null(strstr(out, "rolled back"), "%s", out);
	cr_assert_eq(rig(tmp, "report", run, NULL, NULL, NULL), 4);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "rolled back"), "%s", err);
	free(err);
	free(out);
	free(run);
	done(tmp);
}

Test(journal, a_seal_taken_away_is_not_resealed_after_the_fact)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, "run", &key), *out, *err;

	/* as if the run had crashed before rig run sealed it: rig report
	 * would seal whatever is there "after the fact" */
	cr_assert_eq(sh("rm '%s/SHA256SUMS' '%s/SHA256SUMS.sig'", run, run), 0);
	cr_assert_eq(rig(tmp, "report", run, "--sign-key", key, NULL), 4);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "the run has no SHA256SUMS, yet the journal holds its seal"),
			   "%s", err);
	cr_expect_neq(sh("test -e '%s/SHA256SUMS'", run), 0, "the run was sealed again");
	cr_assert_eq(rig(tmp, "note", run, "crashed?", NULL, NULL), 4);
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "yet the journal holds its seal"), "%s", out);
	free(out);
	free(err);
	free(key);
	free(run);
	done(tmp);
}

Test(journal, swapped_manifests_and_swapped_folders_are_named)
{
	char *tmp = th_tmpdir(), *a = run_short(tmp, "a", NULL), *b = run_short(tmp, "b", NULL);
	char *out;

	/* B's manifest in A and A's in B */
	cr_assert_eq(sh("cd '%s' && mv a/SHA256SUMS x && mv b/SHA256SUMS a/ && mv x b/SHA256SUMS",
			tmp), 0);
	cr_assert_eq(rig(tmp, "verify", a, NULL, NULL, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "this SHA256SUMS is the seal of another run: line 2"), "%s",
			   out);
	cr_expect_not_null(strstr(out, b), "names where the other run was: %s", out);
	cr_assert_eq(rig(tmp, "report", a, NULL, NULL, NULL), 4);
	free(out);
	/* put back, then the folders themselves swapped: each record is whole
	 * and journalled, but not where it was sealed */
	cr_assert_eq(sh("cd '%s' && mv a/SHA256SUMS x && mv b/SHA256SUMS a/ && mv x b/SHA256SUMS",
			tmp), 0);
	cr_assert_eq(rig(tmp, "verify", a, NULL, NULL, NULL), 0);
	cr_assert_eq(sh("cd '%s' && mv a x && mv b a && mv x b", tmp), 0);
	for (int i = 0; i < 2; i++) {
		const char *here = i ? b : a, *was = i ? a : b;
		char want[600];

		cr_assert_eq(rig(tmp, "verify", here, NULL, NULL, NULL), 1, "%s", here);
		out = th_slurp(tmp, "stdout");
		cr_expect_null(strstr(out, "CHANGED"), "%s", out);
		cr_expect_not_null(strstr(out, "the latest seal made in this folder"), "%s", out);
		snprintf(want, sizeof(want), "it was sealed in %s ", was);
		cr_expect_not_null(strstr(out, want), "%s", out);
		free(out);
	}
	free(b);
	free(a);
	done(tmp);
}

Test(journal, journal_lines_taken_out_or_edited_are_named)
{
	char *tmp = th_tmpdir(), *a = run_short(tmp, "a", NULL), *b = run_short(tmp, "b", NULL);
	char *journal = path_in(tmp, "seal-journal.jsonl"), *whole, *out;

	whole = th_read_file(journal);
	/* A's line, the first, taken out: B's line no longer follows */
	cr_assert_eq(sh("sed -i 1d '%s'", journal), 0);
	cr_assert_eq(rig(tmp, "verify", a, NULL, NULL, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "ITS CHAIN BREAKS"), "%s", out);
	cr_expect_not_null(strstr(out, "BAD      journal: line 1 "), "%s", out);
	cr_expect_not_null(strstr(out, "is in no line of the journal"), "%s", out);
	free(out);
	cr_assert_eq(rig(tmp, "verify", b, NULL, NULL, NULL), 1, "a broken journal vouches for nobody");
	cr_assert_eq(rig(tmp, "report", b, NULL, NULL, NULL), 4);
	/* B's line, the last, taken out: the chain holds, B is not in it */
	replace_file(journal, whole);
	cr_assert_eq(sh("sed -i '$d' '%s'", journal), 0);
	cr_assert_eq(rig(tmp, "verify", a, NULL, NULL, NULL), 0);
	cr_assert_eq(rig(tmp, "verify", b, NULL, NULL, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "chain intact"), "%s", out);
	cr_expect_not_null(strstr(out, "is in no line of the journal"), "%s", out);
	free(out);
	/* A's line edited to vouch for another manifest: B's line no longer
	 * follows it */
	replace_file(journal, whole);
	/* its first digit changed to another: to f, or to 0 when it was f
	 * already (a fixed f left 1 run in 16 unedited) */
	cr_assert_eq(sh("sed -i -E '1{s/(\"manifest_sha256\":\")[0-9a-e]/\\1f/;t;"
			"s/(\"manifest_sha256\":\")f/\\10/}' '%s'", journal), 0);
	out = th_read_file(journal);
	cr_assert_neq(strcmp(out, whole), 0, "the edit changed nothing");
	free(out);
	cr_assert_eq(rig(tmp, "verify", a, NULL, NULL, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "BAD      journal: line 2 "), "%s", out);
	free(out);
	/* A sealed twice more; its middle seal taken out by someone who then
	 * writes every later line again with its chain recomputed: the chain
	 * holds, but A's next seal replaced a manifest that is not the one
	 * before it */
	replace_file(journal, whole);
	cr_assert_eq(rig(tmp, "note", a, "first", NULL, NULL), 0);
	cr_assert_eq(rig(tmp, "note", a, "second", NULL, NULL), 0);
	cr_assert_eq(sh("python3 -c 'import json, hashlib, sys\n"
			"lines = open(sys.argv[1]).read().splitlines()\n"
			"del lines[2]\n"
			"prev, out = \"0\" * 64, []\n"
			"for i, l in enumerate(lines):\n"
			"    o = json.loads(l); o[\"line\"] = i + 1; o[\"prev_line_sha256\"] = prev\n"
			"    t = json.dumps(o, separators=(\",\", \":\")); out.append(t)\n"
			"    prev = hashlib.sha256(t.encode()).hexdigest()\n"
			"open(sys.argv[1], \"w\").write(\"\\n\".join(out) + \"\\n\")\n' '%s'",
			journal), 0);
	cr_assert_eq(rig(tmp, "verify", a, NULL, NULL, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "chain intact"), "%s", out);
	cr_expect_not_null(strstr(out, "BAD      journal: seal 2 of this run replaced a SHA256SUMS "
				       "that was not seal 1"), "%s", out);
	cr_assert_eq(rig(tmp, "verify", b, NULL, NULL, NULL), 0, "B's seal is untouched");
	free(out);
	free(whole);
	free(journal);
	free(b);
	free(a);
	done(tmp);
}

Test(journal, verify_against_another_stations_journal_or_none)
{
	char *tmp = th_tmpdir(), *run = run_short(tmp, "run", NULL), *other = th_tmpdir();
	char *journal = path_in(tmp, "seal-journal.jsonl"), *missing = path_in(tmp, "none.jsonl");
	char *theirs, *out;

	/* a reviewer's machine, with no journal */
	setenv("PUMPRIG_JOURNAL", missing, 1);
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 1);
	unsetenv("PUMPRIG_JOURNAL");
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "BAD      journal: there is no journal at"), "%s", out);
	cr_expect_not_null(strstr(out, "--journal FILE"), "%s", out);
	free(out);
	/* with the station's journal copied along */
	cr_assert_eq(rig(tmp, "verify", run, "--journal", journal, NULL), 0);
	cr_assert_eq(rig(tmp, "verify", run, "--journal", missing, NULL), 2);
	cr_assert_eq(rig(tmp, "verify", run, "--no-journal", NULL, NULL), 0);
	cr_assert_eq(rig(tmp, "verify", run, "--no-journal", "--journal", journal), 2);
	/* another station's journal does not hold it */
	free(run_short(other, "run", NULL));
	theirs = path_in(other, "seal-journal.jsonl");
	cr_assert_eq(rig(tmp, "verify", run, "--journal", theirs, NULL), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "is in no line of the journal"), "%s", out);
	free(out);
	free(theirs);
	free(missing);
	free(journal);
	free(run);
	done(other);
	done(tmp);
}

/* Many seals at once on one station: every line whole, each chained to the
 * one before it (flock; without it two writers chain to the same line). */
Test(journal, concurrent_seals_are_whole_lines_in_one_chain, .timeout = 120)
{
	enum { RUNS = 6, ROUNDS = 3 };
	char *tmp = th_tmpdir(), *runs[RUNS], *dirs[RUNS];
	struct journal_seal seals[RUNS * (ROUNDS + 1) + 1];
	size_t per_run[RUNS] = { 0 };

	for (int i = 0; i < RUNS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "run%d", i);
		runs[i] = run_short(tmp, name, NULL);
		/* each rig its own stdout, the journal shared */
		dirs[i] = th_tmpdir();
	}
	{
		char *journal = path_in(tmp, "seal-journal.jsonl");

		setenv("PUMPRIG_JOURNAL", journal, 1);
		free(journal);
	}
	for (int round = 0; round < ROUNDS; round++) {
		pid_t pids[RUNS];

		for (int i = 0; i < RUNS; i++)
			pids[i] = th_rig_spawn(dirs[i], (const char *[]){ "note", runs[i], "checked",
									   NULL });
		for (int i = 0; i < RUNS; i++)
			cr_assert_eq(th_rig_wait(pids[i]), 0, "%s", th_slurp(dirs[i], "stderr"));
	}
	cr_assert_eq(journal_read_checked(tmp, seals, sizeof(seals) / sizeof(seals[0])),
		     RUNS * (ROUNDS + 1));
	for (int i = 0; i < RUNS; i++) {
		char abs[4096];

		cr_assert_not_null(realpath(runs[i], abs));
		for (size_t k = 0; k < RUNS * (ROUNDS + 1); k++)
			per_run[i] += !strcmp(seals[k].run_dir, abs);
	}
	for (int i = 0; i < RUNS; i++) {
		cr_expect_eq(per_run[i], ROUNDS + 1, "%s: %zu seals", runs[i], per_run[i]);
		cr_expect_eq(th_rig(dirs[i], (const char *[]){ "verify", runs[i], NULL }), 0, "%s",
			     th_slurp(dirs[i], "stdout"));
	}
	unsetenv("PUMPRIG_JOURNAL");
	for (int i = 0; i < RUNS; i++) {
		done(dirs[i]);
		free(runs[i]);
	}
	done(tmp);
}

Test(journal, a_journal_that_cannot_be_written_stops_a_run_before_it_starts)
{
	char *tmp = th_tmpdir(), *seq = th_write_file(tmp, "short.cfg", short_seq);
	char *bench = th_src(BENCH), *dut = th_src(DUT), *run = path_in(tmp, "run"), *err;
	const char *args[] = { "run", seq, "--bench", bench, "--dut", dut, "-o", run, "-q", NULL };

	/* a folder where the journal should be */
	setenv("PUMPRIG_JOURNAL", tmp, 1);
	cr_assert_eq(th_rig(tmp, args), 2);
	unsetenv("PUMPRIG_JOURNAL");
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "cannot be written"), "%s", err);
	cr_expect_not_null(strstr(err, "nothing was run"), "%s", err);
	cr_expect_neq(access(run, F_OK), 0, "the run directory was created");
	free(err);
	free(run);
	free(dut);
	free(bench);
	free(seq);
	done(tmp);
}

/* The journal refuses the line (here a file size limit, as a full disk
 * would): the seal that was written is taken back, the previous one stands,
 * and the note that was to be sealed is not kept. */
Test(journal, a_journal_line_that_cannot_be_written_puts_the_previous_seal_back)
{
	char *tmp = th_tmpdir(), *run = run_short(tmp, "run", NULL), *journal, *err;
	char *sums_before, *notes_before, *journal_before, *after;
	struct stat st;
	pid_t pid;

	for (int i = 0; i < 5; i++)
		cr_assert_eq(rig(tmp, "note", run, "filler", NULL, NULL), 0);
	journal = path_in(tmp, "seal-journal.jsonl");
	cr_assert_eq(stat(journal, &st), 0);
	sums_before = th_slurp(run, "SHA256SUMS");
	cr_assert_lt(strlen(sums_before), (size_t)st.st_size, "the manifest must fit the limit");
	notes_before = th_slurp(run, "notes.jsonl");
	journal_before = th_read_file(journal);
	pid = th_rig_spawn_limited(tmp, (const char *[]){ "note", run, "lost", NULL }, st.st_size);
	cr_assert_eq(th_rig_wait(pid), 4);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "the station's seal journal"), "%s", err);
	cr_expect_not_null(strstr(err, "File too large"), "%s", err);
	cr_expect_not_null(strstr(err, "the note was not kept"), "%s", err);
	after = th_slurp(run, "SHA256SUMS");
	cr_expect_str_eq(after, sums_before, "the previous seal was not put back");
	free(after);
	after = th_slurp(run, "notes.jsonl");
	cr_expect_str_eq(after, notes_before);
	free(after);
	after = th_read_file(journal);
	cr_expect_str_eq(after, journal_before);
	free(after);
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 0, "%s", th_slurp(tmp, "stdout"));
	cr_assert_eq(rig(tmp, "note", run, "kept", NULL, NULL), 0);
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 0);
	free(err);
	free(journal_before);
	free(notes_before);
	free(sums_before);
	free(journal);
	free(run);
	done(tmp);
}

/* The run history takes a run only as rig verify would, the journal
 * included (docs/history.md, "Ingest"): the audit's tamper (results.json
 * edited, its line in SHA256SUMS fixed) was stored by rig history import
 * while rig verify refused it.  Now it is refused with the journal's reason;
 * an untouched run is stored with the seal the journal holds, and a run of
 * another station (which this journal knows nothing of) is stored as it
 * was, saying its seal was not found here. */
Test(journal, history_import_refuses_what_the_journal_refuses, .timeout = 60)
{
	char *tmp = th_tmpdir(), *other = th_tmpdir(), *run = run_short(tmp, "run", NULL);
	char *kept = run_short(tmp, "kept", NULL), *theirs = run_short(other, "theirs", NULL);
	char *results = path_in(run, "results.json"), *sums = path_in(run, "SHA256SUMS");
	char *db, *text, *at, *line, *out, hex[65];

	cr_assert_geq(asprintf(&db, "sqlite:%s/imported.sqlite", tmp), 0);
	text = th_read_file(results);
	at = strstr(text, "\"overall_verdict\": \"");
	cr_assert_not_null(at);
	memcpy(at + strlen("\"overall_verdict\": \""), "fail", 4);
	replace_file(results, text);
	free(text);
	sha256sum_of(results, hex);
	text = th_read_file(sums);
	line = strstr(text, "  results.json\n");
	cr_assert_not_null(line);
	memcpy(line - 64, hex, 64);
	replace_file(sums, text);
	free(text);
	cr_assert_eq(rig(tmp, "verify", run, NULL, NULL, NULL), 1);

	cr_assert_eq(rig(tmp, "history", "import", "--db", db, run), 1);
	out = th_slurp(tmp, "stdout");
	cr_expect(strstr(out, "REFUSED") && strstr(out, "is in no line of the station's seal "
						    "journal"), "%s", out);
	free(out);
	cr_assert_eq(rig(tmp, "history", "import", "--db", db, kept), 0,
		     "%s", th_slurp(tmp, "stdout"));
	cr_assert_eq(rig(tmp, "history", "import", "--db", db, theirs), 0,
		     "%s", th_slurp(tmp, "stdout"));
	cr_assert_eq(rig(tmp, "history", "list", "--db", db, NULL), 0);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "2 runs"), "%s", out);
	free(out);
	cr_assert_eq(rig(tmp, "history", "show", "--db", db, kept), 0);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "seal_journal     seal 1 of 1 of the run, line"), "%s", out);
	free(out);
	cr_assert_eq(rig(tmp, "history", "show", "--db", db, theirs), 0);
	out = th_slurp(tmp, "stdout");
	cr_expect_not_null(strstr(out, "seal_journal     not found:"), "%s", out);
	free(out);
	free(db);
	free(sums);
	free(results);
	free(theirs);
	free(kept);
	free(run);
	done(other);
	done(tmp);
}
