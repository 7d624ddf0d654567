/* Integrity of run directories through the CLI: the manifest catches one
 * flipped byte, one edited value, an added and a deleted file; GNU sha256sum
 * agrees with it independently; signatures catch a flipped byte, a different
 * key and a manifest edited after signing; rig report refuses to reseal
 * altered raw data and seals a crashed run after the fact; the calibration
 * gate; notes; the per-instrument CSV files against samples.csv. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

#define SEQ "sequences/dose-accuracy.cfg"
#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* Runs the shipped nominal dose-accuracy sequence into tmp/run, with up to
 * six extra arguments; returns rig's exit status. */
static int run_into(const char *tmp, char **ret_run, const char *const *extra)
{
	char *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT), *run;
	const char *args[24] = { "run", seq, "--bench", bench, "--dut", dut, "-o", NULL, "-q" };
	int n = 9, status;

	if (asprintf(&run, "%s/run", tmp) < 0)
		abort();
	args[7] = run;
	while (extra && *extra && n < 22)
		args[n++] = *extra++;
	args[n] = NULL;
	status = th_rig(tmp, args);
	free(seq);
	free(bench);
	free(dut);
	*ret_run = run;
	return status;
}

static int rig2(const char *tmp, const char *a, const char *b, const char *c, const char *d)
{
	const char *args[] = { a, b, c, d, NULL };

	return th_rig(tmp, args);
}

static int sh(const char *fmt, const char *arg)
{
	char *cmd;
	int st;

	if (asprintf(&cmd, fmt, arg) < 0)
		abort();
	st = system(cmd);
	free(cmd);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Removes a test's directory (a run is a few MB) and frees its name. */
static void done(char *tmp)
{
	sh("rm -rf -- '%s'", tmp);
	free(tmp);
}

/* XORs one byte of a file at offset (the middle of it when offset < 0). */
static void flip_byte(const char *path, long offset, unsigned char mask)
{
	FILE *f = fopen(path, "r+b");
	long size;
	int c;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	if (offset < 0)
		offset = size / 2;
	fseek(f, offset, SEEK_SET);
	c = fgetc(f);
	cr_assert_neq(c, EOF);
	fseek(f, offset, SEEK_SET);
	fputc(c ^ mask, f);
	fclose(f);
}

static void replace_file(const char *path, const char *text)
{
	FILE *f;

	chmod(path, 0644);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static char *verify_out(const char *tmp)
{
	return th_slurp(tmp, "stdout");
}

Test(integrity, a_clean_run_verifies_and_sha256sum_agrees)
{
	char *tmp = th_tmpdir(), *run, *out, *sums;

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 0);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "OK: "), "%s", out);
	/* The manifest lists every file rig wrote, derived outputs included. */
	sums = th_slurp(run, "SHA256SUMS");
	for (const char *name = "samples.csv.zst\nevents.jsonl\nrun.json\nresults.json\nsummary.txt\n"
				 "junit.xml\nreport.pdf\ninputs/bench.cfg\n"; *name;) {
		const char *nl = strchr(name, '\n');
		char want[64];

		snprintf(want, sizeof(want), "  %.*s\n", (int)(nl - name), name);
		cr_expect_not_null(strstr(sums, want), "SHA256SUMS lacks %s", want);
		name = nl + 1;
	}
	/* GNU coreutils, independently: --strict fails on any malformed line. */
	cr_expect_eq(sh("cd '%s' && sha256sum --quiet --strict -c SHA256SUMS", run), 0);
	free(out);
	free(sums);
	free(run);
	done(tmp);
}

Test(integrity, one_flipped_byte_in_samples_csv_is_named)
{
	char *tmp = th_tmpdir(), *run, *samples, *out;

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	samples = th_path(run, "samples.csv.zst");   /* an ended run's record, compressed */
	flip_byte(samples, -1, 0x01);
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 1);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "CHANGED  samples.csv.zst\n"), "%s", out);
	cr_expect_null(strstr(out, "results.json"), "only the altered file is named: %s", out);
	cr_expect_not_null(strstr(out, "FAILED: 0 added, 1 changed, 0 missing"), "%s", out);
	/* and sha256sum sees it too */
	cr_expect_neq(sh("cd '%s' && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1", run), 0);
	free(out);
	free(samples);
	free(run);
	done(tmp);
}

Test(integrity, one_edited_value_in_results_json_is_named)
{
	char *tmp = th_tmpdir(), *run, *path, *text, *at, *out;

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	path = th_path(run, "results.json");
	text = th_read_file(path);
	/* change the first digit of the measured dose error */
	at = strstr(text, "\"measured\": ");
	cr_assert_not_null(at);
	at += strlen("\"measured\": ");
	if (*at == '-')
		at++;
	*at = *at == '9' ? '8' : (char)(*at + 1);
	replace_file(path, text);
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 1);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "CHANGED  results.json\n"), "%s", out);
	free(out);
	free(text);
	free(path);
	free(run);
	done(tmp);
}

Test(integrity, an_added_and_a_deleted_file_are_named)
{
	char *tmp = th_tmpdir(), *run, *path, *out;

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	free(th_write_file(run, "inputs/extra.cfg", "sneaked in\n"));
	path = th_path(run, "junit.xml");
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 1);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "ADDED    inputs/extra.cfg\n"), "%s", out);
	cr_expect_not_null(strstr(out, "MISSING  junit.xml\n"), "%s", out);
	cr_expect_not_null(strstr(out, "FAILED: 1 added, 0 changed, 1 missing"), "%s", out);
	free(out);
	free(path);
	free(run);
	done(tmp);
}

/* A signed run, with the station key in tmp/station(.pub). */
static char *signed_run(const char *tmp, char **ret_key)
{
	char *key = th_path(tmp, "station"), *run;
	const char *extra[] = { "--sign-key", key, NULL };
	struct stat st;

	cr_assert_eq(rig2(tmp, "keygen", "--out", key, NULL), 0);
	cr_assert_eq(stat(key, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600, "secret key mode %o", st.st_mode & 0777);
	cr_assert_eq(run_into(tmp, &run, extra), 0);
	*ret_key = key;
	return run;
}

Test(integrity, a_good_signature_verifies_against_the_stations_public_key)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, &key), *pub, *out;

	pub = th_path(tmp, "station.pub");
	cr_assert_eq(rig2(tmp, "verify", run, "--public-key", pub), 0);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "signature valid"), "%s", out);
	/* keygen never overwrites a key */
	cr_expect_eq(rig2(tmp, "keygen", "--out", key, NULL), 2);
	free(out);
	free(pub);
	free(key);
	free(run);
	done(tmp);
}

Test(integrity, a_signed_run_whose_signature_is_deleted_fails_without_a_public_key)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, &key), *sig, *out;

	sig = th_path(run, "SHA256SUMS.sig");
	cr_assert_eq(unlink(sig), 0);
	/* the manifest itself says it was signed: no key is needed to see
	 * that the signature has gone */
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 1);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "MISSING  SHA256SUMS.sig: SHA256SUMS says it was signed by key sha256:"),
			   "%s", out);
	free(out);
	free(sig);
	free(key);
	free(run);
	done(tmp);
}

Test(integrity, a_signed_run_is_never_sealed_again_unsigned_by_accident)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, &key), *pub = th_path(tmp, "station.pub");
	char *notes_before = th_slurp(run, "notes.jsonl"), *notes, *err, *out;

	/* a note or a report without the key: refused before anything is written */
	cr_assert_eq(rig2(tmp, "note", run, "lid re-seated", NULL), 4);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "is signed (key sha256:"), "%s", err);
	free(err);
	notes = th_slurp(run, "notes.jsonl");
	cr_assert((notes_before == NULL) == (notes == NULL) &&
		  (!notes || strcmp(notes, notes_before) == 0), "the refused note was written");
	free(notes);
	cr_assert_eq(rig2(tmp, "report", run, NULL, NULL), 4);
	cr_assert_eq(rig2(tmp, "verify", run, "--public-key", pub), 0);
	/* with the key it is signed again */
	{
		const char *args[] = { "note", run, "lid re-seated", "--sign-key", key, NULL };

		cr_assert_eq(th_rig(tmp, args), 0);
	}
	cr_assert_eq(rig2(tmp, "verify", run, "--public-key", pub), 0);
	/* unsigned only when asked for */
	{
		const char *args[] = { "report", run, "--unsign", NULL };

		cr_assert_eq(th_rig(tmp, args), 0);
	}
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 0);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "unsigned (no SHA256SUMS.sig)"), "%s", out);
	free(out);
	free(notes_before);
	free(pub);
	free(key);
	free(run);
	done(tmp);
}

Test(integrity, a_flipped_signature_byte_fails)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, &key), *sig, *text, *at, *out;

	sig = th_path(run, "SHA256SUMS.sig");
	text = th_read_file(sig);
	at = strstr(text, "signature: ");
	cr_assert_not_null(at);
	at += strlen("signature: ") + 10;
	*at = *at == '0' ? '1' : '0';   /* one hex digit: still well-formed, one bit or more off */
	replace_file(sig, text);
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 1);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "the signature does not match"), "%s", out);
	free(out);
	free(text);
	free(sig);
	free(key);
	free(run);
	done(tmp);
}

Test(integrity, a_signature_by_a_different_key_fails)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, &key), *other, *pub, *out;

	other = th_path(tmp, "other");
	cr_assert_eq(rig2(tmp, "keygen", "--out", other, NULL), 0);
	pub = th_path(tmp, "other.pub");
	cr_assert_eq(rig2(tmp, "verify", run, "--public-key", pub), 1);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "not by the expected key"), "%s", out);
	free(out);
	free(pub);
	free(other);
	free(key);
	free(run);
	done(tmp);
}

Test(integrity, a_manifest_edited_after_signing_fails_even_when_it_matches_the_files)
{
	char *tmp = th_tmpdir(), *key, *run = signed_run(tmp, &key), *samples, *sums, *text;
	char *line, *out, hex[65];
	FILE *p;

	/* The forger changes samples.csv and writes its new digest into the
	 * manifest: every digest matches, only the signature can tell. */
	samples = th_path(run, "samples.csv.zst");
	flip_byte(samples, -1, 0x01);
	{
		char *cmd;

		if (asprintf(&cmd, "sha256sum '%s'", samples) < 0)
			abort();
		p = popen(cmd, "r");
		free(cmd);
	}
	cr_assert_not_null(p);
	cr_assert_eq(fread(hex, 1, 64, p), 64);
	hex[64] = '\0';
	pclose(p);
	sums = th_path(run, "SHA256SUMS");
	text = th_read_file(sums);
	line = strstr(text, "  samples.csv.zst\n");
	cr_assert_not_null(line);
	memcpy(line - 64, hex, 64);
	replace_file(sums, text);
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 1);
	out = verify_out(tmp);
	cr_expect_null(strstr(out, "CHANGED"), "the digests match: %s", out);
	cr_expect_not_null(strstr(out, "the signature does not match"), "%s", out);
	free(out);
	free(text);
	free(sums);
	free(samples);
	free(key);
	free(run);
	done(tmp);
}

Test(integrity, a_public_key_given_for_an_unsigned_run_fails)
{
	char *tmp = th_tmpdir(), *key = th_path(tmp, "k"), *pub = th_path(tmp, "k.pub"), *run, *out;

	cr_assert_eq(rig2(tmp, "keygen", "--out", key, NULL), 0);
	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	cr_assert_eq(rig2(tmp, "verify", run, "--public-key", pub), 1);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "MISSING  SHA256SUMS.sig"), "%s", out);
	free(out);
	free(run);
	free(pub);
	free(key);
	done(tmp);
}

Test(integrity, report_on_a_sealed_run_with_altered_raw_data_refuses_and_keeps_the_old_seal)
{
	char *tmp = th_tmpdir(), *run, *before, *after, *results_before, *results_after, *err;
	char *samples;

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	before = th_slurp(run, "SHA256SUMS");
	results_before = th_slurp(run, "results.json");
	samples = th_path(run, "samples.csv.zst");
	flip_byte(samples, -1, 0x01);
	cr_assert_eq(rig2(tmp, "report", run, NULL, NULL), 4);
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "CHANGED  samples.csv.zst"), "%s", err);
	cr_expect_not_null(strstr(err, "ALTERED"), "%s", err);
	after = th_slurp(run, "SHA256SUMS");
	results_after = th_slurp(run, "results.json");
	cr_expect_str_eq(after, before, "the old manifest must stay");
	cr_expect_str_eq(results_after, results_before, "nothing may be rewritten");
	cr_expect_eq(rig2(tmp, "verify", run, NULL, NULL), 1);
	free(err);
	free(after);
	free(before);
	free(results_after);
	free(results_before);
	free(samples);
	free(run);
	done(tmp);
}

Test(integrity, report_on_a_sealed_run_regenerates_an_edited_derived_file_and_reseals)
{
	char *tmp = th_tmpdir(), *run, *path, *sums;

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	path = th_path(run, "summary.txt");
	replace_file(path, "Overall: fail\n");
	cr_assert_eq(rig2(tmp, "report", run, NULL, NULL), 0);
	cr_expect_eq(rig2(tmp, "verify", run, NULL, NULL), 0);
	sums = th_slurp(run, "SHA256SUMS");
	cr_expect_not_null(strstr(sums, "# first-sealed: "), "%s", sums);
	cr_expect_not_null(strstr(sums, "by rig report"), "%s", sums);
	free(sums);
	free(path);
	free(run);
	done(tmp);
}

Test(integrity, a_crashed_run_is_sealed_after_the_fact_by_report)
{
	char *tmp = th_tmpdir(), *run, *events, *text, *end, *sums, *out, *readme;
	char *elsewhere = th_path(tmp, "elsewhere.jsonl");

	/* A crashed run was never sealed, so the station's journal holds no
	 * seal of it: the seal this run gets goes to a journal the station
	 * does not use (a journalled seal taken away is refused:
	 * tests/test_journal.c). */
	setenv("PUMPRIG_JOURNAL", elsewhere, 1);
	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	unsetenv("PUMPRIG_JOURNAL");
	free(elsewhere);
	/* What a crash leaves: the record without its end, no reports, no seal. */
	events = th_path(run, "events.jsonl");
	text = th_read_file(events);
	end = strstr(text, "{\"t_ns\":");
	for (char *next = end; next; next = strstr(next + 1, "\n{\"t_ns\":"))
		end = next;   /* the last event: run_end */
	cr_assert_not_null(strstr(end, "run_end"));
	*end = '\0';
	replace_file(events, text);
	cr_assert_eq(sh("cd '%s' && rm -r SHA256SUMS results.json summary.txt junit.xml", run), 0);
	/* ... and a sample row torn in the middle of its write */
	cr_assert_eq(sh("printf '99999999999,scale,ma' >> '%s/samples.csv'", run), 0);
	cr_assert_eq(rig2(tmp, "report", run, NULL, NULL), 3, "an interrupted run reports 3");
	{
		char *tables = th_path(tmp, "tables");

		cr_assert_eq(rig2(tmp, "export", run, "--out", tables), 0);
		readme = th_slurp(tables, "README.txt");
		free(tables);
	}
	cr_assert_not_null(readme);
	cr_expect_not_null(strstr(readme, "1 torn last line(s) skipped"), "%s", readme);
	free(readme);
	sums = th_slurp(run, "SHA256SUMS");
	cr_assert_not_null(sums);
	cr_expect_not_null(strstr(sums, "# sealed-after-the-fact: "), "%s", sums);
	cr_expect_eq(rig2(tmp, "verify", run, NULL, NULL), 0);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "sealed after the fact"), "%s", out);
	/* a later report keeps the mark */
	cr_assert_eq(rig2(tmp, "report", run, NULL, NULL), 3);
	free(sums);
	sums = th_slurp(run, "SHA256SUMS");
	cr_expect_not_null(strstr(sums, "# sealed-after-the-fact: "), "%s", sums);
	free(out);
	free(sums);
	free(text);
	free(events);
	free(run);
	done(tmp);
}

Test(integrity, notes_at_the_start_and_afterwards_keep_the_run_sealed)
{
	char *tmp = th_tmpdir(), *run, *notes, *line2;
	const char *extra[] = { "--operator", "A. Tester", "--note", "vessel oiled", NULL };
	const char *note_args[] = { "note", NULL, "bubble seen at 3 h", "--operator", "B. Second",
				    NULL };
	json_t *meta, *n1, *n2;

	cr_assert_eq(run_into(tmp, &run, extra), 0);
	note_args[1] = run;
	cr_assert_eq(th_rig(tmp, note_args), 0);
	cr_expect_eq(rig2(tmp, "verify", run, NULL, NULL), 0, "rig note reseals the run");
	notes = th_slurp(run, "notes.jsonl");
	cr_assert_not_null(notes);
	line2 = strchr(notes, '\n');
	cr_assert_not_null(line2);
	n1 = json_loadb(notes, (size_t)(line2 - notes), 0, NULL);
	n2 = json_loads(line2 + 1, JSON_DISABLE_EOF_CHECK, NULL);
	cr_assert_not_null(n1);
	cr_assert_not_null(n2);
	cr_expect_str_eq(json_string_value(json_object_get(n1, "operator")), "A. Tester");
	cr_expect_str_eq(json_string_value(json_object_get(n1, "text")), "vessel oiled");
	cr_expect_eq(strlen(json_string_value(json_object_get(n1, "utc"))), 20);
	cr_expect_str_eq(json_string_value(json_object_get(n2, "operator")), "B. Second");
	cr_expect_str_eq(json_string_value(json_object_get(n2, "text")), "bubble seen at 3 h");
	free(notes);
	notes = th_path(run, "run.json");
	meta = json_load_file(notes, 0, NULL);
	cr_assert_not_null(meta);
	cr_expect_str_eq(json_string_value(json_object_get(meta, "operator")), "A. Tester");
	cr_expect(json_is_false(json_object_get(meta, "allow_expired_calibration")));
	json_decref(meta);
	json_decref(n1);
	json_decref(n2);
	free(notes);
	free(run);
	done(tmp);
}

Test(integrity, run_json_holds_the_digests_of_the_copied_inputs)
{
	char *tmp = th_tmpdir(), *run, *path, *sums;
	json_t *meta, *d;
	const char *names[] = { "sequence.cfg", "bench.cfg", "device.cfg" };

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	path = th_path(run, "run.json");
	meta = json_load_file(path, 0, NULL);
	cr_assert_not_null(meta);
	d = json_object_get(meta, "inputs_sha256");
	sums = th_slurp(run, "SHA256SUMS");
	for (size_t i = 0; i < 3; i++) {
		const char *hex = json_string_value(json_object_get(d, names[i]));
		char want[128];

		cr_assert_not_null(hex, "%s", names[i]);
		/* the manifest digested the same file independently */
		snprintf(want, sizeof(want), "%s  inputs/%s\n", hex, names[i]);
		cr_expect_not_null(strstr(sums, want), "%s", want);
	}
	json_decref(meta);
	free(sums);
	free(path);
	free(run);
	done(tmp);
}

/* The shipped bench with the scale's calibration dated in the past. */
static char *bench_overdue(const char *tmp)
{
	char *src = th_src(BENCH), *text = th_read_file(src), *at, *out;

	cr_assert_not_null(text);
	at = strstr(text, "date = \"2026-11-16\"; due = \"2028-11-16\"");
	cr_assert_not_null(at);
	memcpy(at, "date = \"2020-01-15\"; due = \"2021-01-15\"", 39);
	out = th_write_file(tmp, "overdue.cfg", text);
	free(text);
	free(src);
	return out;
}

Test(integrity, an_overdue_calibration_refuses_the_run_before_anything_is_touched)
{
	char *tmp = th_tmpdir(), *bench = bench_overdue(tmp), *seq = th_src(SEQ), *dut = th_src(DUT);
	char *run = th_path(tmp, "run"), *err;
	const char *args[] = { "run", seq, "--bench", bench, "--dut", dut, "-o", run, "-q", NULL };
	struct stat st;

	cr_assert_eq(th_rig(tmp, args), 2);
	cr_expect_neq(stat(run, &st), 0, "no run directory may be created");
	err = th_slurp(tmp, "stderr");
	cr_expect_not_null(strstr(err, "scale (serial SIM-SCALE)"), "%s", err);
	cr_expect_not_null(strstr(err, "due 2021-01-15"), "%s", err);
	cr_expect_not_null(strstr(err, "overdue.cfg:"), "%s", err);
	free(err);
	free(run);
	free(dut);
	free(seq);
	free(bench);
	done(tmp);
}

Test(integrity, an_overdue_calibration_allowed_by_the_operator_is_recorded)
{
	char *tmp = th_tmpdir(), *bench = bench_overdue(tmp), *seq = th_src(SEQ), *dut = th_src(DUT);
	char *run = th_path(tmp, "run"), *path, *events;
	const char *args[] = { "run", seq, "--bench", bench, "--dut", dut, "-o", run, "-q",
			       "--allow-expired-calibration", NULL };
	json_t *meta, *exp, *e0;

	cr_assert_eq(th_rig(tmp, args), 0);
	path = th_path(run, "run.json");
	meta = json_load_file(path, 0, NULL);
	cr_assert_not_null(meta);
	cr_expect(json_is_true(json_object_get(meta, "allow_expired_calibration")));
	exp = json_object_get(meta, "expired_calibrations");
	cr_assert_eq(json_array_size(exp), 1);
	e0 = json_array_get(exp, 0);
	cr_expect_str_eq(json_string_value(json_object_get(e0, "role")), "scale");
	cr_expect_str_eq(json_string_value(json_object_get(e0, "serial")), "SIM-SCALE");
	cr_expect_str_eq(json_string_value(json_object_get(e0, "due")), "2021-01-15");
	events = th_slurp(run, "events.jsonl");
	cr_expect_not_null(strstr(events, "\"event\":\"calibration_expired\",\"role\":\"scale\""),
			   "%s", events);
	cr_expect_eq(rig2(tmp, "verify", run, NULL, NULL), 0);
	json_decref(meta);
	free(events);
	free(path);
	free(run);
	free(dut);
	free(seq);
	free(bench);
	done(tmp);
}

/* ------------------------------------------------ data/<role>.csv -- */

struct cell { char role[16], quantity[16], unit[16], value[48], flags[8]; long long t_ns; };

/* t_s "123.000000000" back to ns, exactly. */
static long long t_ns_of(const char *t_s)
{
	const char *dot = strchr(t_s, '.');
	long long s = strtoll(t_s, NULL, 10), ns;

	cr_assert_not_null(dot);
	cr_assert_eq(strlen(dot + 1), 9);
	ns = strtoll(dot + 1, NULL, 10);
	return s * 1000000000LL + ns;
}

static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ',') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

Test(integrity, the_per_instrument_csv_files_hold_every_sample_exactly)
{
	static const char *const roles[] = { "scale", "flow", "pressure", "power", "pump" };
	char *tmp = th_tmpdir(), *run, *samples, *line = NULL;
	size_t cap = 0, total_rows = 0, total_cells = 0;
	FILE *sf;

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	/* the record as zstd (not rig) gives it back */
	samples = th_path(tmp, "samples.csv");
	{
		char *cmd;

		if (asprintf(&cmd, "zstdcat -q '%s/samples.csv.zst' > '%s'", run, samples) < 0)
			abort();
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		free(cmd);
	}
	{
		/* the tables rig export writes (a run directory keeps none) */
		char *tables = th_path(tmp, "tables");

		cr_assert_eq(rig2(tmp, "export", run, "--out", tables), 0);
		free(tables);
	}
	for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
		char name[64], *csv, *header, *f[16], *hf[16];
		FILE *df;
		size_t nh, n_role_rows = 0;
		char *dline = NULL;
		size_t dcap = 0;

		snprintf(name, sizeof(name), "tables/%s.csv", roles[r]);
		csv = th_path(tmp, name);
		df = fopen(csv, "r");
		cr_assert_not_null(df, "%s", csv);
		sf = fopen(samples, "r");
		cr_assert_not_null(sf);
		cr_assert(getline(&line, &cap, sf) > 0);   /* samples.csv header */
		cr_assert(getline(&dline, &dcap, df) > 0);
		header = strdup(dline);
		header[strcspn(header, "\n")] = '\0';
		nh = split(header, hf, 16);
		cr_assert_str_eq(hf[0], "t_s");
		/* walk samples.csv's rows of this role in order against the file's
		 * cells in order */
		while (getline(&dline, &dcap, df) > 0) {
			size_t nf;

			dline[strcspn(dline, "\n")] = '\0';
			nf = split(dline, f, 16);
			cr_assert_eq(nf, nh);
			n_role_rows++;
			for (size_t c = 1; c + 1 < nf; c += 2) {
				char *sfld[8];
				char want_col[40];

				if (!f[c][0])
					continue;
				/* the next sample row of this role */
				do {
					cr_assert(getline(&line, &cap, sf) > 0, "%s has more cells than "
						  "samples.csv has %s rows", name, roles[r]);
					line[strcspn(line, "\n")] = '\0';
					cr_assert_eq(split(line, sfld, 8), 6);
				} while (strcmp(sfld[1], roles[r]) != 0);
				total_cells++;
				cr_expect_eq(t_ns_of(f[0]), strtoll(sfld[0], NULL, 10));
				cr_expect_str_eq(f[c], sfld[3], "value copied as recorded");
				cr_expect_str_eq(f[c + 1], sfld[5]);
				/* the column says the quantity and its unit */
				snprintf(want_col, sizeof(want_col), "%s_", sfld[2]);
				cr_expect(!strncmp(hf[c], want_col, strlen(want_col)), "%s vs %s", hf[c],
					  sfld[2]);
				cr_expect(strstr(hf[c], strcmp(sfld[4], "mL/h") ? sfld[4] : "mL_per_h"),
					  "column %s lacks unit %s", hf[c], sfld[4]);
			}
		}
		/* nothing of this role left over in samples.csv */
		while (getline(&line, &cap, sf) > 0) {
			char *sfld[8];

			cr_assert_eq(split(line, sfld, 8), 6);
			cr_expect_str_neq(sfld[1], roles[r], "a %s sample is missing from %s", roles[r],
					  name);
		}
		cr_expect_gt(n_role_rows, 0);
		fclose(sf);
		fclose(df);
		free(dline);
		free(header);
		free(csv);
	}
	/* and the cells of all files add up to samples.csv's rows */
	sf = fopen(samples, "r");
	while (getline(&line, &cap, sf) > 0)
		total_rows++;
	fclose(sf);
	cr_expect_eq(total_cells, total_rows - 1, "%zu cells, %zu sample rows", total_cells,
		     total_rows - 1);
	free(line);
	free(samples);
	free(run);
	done(tmp);
}

Test(integrity, a_manifest_naming_a_file_outside_is_malformed_for_verify_and_report)
{
	char *tmp = th_tmpdir(), *run, *sums, *text, *out;

	cr_assert_eq(run_into(tmp, &run, NULL), 0);
	sums = th_path(run, "SHA256SUMS");
	text = th_read_file(sums);
	cr_assert_not_null(text);
	text = realloc(text, strlen(text) + 128);
	strcat(text, HEX64 "  ../stdout\n");
	replace_file(sums, text);
	cr_assert_eq(rig2(tmp, "verify", run, NULL, NULL), 1);
	out = verify_out(tmp);
	cr_expect_not_null(strstr(out, "BAD      SHA256SUMS:"), "%s", out);
	cr_expect_eq(rig2(tmp, "report", run, NULL, NULL), 4);
	free(out);
	free(text);
	free(sums);
	free(run);
	done(tmp);
}
